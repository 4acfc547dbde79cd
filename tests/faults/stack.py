"""A whole platform on a private PostgreSQL and RabbitMQ, driven from outside (for faults).

The test process never connects Django to the private database (pytest-django owns the
suite's); it seeds and reads through small scripts and psycopg instead.
"""

from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import psycopg
import pytest

from tests.e2e.harness import ROOT, Platform, wait_until
from tests.faults.private_services import PrivatePostgres, PrivateRabbit

SEED = """
import json, sys
from campaigns.models import Account, Campaign, Contact, RecipientList
spec = json.loads(sys.argv[1])
out = []
for a in spec:
    account = Account.objects.create(name=a["system_id"], system_id=a["system_id"], smpp_password=a["password"],
        smpp_host=a.get("host", "127.0.0.1"), smpp_port=a["port"], binds=a["binds"], bind_mode=a["bind_mode"],
        rate_per_bind=a["rate"],
        source_addr="Faults", source_addr_ton=5, source_addr_npi=0, enquire_link_interval=5)
    lst = RecipientList.objects.create(name=a["system_id"])
    Contact.objects.bulk_create(
        Contact(recipient_list=lst, phone=f"+447{a['prefix']}{i:06d}") for i in range(a["recipients"])
    )
    campaign = Campaign.objects.create(name=a["system_id"], account=account, body=a["body"])
    campaign.recipient_lists.add(lst)
    out.append(campaign.id)
print(json.dumps(out))
"""

SEND = """
import sys
from campaigns.models import Campaign
from campaigns.services.campaign_actions import send_now
for cid in sys.argv[1:]:
    send_now(campaign=Campaign.objects.get(id=int(cid)))
"""


class Stack:
    """``also_listen``: the services also listen there (for hosts in network namespaces)."""

    def __init__(self, tmp: Path, *, broker: str = "private", also_listen: str | None = None) -> None:
        self.tmp = tmp
        self.pg = PrivatePostgres(also_listen).start()
        self.rabbit = PrivateRabbit(also_listen).start() if broker == "private" else None
        env = {
            "DATABASE_URL": self.pg.url,
            "CELERY_BROKER_URL": self.rabbit.url if self.rabbit else "filesystem://",
            "QUEUED_STALL_S": "15",
            "SUBMITTING_STALL_S": "60",
        }
        self.platform = Platform(tmp, extra_env=env)
        self.platform.env.update(env)
        self.django(["manage.py", "migrate", "--noinput", "-v0"])

    def django(self, argv: list[str]) -> str:
        env = {**self.platform.env, "DJANGO_SETTINGS_MODULE": "config.settings", "PYTHONPATH": str(ROOT)}
        result = subprocess.run(
            [sys.executable, *argv],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        if result.returncode != 0:
            raise RuntimeError(f"{argv} failed:\n{result.stderr[-3000:]}")
        return result.stdout

    def script(self, code: str, *args: str) -> str:
        wrapper = "import django; django.setup()\n" + textwrap.dedent(code)
        path = self.tmp / f"script{abs(hash(code))}.py"
        path.write_text(wrapper)
        return self.django([str(path), *args])

    def seed(self, accounts: list[dict]) -> list[int]:
        return json.loads(self.script(SEED, json.dumps(accounts)).strip().splitlines()[-1])

    def send_now(self, campaign_ids: list[int]) -> None:
        self.script(SEND, *map(str, campaign_ids))

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.pg.url, connect_timeout=5) as conn:
            return conn.execute(sql, params).fetchall()

    def close(self) -> None:
        try:
            self.platform.stop()
        finally:
            if self.rabbit:
                self.rabbit.close()
            self.pg.stop()
            os.environ.pop("_FAULTS", None)


def finish_and_check(stack: Stack, sim, campaign_id: int, n: int) -> None:
    """The campaign completes; none of its ``n`` messages is lost; none is sent twice,
    except messages honestly marked ``unknown`` (on the wire when a process died or the
    database went away: SUBMIT_AMBIGUOUS_POLICY); every receipt is applied."""

    def done() -> bool:
        try:
            rows = stack.query("SELECT status FROM campaigns_campaign WHERE id = %s", (campaign_id,))
            return rows[0][0] == "completed"
        except Exception:  # noqa: BLE001 - the database may be restarting
            return False

    try:
        wait_until(done, timeout=300, interval=1.0, what="campaign completed")
    except TimeoutError:
        pytest.fail(
            f"{stack.query('SELECT status, count(*) FROM campaigns_message GROUP BY 1')}\n{stack.platform.logs()}"
        )
    statuses = dict(
        stack.query("SELECT status, count(*) FROM campaigns_message WHERE campaign_id = %s GROUP BY 1", (campaign_id,))
    )
    assert sum(statuses.values()) == n  # none lost
    assert set(statuses) <= {"delivered", "unknown"}, statuses
    rows = stack.query(
        "SELECT phone FROM campaigns_message WHERE campaign_id = %s AND status = 'unknown'", (campaign_id,)
    )
    unknown = {phone.lstrip("+") for (phone,) in rows}
    accepted = [r for r in sim.get_submits() if r["command_status"] == 0]
    counts = collections.Counter(r["destination_addr"] for r in accepted)
    assert [d for d, k in counts.items() if k > 1 and d not in unknown] == []  # none sent twice
    assert len(counts) >= n - len(unknown)  # every delivered message was accepted by the SMSC
    assert stack.query("SELECT count(*) FROM campaigns_receipt WHERE state = 'pending'")[0][0] == 0
