"""The projector view's use case: what a drill's shared screen shows right now, read from the database.

Every request reads the state afresh (through a cache of a fraction of a second), so the page works with several
workers on one database and survives a restart: nothing lives in the process that served the teacher's last move.
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..core.drill import Drill, DrillRound
from ..core.drill_report import DrillReport
from ..core.lang import Lang
from ..core.projector import Screen, may_view, screen_of, shows_countdown
from .drill import DrillService
from .drill_views import LiveItem

Clock = Callable[[], float]
PODIUM_PLACES = 3
# Many projectors polling the same drill each second share one read: the state may be this old.
FRESH_SECONDS = 0.4


class ProjectorStore(Protocol):
    """What the projector view reads beyond the drill service: how a live question's answers split."""

    async def chosen_counts(self, session_id: str, position: int) -> dict[int, int]: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class PodiumPlace:
    nickname: str
    correct: int
    answered: int


@dataclass(frozen=True, slots=True, kw_only=True)
class ProjectorView:
    """The projector's screen, with nothing formatted yet.

    `nicknames` is filled only when the teacher chose to show names; `answered` counts answers to the open question
    (live) or students who finished (self-paced); `split` is the answers per option in the order shown, after the
    reveal; `report` and `podium` come at the end (the podium only when the teacher turned it on)."""

    drill: Drill
    screen: Screen
    lang: Lang
    joined: int
    nicknames: tuple[str, ...] = ()
    item: LiveItem | None = None
    answered: int = 0
    remaining: float | None = None  # seconds left on a timed live question
    split: tuple[int, ...] = ()
    report: DrillReport | None = None
    podium: tuple[PodiumPlace, ...] = ()

    @property
    def key(self) -> str:
        """Changes whenever what the page shows changes (the countdown runs in the page). The same on every
        worker: the nicknames count by a checksum, not Python's per-process hash."""
        names = zlib.crc32("\n".join(self.nicknames).encode())
        return f"{self.drill.id}.{self.drill.version}.{self.joined}.{self.answered}.{names:x}"


class ProjectorService:
    """Projector views of drills, for whoever holds a drill's projector link."""

    def __init__(
        self, drills: DrillService, storage: ProjectorStore, *, default_lang: Lang, clock: Clock = time.time
    ) -> None:
        self._drills = drills
        self._storage = storage
        self._default_lang = default_lang
        self._clock = clock
        self._monotonic = time.monotonic
        self._recent: dict[str, tuple[float, ProjectorView]] = {}  # by drill id: when read, and the view
        self._locks: dict[str, asyncio.Lock] = {}  # by drill id: one build at a time
        self._finals: dict[tuple[str, int], tuple[DrillReport, tuple[PodiumPlace, ...]]] = {}  # by (id, version)

    async def view(self, drill_id: str, token: str) -> ProjectorView | None:
        """The drill's screen now, or None when the token does not open it (wrong, or the drill is over).

        One read of the drill each time (its token, its version); the rest of the view (students, answers) is shared
        by every poll of the same drill for FRESH_SECONDS, and built once when it is due: polls that arrive while it
        is being built wait for that build rather than each starting their own."""
        drill = await self._drills.get(drill_id)
        if drill is None or not may_view(drill, token, now=self._clock()):
            return None
        view = self._fresh(drill)
        if view is None:
            async with self._locks.setdefault(drill.id, asyncio.Lock()):
                view = self._fresh(drill)  # built by the poll this one waited for
                if view is None:
                    view = await self._build(drill)
                    self._recent[drill.id] = (self._monotonic(), view)
            self._forget_stale()
        if view.remaining is not None:  # the countdown as of now, not as of the shared read
            view = replace(view, remaining=max(0.0, (drill.deadline or 0.0) - self._clock()))
        return view

    def _fresh(self, drill: Drill) -> ProjectorView | None:
        recent = self._recent.get(drill.id)
        if recent is not None and self._monotonic() - recent[0] < FRESH_SECONDS and recent[1].drill == drill:
            return recent[1]
        return None

    def _forget_stale(self) -> None:
        """A process serves a few classes at a time: past a few hundred drills, drop what is no longer fresh."""
        if len(self._recent) <= 256:
            return
        cutoff = self._monotonic() - FRESH_SECONDS
        self._recent = {k: v for k, v in self._recent.items() if v[0] >= cutoff}
        self._locks = {k: lock for k, lock in self._locks.items() if lock.locked() or k in self._recent}

    async def _build(self, drill: Drill) -> ProjectorView:
        named = await self._drills.named(drill.id)
        shown = tuple(s.nickname for s in named if s.nickname) if drill.spec.names_on_screen else ()
        base = ProjectorView(
            drill=drill,
            screen=screen_of(drill),
            lang=drill.spec.lang or self._default_lang,
            joined=len(named),
            nicknames=shown,
        )
        screen = base.screen
        if screen is Screen.QUESTION:
            remaining = max(0.0, (drill.deadline or 0.0) - self._clock()) if shows_countdown(drill) else None
            return replace(
                base,
                item=self._drills.item(drill, drill.position),
                answered=await self._drills.answered_count(drill),
                remaining=remaining,
            )
        if screen is Screen.REVEAL:
            item = self._drills.item(drill, drill.position)
            counts = await self._storage.chosen_counts(drill.round_key, drill.position)
            split = tuple(counts.get(option, 0) for option in item.order)  # in the order the options were shown
            return replace(base, item=item, answered=sum(counts.values()), split=split)
        if screen is Screen.HOMEWORK:
            return replace(base, answered=await self._drills.finished_count(drill))
        if screen is Screen.SUMMARY:
            report, podium = await self._final(drill)
            return replace(base, report=report, podium=podium)
        return base

    async def _final(self, drill: Drill) -> tuple[DrillReport, tuple[PodiumPlace, ...]]:
        """The report and the podium of a closed drill: computed once per drill version (it no longer changes).

        The podium ranks the last round taken (main, or the post-test) by right answers, then fewer answers, then
        nickname; only students with a right answer stand on it. It reads the report's answers, which hold live and
        self-paced rounds alike (a self-paced student's answers are in their own quiz session, not the round's)."""
        key = (drill.id, drill.version)
        if key not in self._finals:
            full = await self._drills.report(drill)
            podium: tuple[PodiumPlace, ...] = ()
            if drill.spec.podium:
                taken = {a.round for a in full.answers}
                last = DrillRound.POST if DrillRound.POST in taken else DrillRound.MAIN
                marks: dict[int, list[bool]] = {}
                names: dict[int, str] = {}
                for answer in full.answers:
                    if answer.round is last:
                        marks.setdefault(answer.user_id, []).append(answer.correct)
                        names[answer.user_id] = answer.nickname
                ranked = sorted(
                    (PodiumPlace(nickname=names[user], correct=sum(m), answered=len(m)) for user, m in marks.items()),
                    key=lambda p: (-p.correct, p.answered, p.nickname),
                )
                # Only students with a right answer: a podium place for none right would mock, not celebrate.
                podium = tuple(p for p in ranked if p.correct)[:PODIUM_PLACES]
            if len(self._finals) > 64:
                self._finals.clear()
            self._finals[key] = (full.report, podium)
        return self._finals[key]
