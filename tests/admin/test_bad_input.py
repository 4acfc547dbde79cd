"""Input the database cannot take is a 400 or a 404 on every admin page, never a 500.

Before the fix a NUL character in any changelist filter or search was a 500 (PostgreSQL
refuses NUL in text) and ``/admin/campaigns/importjob/abc/report/`` was a 500 (``abc`` is
not a number). The tests walk every registered changelist and every admin URL with an id.
"""

from __future__ import annotations

import re

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import URLPattern, reverse

from tests.secret_world import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client(admin_user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(admin_user)
    return client


def _changelists() -> list[tuple[type, str]]:
    return [
        (model, reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        for model in admin.site._registry
    ]


def test_a_nul_in_any_changelist_query_is_a_400(roles, superuser_client: Client) -> None:
    build_world()
    failures = []
    for model, url in _changelists():
        names = [f.name for f in model._meta.concrete_fields] + [
            f"{f.name}__icontains"
            for f in model._meta.concrete_fields
            if f.get_internal_type() in ("CharField", "TextField")
        ]
        queries = [{"q": "a\x00b"}, {"\x00": "1"}, {"o": "1\x00"}, *({name: "x\x00"} for name in names)]
        queries += [{f"{name}__range": "a,b"} for name in names[:2]]
        for query in queries:
            status = superuser_client.get(url, query).status_code
            if status != 400:
                failures.append(f"{model._meta.label} {query!r} → {status}")
        assert superuser_client.get(url, {"q": "x"}).status_code == 200, url  # a clean query still works
    assert not failures, failures


@pytest.mark.parametrize("selected", ["abc", "1\x00", ""])
def test_an_action_on_ids_that_are_not_ids_is_a_400(roles, admin_user, superuser_client: Client, selected: str) -> None:
    build_world()
    request = RequestFactory().get("/")
    request.user = admin_user
    failures = []
    for model, url in _changelists():
        data = {"action": "delete_selected", "_selected_action": selected, "index": "0"}
        status = superuser_client.post(url, data).status_code
        has_actions = bool(admin.site._registry[model].get_actions(request))
        if status != 400 if has_actions else status >= 500:
            failures.append(f"{model._meta.label} {selected!r} → {status}")
    assert not failures, failures


def _routes(model_admin: admin.ModelAdmin) -> list[str]:
    """The admin's URL patterns that take an object id, with converters filled in."""
    routes = []
    for pattern in model_admin.get_urls():
        route = str(pattern.pattern) if isinstance(pattern, URLPattern) else ""
        if "<path:object_id>" in route:
            routes.append(re.sub(r"<slug:\w+>", "send", route))
    return routes


@pytest.mark.parametrize("object_id", ["abc", "1x", "99999999999999999999999", "%00"])
def test_an_id_that_is_not_one_is_never_a_500(roles, superuser_client: Client, object_id: str) -> None:
    build_world()
    failures = []
    for model, model_admin in admin.site._registry.items():
        base = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
        for route in _routes(model_admin):
            url = base + route.replace("<path:object_id>", object_id)
            for method in (superuser_client.get, superuser_client.post):
                status = method(url).status_code
                if status >= 500:
                    failures.append(f"{method.__name__.upper()} {url} → {status}")
    assert not failures, failures


@pytest.mark.parametrize("view", ["mapping", "progress", "report"])
def test_import_job_pages_with_a_non_numeric_id_are_404(superuser_client: Client, view: str) -> None:
    url = reverse("admin:campaigns_importjob_changelist") + f"abc/{view}/"
    assert superuser_client.get(url).status_code == 404


def test_recipient_list_pages_with_a_non_numeric_id(superuser_client: Client) -> None:
    base = reverse("admin:campaigns_recipientlist_changelist")
    assert superuser_client.get(base + "abc/import/").status_code == 404
    # Django's own answer for a missing object: back to the index with a message.
    assert superuser_client.get(base + "abc/change/").status_code == 302
