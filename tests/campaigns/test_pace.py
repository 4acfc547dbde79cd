"""A campaign's send rate as a pace: the GCRA step, hand-off at slots, the reservation SQL.

The pure parts run on a fake clock (no sleeping); the reservation runs on the real
database, from several threads at once where it matters.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.models import CampaignPace, Message
from campaigns.services import campaign_actions as actions
from campaigns.services import pace
from campaigns.services.dispatch import tick
from campaigns.services.pace import Gate, Slots, SlotSender, chunk_parts, next_tat
from campaigns.services.submit import send_batch
from campaigns.services.transport_api import SubmitOutcome
from campaigns.statuses import MessageStatus as S
from tests.factories import AccountFactory, CampaignFactory, ContactFactory, RecipientListFactory
from tests.rates import max_in_window
from tests.senders import FakeSender


@dataclass(frozen=True)
class Part:
    message_id: int
    index: int = 1


class FakeClock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        self.t += seconds


class Row:
    """The CampaignPace row in memory, with the arithmetic of the SQL (checked against the
    database in the tests below)."""

    def __init__(self) -> None:
        self.tat: float | None = None

    def reserve(self, now: float, rate: float, count: int) -> Slots:
        cost = count / rate
        self.tat = next_tat(self.tat, now, cost)
        return Slots(campaign_id=1, interval=1 / rate, count=count, first=self.tat - cost, tat=self.tat)


def paced_run(rate: int, messages: int, segments: int, delays, row: Row | None = None, clock=None):
    """The send loop of ``submit.send_batch`` for one capped campaign: chunks, a
    reservation each, parts handed at their slots, late chunks reserved again.
    ``delays(k)`` is (seconds the k-th send takes, where in it the SMSC stamps: 0..1).
    Returns the SMSC's stamps and the hand-off times."""
    clock = clock or FakeClock()
    row = row or Row()
    stamps: list[float] = []
    handed: list[float] = []
    calls = [0]

    def send(group):
        took, where = delays(calls[0])
        calls[0] += 1
        handed.extend([clock.t] * len(group))
        stamps.extend([clock.t + took * where] * len(group))
        clock.t += took
        return list(group)

    sender = SlotSender(
        rate=rate, reserve=lambda k: row.reserve(clock.t, rate, k), gate=Gate(), clock=clock, sleep=clock.sleep
    )
    pending = [Part(m, i) for m in range(messages) for i in range(1, segments + 1)]
    while pending:
        size = chunk_parts(rate, 25)
        end = min(size, len(pending))
        while end < len(pending) and pending[end].message_id == pending[end - 1].message_id:
            end += 1
        todo, pending = pending[:end], pending[end:]
        slots = sender.next_slots(len(todo))
        outcomes, deferred = sender.send(todo, slots, send)
        assert len(outcomes) + len(deferred) == len(todo)
        pending = deferred + pending
    return stamps, handed


def test_the_gcra_step_never_catches_up() -> None:
    assert next_tat(None, 100.0, 0.5) == 100.5  # first reservation: from now
    assert next_tat(101.0, 100.0, 0.5) == 101.5  # behind earlier slots
    assert next_tat(90.0, 100.0, 0.5) == 100.5  # idle since: from now, no burst


def test_slots_are_evenly_spaced_and_a_chunk_is_half_a_second() -> None:
    slots = Slots(campaign_id=1, interval=0.05, count=10, first=5.0, tat=5.5)
    assert [round(slots.at(i), 6) for i in (0, 1, 9)] == [5.0, 5.05, 5.45]
    assert (chunk_parts(20, 25), chunk_parts(1, 25), chunk_parts(500, 25)) == (10, 1, 25)
    assert (slots.late_s, Slots(1, 1.0, 1, 0, 1).late_s, Slots(1, 0.001, 1, 0, 1).late_s) == (0.05, 0.25, 0.02)


def test_parts_go_at_their_slots_one_at_a_time() -> None:
    clock = FakeClock()
    stamps, handed = paced_run(10, 5, 1, lambda k: (0.002, 1.0), clock=clock)
    assert [round(t - handed[0], 6) for t in handed] == [0.0, 0.1, 0.2, 0.3, 0.4]


