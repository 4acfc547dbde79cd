"""Time a campaign's cost figures (campaigns.selectors_cost) on a big campaign; one JSON line.

    .venv/bin/python bench/cost.py [--messages 1000000] [--runs 5]

Builds the campaign as bench/report_page.py does (one part per message, an outcome mix),
sets a default price and two country prices, and times each figure uncached (the cache is
cleared before every run): estimated (a GROUP BY of the messages by number prefix),
spent and by country; then with one price for every country ("_flat": no grouping).
p50/max in ms. BENCH_DB names the scratch database (default bench_cost).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from _setup import drop_database, setup_django, use_bench_database
from report_page import build

DB = os.environ.get("BENCH_DB", "bench_cost")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    use_bench_database(DB)
    setup_django()
    from decimal import Decimal

    from django.core.cache import cache

    from campaigns.models import Campaign, SegmentPrice
    from campaigns.selectors_cost import cost_by_country, estimated_cost, spent_cost

    campaign = Campaign.objects.get(pk=build(args.messages)[0])  # the completed one
    for country, price in (("", "0.0400"), ("GB", "0.0350"), ("DE", "0.0700")):
        SegmentPrice.objects.create(account=campaign.account, country=country, price=Decimal(price), currency="EUR")
    result: dict[str, object] = {"messages": args.messages}
    for name, figure in (("estimated", estimated_cost), ("spent", spent_cost), ("by_country", cost_by_country)):
        times = []
        for _ in range(args.runs):
            cache.clear()
            started = time.perf_counter()
            value = figure(campaign)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "value": str(value),
        }
    # One price for every country (the common case): no grouping by number.
    SegmentPrice.objects.filter(account=campaign.account).exclude(country="").delete()
    for name, figure in (("estimated_flat", estimated_cost), ("spent_flat", spent_cost)):
        times = []
        for _ in range(args.runs):
            cache.clear()
            started = time.perf_counter()
            value = figure(campaign)
            times.append((time.perf_counter() - started) * 1000)
        result[name] = {
            "p50_ms": round(statistics.median(times), 1),
            "max_ms": round(max(times), 1),
            "value": str(value),
        }
    print(json.dumps(result))
    drop_database(DB)


if __name__ == "__main__":
    main()
