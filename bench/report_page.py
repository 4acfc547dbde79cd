"""Time the delivery report, its live figures and the campaign list on 1,000,000-message
campaigns (one completed, one running); one JSON line.

    .venv/bin/python bench/report_page.py [--messages 1000000] [--requests 20] [--prices]

The campaign is built with set-based SQL (like bench/fanout.py): one part per message, an
outcome mix of delivered / undelivered (receipt err codes) / failed (SMPP command statuses) /
expired / suppressed, submits spread over an hour and receipts seconds later; 30 small
campaigns keep it company on the list. ANALYZE and VACUUM then run, as autovacuum would have
after such a load. Each page is fetched with Django's test Client as a logged-in operator:
one warm-up, then --requests timed requests; p50/p95 are in milliseconds. "report" and
"changelist" clear the aggregate cache before every request (every figure recounted from
the million rows); the "_cached" figures are what further viewers get while the cached
aggregates are fresh (a minute for a finished campaign, seconds for a running one).
"report_chart" is the timeline SVG, which the report page loads as an image (its own
request, in parallel with the rest of the page); "breakdown" the country/operator fragment
(also its own request). "live" is what a running campaign's report page polls every two
seconds (counts, rate, ETA), on a second campaign of --messages with half still pending,
cache cleared before every request; "live_polled" is four viewers polling it every two
seconds (what they get from the two-second cache). ``--prices`` gives the account a default
price and prices for GB and DE (as bench/cost.py), so the cost figures are counted (grouped
by number prefix): "cost" is the report's cost fragment (its own request), cache cleared
before every request; without ``--prices`` the account has none. BENCH_DB names the database.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time

from _setup import drop_database, setup_django, use_bench_database

DB = os.environ.get("BENCH_DB", "bench_report")


def build(messages: int) -> tuple[int, int]:
    """Create the campaigns and messages; returns the ids of the big completed and running ones."""
    from datetime import timedelta

    from django.db import connection
    from django.utils import timezone

    from campaigns.models import Account, Campaign, Message, MessagePart

    account = Account.objects.create(name="bench", system_id="bench", smpp_password="pw", binds=4)
    now = timezone.now()
    big = Campaign.objects.create(
        name="Big",
        account=account,
        body="Hello {{ first_name }}",
        status="completed",
        started_at=now,
        completed_at=now + timedelta(seconds=3605),
        materialised_at=now,
    )
    for i in range(30):
        small = Campaign.objects.create(name=f"Small {i}", account=account, body="Hi", status="completed")
        Message.objects.bulk_create(
            Message(campaign=small, phone=f"+4479111{j:05d}", status="delivered") for j in range(100)
        )
    running = Campaign.objects.create(
        name="Big running",
        account=account,
        body="Hello",
        status="running",
        started_at=now,
        materialised_at=now,
    )
    message, part = (connection.ops.quote_name(m._meta.db_table) for m in (Message, MessagePart))
    # Outcome by mod(g, 100): 0-2 undelivered, 3 failed, 4 expired, 5 suppressed, 6 rejected, rest delivered.
    status = (
        "CASE WHEN mod(g, 100) < 3 THEN 'undelivered' WHEN mod(g, 100) = 3 THEN 'failed' "
        "WHEN mod(g, 100) = 4 THEN 'expired' WHEN mod(g, 100) = 5 THEN 'suppressed' "
        "WHEN mod(g, 100) = 6 THEN 'rejected' ELSE 'delivered' END"
    )
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO {message} (campaign_id, phone, body, status, reason, segments, recipient_tz, attempts, "
            f"created_at, updated_at, submitted_at, done_at) "
            f"SELECT %s, '+447' || lpad(g::text, 9, '0'), 'Hello', {status}, "
            f"CASE WHEN mod(g, 100) = 5 THEN 'opted out' ELSE '' END, 1, '', 1, %s, %s, "
            f"CASE WHEN mod(g, 100) IN (3, 5) THEN NULL ELSE %s + ((g - 100000000) * interval '3.6 millisecond') END, "
            f"CASE WHEN mod(g, 100) = 5 THEN NULL "
            f"ELSE %s + ((g - 100000000) * interval '3.6 millisecond') + interval '4 second' END "
            f"FROM generate_series(100000000, 100000000 + %s - 1) g",
            [big.id, now, now, now, now, messages],
        )
        cur.execute(
            f"INSERT INTO {part} (message_id, account_id, index, provider_message_id, status, error_code, error, "
            f"attempts, submitted_at, done_at, updated_at) "
            f"SELECT m.id, %s, 1, m.id::text, m.status, "
            f"CASE m.status WHEN 'undelivered' THEN (ARRAY[1, 6, 27])[1 + mod(m.id, 3)] WHEN 'failed' THEN "
            f"(ARRAY[11, 88])[1 + mod(m.id, 2)] WHEN 'rejected' THEN 13 END, "
            f"CASE m.status WHEN 'undelivered' THEN 'receipt err ' || (ARRAY['001', '006', '027'])[1 + mod(m.id, 3)] "
            f"WHEN 'failed' THEN (ARRAY['ESME_RINVDSTADR', 'ESME_RTHROTTLED'])[1 + mod(m.id, 2)] "
            f"WHEN 'rejected' THEN 'receipt err 013' ELSE '' END, "
            f"1, m.submitted_at, m.done_at, m.updated_at FROM {message} m "
            f"WHERE m.campaign_id = %s AND m.status <> 'suppressed'",
            [account.id, big.id],
        )
        # The running one: the first half sent (same outcome mix), the second half pending.
        cur.execute(
            f"INSERT INTO {message} (campaign_id, phone, body, status, reason, segments, recipient_tz, attempts, "
            f"created_at, updated_at, submitted_at, done_at) "
            f"SELECT %s, '+447' || lpad(g::text, 9, '0'), 'Hello', "
            f"CASE WHEN g >= 200000000 + %s / 2 THEN 'pending' ELSE {status} END, '', 1 + mod(g, 2), '', 1, %s, %s, "
            f"CASE WHEN g < 200000000 + %s / 2 THEN %s + ((g - 200000000) * interval '3.6 millisecond') END, "
            f"CASE WHEN g < 200000000 + %s / 2 THEN %s + ((g - 200000000) * interval '3.6 millisecond') "
            f"+ interval '4 second' END FROM generate_series(200000000, 200000000 + %s - 1) g",
            [running.id, messages, now, now, messages, now, messages, now, messages],
        )
    with connection.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    return big.id, running.id


def timed(client, url: str, requests: int, *, cold: bool = False, every_s: float = 0.0) -> dict[str, float]:
    """p50/p95 of ``requests`` GETs after one warm-up; ``cold`` clears the report cache first;
    ``every_s`` spaces the requests like a poll (one request every ``every_s`` seconds)."""
    from django.core.cache import cache

    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    samples = []
    for _ in range(requests):
        if every_s:
            time.sleep(every_s)
        if cold:
            cache.clear()
        started = time.perf_counter()
        response = client.get(url)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
    }


def timed_call(call, requests: int) -> dict[str, float]:
    """p50/p95 of ``requests`` calls of a selector (no HTTP), after one warm-up."""
    call()
    samples = []
    for _ in range(requests):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    samples.sort()
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(samples[max(0, round(0.95 * len(samples)) - 1)], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=20)
    parser.add_argument("--prices", action="store_true", help="set segment prices (default, GB, DE)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="reuse a kept database (skip building)")
    args = parser.parse_args()
    if not args.reuse:
        use_bench_database(DB)
    else:
        from _setup import DEFAULT_PG

        os.environ["DATABASE_URL"] = os.environ.get("BENCH_PG_URL", DEFAULT_PG).rsplit("/", 1)[0] + f"/{DB}"
    setup_django()
    from django.conf import settings
    from django.contrib.auth.models import Group, User
    from django.test import Client
    from django.urls import NoReverseMatch, reverse
    from django.utils import timezone

    from campaigns.models import Campaign, SegmentPrice

    settings.ALLOWED_HOSTS = ["testserver", *settings.ALLOWED_HOSTS]
    if args.reuse:
        campaign_id, running_id = (Campaign.objects.get(name=n).id for n in ("Big", "Big running"))
    else:
        started = time.perf_counter()
        campaign_id, running_id = build(args.messages)
        build_s = time.perf_counter() - started
    account_id = Campaign.objects.get(pk=campaign_id).account_id
    SegmentPrice.objects.filter(account_id=account_id).delete()
    if args.prices:
        from decimal import Decimal

        for country, price in (("", "0.0400"), ("GB", "0.0350"), ("DE", "0.0700")):
            SegmentPrice.objects.create(account_id=account_id, country=country, price=Decimal(price), currency="EUR")
    user, _ = User.objects.get_or_create(username="bench-operator", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="operator"))
    client = Client()
    client.force_login(user)
    report_url = reverse("admin:campaigns_campaign_report", args=[campaign_id])
    changelist_url = reverse("admin:campaigns_campaign_changelist")
    chart_url = reverse("admin:campaigns_campaign_timeline", args=[campaign_id])
    live_url = reverse("admin:campaigns_campaign_report_live", args=[running_id])
    breakdown_url = reverse("admin:campaigns_campaign_report_breakdown", args=[campaign_id])
    try:
        cost_url = reverse("admin:campaigns_campaign_report_cost", args=[campaign_id])
    except NoReverseMatch:  # a tree from before the cost fragment: the page counts it inline
        cost_url = ""
    from campaigns.selectors import campaign_stats
    from campaigns.selectors_live import count_by_status

    running = Campaign.objects.get(pk=running_id)
    result = {
        "messages": args.messages,
        # the counts alone: the status rollup's sum, and the GROUP BY off the index it replaces
        "live_counts": timed_call(lambda: count_by_status(running_id), args.requests),
        "index_counts": timed_call(lambda: campaign_stats(running), 5),
        "live": timed(client, live_url, args.requests, cold=True),
        # four viewers, each polling every 2 s: one request every 0.5 s against the 2 s cache
        "live_polled": timed(client, live_url, args.requests * 2, every_s=0.5),
        "running_report": timed(
            client, reverse("admin:campaigns_campaign_report", args=[running_id]), args.requests, cold=True
        ),
        "report": timed(client, report_url, args.requests, cold=True),
        "report_cached": timed(client, report_url, args.requests),
        "breakdown": timed(client, breakdown_url, args.requests, cold=True),
        **({"cost": timed(client, cost_url, args.requests, cold=True)} if cost_url else {}),
        "report_chart": timed(client, chart_url, args.requests, cold=True),
        "report_chart_cached": timed(client, chart_url, args.requests),
        "changelist": timed(client, changelist_url, args.requests, cold=True),
        "changelist_cached": timed(client, changelist_url, args.requests),
        "prices": args.prices,
        "loadavg_1m": round(os.getloadavg()[0], 2),
        "at": timezone.now().isoformat(timespec="seconds"),
    }
    if not args.reuse:
        result["build_s"] = round(build_s, 1)
    print(json.dumps(result))
    if not (args.keep or args.reuse):
        drop_database(DB)


if __name__ == "__main__":
    main()
