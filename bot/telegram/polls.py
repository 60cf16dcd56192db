"""Poll answers that overtake their poll: the send in flight is waited for, not every send."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class PollGate:
    """Poll answers can overtake the sendPoll reply that tells the bot the poll's id.

    An answer to a poll this process doesn't know yet waits until that very poll id is known (the send it came
    from finishes and maps it), or until no poll is being sent any more (then the poll is not this process's).
    Waiting for one id, not for every send in flight, keeps it quick when a hundred groups play at once.
    """

    def __init__(self) -> None:
        self._in_flight = 0
        self._waiting: dict[str, asyncio.Event] = {}

    @contextlib.asynccontextmanager
    async def sending(self) -> AsyncIterator[None]:
        self._in_flight += 1
        try:
            yield
        finally:
            self._in_flight -= 1
            if not self._in_flight:
                for event in self._waiting.values():  # nothing left in flight: unknown polls stay unknown
                    event.set()
                self._waiting.clear()

    def known(self, poll_id: str) -> None:
        event = self._waiting.pop(poll_id, None)
        if event is not None:
            event.set()

    async def wait_for(self, poll_id: str, timeout: float = 10.0) -> None:  # noqa: ASYNC109 - a bounded wait
        if not self._in_flight:
            return
        event = self._waiting.setdefault(poll_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
