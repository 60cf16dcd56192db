"""Play a quiz in a terminal, or scripted through piped input.

Input is read synchronously and each service call runs on an `asyncio.Runner`, so Ctrl-C interrupts a blocking
read directly and end of input ends the quiz cleanly; every answer is committed as it is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import IO, Any, TypeVar

from ..core.engine import Confidence, QuizSpec, UserId
from ..core.lang import Lang
from ..i18n import Translator
from ..i18n.present import Presenter
from ..services import NothingToReview, QuestionView, QuizService, ResultView, RevealView

T = TypeVar("T")
QUIT_WORDS = frozenset({"q", "quit", "exit", "離開", "离开"})
CONFIDENCE_KEYS = {"1": Confidence.GUESS, "2": Confidence.PROBABLY, "3": Confidence.SURE}


class EndOfInput(Exception):
    """The person typed q, or the input ran out."""


class TerminalQuiz:
    """One quiz in a terminal."""

    def __init__(
        self,
        service: QuizService,
        runner: asyncio.Runner,
        *,
        t: Translator,
        lang: Lang,
        user_id: UserId,
        stdin: IO[str],
        stdout: IO[str],
    ) -> None:
        self.service = service
        self.runner = runner
        self.t = t
        self.lang = lang
        self.user_id = user_id
        self.stdin = stdin
        self.stdout = stdout
        self.present = Presenter(t, service.bank)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def ask(self, prompt: str) -> str:
        self.stdout.write(prompt)
        self.stdout.flush()
        line = self.stdin.readline()
        if not line:
            self.say()
            raise EndOfInput
        answer = line.strip()
        if answer.lower() in QUIT_WORDS:
            raise EndOfInput
        return answer

    def play(self, spec: QuizSpec) -> int:
        """Run the quiz; returns the process exit status."""
        lang = self.lang
        started = self._run(self.service.start(self.user_id, spec))
        if started is None:
            self.say(self.t("quiz.no_questions", lang))
            return 1
        if isinstance(started, NothingToReview):
            self.say(self.t("review.empty", lang))
            return 0
        self.say(self.t("terminal.title", lang, app=self.t("app.name", lang), lang=self.t("lang.name", lang)))
        self.say(self.t("app.tagline", lang))
        step: QuestionView | ResultView = started
        try:
            while isinstance(step, QuestionView):
                reveal = self._answer(step)
                self.say()
                self.say(self.present.reveal(reveal, lang, with_prompt=False))
                step = self._run(self.service.next(self.user_id, step.session_id, position=step.position))
        except (EndOfInput, KeyboardInterrupt):
            stopped = self._run(self.service.cancel(self.user_id))
            self.say()
            if stopped is not None and stopped.summary.total.answered:
                self.say(self.present.result(stopped, lang, stopped=True))
            self.say(self.t("terminal.saved", lang))
            return 0
        self.say()
        self.say(self.present.result(step, lang))
        return 0

    def _answer(self, view: QuestionView) -> RevealView:
        lang = self.lang
        self.say()
        self.say(self.present.question(view, lang))
        count = len(view.order)
        while True:
            raw = self.ask(self.t("terminal.choice_prompt", lang, max=count))
            if raw.isdigit() and 1 <= int(raw) <= count:
                break
            self.say(self.t("terminal.invalid_choice", lang, max=count))
        step = self._run(self.service.choose(self.user_id, view.session_id, position=view.position, shown=int(raw) - 1))
        if isinstance(step, RevealView):
            return step
        self.say(self.t("quiz.confidence_question", lang))
        prompt = self.t(
            "terminal.confidence_prompt",
            lang,
            guess=self.t("confidence.guess", lang),
            probably=self.t("confidence.probably", lang),
            sure=self.t("confidence.sure", lang),
        )
        while True:
            raw = self.ask(prompt)
            if raw == "" or raw in CONFIDENCE_KEYS:
                break
            self.say(self.t("terminal.invalid_confidence", lang))
        confidence = CONFIDENCE_KEYS.get(raw)
        return self._run(
            self.service.rate(self.user_id, view.session_id, position=view.position, confidence=confidence)
        )
