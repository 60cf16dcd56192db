"""A real browser for the projector view's tests: headless Chromium driven by Selenium.

The projector view is a web page shown on a projector, so its tests look at it the way a room will: laid out by a
real browser at a projector's size, screenshotted for a person to check, and its text colours checked against WCAG
AA as the browser computes them (bot/web/contrast.py does the maths).

The browser is Debian's (packages chromium and chromium-driver, which .ci/run installs): test tools that download a
browser of their own can't here, so Selenium is given the driver's path and its Selenium Manager is never asked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import pytest

from bot.web.contrast import RGB, composite, contrast_ratio, parse_colour_alpha, required_ratio

if TYPE_CHECKING:
    from selenium.webdriver.chrome.webdriver import WebDriver

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
REPOSITORY = Path(__file__).resolve().parents[2]

# As this machine needs them: headless as root (so no sandbox) with no GPU, and nothing that phones home. Without the
# background-networking, component-update and sync flags Chromium keeps dialling Google, and the closed network
# refuses each try; QUIC is off for the same reason. Scale factor 1 makes a screenshot's pixels CSS pixels, and
# hidden scrollbars keep them out of screenshots without changing the layout width (innerWidth is checked).
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--force-device-scale-factor=1",
    "--hide-scrollbars",
)
PAGE_LOAD_SECONDS = 30


def browser_available() -> str | None:
    """None when a browser test can run here, else why not (for a skip or failure message)."""
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed (pip install -e '.[test]')"
    for path, package in ((CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")):
        if not (path.is_file() and os.access(path, os.X_OK)):
            return (
                f"{path} is missing (Debian's {package}: apt-get install chromium chromium-driver; .ci/run does this)"
            )
    return None


def require_browser() -> None:
    """Skip the calling test when there is no browser; fail it instead where REQUIRE_BROWSER=1 (CI sets it), so the
    browser tests can never pass there by silently not running."""
    reason = browser_available()
    if reason is None:
        return
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(f"no browser: {reason} (REQUIRE_BROWSER=1: it must be here)")
    pytest.skip(f"no browser: {reason}")


@contextmanager
def open_browser(width: int, height: int) -> Iterator[WebDriver]:
    """A fresh headless Chromium whose viewport (window.innerWidth x innerHeight) is exactly width x height CSS
    pixels, with a new empty profile, closed and its profile deleted on leaving. Raises RuntimeError if the viewport
    can't be made that size."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="chromium-profile-")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={width},{height}"):
        options.add_argument(flag)
    driver = None
    try:
        # The driver's own path: Selenium Manager would try to download one, and can't here.
        driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
        driver.set_page_load_timeout(PAGE_LOAD_SECONDS)
        _fit_viewport(driver, width, height)
        yield driver
    finally:
        if driver is not None:
            driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def viewport(driver: WebDriver) -> tuple[int, int]:
    """The page's viewport in CSS pixels: window.innerWidth and innerHeight."""
    width, height = driver.execute_script("return [window.innerWidth, window.innerHeight]")
    return int(width), int(height)


def _fit_viewport(driver: WebDriver, width: int, height: int) -> None:
    """Make the viewport exactly width x height. --window-size sets the outer window, and even headless Chromium keeps
    room for its toolbars in it (143 px of height with Chromium 156), so the window grows by the difference: the page
    is laid out as in a real window of that size. Should that still miss, the DevTools protocol overrides the
    viewport itself, as its device emulation does (it holds for every page loaded in this tab). Then checked."""
    inner_width, inner_height = viewport(driver)
    outer = driver.get_window_size()
    driver.set_window_size(outer["width"] + width - inner_width, outer["height"] + height - inner_height)
    if viewport(driver) != (width, height):
        driver.execute_cdp_cmd(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
        )
    if (got := viewport(driver)) != (width, height):
        raise RuntimeError(f"the browser's viewport is {got[0]}x{got[1]}, not the {width}x{height} asked for")


def artifacts_folder() -> Path:
    """Where the projector tests leave screenshots for a person to look at: $TEST_ARTIFACTS/projector, else
    test-artifacts/projector at the repository's root (ignored by git; CI prints what is in it)."""
    base = os.environ.get("TEST_ARTIFACTS")
    return (Path(base) if base else REPOSITORY / "test-artifacts") / "projector"


def screenshot(driver: WebDriver, name: str) -> Path:
    """Save what the viewport shows as a PNG named after `name` in artifacts_folder(); return its path. A name is
    reused by each run (the latest wins), so give each test and size its own."""
    folder = artifacts_folder()
    folder.mkdir(parents=True, exist_ok=True)
    stem = re.sub(r"[^\w.-]+", "-", name).strip("-.") or "screenshot"
    path = folder / f"{stem.removesuffix('.png')}.png"
    path.write_bytes(driver.get_screenshot_as_png())
    return path


class ContrastFailure(NamedTuple):
    """Text whose colour is too close to its background's for WCAG AA."""

    element: str  # a CSS-selector-like description: up to three levels, stopping at an id
    text: str  # the start of the element's own text
    ratio: float
    required: float


