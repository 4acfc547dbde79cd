"""A small world with a row in every table the admin shows, for tests that walk every page.

Two of every model with a secret (``campaigns.secret_fields``) are the *targets*: the tests
swap their secret values between two states and check that no answer changes. Every other
admin model gets a row related to the first target, so a lookup through a relation
(``campaign?account__smpp_password__startswith=…``) would show or hide it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.db.models import Model
from django.utils import timezone

from campaigns.models import (
    ApiToken,
    BatchInFlight,
    ImportJob,
    InboundMessage,
    Receipt,
    Route,
    SegmentPrice,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from campaigns.secret_fields import models_with_secrets, secret_fields
from smpp_transport.models import BindStatus
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, MessagePartFactory, OptOutFactory


@dataclass
class Targets:
    """Two rows of each model with secrets, kept by a handle that survives a primary key change."""

    rows: dict[type[Model], list[object]] = field(default_factory=dict)

    def set_secrets(self, values: tuple[str, str]) -> None:
        """Give the first row of each model ``values[0]`` in every secret field, the second ``values[1]``."""
        for model, pks in self.rows.items():
            names = sorted(secret_fields(model))
            for step in (("tmp0", "tmp1"), values):  # through temporary values: keys are unique
                for index, value in enumerate(step):
                    updates = dict.fromkeys(names, value)
                    model.objects.filter(pk=pks[index]).update(**updates)
                    if model._meta.pk.name in updates:
                        pks[index] = value


def build_world() -> Targets:
    """Rows for every registered admin model; returns the secret targets."""
    first, second = AccountFactory(name="Target A"), AccountFactory(name="Target B")
    users = [User.objects.create_user(f"target-{n}", password="unused-pw") for n in "ab"]
    tokens = [ApiToken.objects.create(user)[0] for user in users]
    users[0].groups.add(Group.objects.get_or_create(name="world")[0])
    contact = ContactFactory()
    campaign = CampaignFactory(account=first, created_by=users[0])
    campaign.recipient_lists.add(contact.recipient_list)
    part = MessagePartFactory(message__campaign=campaign, message__contact=contact, account=first)
    Receipt.objects.create(account=first, provider_message_id="p1", status="delivered", part=part)
    InboundMessage.objects.create(account=first, source_addr="+447911000001", destination_addr="1234", text="hi")
    BatchInFlight.objects.create(account=first, claim=1, heartbeat_at=timezone.now())
    OptOutFactory(account=first)
    SegmentPrice.objects.create(account=first, country="GB", price="0.0035", currency="EUR")
    Route.objects.create(name="world route").entries.create(prefix="+44", account=first, weight=1)
    ImportJob.objects.create(recipient_list=contact.recipient_list, created_by=users[0], original_name="a.csv")
    BindStatus.objects.create(
        name="sys/trx@h:1", system_id=first.system_id, mode="trx", host="h", pid=1, smsc="127.0.0.1:2775", state="bound"
    )
    login = {"username": "target-a", "ip_address": "127.0.0.1", "user_agent": "test"}
    AccessAttempt.objects.create(**login, failures_since_start=1)
    AccessFailureLog.objects.create(**login)
    AccessLog.objects.create(**login)
    hooks = [
        WebhookEndpoint.objects.create(url=f"https://hooks.example.com/{n}", secret=f"hook-secret-{n}", owner=user)
        for n, user in zip("ab", users, strict=True)
    ]
    event = WebhookEvent.objects.create(type="message.status", payload={"id": part.message_id})
    WebhookDelivery.objects.create(event=event, endpoint=hooks[0], next_attempt_at=timezone.now())
    rows: dict[type[Model], list[object]] = {}
    for rows_of in ([first, second], users, tokens, hooks):
        rows[type(rows_of[0])] = [obj.pk for obj in rows_of]
    missing = [model for model in admin.site._registry if not model._default_manager.exists()]
    assert not missing, f"build_world has no row for {missing}: add one so the walk covers it"
    targets = Targets(rows)
    uncovered = {model._meta.concrete_model for model in models_with_secrets()} - set(rows)
    assert not uncovered, f"models with secrets that build_world does not target: {uncovered}"
    return targets


def secret_paths(model: type[Model], hops: int = 2) -> list[str]:
    """Every ORM path from ``model`` to a secret within ``hops`` relations: a secret field
    (``account__smpp_password``), or a relation compared by a secret key (``auth_token``)."""
    found: list[str] = []

    def walk(current: type[Model], prefix: list[str], seen: frozenset[type[Model]]) -> None:
        secrets = secret_fields(current)
        if current._meta.pk.name in secrets:
            found.append("__".join([*prefix, "pk"]))
        for item in current._meta.get_fields():
            path = [*prefix, item.name]
            remote = item.related_model if item.is_relation else None
            if remote is None or isinstance(remote, str):
                if item.name in secrets:
                    found.append("__".join(path))
                continue
            if remote._meta.pk.name in secret_fields(remote) and not item.many_to_many:
                found.append("__".join(path))
            if len(prefix) < hops and remote not in seen:
                walk(remote, path, seen | {remote})

    walk(model, [], frozenset({model}))
    return sorted(set(found))


MATCH, OTHER = "pppp1234", "cccc1234"
# lookup → a value that matches MATCH and not OTHER (or, for lt/lte, the other way round).
PROBES: dict[str, str] = {
    "": MATCH,
    "exact": MATCH,
    "iexact": MATCH.upper(),
    "in": f"{MATCH},zzzz",
    "startswith": MATCH[:2],
    "istartswith": MATCH[:2].upper(),
    "endswith": MATCH[-3:],
    "iendswith": MATCH[-3:].upper(),
    "contains": MATCH[2:5],
    "icontains": MATCH[2:5].upper(),
    "regex": "^pp",
    "iregex": "^PP",
    "gt": "m",
    "gte": "m",
    "lt": "m",
    "lte": "m",
    "range": "m,q",
    "isnull": "False",
    "search": "pppp",
}


def probes(path: str) -> list[tuple[str, str]]:
    """(query parameter, value) for every lookup of ``path``."""
    return [(f"{path}__{lookup}" if lookup else path, value) for lookup, value in PROBES.items()]
