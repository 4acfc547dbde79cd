"""No admin page answers questions about a secret: not by filter, order, search or relation.

Before the fix, ``/admin/campaigns/account/?smpp_password__startswith=n`` showed "1 account"
or "0 accounts", so a marketer could read the SMPP password one character at a time. The
walk below is generic: for every registered admin changelist, every path to a secret
(``campaigns.secret_fields``, through relations), every lookup, ordering and search, and
every role, the answer must be the same whichever value the secret holds.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.contrib.auth.models import Group, User
from django.contrib.messages.storage.fallback import FallbackStorage
from django.core import checks
from django.core.exceptions import BadRequest, PermissionDenied, SuspiciousOperation
from django.http import Http404
from django.test import Client, RequestFactory
from django.urls import reverse

from campaigns.admin.base import GuardedAdminMixin
from campaigns.roles import ROLE_PERMISSIONS
from campaigns.secret_fields import lookup_reads_secret, secret_fields
from tests.secret_world import MATCH, OTHER, build_world, probes, secret_paths

pytestmark = pytest.mark.django_db

ROLES = ("superuser", *ROLE_PERMISSIONS)
Answer = tuple[object, ...]


def _user(role: str) -> User:
    if role == "superuser":
        return User.objects.create_superuser(f"{role}-walker", password="pw-for-tests")
    user = User.objects.create_user(f"{role}-walker", password="pw-for-tests", is_staff=True)
    user.groups.add(Group.objects.get(name=role))
    return user


def _client(role: str) -> Client:
    client = Client()
    client.force_login(_user(role))
    return client


def _answer(model_admin: admin.ModelAdmin, user: User, query: dict[str, str]) -> Answer:
    """What the changelist would show for ``query``: its status, and for a page the counts,
    the rows in order and the filter choices (the page is that, rendered). The view is
    called directly (no middleware, no template): the walk makes thousands of requests."""
    request = RequestFactory().get("/", query)
    request.user = user
    request.session = {}  # type: ignore[assignment]
    request._messages = FallbackStorage(request)  # type: ignore[attr-defined]
    try:
        response = model_admin.changelist_view(request)
    except (SuspiciousOperation, BadRequest):
        return (400,)
    except PermissionDenied:
        return (403,)
    except Http404:
        return (404,)
    if response.status_code != 200:
        return response.status_code, response.get("Location")
    cl = response.context_data["cl"]
    choices = [(spec.title, [str(c.get("display")) for c in spec.choices(cl)]) for spec in cl.filter_specs]
    return 200, cl.result_count, cl.full_result_count, [obj.pk for obj in cl.result_list], choices


def _queries(model: type, model_admin: admin.ModelAdmin) -> list[dict[str, str]]:
    """Every query by which ``model``'s changelist could be asked about a secret."""
    wanted = []
    for path in secret_paths(model):
        wanted += [{key: value} for key, value in probes(path)]
        wanted.append({"_to_field": path, "_popup": "1"})
    wanted += [{"o": str(i)} for i in range(len(model_admin.list_display) + 1)]
    wanted.append({"q": MATCH})
    return wanted


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", ROLES)
def test_no_changelist_answer_depends_on_a_secret(roles, role: str) -> None:
    targets = build_world()
    user = _user(role)
    walk = [
        (model._meta.label, model_admin, query)
        for model, model_admin in admin.site._registry.items()
        for query in _queries(model, model_admin)
    ]
    assert len(walk) > 1000  # the walk found the secrets (and their relations)
    answers: list[list[Answer]] = []
    for state in ((MATCH, OTHER), (OTHER, MATCH)):
        targets.set_secrets(state)
        answers.append([_answer(model_admin, user, query) for _, model_admin, query in walk])
    leaks = [
        f"{label} {query}: {a[:2]} then {b[:2]}"
        for (label, _, query), a, b in zip(walk, *answers, strict=True)
        if a != b
    ]
    assert not leaks, f"{len(leaks)} answers depend on a secret, e.g. {leaks[:20]}"
    shown = sum(answer[0] == 200 for answer in answers[0])
    assert shown >= (len(admin.site._registry) if role == "superuser" else 1)  # the walk saw real pages


ISSUE_URLS = [
    ("admin:campaigns_account_changelist", "smpp_password__startswith", MATCH[:1]),
    ("admin:campaigns_account_changelist", "mm4_api_key__startswith", MATCH[:1]),
    ("admin:campaigns_campaign_changelist", "account__smpp_password__startswith", MATCH[:1]),
    ("admin:campaigns_messagepart_changelist", "account__mm4_api_key", MATCH),
    ("admin:auth_user_changelist", "password__startswith", MATCH[:1]),
    ("admin:campaigns_apitoken_changelist", "digest__startswith", MATCH[:1]),
    ("admin:campaigns_apitoken_changelist", "token_key__startswith", MATCH[:1]),
]
_CSRF = re.compile(rb'name="csrfmiddlewaretoken" value="[^"]*"')


