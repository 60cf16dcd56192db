"""The projector view of a drill: what the class's shared screen shows, and who may see it.

The view is a read-only web page (bot/web/) reached by a link that carries a secret token. The rules here are
plain functions so the web adapter only checks them and renders: which screen a drill's phase shows, whether a link
still works, and how the token is minted and compared.
"""

from __future__ import annotations

import hmac
import secrets
from enum import StrEnum

from .drill import Drill, DrillMode, DrillPhase

TOKEN_BYTES = 24  # 192 bits: the issue asks for at least 128; token_urlsafe makes 32 URL-safe characters of them
# A closed drill's page keeps showing its summary this long, so the class can discuss it, then the link stops.
AFTER_CLOSE_SECONDS = 15 * 60.0


class Screen(StrEnum):
    """What the projector shows."""

    JOIN = "join"  # before the start: the join code, QR code and link, how many joined
    QUESTION = "question"  # a live question is open: the question, options, countdown, how many answered
    REVEAL = "reveal"  # after the reveal: how the class split, the right answer, why, and the source
    HOMEWORK = "homework"  # a self-paced round is open: the join details and how many finished
    BETWEEN = "between"  # a pre-test is done; the post-test waits for the lesson
    SUMMARY = "summary"  # the drill is over: the class summary, and the podium if the teacher chose it


def new_token() -> str:
    """A fresh projector token (cryptographically random)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def screen_of(drill: Drill) -> Screen:
    """The screen a drill's phase shows."""
    phase = drill.phase
    if phase is DrillPhase.ASKING:
        return Screen.QUESTION
    if phase is DrillPhase.REVEALED:
        return Screen.REVEAL
    if phase is DrillPhase.OPEN:
        return Screen.HOMEWORK
    if phase is DrillPhase.BETWEEN:
        return Screen.BETWEEN
    if phase is DrillPhase.CLOSED:
        return Screen.SUMMARY
    return Screen.JOIN


def may_view(drill: Drill | None, token: str, *, now: float) -> bool:
    """Whether `token` opens this drill's projector view now: the drill's own token (compared in constant time),
    and the drill open, or closed less than AFTER_CLOSE_SECONDS ago. Anything else is a plain "not found", so a
    wrong token, an unknown drill and an expired link look the same from outside."""
    if drill is None or drill.projector_token is None:
        return False
    if not hmac.compare_digest(drill.projector_token.encode(), token.encode()):
        return False
    if drill.phase is DrillPhase.CLOSED:
        return drill.closed_at is not None and now - drill.closed_at < AFTER_CLOSE_SECONDS
    return True


def shows_countdown(drill: Drill) -> bool:
    """A live question with a time limit shows its countdown; an untimed one waits for the teacher."""
    return drill.spec.mode is DrillMode.LIVE and drill.phase is DrillPhase.ASKING and drill.deadline is not None
