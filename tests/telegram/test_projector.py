"""The projector page end to end: a drill made through the emulator, its page fetched over HTTP from the bot's own
server, at each phase (join, question, reveal, summary); the link's security (token, 404s, expiry, rate limits);
what the teacher chose to show; and a page that reads the database, so another worker or a restarted bot serves it.

tests/telegram/test_projector_browser.py walks the same drill in a real browser.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import time
from dataclasses import dataclass

import aiohttp
import pytest

from bot.core.drill import Drill
from bot.core.projector import AFTER_CLOSE_SECONDS, TOKEN_BYTES
from bot.logs import redact
from bot.telegram.app import BotRuntime
from tests.emulator import BotApiEmulator
from tests.emulator.pytest_plugin import TEST_TOKEN
from tests.telegram.conftest import BANK, bot_settings
from tests.telegram.test_drill import TEACHER, buttons, press, right_letter_index, say
from tests.telegram.test_drill import make_drill as make_plain_drill

LINK = re.compile(r"📺 [^:：]+[:：] ?(http://\S+/projector/(\S+?)/(\S+?)/)")


@dataclass
class Classroom:
    api: BotApiEmulator
    runtime: BotRuntime
    teacher: dict
    code: str
    control: dict
    link: str
    wizard_summary: str = ""  # the wizard's last step, as the teacher saw it before Create
    moved_at: int = 0  # the emulator's mark before the teacher's last move

    def panel(self) -> dict:
        return self.api.message(TEACHER, self.control["message_id"])

    async def move(self, index: int = 0) -> None:
        """Press a panel button (the first: Start, Next question, Reveal, End this round; the last: Close the drill)
        and wait for the bot to answer the press."""
        self.moved_at = self.api.mark()
        await press(self.api, self.teacher, self.panel(), buttons(self.panel())[index][1])

    async def drill(self) -> Drill:
        assert self.runtime.services is not None
        found = await self.runtime.services.drill.by_code(self.code)
        assert found is not None
        return found


async def start(api: BotApiEmulator, database_url: str, **settings: str) -> BotRuntime:
    runtime = BotRuntime(bot_settings(api, database_url, **settings), BANK)
    await runtime.start(poll_timeout=1.0)
    return runtime


async def make_drill(
    api: BotApiEmulator,
    runtime: BotRuntime,
    *,
    lang: str = "en",
    timed: bool = False,
    self_paced: bool = False,
    names: bool = False,
    podium: bool = False,
) -> Classroom:
    """Walk the drill wizard by button position, so it works in every language: all topics, 5 questions, live
    (timed 20 s or untimed) or self-paced, no pre/post pair, no re-test; then the projector toggles and Create."""
    teacher = api.make_user(TEACHER, "Ms Projector", language_code=lang)
    overview = await say(api, teacher, "/drill")
    await press(api, teacher, overview, buttons(overview)[0][1])  # New drill

    def current() -> dict:
        return api.message(TEACHER, overview["message_id"])

    async def pick(index: int) -> None:
        await press(api, teacher, current(), buttons(current())[index][1])

    await pick(-1)  # step 1: all topics, Next
    await pick(0)  # step 2: 5 questions
    await pick(1 if self_paced else 0)  # step 3: live or self-paced
    await pick(0 if timed or self_paced else -1)  # step 4: 20 s or untimed; self-paced: 1 day
    await pick(1)  # step 5: no pre/post pair
    await pick(0)  # step 6: no re-test
    if names:
        await pick(0)
    if podium:
        await pick(1)
    summary = current()["text"]
    mark = api.mark()
    api.press_button(teacher, current(), buttons(current())[-1][1])  # Create
    control = (await api.wait_for("sendMessage", lambda c: "📺" in c.params["text"], since=mark)).result
    await api.wait_for("answerCallbackQuery", since=mark)
    found = LINK.search(control["text"])
    assert found, control["text"]
    code = re.search(r"[A-HJ-NP-Z2-9]{8}", control["text"])
    assert code is not None
    return Classroom(
        api=api,
        runtime=runtime,
        teacher=teacher,
        code=code.group(0),
        control=control,
        link=found[1],
        wizard_summary=summary,
    )


async def join_class(room: Classroom, count: int, *, lang: str = "en", first: int = 700) -> list[dict]:
    class_ = [room.api.make_user(first + n, f"Real Name {n}", language_code=lang) for n in range(count)]
    for n, student in enumerate(class_):
        await say(room.api, student, f"/start {room.code}")
        await say(room.api, student, f"Owl {n}")
    return class_


async def answer(room: Classroom, student: dict, option: int) -> None:
    """The student taps option `option` (as shown) on their live question, then a confidence."""
    api = room.api
    question = await api.wait_for(
        "sendMessage", lambda c: "reply_markup" in c.params, since=room.moved_at, chat_id=student["id"], timeout=15
    )
    latest = api.message(student["id"], question.result["message_id"])
    await press(api, student, latest, buttons(latest)[option][1])
    rating = api.message(student["id"], question.result["message_id"])
    await press(api, student, rating, buttons(rating)[0][1])


def right_option(room_drill: Drill) -> int:
    """Where the open question's right answer stands among the shown options."""
    item = room_drill.items[room_drill.position]
    question = BANK.get(item.question_id)
    assert question is not None
    return item.order.index(question.answer)


