"""Per-person token buckets: someone hammering buttons or commands is slowed down cheaply, in memory."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

BURST = 30  # updates a person may send at once (a teacher flicking through the drill set-up sends ~10)
PER_SECOND = 3.0  # sustained rate
WARNING_GAP = 10.0  # at most one "slow down" message per person this often (button presses always get one)


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float
    warned: float = 0.0


class UserThrottle:
    """Token buckets by user id. Memory stays bounded: full buckets are forgotten."""

    def __init__(
        self, *, burst: int = BURST, rate: float = PER_SECOND, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.burst = burst
        self.rate = rate
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}

    def allow(self, user_id: int) -> bool:
        now = self._clock()
        bucket = self._buckets.get(user_id)
        if bucket is None:
            if len(self._buckets) > 100_000:
                self._forget_full(now)
            bucket = self._buckets[user_id] = _Bucket(tokens=self.burst, updated=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return True
        return False

    def should_warn(self, user_id: int) -> bool:
        bucket = self._buckets[user_id]
        now = self._clock()
        if now - bucket.warned >= WARNING_GAP:
            bucket.warned = now
            return True
        return False

    def _forget_full(self, now: float) -> None:
        for user_id, bucket in list(self._buckets.items()):
            if bucket.tokens + (now - bucket.updated) * self.rate >= self.burst:
                del self._buckets[user_id]
