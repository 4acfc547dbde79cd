"""A finished campaign with one message of each kind a resend cares about, the unknown one
made unknown by the receipt deadline itself (shared by the admin and API resend tests)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from campaigns.models import Campaign, Contact
from campaigns.services.receipt_deadline import settle_overdue_parts
from campaigns.statuses import C, S
from tests.factories import CampaignFactory, MessageFactory, MessagePartFactory, RecipientListFactory

DELIVERED, FAILED, UNKNOWN = "+447911200001", "+447911200002", "+447911200003"


def finished_with_failed_and_unknown(settings, *, failed: bool = True) -> Campaign:
    """Delivered, failed (unless ``failed`` is false) and unknown: the unknown one was
    accepted 7 h ago and got no receipt, so the 6 h deadline settled it."""
    settings.RECEIPT_DEADLINE_S = 6 * 3600
    lst = RecipientListFactory(name="Autumn customers")
    contacts = {
        phone: Contact.objects.create(recipient_list=lst, phone=phone, first_name=name)
        for phone, name in ((DELIVERED, "Dee"), (FAILED, "Fay"), (UNKNOWN, "Una"))
    }
    campaign = CampaignFactory(name="Autumn sale", body="Hi {{ first_name }}", status=C.RUNNING)
    campaign.recipient_lists.add(lst)
    long_ago = timezone.now() - timedelta(hours=7)
    outcomes = [(DELIVERED, S.DELIVERED), (UNKNOWN, S.ACCEPTED)] + ([(FAILED, S.FAILED)] if failed else [])
    for phone, status in outcomes:
        message = MessageFactory(
            campaign=campaign, contact=contacts[phone], phone=phone, status=status, submitted_at=long_ago
        )
        MessagePartFactory(message=message, status=status, provider_message_id=phone[-4:], submitted_at=long_ago)
    assert settle_overdue_parts() == 1
    assert campaign.messages.get(phone=UNKNOWN).status == S.UNKNOWN
    Campaign.objects.filter(pk=campaign.pk).update(status=C.COMPLETED, completed_at=timezone.now())
    campaign.refresh_from_db()
    return campaign


def list_phones(resend: Campaign) -> list[str]:
    return sorted(resend.recipient_lists.get().contacts.values_list("phone", flat=True))
