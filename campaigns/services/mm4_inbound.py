"""The accounts' own MM4 inbound logins, for the receiver's AUTH (read as the model gives them).

An account may give its provider a login of its own for our MM4 receiver (set in the admin,
the password write-only). A report delivered with it may only concern that account's
messages; the receiver enforces that. The password is read through the model attribute
only, so a field that encrypts at rest decrypts it here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from campaigns.models import Account


@dataclass(frozen=True)
class InboundLogin:
    """One account's login to the MM4 receiver (the password kept out of ``repr``)."""

    username: str
    password: str = field(repr=False)
    account_id: int


def mm4_inbound_logins() -> list[InboundLogin]:
    """Every account with both an inbound user and password (inactive ones too: a report
    about an account's past messages is still true when it is paused)."""
    accounts = Account.objects.exclude(mm4_inbound_username="").only(
        "id", "mm4_inbound_username", "mm4_inbound_password"
    )
    return [
        InboundLogin(a.mm4_inbound_username, a.mm4_inbound_password, a.id)
        for a in accounts.order_by("id")
        if a.mm4_inbound_password
    ]
