"""Moved to :mod:`campaigns.error_codes` (the API and the exports read it too, without the admin)."""

from campaigns.error_codes import RECEIPT_ERR, SMPP_COMMAND_STATUS, describe

__all__ = ["RECEIPT_ERR", "SMPP_COMMAND_STATUS", "describe"]
