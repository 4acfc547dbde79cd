"""No API list answers questions about a secret: filters, ordering and search are refused.

The API's filters are explicit serializers, so these parameters did nothing; now any that
reaches a secret (``campaigns.secret_fields``, through relations too) is a 400, so that a
generic filter or ordering backend added later cannot turn into an oracle. The walk is
generic: every list endpoint, every path to a secret, every lookup, every role.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, User
from rest_framework.test import APIClient, APIRequestFactory, force_authenticate

from campaigns.api.urls import router
from campaigns.api.views.media import CampaignMediaViewSet
from campaigns.models import Campaign
from campaigns.roles import ROLE_PERMISSIONS
from tests.secret_world import MATCH, OTHER, build_world, probes, secret_paths

pytestmark = pytest.mark.django_db

ROLES = ("superuser", *ROLE_PERMISSIONS)
ORDERING = ("ordering", "order_by", "sort", "o")


def _endpoints() -> list[tuple[str, type, dict[str, object]]]:
    campaign_id = Campaign.objects.values_list("id", flat=True).first()
    found = [(f"/api/v1/{prefix}/", viewset, {}) for prefix, viewset, _ in router.registry]
    return [*found, (f"/api/v1/campaigns/{campaign_id}/media/", CampaignMediaViewSet, {"campaign_id": campaign_id})]


def _model(viewset: type, kwargs: dict[str, object]) -> type:
    view = viewset()
    view.kwargs, view.request = kwargs, None
    return view.get_queryset().model


def _queries(model: type) -> list[dict[str, str]]:
    wanted = []
    for path in secret_paths(model):
        wanted += [{key: value} for key, value in probes(path)]
        wanted += [{name: f"-{path}"} for name in ORDERING]
    return wanted + [{"search": MATCH}, {"q": MATCH}]


def _user(role: str) -> User:
    if role == "superuser":
        return User.objects.create_superuser("api-walker", password="pw-for-tests")
    user = User.objects.create_user(f"api-{role}", password="pw-for-tests")
    user.groups.add(Group.objects.get(name=role))
    return user


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", ROLES)
def test_no_list_answer_depends_on_a_secret(roles, role: str) -> None:
    targets = build_world()
    user = _user(role)
    factory = APIRequestFactory()
    walk = []
    for url, viewset, kwargs in _endpoints():
        view = viewset.as_view({"get": "list"})
        walk += [(url, view, kwargs, query) for query in _queries(_model(viewset, kwargs))]
    assert len(walk) > 500
    answers = []
    for state in ((MATCH, OTHER), (OTHER, MATCH)):
        targets.set_secrets(state)
        seen = []
        for url, view, kwargs, query in walk:
            request = factory.get(url, query)
            force_authenticate(request, user=user)
            response = view(request, **kwargs)
            response.render()
            seen.append((response.status_code, response.content))
        answers.append(seen)
    leaks = [f"{url} {query}" for (url, _, _, query), a, b in zip(walk, *answers, strict=True) if a != b]
    assert not leaks, f"{len(leaks)} answers depend on a secret, e.g. {leaks[:20]}"
    assert all(status < 500 for status, _ in answers[0])


def test_a_parameter_on_a_secret_is_a_400_naming_it(client_for, roles) -> None:
    build_world()
    client: APIClient = client_for("operator")
    for url, params in [
        ("/api/v1/accounts/", {"smpp_password__startswith": "p"}),
        ("/api/v1/accounts/", {"ordering": "name,-mm4_api_key"}),
        ("/api/v1/campaigns/", {"account__smpp_password": MATCH}),
        ("/api/v1/messages/", {"campaign__account__mm4_api_key__regex": "^p"}),
    ]:
        response = client.get(url, params)
        assert response.status_code == 400, (url, params)
        (error,) = response.json()["errors"]
        assert error["field"] == next(iter(params)) and error["code"] == "secret_field"
    assert client.get("/api/v1/accounts/", {"ordering": "name"}).status_code == 200
    viewer = client_for("viewer")
    assert viewer.get("/api/v1/accounts/", {"smpp_password": "p"}).status_code == 403  # permissions first