def _sender(clock: FakeClock, rate: float = 10) -> SlotSender:
    row = Row()
    reserve = lambda k: row.reserve(clock.t, rate, k)  # noqa: E731
    return SlotSender(rate=rate, reserve=reserve, gate=Gate(), clock=clock, sleep=clock.sleep)


def _timed_send(clock: FakeClock, took: list[float], handed: list[float]):
    durations = iter(took)

    def send(group):
        handed.extend([round(clock.t - 1000.0, 6)] * len(group))
        clock.t += next(durations)
        return list(group)

    return send


def test_a_part_behind_its_slot_takes_the_next_free_one_and_what_no_longer_fits_is_deferred() -> None:
    clock, handed = FakeClock(), []
    sender = _sender(clock)
    slots = sender.next_slots(6)  # at 0.0, 0.1, … 0.5
    parts = [Part(m) for m in range(6)]
    outcomes, deferred = sender.send(parts, slots, _timed_send(clock, [0.001, 0.27, 0.001, 0.001], handed))
    # The 2nd send came back at 0.37, so the SMSC may have stamped it as late as that: the
    # next part goes no sooner, skipping 0.2 and 0.3; what no longer fits is reserved again.
    assert handed == [0.0, 0.1, 0.4, 0.5]
    assert outcomes == parts[:4] and deferred == parts[4:]


def test_a_message_begun_late_is_finished_on_extra_slots_and_never_split() -> None:
    clock, handed = FakeClock(), []
    sender = _sender(clock)
    slots = sender.next_slots(6)
    parts = [Part(m, i) for m in range(3) for i in (1, 2)]
    outcomes, deferred = sender.send(parts, slots, _timed_send(clock, [0.5, 0.001], handed))
    # The first part came back 0.5 s late: its message's second part takes the last slot
    # (0.5, not before that answer); the other messages wait for a new reservation.
    assert handed == [0.0, 0.5]
    assert outcomes == parts[:2] and deferred == parts[2:]
    clock, handed = FakeClock(), []
    sender = _sender(clock)
    parts = [Part(7, i) for i in (1, 2, 3)]
    outcomes, _ = sender.send(parts, sender.next_slots(3), _timed_send(clock, [0.5, 0.001, 0.001], handed))
    assert handed == [0.0, 0.5, 0.6] and outcomes == parts  # two fresh slots from the answer on


def test_senders_of_one_campaign_in_a_process_go_a_slot_after_each_others_answers() -> None:
    """Two batches' senders share the campaign's gate: the second does not hand its part
    on its own slot when the first one's answer came back only then (a stalled process
    releases both together otherwise)."""
    clock, row, shared, handed = FakeClock(), Row(), Gate(), []
    a, b = (
        SlotSender(rate=10, reserve=lambda k: row.reserve(clock.t, 10, k), gate=shared, clock=clock, sleep=clock.sleep)
        for _ in range(2)
    )
    first, second = a.next_slots(1), b.next_slots(1)  # slots 0.0 and 0.1
    a.send([Part(1)], first, _timed_send(clock, [0.12], handed))  # answered at 0.12
    outcomes, deferred = b.send([Part(2)], second, _timed_send(clock, [], handed))
    assert handed == [0.0] and outcomes == [] and deferred == [Part(2)]  # 0.1 is before a's answer at 0.12
    outcomes, _ = b.send([Part(2)], b.next_slots(1), _timed_send(clock, [0.001], handed))
    assert handed == [0.0, 0.2] and outcomes == [Part(2)]  # the next free slot (0.1 went unused)


@dataclass(frozen=True)
class Written:
    sent_at: float | None


def test_the_gate_bounds_the_smscs_stamp_by_the_write_and_the_answer() -> None:
    gate = Gate()
    assert gate.stamped_by([Written(1.0)], 1.002) == pytest.approx(1.0)  # a 2 ms round trip
    # The answer was read 300 ms after the write: the stamp may be as late as that, less
    # the travel time (the fastest round trip).
    assert gate.stamped_by([Written(2.0)], 2.3) == pytest.approx(2.298)
    # Written late (it waited in a busy bind's queue), answered at once: paced from the write.
    assert gate.stamped_by([Written(3.2), Written(3.19)], 3.202) == pytest.approx(3.2)
    assert gate.stamped_by([Written(None)], 4.0) == 4.0  # a transport that does not say