@dataclass(frozen=True)
class ContrastReport:
    """The text a page shows, checked: how many elements, which fall short, and which could not be checked."""

    checked: int
    failures: list[ContrastFailure]
    # (element, text) of text over a background image or gradient: its contrast depends on the picture's pixels,
    # which a colour check can't know, so a person must look (the screenshots are for that).
    unchecked: list[tuple[str, str]]


# Runs in the page and only collects; the decisions are made in Python (text_contrast_report). For each visible
# element matching the selector that has text of its own (its direct text nodes), the computed text colour, size,
# weight, and its backgrounds from itself up to <html>: each layer's colour, whether it has an image (url() or a
# gradient), and the opacities on the way. Colours not already in rgb()/rgba() form (oklch(), color(srgb ...), which
# getComputedStyle keeps as written) are painted on a 1x1 canvas and read back as sRGB bytes.
_COLLECT_JS = """
const selector = arguments[0];
const canvas = document.createElement('canvas');
canvas.width = canvas.height = 1;
const context = canvas.getContext('2d', {willReadFrequently: true});
function rgba(colour) {
    if (/^rgba?\\(/.test(colour)) return colour;
    context.clearRect(0, 0, 1, 1);
    context.fillStyle = colour;
    context.fillRect(0, 0, 1, 1);
    const [r, g, b, a] = context.getImageData(0, 0, 1, 1).data;
    return `rgba(${r}, ${g}, ${b}, ${a / 255})`;
}
function describe(element) {
    const parts = [];
    for (let e = element; e && parts.length < 3; e = e.parentElement) {
        let part = e.tagName.toLowerCase();
        if (e.id) { parts.unshift(part + '#' + e.id); break; }
        for (const name of e.classList) part += '.' + name;
        const twins = e.parentElement ? [...e.parentElement.children].filter(c => c.tagName === e.tagName) : [e];
        if (twins.length > 1) part += `:nth-of-type(${twins.indexOf(e) + 1})`;
        parts.unshift(part);
    }
    return parts.join(' > ');
}
const found = [];
for (const element of document.querySelectorAll(selector)) {
    const text = Array.from(element.childNodes)
        .filter(node => node.nodeType === Node.TEXT_NODE)
        .map(node => node.textContent).join(' ').replace(/\\s+/g, ' ').trim();
    if (!text) continue;
    const style = getComputedStyle(element);
    if (style.visibility !== 'visible' || element.getClientRects().length === 0) continue;
    const layers = [];
    let opacity = 1;
    for (let e = element; e; e = e.parentElement) {
        const s = getComputedStyle(e);
        opacity *= parseFloat(s.opacity);
        layers.push({colour: rgba(s.backgroundColor), image: s.backgroundImage !== 'none'});
    }
    found.push({
        element: describe(element), text: text.slice(0, 60), colour: rgba(style.color),
        size: parseFloat(style.fontSize), weight: parseInt(style.fontWeight, 10) || 400, opacity, layers,
    });
}
return found;
"""

_CANVAS: RGB = (255, 255, 255)  # what shows through where no element paints a background (the browser's default)


def text_contrast_report(driver: WebDriver, css_selector: str = "body *") -> ContrastReport:
    """Check, against WCAG AA, the text of every visible element matching css_selector in the page now loaded.

    The background is found by walking up from the element until a layer is opaque (white beneath all), blending the
    see-through ones on the way; a background image or gradient on the way makes the text unchecked instead. A
    see-through text colour is blended over that background. Opacity is taken as fading the text alone, which is
    exact when it is set above the background's element and an estimate otherwise. Text shadows, outlines and text
    hidden by overflow or other elements are not considered."""
    found: list[dict[str, Any]] = driver.execute_script(_COLLECT_JS, css_selector)
    failures: list[ContrastFailure] = []
    unchecked: list[tuple[str, str]] = []
    for item in found:
        background = _background(item["layers"])
        if background is None:
            unchecked.append((item["element"], item["text"]))
            continue
        colour, alpha = parse_colour_alpha(item["colour"])
        alpha *= float(item["opacity"])
        if alpha == 0:
            continue  # not shown at all
        ratio = contrast_ratio(composite(colour, alpha, background), background)
        required = required_ratio(float(item["size"]), int(item["weight"]))
        if ratio < required:
            failures.append(ContrastFailure(item["element"], item["text"], round(ratio, 2), required))
    return ContrastReport(checked=len(found), failures=failures, unchecked=unchecked)


def text_contrast_failures(driver: WebDriver, css_selector: str = "body *") -> list[ContrastFailure]:
    """The text in the loaded page below WCAG AA (see text_contrast_report, which also lists what it could not
    check): each as (element, text, ratio, required)."""
    return text_contrast_report(driver, css_selector).failures


def _background(layers: list[dict[str, Any]]) -> RGB | None:
    """The opaque colour behind an element's text, from its background layers (its own first, then its ancestors');
    None when an image or gradient is among the layers that show."""
    showing: list[tuple[RGB, float]] = []
    for layer in layers:
        if layer["image"]:
            return None
        colour, alpha = parse_colour_alpha(layer["colour"])
        if alpha > 0:
            showing.append((colour, alpha))
        if alpha == 1:
            break
    result = _CANVAS
    for colour, alpha in reversed(showing):  # paint from the farthest layer in
        result = composite(colour, alpha, result)
    return result
