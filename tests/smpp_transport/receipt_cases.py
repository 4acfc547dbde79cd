"""Shared by the receipt parser tests (test_receipt_*.py, test_message_ids.py)."""

from __future__ import annotations

from datetime import UTC, datetime

RECEIPT = 0x04  # esm_class: SMSC delivery receipt


def dt(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)