def test_a_transport_that_stops_is_not_deferred() -> None:
    clock = FakeClock()
    sender = _sender(clock)
    outcomes, deferred = sender.send([Part(m) for m in range(3)], sender.next_slots(3), lambda group: [])
    assert outcomes == [] and deferred == []


@settings(max_examples=150, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=120),
    segments=st.sampled_from([1, 1, 1, 2, 3]),
    reservations=st.lists(
        st.tuples(st.floats(min_value=0, max_value=3), st.integers(min_value=1, max_value=60)), min_size=1, max_size=40
    ),
)
def test_reserved_slots_never_exceed_the_cap_in_any_window(rate, segments, reservations) -> None:
    """Whoever reserves, whenever: slots are at least 1/rate apart, so no 1 s window holds
    more than cap + 1 and no 10 s window more than 10 × cap + 1."""
    row, now, slots = Row(), 0.0, []
    for gap, count in reservations:
        now += gap
        s = row.reserve(now, rate, count * segments)
        slots += [s.at(i) for i in range(s.count)]
    assert max_in_window(slots, 1.0) <= rate + 1
    assert max_in_window(slots, 10.0) <= 10 * rate + 1


@settings(max_examples=150, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=60),
    messages=st.integers(min_value=5, max_value=300),
    segments=st.sampled_from([1, 1, 2, 3]),
    delays=st.lists(
        st.tuples(st.floats(min_value=0.0005, max_value=1.5), st.floats(min_value=0, max_value=1)), min_size=1
    ),
)
def test_what_the_smsc_sees_holds_the_cap_whatever_the_transport_delays(rate, messages, segments, delays) -> None:
    """However late the transport answers (throttled, window full, a busy machine), the
    SMSC never sees the campaign above cap + 1 segments in any second."""
    stamps, handed = paced_run(rate, messages, segments, lambda k: delays[k % len(delays)])
    assert len(stamps) == messages * segments
    assert max_in_window(stamps, 1.0) <= rate + 1
    assert max_in_window(stamps, 10.0) <= 10 * rate + 1


