"""Building blocks of one SMPP session (see ``smpp_transport.bind`` for the public API).

Split out of ``bind.py`` so that each concern can be read and tested alone: ``pacing``
(absolute-deadline rate limit), ``codec`` (PDU bytes in and out), ``transport`` (TCP / TLS
with exact write accounting) and ``types`` (the public dataclasses).
"""