async def fetch(url: str, **headers: str) -> tuple[int, str, dict[str, str]]:
    async with aiohttp.ClientSession() as http, http.get(url, headers=headers, allow_redirects=False) as reply:
        return reply.status, await reply.text(), dict(reply.headers)


async def screen(link: str) -> str:
    """The screen the page shows now, as the page's script receives it (entities decoded, to compare text)."""
    async with aiohttp.ClientSession() as http, http.get(link + "state") as reply:
        assert reply.status == 200, reply.status
        return html.unescape((await reply.json())["html"])


async def shows(link: str, words: str, within: float = 10.0) -> str:
    """Wait until the page's screen shows `words` (answers are counted as they are stored)."""
    deadline = time.monotonic() + within
    shown = ""
    while time.monotonic() < deadline:
        shown = await screen(link)
        if words in shown:
            return shown
        await asyncio.sleep(0.1)
    raise AssertionError(f"the projector never showed {words!r}; last screen:\n{shown}")


def path_of(link: str) -> str:
    """The link without its scheme and address: the same page on another worker's port."""
    return "/" + link.split("://", 1)[1].split("/", 1)[1]


@pytest.mark.slow
async def test_the_projector_follows_a_live_drill_from_join_to_summary(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    runtime = await start(bot_api, database_url)
    try:
        room = await make_drill(bot_api, runtime)
        drill = await room.drill()
        assert room.link.endswith(f"/projector/{drill.id}/{drill.projector_token}/")
        assert drill.projector_token is not None and len(drill.projector_token) >= 4 * TOKEN_BYTES // 3  # 192 bits

        status, page, headers = await fetch(room.link)
        assert status == 200 and headers["Content-Type"].startswith("text/html")
        assert headers["Cache-Control"] == "no-store" and headers["Referrer-Policy"] == "no-referrer"
        assert "default-src 'none'" in headers["Content-Security-Policy"]
        assert f"{room.code[:4]} {room.code[4:]}" in page and f"t.me/DeepfakeQuizBot?start={room.code}" in page
        assert "<svg" in page and "0 students have joined" in page
        assert not re.search(r'(src|href)="(https?:)?//', page)  # nothing is loaded from elsewhere
        for asset in ("projector.css", "projector.js"):
            status, body, headers = await fetch(room.link + f"../../static/{asset}")
            assert status == 200 and body and "https://" not in body

        class_ = await join_class(room, 3)
        joined = await shows(room.link, "3 students have joined")
        assert "Owl" not in joined  # names only when the teacher chose to show them
        assert "Real Name" not in joined and "Ms Projector" not in joined  # never anyone's Telegram name

        await room.move()  # Start
        drill = await room.drill()
        question = BANK.get(drill.items[0].question_id)
        assert question is not None
        asking = await shows(room.link, "Answered: 0 of 3")
        assert "Question 1 of 5" in asking and "No clock: the teacher reveals the answer." in asking
        assert question.options[question.answer].en in asking
        right = right_option(drill)
        await answer(room, class_[0], right)
        await answer(room, class_[1], right)
        await shows(room.link, "Answered: 2 of 3")  # every answer shows within a poll

        await room.move()  # Reveal (one student never answered)
        revealed = await shows(room.link, "✓ Right answer")
        assert "2 answers · 100%" in revealed and revealed.count("0 answers · 0%") == len(drill.items[0].order) - 1
        assert "Answered: 2 of 3" in revealed
        assert question.explanation.en.split(".")[0] in revealed

        for _ in range(4):
            await room.move()  # Next question
            await room.move()  # Reveal
        await room.move()  # End this round
        summary = await shows(room.link, "how the class did")
        assert "% of answers right in the drill, from 2 students" in summary
        assert "Top of the class" not in summary  # no podium unless the teacher chose one
        assert "📺" not in room.panel()["text"]  # a closed drill's panel offers no link
    finally:
        await runtime.stop()


async def test_a_wrong_token_an_unknown_drill_and_an_old_link_get_a_plain_404(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    now = [time.time()]
    runtime = BotRuntime(bot_settings(bot_api, database_url), BANK, clock=lambda: now[0])
    await runtime.start(poll_timeout=1.0)
    try:
        room = await make_drill(bot_api, runtime)
        drill = await room.drill()
        base = room.link.split("/projector/")[0] + "/projector/"
        wrong = drill.projector_token[:-1] + ("A" if drill.projector_token[-1] != "A" else "B")  # type: ignore[index]
        for url in (
            f"{base}{drill.id}/{wrong}/",
            f"{base}{drill.id}/{wrong}/state",
            f"{base}nosuchdrill/{drill.projector_token}/",
            f"{base}{drill.id}/",
            f"{base}static/../../etc/passwd",
            f"{base}static/other.js",
        ):
            status, body, _ = await fetch(url)
            assert status == 404 and body == "Not found\n", url
        status, _, headers = await fetch(room.link.rstrip("/"))
        assert status == 302 and headers["Location"] == path_of(room.link)  # the page's own links are relative

        # Closed: the summary stays for the class to discuss, then the link stops working.
        await room.move(-1)  # Close
        closed = await shows(room.link, "how the class did")
        assert "Nobody answered in this drill." in closed
        now[0] += AFTER_CLOSE_SECONDS + 1
        status, body, _ = await fetch(room.link)
        assert status == 404 and body == "Not found\n"
        status, _, _ = await fetch(room.link + "state")
        assert status == 404
    finally:
        await runtime.stop()


async def test_the_page_is_rate_limited_per_client(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start(bot_api, database_url)
    try:
        room = await make_drill(bot_api, runtime)
        async with aiohttp.ClientSession() as http:
            statuses = []
            for _ in range(60):  # a flood: far more than a poll a second
                async with http.get(room.link + "state") as reply:
                    statuses.append(reply.status)
            assert statuses[:20] == [200] * 20 and 429 in statuses
            # Behind the proxy (the peer is this machine), each client has its own bucket, by X-Real-IP.
            async with http.get(room.link + "state", headers={"X-Real-IP": "10.0.0.7"}) as reply:
                assert reply.status == 200

            # Someone trying links: after ten wrong ones, even the right link is refused for a while.
            trier = {"X-Real-IP": "10.0.0.99"}
            for n in range(10):
                async with http.get(room.link.replace("/projector/", f"/projector/x{n}"), headers=trier) as reply:
                    assert reply.status == 404
            async with http.get(room.link, headers=trier) as reply:
                assert reply.status == 429
    finally:
        await runtime.stop()


@pytest.mark.slow
async def test_names_and_a_podium_only_when_the_teacher_chose_them_and_a_timed_countdown(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    runtime = await start(bot_api, database_url)
    try:
        room = await make_drill(bot_api, runtime, timed=True, names=True, podium=True)
        assert "Projector: nicknames; a podium at the end" in room.wizard_summary
        class_ = await join_class(room, 4)
        joined = await shows(room.link, "4 students have joined")
        assert all(f"<li>Owl {n}</li>" in joined for n in range(4)) and "Real Name" not in joined
        await room.move()  # Start: a 20-second question
        asking = await shows(room.link, 'role="timer"')
        remaining = float(re.search(r'data-remaining="([\d.]+)"', asking)[1])  # type: ignore[index]
        assert 15 < remaining <= 20 and "seconds left" in asking
        for n, student in enumerate(class_):
            drill = await room.drill()
            await answer(room, student, right_option(drill) if n < 2 else (right_option(drill) + 1) % 2)
        await room.move()  # Reveal
        await shows(room.link, "✓ Right answer")
        await room.move(-1)  # Close the drill after one question
        summary = await shows(room.link, "Top of the class")
        assert "Owl 0: 1 of 1 right" in summary and "Owl 1: 1 of 1 right" in summary
        assert "Worth discussing" in summary and "Question 1: 50% right." in summary  # the most missed, named
    finally:
        await runtime.stop()


async def test_a_self_paced_drill_shows_who_finished(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start(bot_api, database_url)
    try:
        room = await make_drill(bot_api, runtime, self_paced=True, podium=True)
        await join_class(room, 1)
        homework = await shows(room.link, "Finished: 0 of 1")
        assert "Self-paced drill" in homework and room.code[:4] in homework
        # A second student takes the whole quiz at their own pace: the page counts them when they finish.
        student = bot_api.make_user(790, "Real Name", language_code="en")
        await say(bot_api, student, f"/join {room.code}")
        mark = bot_api.mark()
        bot_api.send_text(student, "Late Owl")
        question = (
            await bot_api.wait_for("sendMessage", lambda c: "Question 1/5" in c.params["text"], since=mark)
        ).result
        for _ in range(5):
            await press(bot_api, student, question, buttons(question)[right_letter_index(question["text"])][1])
            rating = bot_api.message(student["id"], question["message_id"])
            await press(bot_api, student, rating, buttons(rating)[0][1])  # a confidence
            revealed = bot_api.message(student["id"], question["message_id"])
            mark = bot_api.mark()
            bot_api.press_button(student, revealed, buttons(revealed)[0][1])  # next
            question = (await bot_api.wait_for("sendMessage", since=mark, chat_id=student["id"])).result
        await shows(room.link, "Finished: 1 of 2")
        # The podium counts self-paced answers too (they are in each student's own quiz, not the round's session).
        await room.move(-1)  # Close the drill
        summary = await shows(room.link, "Top of the class")
        assert "Late Owl: 5 of 5 right" in summary and "Owl 0" not in summary  # no right answer, no place
    finally:
        await runtime.stop()


async def test_another_bot_on_the_same_database_serves_the_same_link(
    bot_api: BotApiEmulator, database_url: str
) -> None:
    """The page reads the database: a second worker (or the bot after a restart) serves the link as it stands."""
    first = await start(bot_api, database_url)
    try:
        room = await make_drill(bot_api, first)
        await join_class(room, 2)
        await room.move()  # Start
    finally:
        await first.stop()
    second = await start(bot_api, database_url)
    try:
        assert second.projector is not None and second.projector.port is not None
        asking = await shows(f"http://127.0.0.1:{second.projector.port}{path_of(room.link)}", "Answered: 0 of 2")
        assert "Question 1 of 5" in asking
    finally:
        await second.stop()


async def test_projector_off_means_no_server_and_no_link(bot_api: BotApiEmulator, database_url: str) -> None:
    runtime = await start(bot_api, database_url, PROJECTOR_PORT="off")
    try:
        assert runtime.projector is None
        teacher = bot_api.make_user(TEACHER, "Ms Off", language_code="en")
        _, control = await make_plain_drill(bot_api, teacher)
        assert "📺" not in control["text"]
    finally:
        await runtime.stop()


async def test_a_projector_token_never_reaches_a_log_at_debug(
    bot_api: BotApiEmulator, database_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The teacher's panel carries the link, and PTB logs what it sends at DEBUG: the token is masked there."""
    make_record = logging.getLogRecordFactory()
    redact(TEST_TOKEN)  # as `python -m bot run` sets it up
    caplog.set_level(logging.DEBUG)
    try:
        runtime = await start(bot_api, database_url, LOG_LEVEL="DEBUG")
        try:
            room = await make_drill(bot_api, runtime)
            await fetch(room.link)
        finally:
            await runtime.stop()
    finally:
        logging.setLogRecordFactory(make_record)
    token = room.link.rstrip("/").rsplit("/", 1)[1]
    assert not [f"{r.name}: {r.getMessage()[:120]}" for r in caplog.records if token in r.getMessage()]
    assert token not in caplog.text
    drill_id = room.link.split("/projector/", 1)[1].split("/", 1)[0]
    assert f"/projector/{drill_id}/***" in caplog.text  # the link was logged, masked
