"""/api/v1/campaigns/: CRUD, the actions a marketer's buttons offer, and the stats.

Each action is a POST sub-route that calls the same ``campaign_actions`` service as the
admin, so the rules (what may be paused, what is sendable) live in one place; a refusal is
an ApplicationError, answered as 409 (wrong state) or 400 (bad input) with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response

from campaigns import selectors
from campaigns.api.permissions import SEND_CAMPAIGN, RolePermissions, requires
from campaigns.api.serializers.approvals import (
    ApprovalCommentSerializer,
    CampaignEventSerializer,
    RejectSerializer,
)
from campaigns.api.serializers.campaigns import (
    CampaignFilters,
    CampaignSerializer,
    ResendFailedSerializer,
    ScheduleSerializer,
    TestSendSerializer,
)
from campaigns.api.serializers.stats import CampaignLiveStatsSerializer
from campaigns.api.views.base import CrudViewSet, FilteredListMixin
from campaigns.errors import ApplicationError
from campaigns.models import Campaign
from campaigns.selectors_approvals import campaign_history
from campaigns.selectors_stats import campaign_live_stats
from campaigns.services import approvals, campaign_actions, campaign_edits

VIEW_CAMPAIGN, ADD_CAMPAIGN = "campaigns.view_campaign", "campaigns.add_campaign"
CAN_SEND = [requires(VIEW_CAMPAIGN, SEND_CAMPAIGN)]
CAN_SEND_A_COPY = [requires(VIEW_CAMPAIGN, ADD_CAMPAIGN, SEND_CAMPAIGN)]
CAN_APPROVE = [requires(VIEW_CAMPAIGN, approvals.APPROVE_PERMISSION)]
TAGS = ["campaigns"]


def _action_schema(summary: str, request: Any = None, code: int = 200) -> Callable[[Any], Any]:
    return extend_schema(summary=summary, tags=TAGS, request=request, responses={code: CampaignSerializer})


@extend_schema_view(
    list=extend_schema(
        summary="List campaigns",
        tags=TAGS,
        parameters=[CampaignFilters],
    ),
    create=extend_schema(summary="Create a draft campaign", tags=TAGS),
    retrieve=extend_schema(summary="Get a campaign", tags=TAGS),
    update=extend_schema(summary="Replace a campaign (draft, scheduled or paused)", tags=TAGS),
    partial_update=extend_schema(summary="Change a campaign (draft, scheduled or paused)", tags=TAGS),
    destroy=extend_schema(summary="Delete a campaign (not while it is sending)", tags=TAGS),
)
class CampaignViewSet(FilteredListMixin, CrudViewSet):
    """Campaigns; the status changes only through the action routes (schedule, send-now, pause, …)."""

    serializer_class = CampaignSerializer
    filters_class = CampaignFilters

    def get_queryset(self) -> QuerySet[Campaign]:
        return selectors.campaign_list()

    def filtered_queryset(self, filters: dict[str, Any]) -> QuerySet[Campaign]:
        campaigns = selectors.campaign_list(status=filters.get("status"))
        if filters.get("is_test") is not None:
            campaigns = campaigns.filter(is_test=filters["is_test"])
        if filters.get("approval_state"):
            campaigns = campaigns.filter(approval_state=filters["approval_state"])
        return campaigns

    def perform_create(self, serializer: serializers.BaseSerializer) -> None:
        serializer.save(created_by=self.request.user)

    def perform_update(self, serializer: serializers.BaseSerializer) -> None:
        campaign: Campaign = serializer.instance
        changed = campaign_edits.changed_fields(campaign, serializer.validated_data)
        campaign_edits.check_edit(campaign=campaign, changed=changed)
        with transaction.atomic():
            serializer.save()
            campaign_edits.apply_edit(campaign=campaign, changed=changed, actor=self.request.user)
        campaign.refresh_from_db()  # the answer shows a withdrawn approval (and a schedule undone)

    def perform_destroy(self, instance: Campaign) -> None:
        if selectors.campaign_has_messages_in_flight(instance):
            raise ApplicationError(
                "The campaign is sending; pause or cancel it before deleting it.", field="status", code="invalid_state"
            )
        instance.delete()

    @_action_schema("Schedule (or reschedule) a draft", ScheduleSerializer)
    @action(detail=True, methods=["post"], permission_classes=CAN_SEND)
    def schedule(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        at = self.validated(ScheduleSerializer, campaign=campaign)["scheduled_at"]
        return self.respond(campaign_actions.schedule(campaign=campaign, at=at, actor=request.user))

    @_action_schema("Start sending now")
    @action(detail=True, methods=["post"], url_path="send-now", permission_classes=CAN_SEND)
    def send_now(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(campaign_actions.send_now(campaign=self.get_object(), actor=request.user))

    @_action_schema("Pause: stop new submits (queued messages go back to pending)")
    @action(detail=True, methods=["post"], permission_classes=CAN_SEND)
    def pause(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(campaign_actions.pause(campaign=self.get_object(), actor=request.user))

    @_action_schema("Resume a paused campaign")
    @action(detail=True, methods=["post"], permission_classes=CAN_SEND)
    def resume(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(campaign_actions.resume(campaign=self.get_object(), actor=request.user))

    @_action_schema("Cancel for good (unsent messages are cancelled)")
    @action(detail=True, methods=["post"], permission_classes=CAN_SEND)
    def cancel(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(campaign_actions.cancel(campaign=self.get_object(), actor=request.user))

    @_action_schema(
        "Send a test to a few numbers (a separate test campaign), personalised as one recipient",
        TestSendSerializer,
        201,
    )
    @action(detail=True, methods=["post"], url_path="test-send", permission_classes=CAN_SEND)
    def test_send(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        data = self.validated(TestSendSerializer)
        test = campaign_actions.send_test(campaign=campaign, phones=data["phones"], contact_id=data.get("contact"))
        return self.respond(test, status.HTTP_201_CREATED)

    @_action_schema("Duplicate as a new draft", code=201)
    @action(detail=True, methods=["post"], permission_classes=CAN_SEND_A_COPY)
    def duplicate(self, request: Request, pk: str | None = None) -> Response:
        return self.respond(campaign_actions.duplicate(campaign=self.get_object()), status.HTTP_201_CREATED)

    @_action_schema(
        "New draft campaign of the recipients whose messages failed (optionally also the unknown ones)",
        ResendFailedSerializer,
        201,
    )
    @action(detail=True, methods=["post"], url_path="resend-failed", permission_classes=CAN_SEND_A_COPY)
    def resend_failed(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        payload = self.validated(ResendFailedSerializer)
        resend = campaign_actions.resend_failed(campaign=campaign, include_unknown=payload["include_unknown"])
        return self.respond(resend, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Counts per status, delivery rate, live rate and ETA, failure reasons, countries",
        tags=TAGS,
        responses={200: CampaignLiveStatsSerializer},
    )
    @action(detail=True, methods=["get"], permission_classes=[RolePermissions])
    def stats(self, request: Request, pk: str | None = None) -> Response:
        return Response(CampaignLiveStatsSerializer(campaign_live_stats(self.get_object())).data)

    # --- Approval before sending (campaigns.services.approvals, docs/approval.md) -----------

    @_action_schema("Ask an approver to approve the campaign before it is sent", ApprovalCommentSerializer)
    @action(detail=True, methods=["post"], url_path="request-approval", permission_classes=CAN_SEND)
    def request_approval(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        comment = self.validated(ApprovalCommentSerializer)["comment"]
        return self.respond(approvals.request_approval(campaign=campaign, actor=request.user, comment=comment))

    @_action_schema("Approve a campaign waiting for approval (approvers; not one's own)", ApprovalCommentSerializer)
    @action(detail=True, methods=["post"], permission_classes=CAN_APPROVE)
    def approve(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        comment = self.validated(ApprovalCommentSerializer)["comment"]
        return self.respond(approvals.approve(campaign=campaign, actor=request.user, comment=comment))

    @_action_schema("Reject a campaign waiting for approval, saying why (approvers; not one's own)", RejectSerializer)
    @action(detail=True, methods=["post"], permission_classes=CAN_APPROVE)
    def reject(self, request: Request, pk: str | None = None) -> Response:
        campaign = self.get_object()
        comment = self.validated(RejectSerializer)["comment"]
        return self.respond(approvals.reject(campaign=campaign, actor=request.user, comment=comment))

    @extend_schema(
        summary="The campaign's history: approval steps and state moves, oldest first",
        tags=TAGS,
        responses={200: CampaignEventSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], permission_classes=[RolePermissions])
    def history(self, request: Request, pk: str | None = None) -> Response:
        return Response(CampaignEventSerializer(campaign_history(self.get_object()), many=True).data)
