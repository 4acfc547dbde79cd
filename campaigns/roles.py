"""The three roles, as Django groups (created by migration 0004, kept in step by it).

- operator: accounts and everything else;
- marketer: lists, contacts, opt-outs, campaigns (and sending them); accounts by name only;
- viewer: reports only (campaigns, messages and receipts, read-only).
Secrets stay write-only for everyone, operators included.
"""

from __future__ import annotations

OPERATOR, MARKETER, VIEWER = "operator", "marketer", "viewer"

_ALL = ("add", "change", "delete", "view")
ROLE_PERMISSIONS: dict[str, dict[str, tuple[str, ...]]] = {
    OPERATOR: {
        model: _ALL
        for model in (
            "account",
            "recipientlist",
            "contact",
            "optout",
            "campaign",
            "campaignmedia",
            "message",
            "messagepart",
            "receipt",
            "inboundmessage",
            "importjob",
        )
    }  # fmt: skip
    | {"campaign": (*_ALL, "send_campaign")},
    MARKETER: {
        "account": ("view",),
        "recipientlist": _ALL,
        "contact": _ALL,
        "optout": _ALL,
        "importjob": ("add", "view"),
        "campaign": (*_ALL, "send_campaign"),
        "campaignmedia": _ALL,
        "message": ("view",),
        "messagepart": ("view",),
        "receipt": ("view",),
        "inboundmessage": ("view",),
    },
    VIEWER: {
        "campaign": ("view",),
        "message": ("view",),
        "messagepart": ("view",),
        "receipt": ("view",),
    },
}


def codename(action: str, model: str) -> str:
    return action if action == "send_campaign" else f"{action}_{model}"
