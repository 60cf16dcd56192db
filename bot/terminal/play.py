"""Play a quiz in a terminal, or scripted through piped input.

Input is read synchronously and each service call runs on an `asyncio.Runner`, so Ctrl-C interrupts a blocking
read directly and end of input ends the quiz cleanly; every answer is committed as it is given, and one chosen
before stopping at "how sure are you?" is committed without a confidence.
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
from .screen import EndOfInput, Screen, number

T = TypeVar("T")
CONFIDENCES = {1: Confidence.GUESS, 2: Confidence.PROBABLY, 3: Confidence.SURE}


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
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        screen: Screen | None = None,
    ) -> None:
        self.service = service
        self.runner = runner
        self.t = t
        self.lang = lang
        self.user_id = user_id
        if screen is None:
            assert stdin is not None and stdout is not None, "give a screen, or the streams to make one"
            screen = Screen(stdin, stdout)
        self.screen = screen
        self.present = Presenter(t, service.bank)

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return self.runner.run(coroutine)

    def say(self, text: str = "") -> None:
        self.screen.say(text)

    def ask(self, prompt: str) -> str:
        return self.screen.ask(prompt)

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
        step: QuestionView | ResultView = started
        try:
            self.say(self.t("terminal.title", lang, app=self.t("app.name", lang), lang=self.t("lang.name", lang)))
            self.say(self.t("app.tagline", lang))
            while isinstance(step, QuestionView):
                reveal = self._answer(step)
                self.say()
                self.say(self.present.reveal(reveal, lang, with_prompt=False))
                step = self._run(self.service.next(self.user_id, step.session_id, position=step.position))
        except (EndOfInput, KeyboardInterrupt):
            stopped = self._run(self.service.cancel(self.user_id))
            self.say()
            if stopped is not None and stopped.summary.total.answered:
                self.say(self.present.result(stopped, lang, stopped=True, review_key="terminal.review"))
            self.say(self.t("terminal.saved", lang))
            return 0
        except BrokenPipeError:
            # Nobody reads the output any more (`play | head`): stop the quiz, keep what was answered, say nothing.
            self._run(self.service.cancel(self.user_id))
            raise
        self.say()
        self.say(self.present.result(step, lang, review_key="terminal.review"))
        return 0

    def _answer(self, view: QuestionView) -> RevealView:
        lang = self.lang
        self.say()
        self.say(self.present.question(view, lang))
        count = len(view.order)
        while True:
            chosen = number(self.ask(self.t("terminal.choice_prompt", lang, max=count)))
            if chosen is not None and 1 <= chosen <= count:
                break
            self.say(self.t("terminal.invalid_choice", lang, max=count))
        step = self._run(self.service.choose(self.user_id, view.session_id, position=view.position, shown=chosen - 1))
        if isinstance(step, RevealView):
            return step
        try:
            confidence = self._confidence()
        except (EndOfInput, KeyboardInterrupt, BrokenPipeError):
            # The answer is given; only "how sure?" is missing. Record it without a confidence before stopping, as
            # the screen promises that every answer given is saved.
            self._run(self.service.rate(self.user_id, view.session_id, position=view.position, confidence=None))
            raise
        return self._run(
            self.service.rate(self.user_id, view.session_id, position=view.position, confidence=confidence)
        )

    def _confidence(self) -> Confidence | None:
        """How sure the person is (1-3, full-width digits too), None when they press Enter to skip."""
        lang = self.lang
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
            if raw == "":
                return None
            level = number(raw)
            if level in CONFIDENCES:
                return CONFIDENCES[level]
            self.say(self.t("terminal.invalid_confidence", lang))
