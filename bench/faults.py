"""A 20,000-message campaign across two accounts under injected faults; one JSON line.

    .venv/bin/python bench/faults.py [--messages 20000] [--seed 1]

Everything runs on a private PostgreSQL cluster and a private RabbitMQ node that this
script starts (and restarts) itself, never the machine's shared services. Account A uses
transceiver binds, account B transmitter binds plus receiver binds (the DLR receivers);
`manage.py run_bind_workers` supervises them, as in production. Faults, on a schedule:
SIGKILL of a random bind worker, SIGKILL of a DLR receiver, a simulator restart, a
RabbitMQ restart, a PostgreSQL restart, a throttling storm (a tenth of the cap for 20 s),
receipts arriving before submit responses, duplicate receipts, and a PostgreSQL outage of
a few seconds while the supervisor refreshes its accounts (every second here).

Printed: messages, final (each status counted), unknown, lost (expected minus accounted
for), duplicates (parts the simulator accepted twice, outside those marked unknown),
receipts_unapplied, elapsed_s, the fault log, and the processes: ``processes_alive`` (each
platform process at the end; a supervisor's children may have been restarted, and
``bind_children`` counts those running), ``outlived_stack`` (any process of the stack still
alive 5 s after it was stopped: must be empty).
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import random
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

from _procs import alive, descendants  # noqa: E402

from smpp_transport.smsc import SimulatorConfig, SimulatorThread  # noqa: E402
from tests.e2e.harness import wait_until  # noqa: E402
from tests.faults.stack import Stack  # noqa: E402

RATE = 50


def pids(stack: Stack, modes: tuple[str, ...]) -> list[int]:
    rows = stack.query(
        "SELECT pid FROM smpp_transport_bindstatus WHERE mode = ANY(%s) AND state = 'bound' "
        "AND updated_at > now() - interval '15 seconds'",
        (list(modes),),
    )
    return [pid for (pid,) in rows]


def kill_one(stack: Stack, modes: tuple[str, ...], rng: random.Random) -> str:
    candidates = pids(stack, modes)
    if not candidates:
        return "no candidate"
    pid = rng.choice(candidates)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return f"pid {pid} already gone"
    return f"SIGKILL pid {pid}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    half = args.messages // 2
    a, b = f"fa{os.getpid()}", f"fb{os.getpid()}"
    sim = SimulatorThread(
        SimulatorConfig(
            host="127.0.0.1",
            port=0,
            accounts={a: "fapass", b: "fbpass"},
            rate_per_bind=RATE,
            dlr_delay_s=1.0,
            outcomes={"DELIVRD": 95, "UNDELIV": 5},
            seed=args.seed,
        )
    ).start()
    tmp = Path(tempfile.mkdtemp(prefix="faults-"))
    stack = Stack(tmp)
    log: list[tuple[float, str]] = []
    started = time.monotonic()

    def note(what: str) -> None:
        log.append((round(time.monotonic() - started, 1), what))
        print(f"[{log[-1][0]:7.1f}s] {what}", file=sys.stderr)

    try:
        campaigns = stack.seed(
            [
                {
                    "system_id": a,
                    "password": "fapass",
                    "port": sim.port,
                    "binds": 2,
                    "bind_mode": "trx",
                    "rate": RATE,
                    "recipients": half,
                    "prefix": "911",
                    "body": "Faults A",
                },
                {
                    "system_id": b,
                    "password": "fbpass",
                    "port": sim.port,
                    "binds": 2,
                    "bind_mode": "tx_rx",
                    "rate": RATE,
                    "recipients": args.messages - half,
                    "prefix": "912",
                    "body": "Faults B",
                },
            ]
        )
        p = stack.platform
        p.start_dispatch_worker()
        p.start("binds", [sys.executable, "manage.py", "run_bind_workers"], SUPERVISOR_REFRESH_S="1")
        p.start("receipts", [sys.executable, "manage.py", "apply_receipts"])
        assert sim.wait_for_binds(6, timeout=120), p.logs()
        p.start_beat()
        started = time.monotonic()
        stack.send_now(campaigns)
        note("campaigns started")
        schedule = [
            (10, "kill a bind worker", lambda: kill_one(stack, ("trx", "tx"), rng)),
            (20, "kill the DLR receiver", lambda: kill_one(stack, ("rx",), rng)),
            (30, "restart the simulator", lambda: (sim.restart(), "restarted")[1]),
            (45, "restart RabbitMQ", lambda: (stack.rabbit.restart(), "restarted")[1]),
            (60, "restart PostgreSQL", lambda: (stack.pg.restart(), "restarted")[1]),
            (70, "throttling storm: 5/s per bind", lambda: (sim.set_rate(RATE / 10), "on")[1]),
            (90, "throttling storm ends", lambda: (sim.set_rate(RATE), "off")[1]),
            (95, "receipts before responses (resp delay 1.5 s)", lambda: (sim.set_resp_delay(1.5), "on")[1]),
            (105, "responses on time again", lambda: (sim.set_resp_delay(0.0), "off")[1]),
            (110, "duplicate receipts", lambda: duplicate_receipts(sim, rng)),
            (115, "PostgreSQL away for 5 s while the supervisor refreshes", lambda: database_outage(stack, 5.0)),
        ]
        for at, what, action in schedule:
            delay = started + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)  # the fault schedule, not synchronisation
            note(f"{what}: {action()}")

        def complete() -> bool:
            try:
                rows = stack.query("SELECT status FROM campaigns_campaign WHERE id = ANY(%s)", (campaigns,))
            except Exception:  # noqa: BLE001 - the database may be restarting
                return False
            return all(status == "completed" for (status,) in rows)

        wait_until(complete, timeout=1800, interval=2.0, what="both campaigns completed")
        note("campaigns completed")

        def inbox_drained() -> bool:
            return stack.query("SELECT count(*) FROM campaigns_receipt WHERE state = 'pending'")[0][0] == 0

        try:  # late receipts (duplicates, receipts of parts settled as unknown) still flow in
            wait_until(inbox_drained, timeout=120, interval=2.0, what="receipt inbox drained")
            note("receipt inbox drained")
        except TimeoutError:
            note("receipt inbox not drained after 120 s")
        elapsed = time.monotonic() - started
        result = results(stack, sim, campaigns, args.messages, elapsed, log)
        result["processes_alive"] = {name: proc.poll() is None for name, proc in p.procs.items()}
        result["bind_children"] = len(descendants(p.procs["binds"].pid))
        everything = {pid for proc in p.procs.values() for pid in [proc.pid, *descendants(proc.pid)]}
    finally:
        stack.close()
        sim.stop()
    deadline = time.monotonic() + 5
    while any(alive(pid) for pid in everything) and time.monotonic() < deadline:
        time.sleep(0.1)  # a bounded poll of /proc
    result["outlived_stack"] = sorted(pid for pid in everything if alive(pid))
    print(json.dumps(result))


def database_outage(stack: Stack, seconds: float) -> str:
    stack.pg._ctl("stop")
    time.sleep(seconds)  # the fault's length, not synchronisation
    stack.pg._ctl("start")
    return f"stopped {seconds:.0f} s, started"


def duplicate_receipts(sim: SimulatorThread, rng: random.Random) -> str:
    accepted = [r for r in sim.get_submits() if r["command_status"] == 0]
    chosen = rng.sample(accepted, min(200, len(accepted)))
    for record in chosen:
        sim.send_receipt(record["system_id"], record["message_id"], stat="DELIVRD")
    return f"{len(chosen)} resent"


def results(stack: Stack, sim: SimulatorThread, campaigns: list[int], expected: int, elapsed: float, log) -> dict:
    final = dict(
        stack.query(
            "SELECT status, count(*) FROM campaigns_message WHERE campaign_id = ANY(%s) GROUP BY 1", (campaigns,)
        )
    )
    settled = {"delivered", "undelivered", "expired", "rejected", "failed", "suppressed", "cancelled", "unknown"}
    accounted = sum(n for status, n in final.items() if status in settled)
    unknown = {
        phone.lstrip("+")
        for (phone,) in stack.query(
            "SELECT phone FROM campaigns_message WHERE campaign_id = ANY(%s) AND status = 'unknown'", (campaigns,)
        )
    }
    accepted = [r for r in sim.get_submits() if r["command_status"] == 0]
    counts = collections.Counter((r["destination_addr"], r["short_message_hex"]) for r in accepted)
    duplicates = sum(1 for (dest, _), n in counts.items() if n > 1 and dest not in unknown)
    delivered_not_sent = stack.query(
        "SELECT count(*) FROM campaigns_message WHERE campaign_id = ANY(%s) AND status = 'delivered'", (campaigns,)
    )[0][0] - len({dest for dest, _ in counts} - unknown)
    return {
        "messages": expected,
        "final": final,
        "unknown": final.get("unknown", 0),
        "lost": expected - accounted,
        "duplicates": duplicates,
        "delivered_without_submit": max(0, delivered_not_sent),
        "receipts_unapplied": stack.query("SELECT count(*) FROM campaigns_receipt WHERE state = 'pending'")[0][0],
        "receipts_orphaned": stack.query("SELECT count(*) FROM campaigns_receipt WHERE state = 'orphaned'")[0][0],
        "simulator": {k: sim.counters.get(k, 0) for k in ("accepted", "throttled", "receipts_sent", "redeliveries")},
        "elapsed_s": round(elapsed, 1),
        "faults": log,
    }


if __name__ == "__main__":
    main()
