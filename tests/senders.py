"""A stand-in for a transport's :class:`~campaigns.services.senders.Sender`, for tests that
drive the domain's send loop with a ``send`` function of their own."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from campaigns.services.senders import BatchPlan, LocalId, Send


def parts_of(count: int | Callable[[str], int]) -> Callable[..., Sequence[object]]:
    """A segmenter cutting every text into ``count`` parts (or ``count(text)``), no payloads."""

    def segment(text: str, *, ref: int) -> Sequence[object]:
        return [None] * (count(text) if callable(count) else count)

    return segment


class FakeSender:
    def __init__(self, *, send: Send, chunk_size: int, parts: int = 1, local_id: LocalId | None = None) -> None:
        self.segment = parts_of(parts)
        self._plan = BatchPlan(chunk_size=chunk_size, send=send, local_id=local_id)
        self.closed = False

    def plan(self) -> BatchPlan:
        return self._plan

    def close(self) -> None:
        self.closed = True