@pytest.mark.parametrize("role", ROLES)
def test_the_oracles_of_the_issue_are_a_400_for_every_role(roles, role: str) -> None:
    """Through the whole stack (middleware, templates): a 400 whatever the secret, or a 403."""
    targets = build_world()
    client = _client(role)
    seen = []
    for state in ((MATCH, OTHER), (OTHER, MATCH)):
        targets.set_secrets(state)
        seen.append(
            [
                (r.status_code, _CSRF.sub(b"", r.content))
                for r in (client.get(reverse(name), {param: value}) for name, param, value in ISSUE_URLS)
            ]
        )
    assert seen[0] == seen[1]
    for (name, _, _), (status, _) in zip(ISSUE_URLS, seen[0], strict=True):
        assert status in (400, 403), name
    if role in ("superuser", "operator", "marketer"):
        assert seen[0][0][0] == 400  # Django's answer to a disallowed lookup
        allowed = client.get(reverse("admin:campaigns_account_changelist"), {"name__startswith": "Target"})
        assert allowed.status_code == 200 and b"2 accounts" in allowed.content


def test_the_token_list_never_shows_a_token_its_digest_or_its_key(admin_client) -> None:
    from campaigns.models import ApiToken

    build_world()
    made, token = ApiToken.objects.create(ApiToken.objects.first().user)
    pages = [
        admin_client.get(reverse("admin:campaigns_apitoken_changelist")).content.decode(),
        admin_client.get(reverse("admin:campaigns_apitoken_change", args=[made.pk])).content.decode(),
        admin_client.get(reverse("admin:campaigns_apitoken_delete", args=[made.pk])).content.decode(),
    ]
    assert "target-a" in pages[0]
    shown = [
        value
        for page in pages
        for row in ApiToken.objects.all()
        for value in (row.digest, row.token_key)
        if value in page
    ]
    assert not shown and not [page for page in pages if token in page]


def test_every_registered_admin_is_guarded_and_configured_without_secrets() -> None:
    unguarded = [type(a).__name__ for a in admin.site._registry.values() if not isinstance(a, GuardedAdminMixin)]
    assert not unguarded
    errors = [e for e in checks.run_checks() if e.id and e.id.startswith("campaigns.")]
    assert not errors, errors


def test_the_check_catches_a_secret_in_the_configuration() -> None:
    from campaigns.checks import check_admin_secrets
    from campaigns.models import Account, Campaign

    class Careless(GuardedAdminMixin, admin.ModelAdmin):
        list_display = ("name", "smpp_password")
        search_fields = ("=mm4_api_key",)

    class Related(GuardedAdminMixin, admin.ModelAdmin):
        list_filter = ("account__smpp_password",)
        ordering = ("-account__mm4_api_key",)

    site = admin.AdminSite(name="careless")
    site.register(Account, Careless)
    site.register(Campaign, Related)
    ids = sorted(e.id for e in check_admin_secrets(site=site))
    assert ids == ["campaigns.E901"] * 4


@pytest.mark.parametrize(
    ("model_label", "lookup", "reads"),
    [
        ("campaigns.Account", "smpp_password__startswith", True),
        ("campaigns.Account", "-mm4_api_key", True),
        ("campaigns.Account", "name__startswith", False),
        ("campaigns.Campaign", "account__smpp_password", True),
        ("campaigns.Campaign", "account", False),
        ("campaigns.Message", "campaign__account__mm4_api_key__regex", True),
        ("auth.User", "password__startswith", True),
        ("auth.Group", "user__password", True),
        ("auth.User", "auth_token_set__digest", True),
        ("auth.User", "auth_token_set__isnull", False),
        ("campaigns.ApiToken", "token_key__startswith", True),
        ("campaigns.ApiToken", "pk", False),
        ("campaigns.ApiToken", "user__username", False),
        ("campaigns.Contact", "nonexistent__smpp_password", False),
    ],
)
def test_lookup_reads_secret(model_label: str, lookup: str, reads: bool) -> None:
    from django.apps import apps

    assert lookup_reads_secret(apps.get_model(model_label), lookup) is reads


SECRET_LOOKING = re.compile(r"pass|secret|token|api_?key|credential|(^|_)key$", re.I)
NOT_SECRET = {
    "campaigns.IdempotencyKey.key": "a client-chosen request key, scoped to its user, never in the admin",
    "sessions.Session.session_key": "not reachable by any admin or API relation (and sessions are Django's)",
}


def test_every_field_that_looks_secret_is_registered() -> None:
    """A new password or key field must be added to the registry (or named here with why not)."""
    from django.apps import apps

    unregistered = [
        f"{model._meta.label}.{f.name}"
        for model in apps.get_models()
        for f in model._meta.concrete_fields
        if SECRET_LOOKING.search(f.name) and f.name not in secret_fields(model)
    ]
    assert sorted(set(unregistered) - set(NOT_SECRET)) == []