@settings(max_examples=100, deadline=None)
@given(
    rate=st.integers(min_value=1, max_value=60),
    segments=st.sampled_from([1, 2, 3]),
    seconds=st.integers(min_value=5, max_value=30),
    jitter=st.lists(st.floats(min_value=0.0, max_value=0.9), min_size=1),
)
def test_the_long_run_rate_is_the_cap_in_segments(rate, segments, seconds, jitter) -> None:
    """Sends answered within ``late_s`` and within a slot (round trips are milliseconds)
    keep the grid: N segments span (N - 1) / rate."""
    messages = max(2, rate * seconds // segments)
    took = min(Slots(1, 1 / rate, 1, 0, 0).late_s, 1 / rate)
    stamps, _ = paced_run(rate, messages, segments, lambda k: (took * jitter[k % len(jitter)] + 1e-6, 1.0))
    span = max(stamps) - min(stamps)
    n = messages * segments
    assert (n - 1) / span == pytest.approx(rate, rel=0.01 + 1.0 / n)


def test_the_clock_offset_trusts_the_tightest_bracket() -> None:
    clocks = pace.ClockOffset()
    assert clocks.update(db_now=1000.0, sent=10.0, read=10.002) == pytest.approx(989.999)
    # An answer read 80 ms late (a busy machine) would put the slots 40 ms off: ignored.
    assert clocks.update(db_now=1000.5, sent=10.42, read=10.5) == pytest.approx(989.999)
    assert clocks.update(db_now=1001.0, sent=11.0, read=11.0004) == pytest.approx(989.9998)  # tighter
    # Old estimates expire (the clocks drift apart slowly): then the next one counts.
    assert clocks.update(db_now=2000.0, sent=1011.0, read=1011.01) == pytest.approx(988.995)


# -- the reservation on the database ----------------------------------------------------------


@pytest.mark.django_db
def test_reserve_is_one_statement_that_follows_the_gcra_step() -> None:
    campaign = CampaignFactory(send_rate=10)
    first = pace.reserve(campaign_id=campaign.id, rate=10, count=5)
    assert abs(first.at(0) - time.monotonic()) < 0.25  # a fresh campaign starts now
    second = pace.reserve(campaign_id=campaign.id, rate=10, count=3)
    assert second.tat == pytest.approx(first.tat + 0.3, abs=1e-6)
    assert second.at(0) == pytest.approx(first.at(5), abs=0.05)  # right after the first chunk
    assert CampaignPace.objects.get(campaign=campaign).tat == second.tat
    CampaignPace.objects.filter(campaign=campaign).update(tat=0.0)  # idle for ages
    third = pace.reserve(campaign_id=campaign.id, rate=10, count=1)
    assert abs(third.at(0) - time.monotonic()) < 0.25  # from now: no catching up


@pytest.mark.django_db
def test_slots_are_given_back_only_if_nobody_reserved_after_them() -> None:
    campaign = CampaignFactory(send_rate=10)
    mine = pace.reserve(campaign_id=campaign.id, rate=10, count=5)
    assert pace.give_back(mine, 2)
    assert CampaignPace.objects.get(campaign=campaign).tat == pytest.approx(mine.tat - 0.3)
    mine = pace.reserve(campaign_id=campaign.id, rate=10, count=5)
    pace.reserve(campaign_id=campaign.id, rate=10, count=1)  # someone else, after
    assert not pace.give_back(mine, 0)


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_overlap() -> None:
    """Four workers (own connections) reserving at once: every slot belongs to one of them,
    and together they fill the timeline without a gap (the row serialises them)."""
    campaign = CampaignFactory(send_rate=5)
    got: list[tuple[float, float]] = []
    lock = threading.Lock()
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for k in range(10):
                s = pace.reserve(campaign_id=campaign.id, rate=5, count=1 + k % 3)
                with lock:
                    got.append((s.tat - s.count * s.interval, s.tat))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(got) == 40
    got.sort()
    for (_, end), (start, _) in zip(got, got[1:], strict=False):
        assert start == pytest.approx(end, abs=1e-6)


# -- the send loop ----------------------------------------------------------------------------


def _queued(n: int, **kw):
    lst = RecipientListFactory()
    for i in range(n):
        ContactFactory(recipient_list=lst, phone=f"+4479111{i:05d}")
    # One bind: its whole campaign is one batch (more binds would each get a share of it).
    campaign = CampaignFactory(account=AccountFactory(binds=1, rate_per_bind=50), body="Hello", **kw)
    campaign.recipient_lists.add(lst)
    actions.send_now(campaign=campaign)
    batches = tick(enqueue=lambda b: None)
    assert len(batches) == 1
    return campaign, batches[0]


def _recording_send(log: list[tuple[float, int]]):
    def send(parts):
        log.extend((time.monotonic(), p.message_id) for p in parts)
        return [SubmitOutcome(p, "accepted", f"id{p.message_id}.{p.index}") for p in parts]

    return send


@pytest.mark.django_db
def test_a_capped_batch_hands_each_segment_to_the_transport_at_its_slot() -> None:
    campaign, batch = _queued(12, send_rate=50)
    handed: list[tuple[float, int]] = []
    counts = send_batch(
        message_ids=batch.message_ids,
        claim=batch.claim,
        sender=FakeSender(parts=2, chunk_size=25, send=_recording_send(handed)),
    )
    assert counts == {"accepted": 24}
    times = [t for t, _ in handed]
    # 50 segments/s: a two-part message takes two slots, and no 0.2 s holds more than 10 + 1.
    assert max_in_window(times, 0.2) <= 11
    assert times[-1] - times[0] >= 23 * 0.02 - 0.01
    assert CampaignPace.objects.filter(campaign=campaign).exists()
    assert set(Message.objects.filter(campaign=campaign).values_list("status", flat=True)) == {S.ACCEPTED}


@pytest.mark.django_db
def test_an_uncapped_batch_costs_no_pace_statement() -> None:
    campaign, batch = _queued(12)
    with CaptureQueriesContext(connection) as queries:
        counts = send_batch(
            message_ids=batch.message_ids,
            claim=batch.claim,
            sender=FakeSender(chunk_size=5, send=_recording_send([])),
        )
    assert counts == {"accepted": 12}
    assert not [q for q in queries.captured_queries if CampaignPace._meta.db_table in q["sql"]]
    assert not CampaignPace.objects.exists()
