"""Building blocks of one SMPP session (see ``smpp_transport.bind`` for the public API).

Split out of ``bind.py`` so that each concern can be read and tested alone: ``pacing``
(absolute-deadline rate limit), ``codec`` (PDU bytes in and out), ``transport`` (TCP / TLS
with exact write accounting), ``types`` (the public dataclasses), ``window`` (what is in
flight and queued), ``connection`` (one connection's state and the state the bind's
threads share), and the bind's two collaborators: ``reader`` (the reader thread) and
``sender`` (the session thread's writing).
"""
