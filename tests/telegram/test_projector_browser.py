"""The projector page in a real browser (Debian's headless Chromium, driven by Selenium): a live drill walked through
the emulator from join to summary, in each language, the page open at 1280x720 and at 1920x1080 from the start and
updating by itself. At each phase: what the page shows, that it fits the screen (nothing wider than the window; the
join code, QR code and question in view), that every text meets WCAG AA contrast, and a screenshot kept in
test-artifacts/projector/ (tests/web/browser.py) for a person to look at.

Without a browser the test skips, except where REQUIRE_BROWSER=1 (.ci/run), where it fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import TypeVar

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from bot.core.projector import AFTER_CLOSE_SECONDS
from bot.telegram.app import BotRuntime
from tests.emulator import BotApiEmulator
from tests.telegram.conftest import BANK, bot_settings
from tests.telegram.test_projector import Classroom, answer, join_class, make_drill, right_option
from tests.web.browser import open_browser, require_browser, screenshot, text_contrast_failures

T = TypeVar("T")
SIZES = ((1280, 720), (1920, 1080))
# (Telegram language code of the teacher and students, what the page shows at each phase in that language)
LANGUAGES = {
    "en": ("en", {"join": "3 students have joined", "asking": "Answered: 2 of 3", "right": "✓ Right answer",
                  "summary": "how the class did", "podium": "Top of the class", "ended": "projector link has ended"}),
    "zh-Hant": ("zh-tw", {"join": "已有 3 位學生加入", "asking": "已作答：2／3 人", "right": "✓ 正確答案",
                          "summary": "全班的表現", "podium": "全班前三名", "ended": "這個投影連結已失效"}),
    "zh-Hans": ("zh-cn", {"join": "已有 3 位学生加入", "asking": "已作答：2／3 人", "right": "✓ 正确答案",
                          "summary": "全班的表现", "podium": "全班前三名", "ended": "这个投影链接已失效"}),
}  # fmt: skip


@contextlib.asynccontextmanager
async def projectors(link: str) -> AsyncIterator[list[WebDriver]]:
    """The page open in one browser per screen size. Selenium blocks, and the page's server runs in this event
    loop: every browser call goes to a thread (`off_loop`), or the page would wait on a server that can't answer."""
    with contextlib.ExitStack() as stack:
        try:
            drivers = [await off_loop(stack.enter_context, open_browser(width, height)) for width, height in SIZES]
            for driver in drivers:
                await off_loop(driver.get, link)
            yield drivers
        finally:
            await off_loop(stack.close)


async def off_loop(call: Callable[..., T], *args: object) -> T:
    return await asyncio.to_thread(call, *args)


def wait_for_text(driver: WebDriver, words: str, within: float = 10.0) -> None:
    """Wait until the page shows `words`: it polls each second and swaps in the new screen by itself."""
    WebDriverWait(driver, within, poll_frequency=0.1).until(
        lambda d: words in d.find_element(By.TAG_NAME, "body").text,
        message=f"the page never showed {words!r}",
    )


def text_of(driver: WebDriver, selector: str) -> str:
    return str(driver.find_element(By.CSS_SELECTOR, selector).text)


def countdown_runs(driver: WebDriver) -> None:
    first = int(driver.find_element(By.ID, "timer").text)
    time.sleep(1.2)
    assert int(driver.find_element(By.ID, "timer").text) < first <= 20


def check_screen(driver: WebDriver, name: str, in_view: tuple[str, ...]) -> None:
    """The screen fits the window, the named elements are wholly in view, every text meets WCAG AA; screenshot."""
    width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    path = screenshot(driver, f"{name}-{width}x{height}")
    assert path.stat().st_size > 10_000, path  # a real picture, not an empty page
    scroll_width = driver.execute_script("return document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name}: the page is {scroll_width}px wide in a {width}px window"
    for selector in in_view:
        element = driver.find_element(By.CSS_SELECTOR, selector)
        box = driver.execute_script(
            "const r = arguments[0].getBoundingClientRect(); return [r.top, r.bottom];", element
        )
        assert box[0] >= 0 and box[1] <= height, f"{name}: {selector} is not wholly in view ({box}, {height}px)"
    failures = text_contrast_failures(driver)
    assert not failures, f"{name}: text below WCAG AA contrast: {failures}"


@pytest.mark.slow
@pytest.mark.parametrize("language", list(LANGUAGES))
async def test_a_live_drill_on_the_projector_in_a_real_browser(
    bot_api: BotApiEmulator, tmp_path: Path, language: str
) -> None:
    require_browser()
    code, words = LANGUAGES[language]
    skew = [0.0]  # added to the bot's clock: the link's expiry is tested without waiting 15 minutes
    settings = bot_settings(bot_api, f"sqlite:///{tmp_path / 'quiz.db'}")
    runtime = BotRuntime(settings, BANK, rng=random.Random(7), clock=lambda: time.time() + skew[0])
    await runtime.start(poll_timeout=1.0)
    try:
        room: Classroom = await make_drill(bot_api, runtime, lang=code, timed=True, names=True, podium=True)
        async with projectors(room.link) as drivers:
            class_ = await join_class(room, 3, lang=code)
            for driver in drivers:
                await off_loop(wait_for_text, driver, words["join"])
                assert room.code[:4] in await off_loop(text_of, driver, ".code")
                assert "Owl 2" in await off_loop(text_of, driver, ".names")
                await off_loop(check_screen, driver, f"{language}-1-join", (".code", ".qr", ".count"))

            await room.move()  # Start: the first question, 20 seconds
            right = right_option(await room.drill())
            await answer(room, class_[0], right)
            await answer(room, class_[1], (right + 1) % 2)
            for driver in drivers:
                await off_loop(wait_for_text, driver, words["asking"])
                await off_loop(countdown_runs, driver)
                await off_loop(check_screen, driver, f"{language}-2-question", (".prompt", ".options", ".answered"))

            await room.move()  # Reveal
            for driver in drivers:
                await off_loop(wait_for_text, driver, words["right"])
                right_row = await off_loop(text_of, driver, ".option.right")
                assert "50%" in right_row and words["right"] in right_row
                await off_loop(check_screen, driver, f"{language}-3-reveal", (".options",))

            await room.move(-1)  # Close the drill
            for driver in drivers:
                await off_loop(wait_for_text, driver, words["summary"])
                await off_loop(wait_for_text, driver, words["podium"])
                await off_loop(check_screen, driver, f"{language}-4-summary", (".figures", ".podium"))

            skew[0] += AFTER_CLOSE_SECONDS + 1  # the link stops working: the page says so and stops asking
            for driver in drivers:
                await off_loop(wait_for_text, driver, words["ended"])
                await off_loop(check_screen, driver, f"{language}-5-ended", (".ended",))
    finally:
        await runtime.stop()
