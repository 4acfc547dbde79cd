"""The roles, as Django groups (created by migration 0004, kept in step by later ones).

- operator: accounts, webhooks and everything else;
- marketer: lists, contacts, opt-outs, campaigns (and sending them); accounts by name only;
- viewer: reports only (campaigns, messages and receipts, read-only);
- approver: approves or rejects campaigns before they are sent (docs/approval.md), seeing
  what a campaign sends, to whom and at what cost; changes nothing else. Given on its own
  or next to another role (a marketer who approves colleagues' campaigns).
Secrets stay write-only for everyone, operators included.
"""

from __future__ import annotations

OPERATOR, MARKETER, VIEWER, APPROVER = "operator", "marketer", "viewer", "approver"
ACTIONS_AS_CODENAMES = ("send_campaign", "approve_campaign")  # permissions not named <action>_<model>

_ALL = ("add", "change", "delete", "view")
APPS = ("campaigns", "smpp_transport")  # bind health (smpp_transport.BindStatus) is for operators
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
            "segmentprice",
            "route",
            "routeentry",
        )
    }
    | {
        "campaign": (*_ALL, "send_campaign"),
        "campaignevent": ("view",),
        "batchinflight": ("view",),
        "bindstatus": ("view",),
        "webhookendpoint": _ALL,
        "webhookdelivery": ("view", "change"),  # change: redeliver
    },
    MARKETER: {
        "account": ("view",),
        "segmentprice": ("view",),
        "route": ("view",),
        "routeentry": ("view",),
        "recipientlist": _ALL,
        "contact": _ALL,
        "optout": _ALL,
        "importjob": ("add", "view"),
        "campaign": (*_ALL, "send_campaign"),
        "campaignevent": ("view",),
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
    APPROVER: {
        "campaign": ("view", "approve_campaign"),
        "campaignevent": ("view",),
        "campaignmedia": ("view",),
        "account": ("view",),
        "segmentprice": ("view",),
        "recipientlist": ("view",),
    },
}


def codename(action: str, model: str) -> str:
    return action if action in ACTIONS_AS_CODENAMES else f"{action}_{model}"


def sync_roles(apps=None) -> None:
    """Create or update the role groups (used by migration 0004, and by tests after a flush)."""
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    registry = apps or global_apps
    for label in APPS:
        try:
            config = registry.get_app_config(label)
        except LookupError:  # a migration state without that app yet
            continue
        if apps is not None:
            config.models_module = True  # let create_permissions run inside a migration
        create_permissions(config, apps=registry, verbosity=0)
        if apps is not None:
            config.models_module = None
    group_model = registry.get_model("auth", "Group")
    permission_model = registry.get_model("auth", "Permission")
    for role, models in ROLE_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=role)
        wanted = [codename(action, model) for model, actions in models.items() for action in actions]
        group.permissions.set(permission_model.objects.filter(content_type__app_label__in=APPS, codename__in=wanted))


def is_operator(user) -> bool:  # noqa: ANN001 - a Django user or AnonymousUser
    """Operators (and superusers) see the platform's internals: batches, parts, receipts, binds."""
    return bool(user.is_active and (user.is_superuser or user.groups.filter(name=OPERATOR).exists()))
