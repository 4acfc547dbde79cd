"""The report page's cost line: spent and estimated cost, as text (campaigns.selectors_cost).

Rendered by ``reports.cost_view``, a fragment the report page fetches on its own request."""

from __future__ import annotations

from django.http import HttpRequest

from campaigns.models import Campaign
from campaigns.selectors_cost import estimated_cost, spent_cost


def report_cost(request: HttpRequest, campaign: Campaign, *, fresh: bool = False) -> dict[str, object]:
    """The fragment's context; both figures share one cached count (``fresh``: recounted)."""
    spent, estimated = spent_cost(campaign, fresh=fresh), estimated_cost(campaign)
    return {
        "spent": str(spent) if spent else None,
        "estimated": str(estimated) if estimated else None,
        "can_set_prices": request.user.has_perm("campaigns.add_segmentprice"),
    }
