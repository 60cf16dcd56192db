"""The projector view's use case: what a drill's shared screen shows right now, read from the database.

Every request reads the state afresh (through a cache of a fraction of a second), so the page works with several
workers on one database and survives a restart: nothing lives in the process that served the teacher's last move.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Protocol

from ..core.drill import Drill, DrillRound
from ..core.drill_report import DrillReport
from ..core.engine import AnswerRecord, SessionId, UserId
from ..core.lang import Lang
from ..core.projector import Screen, may_view, screen_of, shows_countdown
from .drill import DrillService
from .drill_views import LiveItem

Clock = Callable[[], float]
PODIUM_PLACES = 3
# Many projectors polling the same drill each second share one read: the state may be this old.
FRESH_SECONDS = 0.4


class ProjectorStore(Protocol):
    """What the projector view reads beyond the drill service: the answers of a live round, for the split."""

    async def answers(
        self, *, user_id: UserId | None = None, session_id: SessionId | None = None
    ) -> list[AnswerRecord]: ...


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
        """Changes whenever what the page shows changes (the countdown runs in the page)."""
        return f"{self.drill.id}.{self.drill.version}.{self.joined}.{self.answered}.{len(self.nicknames)}"


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
        self._finals: dict[tuple[str, int], tuple[DrillReport, tuple[PodiumPlace, ...]]] = {}  # by (id, version)

    async def view(self, drill_id: str, token: str) -> ProjectorView | None:
        """The drill's screen now, or None when the token does not open it (wrong, or the drill is over)."""
        drill = await self._drills.get(drill_id)
        if drill is None or not may_view(drill, token, now=self._clock()):
            return None
        recent = self._recent.get(drill.id)
        if recent is not None and self._monotonic() - recent[0] < FRESH_SECONDS and recent[1].drill == drill:
            return recent[1]
        view = await self._build(drill)
        self._recent[drill.id] = (self._monotonic(), view)
        if len(self._recent) > 256:  # drop stale entries: a process serves a few classes at a time
            cutoff = self._monotonic() - FRESH_SECONDS
            self._recent = {k: v for k, v in self._recent.items() if v[0] >= cutoff}
        return view

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
            chosen = [
                a.chosen
                for a in await self._storage.answers(session_id=SessionId(drill.round_key))
                if a.position == drill.position
            ]
            split = tuple(chosen.count(option) for option in item.order)
            return replace(base, item=item, answered=len(chosen), split=split)
        if screen is Screen.HOMEWORK:
            return replace(base, answered=await self._finished(drill))
        if screen is Screen.SUMMARY:
            report, podium = await self._final(drill)
            return replace(base, report=report, podium=podium)
        return base

    async def _finished(self, drill: Drill) -> int:
        """Students who answered the last question of the open self-paced round."""
        panel = await self._drills.panel(drill.id)
        if panel is not None:
            return panel.answered
        return 0

    async def _final(self, drill: Drill) -> tuple[DrillReport, tuple[PodiumPlace, ...]]:
        """The report and the podium of a closed drill: computed once per drill version (it no longer changes)."""
        key = (drill.id, drill.version)
        if key not in self._finals:
            report = (await self._drills.report(drill)).report
            podium: tuple[PodiumPlace, ...] = ()
            if drill.spec.podium and drill.round in (DrillRound.MAIN, DrillRound.POST):
                names = {s.user_id: s.nickname or "" for s in await self._drills.named(drill.id)}
                # Only students with a right answer: a podium place for none right would mock, not celebrate.
                scores = [s for s in await self._drills.scores(drill) if s.correct]
                ranked = sorted(scores, key=lambda s: (-s.correct, s.answered, names.get(s.user_id, "")))
                podium = tuple(
                    PodiumPlace(nickname=names.get(s.user_id, ""), correct=s.correct, answered=s.answered)
                    for s in ranked[:PODIUM_PLACES]
                )
            if len(self._finals) > 64:
                self._finals.clear()
            self._finals[key] = (report, podium)
        return self._finals[key]
