"""What GET /api/v1/campaigns/{id}/stats/ returns: the counts, then the live figures, the
failure reasons and the countries. Each part comes from its own selector and its own
short cache (see their modules), so the API and the admin's report read the same figures."""

from __future__ import annotations

from django.core.cache import cache

from campaigns.models import Campaign, CampaignStatus
from campaigns.selectors import campaign_stats
from campaigns.selectors_breakdown import campaign_breakdown
from campaigns.selectors_clicks import click_stats
from campaigns.selectors_cost import Cost, cost_by_country, cost_stats, price_table
from campaigns.selectors_failures import ReasonGroup, failure_reasons
from campaigns.selectors_live import live_figures

SETTLED = (CampaignStatus.COMPLETED, CampaignStatus.CANCELLED)


def cached_failure_reasons(campaign: Campaign, *, fresh: bool = False) -> list[ReasonGroup]:
    """:func:`failure_reasons`, cached a minute once settled and five seconds while live."""
    key = f"campaign-reasons:{campaign.id}:{campaign.status}"
    value = None if fresh else cache.get(key)
    if value is None:
        value = failure_reasons(campaign)
        cache.set(key, value, 60 if campaign.status in SETTLED else 5)
    return value


def campaign_live_stats(campaign: Campaign) -> dict:
    stats: dict = dict(campaign_stats(campaign))
    live = live_figures(campaign)
    stats.update(
        rate_per_s=live.rate_per_s, segments_per_s=live.segments_per_s, eta_s=live.eta_s, elapsed_s=live.elapsed_s
    )
    stats["failure_reasons"] = [
        {"reason": g.words, "code": g.code, "count": g.count} for g in cached_failure_reasons(campaign)
    ]
    costs = country_costs(campaign)
    stats["by_country"] = [
        {
            "country": c.key,
            "messages": c.messages,
            "delivered": c.delivered,
            "failed": c.failed,
            "segments": c.segments,
            "cost": costs.get(c.key),
        }
        for c in campaign_breakdown(campaign)["countries"]
    ]
    stats.update(cost_stats(campaign))
    stats["clicks"] = click_stats(campaign, delivered=stats["delivered"]) if campaign.track_links else None
    return stats


def country_costs(campaign: Campaign) -> dict[str, dict[str, str]]:
    """The spent cost per destination country as the API writes a cost (``{"amount",
    "currency"}``); a country without a price is absent (its row's ``cost`` is null)."""
    currency = price_table(campaign.account_id).currency
    return {country: Cost(amount, currency).as_dict() for country, amount in cost_by_country(campaign).items()}
