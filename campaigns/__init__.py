"""The domain: provider accounts, audiences, campaigns, messages and their receipts.

Nothing in this package imports a transport; transports call into
``campaigns.services`` through ``campaigns.services.transport_api``.
"""
