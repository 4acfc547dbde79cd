"""``{% build_campaign_url list_id %}``: the builder with that list (and its likely account)
already chosen, for the "Build a campaign" buttons of a list and of an import."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from campaigns.selectors_accounts import account_for_list

register = template.Library()


@register.simple_tag
def build_campaign_url(list_id: int) -> str:
    query = {"recipient_lists": list_id}
    account = account_for_list(list_id)
    if account is not None:
        query["account"] = account
    return f"{reverse('admin:campaigns_campaign_add')}?{urlencode(query)}"
