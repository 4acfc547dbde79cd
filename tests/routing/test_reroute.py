"""A routing-type submit error (the provider does not serve the number) is retried once on
the next account of the route, through the real submit and record path."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns.models import Message, MessagePart
from campaigns.services.dispatch import tick
from campaigns.services.senders import SubmitOutcome
from campaigns.services.submit import begin_submit, finish_batch
from campaigns.services.submit_writes import record_submit_results
from campaigns.statuses import MessageStatus as S
from tests.routing.test_claim_routing import _big, _route, _routed_campaign

pytestmark = pytest.mark.django_db

ESME_RINVDSTADR = 0x0B


def _claimed(campaign) -> list:
    """The tick's batches (past any retry backoff)."""
    return tick(enqueue=lambda batch: None, now=timezone.now() + timedelta(minutes=10))


def _answer(batch, outcome: str, code: int | None) -> None:
    sent = begin_submit(message_ids=batch.message_ids, claim=batch.claim, segment=lambda text, *, ref: [text])
    outcomes = [
        SubmitOutcome(
            p,
            outcome,
            provider_message_id="1" if outcome == "accepted" else None,
            error_code=code,
            error="ESME_RINVDSTADR (0x0B)" if code else "",
        )
        for p in sent.parts
    ]
    record_submit_results(batch_id=sent.id, outcomes=outcomes)
    finish_batch(batch_id=sent.id)


def test_a_refused_number_is_retried_once_on_the_next_account_then_fails() -> None:
    a, b = _big(), _big()
    route = _route(entries=[("+44", a, 1, None), ("+44", b, 1, None)])
    campaign = _routed_campaign(route, ["+447911000001"])
    [first] = _claimed(campaign)
    assert first.account_id in (a.id, b.id)
    refusing = first.account_id
    _answer(first, "failed", ESME_RINVDSTADR)
    message = Message.objects.get(campaign=campaign)
    assert message.status == S.PENDING and message.rerouted_from == refusing
    assert "ESME_RINVDSTADR" in message.route_note and str(refusing) in message.route_note

    [second] = _claimed(campaign)
    assert second.account_id != refusing  # the other account of the prefix
    _answer(second, "failed", ESME_RINVDSTADR)
    message.refresh_from_db()
    assert message.status == S.FAILED  # once only
    assert MessagePart.objects.get(message=message).account_id == second.account_id


def test_a_refusal_with_no_other_account_for_the_number_fails_at_once() -> None:
    a, b = _big(), _big()
    route = _route(entries=[("+44", a, 1, None), ("+33", b, 1, None)])
    campaign = _routed_campaign(route, ["+447911000001"])
    [first] = _claimed(campaign)
    _answer(first, "failed", ESME_RINVDSTADR)
    assert Message.objects.get(campaign=campaign).status == S.FAILED


def test_other_failures_are_not_rerouted() -> None:
    a, b = _big(), _big()
    route = _route(entries=[("", a, 1, None), ("", b, 1, None)])
    campaign = _routed_campaign(route, ["+447911000001"])
    [first] = _claimed(campaign)
    _answer(first, "failed", 0x45)  # ESME_RSUBMITFAIL
    message = Message.objects.get(campaign=campaign)
    assert message.status == S.FAILED and message.rerouted_from is None
