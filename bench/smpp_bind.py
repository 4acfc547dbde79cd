"""Benchmark of the SMPP Bind against the SMSC simulator; prints ONE JSON line.

    .venv/bin/python bench/smpp_bind.py [--capped-seconds 60] [--count 20000] [--repeat 3]
                                        [--guard-ms 1]

The simulator runs as a subprocess (``python -m smpp_transport.smsc``) so it does not share
the client's GIL. Measured:

* raw_msgs_per_s: a plain smpplib windowed loop (TCP_NODELAY, a reader thread calling
  ``read_once``, a sender bounded by a semaphore of ``--window``), TX bind, no receipts;
* bind_msgs_per_s: the project's Bind, unpaced, same window, same simulator, same count;
  both are the median of ``--repeat`` alternating runs, and ratio = bind / raw;
* capped_*: the Bind paced at 50/s for ``--capped-seconds`` against a simulator throttling
  at 50/s per bind: capped_achieved counts the accepted submits the simulator logged in the
  first ``capped_seconds`` after the first one, divided by ``capped_seconds``;
  capped_max_1s is the most submits in any sliding one-second window of the simulator's log
  timestamps; throttled is the number of ESME_RTHROTTLED the simulator answered.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smpplib.client import Client  # noqa: E402

from smpp_transport.bind import Bind, BindConfig, OutboundPart  # noqa: E402

SYSTEM_ID, PASSWORD = "bench", "benchpw"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(
    port: int, rate: float, log: Path | None, stderr, *, outcomes: str = "none=1", dlr_delay: float = 0.0
) -> subprocess.Popen:
    """The simulator as a subprocess (its own GIL, like a provider's machine); by default
    it sends no receipts."""
    cmd = [
        sys.executable,
        "-m",
        "smpp_transport.smsc",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--account",
        f"{SYSTEM_ID}:{PASSWORD}",
        "--rate",
        str(rate),
        "--outcomes",
        outcomes,
        "--dlr-delay",
        str(dlr_delay),
    ]
    if log is not None:
        cmd += ["--log", str(log)]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=stderr)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"simulator exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            threading.Event().wait(0.05)
    proc.kill()
    raise RuntimeError("simulator did not start listening")


def stop_simulator(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)  # flushes the submit log
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def destinations(count: int) -> list[tuple[str, bytes]]:
    return [(f"4477009{i % 100000:05d}", b"bench message %d" % i) for i in range(count)]


class _LockedSequence:
    """smpplib's generator is not thread-safe; the raw loop needs a locked one too."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.sequence = 0

    def next_sequence(self) -> int:
        with self._lock:
            self.sequence += 1
            return self.sequence


def raw_smpplib_loop(port: int, count: int, window: int) -> float:
    """The ceiling: smpplib as its README uses it, plus a window and TCP_NODELAY."""
    messages = destinations(count)
    client = Client("127.0.0.1", port, timeout=30, sequence_generator=_LockedSequence(), allow_unknown_opt_params=True)
    client.connect()
    client._socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    client.bind_transmitter(system_id=SYSTEM_ID, password=PASSWORD)
    slots = threading.Semaphore(window)
    done = threading.Event()
    acked = [0, 0]  # responses, errors

    def on_sent(pdu, **_: object) -> None:
        acked[0] += 1
        if pdu.status:
            acked[1] += 1
        slots.release()
        if acked[0] == count:
            done.set()

    client.set_message_sent_handler(on_sent)
    client.set_error_pdu_handler(lambda pdu: None)

    def read() -> None:
        while not done.is_set():
            client.read_once()

    reader = threading.Thread(target=read, daemon=True)
    started = time.perf_counter()
    reader.start()
    for destination, text in messages:
        slots.acquire()
        client.send_message(
            source_addr_ton=5,
            source_addr_npi=0,
            source_addr="Bench",
            dest_addr_ton=1,
            dest_addr_npi=1,
            destination_addr=destination,
            short_message=text,
            registered_delivery=0,
        )
    done.wait()
    elapsed = time.perf_counter() - started
    reader.join(5)
    client.unbind()
    client.disconnect()
    if acked[1]:
        raise RuntimeError(f"raw loop: {acked[1]} error responses")
    return count / elapsed


def parts(count: int) -> list[OutboundPart]:
    return [
        OutboundPart(
            ref=i,
            source_addr="Bench",
            source_addr_ton=5,
            source_addr_npi=0,
            destination_addr=destination,
            short_message=text,
            registered_delivery=0,
        )
        for i, (destination, text) in enumerate(destinations(count))
    ]


def bind_loop(port: int, count: int, window: int) -> float:
    bind = Bind(
        BindConfig("127.0.0.1", port, SYSTEM_ID, PASSWORD, mode="tx", window=window, rate_per_s=0),
        name="bench-uncapped",
    )
    bind.start(timeout=10)
    batch = parts(count)
    try:
        started = time.perf_counter()
        results = bind.submit(batch, timeout=300)
        elapsed = time.perf_counter() - started
    finally:
        bind.stop()
    bad = sum(r.outcome != "accepted" for r in results)
    if bad:
        raise RuntimeError(f"bind loop: {bad} parts not accepted")
    return count / elapsed


def max_in_window(times: list[float], window: float = 1.0) -> int:
    best, j = 0, 0
    for i, start in enumerate(times):
        while j < len(times) and times[j] < start + window:
            j += 1
        best = max(best, j - i)
    return best


def capped_run(seconds: float, rate: float, guard_s: float, stderr) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tmp) / "submits.jsonl"
        port = free_port()
        sim = start_simulator(port, rate, log, stderr)
        try:
            config = BindConfig(
                "127.0.0.1", port, SYSTEM_ID, PASSWORD, mode="tx", rate_per_s=rate, pacing_guard_s=guard_s
            )
            bind = Bind(config, name="bench-capped")
            bind.start(timeout=10)
            # Half a second more than the measured span, so the span is never short of work.
            count = int(seconds * rate) + int(rate / 2) + 1
            try:
                results = bind.submit(parts(count), timeout=seconds * 3 + 30)
            finally:
                bind.stop()
        finally:
            stop_simulator(sim)
        records = [json.loads(line) for line in log.read_text().splitlines() if line]
    times = sorted(rec["ts"] for rec in records)
    accepted = sorted(rec["ts"] for rec in records if rec["command_status"] == 0)
    first = accepted[0]
    in_span = sum(1 for t in accepted if t < first + seconds)
    return {
        "capped_target": rate,
        "capped_seconds": seconds,
        "capped_guard_ms": config.pacing_guard_s * 1000,
        "capped_achieved": round(in_span / seconds, 3),
        "capped_max_1s": max_in_window(times),
        "throttled": sum(1 for rec in records if rec["command_status"] == 0x58),
        "capped_results_accepted": sum(r.outcome == "accepted" for r in results),
        "capped_parts": count,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=20000)
    parser.add_argument("--window", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--capped-seconds", type=float, default=60.0)
    parser.add_argument("--capped-rate", type=float, default=50.0)
    parser.add_argument(
        "--guard-ms",
        type=float,
        default=BindConfig.__dataclass_fields__["pacing_guard_s"].default * 1000,
        help="the Bind's pacing_guard_s in ms (default: the Bind's default)",
    )
    args = parser.parse_args()
    stderr = open(os.devnull, "w")  # noqa: SIM115 - the simulator's INFO log
    raw_runs, bind_runs = [], []
    port = free_port()
    sim = start_simulator(port, 0, None, stderr)
    try:
        bind_loop(port, 2000, args.window)  # warm-up: imports, first connections
        for _ in range(args.repeat):
            raw_runs.append(round(raw_smpplib_loop(port, args.count, args.window)))
            bind_runs.append(round(bind_loop(port, args.count, args.window)))
    finally:
        stop_simulator(sim)
    raw, bound = statistics.median(raw_runs), statistics.median(bind_runs)
    result = {
        "raw_msgs_per_s": round(raw),
        "bind_msgs_per_s": round(bound),
        "ratio": round(bound / raw, 3),
        "count": args.count,
        "window": args.window,
        "raw_runs": raw_runs,
        "bind_runs": bind_runs,
    }
    if args.capped_seconds > 0:
        result.update(capped_run(args.capped_seconds, args.capped_rate, args.guard_ms / 1000, stderr))
    result.update(
        {
            "cpus": os.cpu_count(),
            "loadavg_1m": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
        }
    )
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
