"""The browser harness itself (tests/web/browser.py), on a tiny page served here: the projector view's tests rely on
its viewport size, its screenshots and its contrast check, so each is shown to work before they do."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO

import pytest
from PIL import Image

from tests.web.browser import open_browser, require_browser, screenshot, text_contrast_report, viewport

PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>harness</title></head>
<body style="margin: 0; background: #fff; font: 16px sans-serif">
  <p id="low" style="color: #999">Too faint: #999 on white is 2.85:1</p>
  <p id="good" style="color: #222">Plain to read: #222 on white is 15.9:1</p>
  <h1 id="large" style="color: #888; font-size: 32px">Large text: #888 is 3.54:1, enough at this size</h1>
  <div id="panel" style="background: rgba(0, 0, 0, 0.5)"><span style="color: #111">Dark on a dimmed panel</span></div>
  <p id="picture" style="background: linear-gradient(#000, #fff); color: #fff">Over a gradient</p>
  <p id="hidden" style="display: none; color: #eee">Not shown</p>
</body>
</html>
"""


class _PageHandler(BaseHTTPRequestHandler):
    """Serves PAGE at every path."""

    def do_GET(self) -> None:
        body = PAGE.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: pytest's output is not the place for an access log."""


@pytest.fixture
def page_url() -> Iterator[str]:
    """PAGE, served on a free loopback port by a thread for as long as the test runs."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _PageHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.mark.slow
@pytest.mark.parametrize(("width", "height"), [(1280, 720), (1920, 1080)])
def test_the_browser_opens_at_the_size_asked_screenshots_it_and_finds_low_contrast(
    page_url: str, width: int, height: int
) -> None:
    require_browser()
    with open_browser(width, height) as driver:
        driver.get(page_url)
        assert viewport(driver) == (width, height)
        assert driver.execute_script("return [window.innerWidth, window.innerHeight]") == [width, height]

        path = screenshot(driver, f"harness-{width}x{height}")
        assert path.is_file()
        data = path.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        with Image.open(BytesIO(data)) as image:
            assert image.size == (width, height)

        report = text_contrast_report(driver)

    failing = {failure.element: failure for failure in report.failures}
    assert set(failing) == {"p#low"}, report.failures
    low = failing["p#low"]
    assert low.text.startswith("Too faint")
    assert low.ratio == pytest.approx(2.85, abs=0.01)
    assert low.required == 4.5
    # The display: none paragraph is not looked at; the gradient's text can't be checked by colour and is listed.
    assert report.unchecked == [("p#picture", "Over a gradient")]
    assert report.checked == 5
