"""Process plumbing shared by both transports, tied to neither (and to no Django app).

``supervisor``: run and restart one child process per bind / MM4 session (the workers'
management commands). ``server_thread``: an asyncio server in a daemon thread with blocking
waits (both simulators). Importing either loads neither Django models nor Celery.
"""
