"""The projector page's web server: aiohttp, inside the bot's own process, on PROJECTOR_LISTEN:PROJECTOR_PORT.

Routes (relative, so the page works behind a reverse proxy under any prefix):

- `/projector/<drill id>/<token>/`: the page; `.../state`: the current screen as JSON, polled each second;
- `/projector/static/...`: the stylesheet and the script, shipped in the package (no CDN, no web fonts: a classroom
  network may be closed).

Short polling, not server-sent events: each poll reads the database (through the service's fraction-of-a-second
cache), so every worker answers the same and a restart loses nothing, and a poll passes any proxy unchanged.
A wrong token, an unknown drill and an expired link all get the same plain 404. Each client address is held to a
rate (a token bucket), and one that keeps asking for links that don't exist is turned away for a while.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from ..core.model import QuestionBank
from ..i18n import Translator
from ..services.projector import ProjectorService, ProjectorView
from .page import ProjectorPage

log = logging.getLogger(__name__)
PREFIX = "/projector"
STATIC_FILES = {"projector.css": "text/css", "projector.js": "text/javascript"}
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",  # the link's token must not leak to another site
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
}


@dataclass(slots=True)
class Bucket:
    tokens: float
    at: float


class RateLimit:
    """A token bucket per client address: `rate` requests a second, bursts up to `burst`. A projector polls once a
    second; a flood, or a script trying tokens, runs dry. (aiohttp has no rate limiting of its own to reuse.)"""

    def __init__(self, *, rate: float, burst: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self._clock = clock
        self._buckets: dict[str, Bucket] = {}

    def allow(self, client: str) -> bool:
        """Take a request from the client's bucket: False when it is empty."""
        bucket = self._refilled(client)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def spent(self, client: str) -> bool:
        """Whether the client's bucket is empty, without taking from it."""
        return self._refilled(client).tokens < 1

    def _refilled(self, client: str) -> Bucket:
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) > 10_000:  # forget clients that have had time to refill
                self._buckets = {k: b for k, b in self._buckets.items() if now - b.at < self.burst / self.rate}
            bucket = self._buckets[client] = Bucket(tokens=self.burst, at=now)
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now
        return bucket


LOOPBACK = {"127.0.0.1", "::1"}


def client_address(request: web.Request) -> str:
    """Who is asking, for the rate limits: the peer, or, when the peer is a proxy on this machine (nginx in
    docs/deploy.md), the address it puts in X-Real-IP, so one bad client behind it doesn't shut out every
    projector. A remote peer's header is ignored: anyone could send one."""
    peer = request.remote or "?"
    if peer in LOOPBACK:
        return request.headers.get("X-Real-IP", peer).strip() or peer
    return peer


class ProjectorServer:
    """Serves projector pages from `service`; `join_link(code)` gives a drill's t.me link (the bot's name is known
    only once the bot has started)."""

    def __init__(
        self,
        service: ProjectorService,
        t: Translator,
        bank: QuestionBank,
        *,
        join_link: Callable[[str], str],
        requests: RateLimit | None = None,
        misses: RateLimit | None = None,
    ) -> None:
        self._service = service
        self._page = ProjectorPage(t, bank)
        self._join_link = join_link
        self._requests = requests or RateLimit(rate=10.0, burst=30.0)
        # Wrong links: about one a minute, after a first handful (a mistyped link, a reload after the drill ended).
        self._misses = misses or RateLimit(rate=1 / 60, burst=10.0)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get(PREFIX + "/static/{name}", self._static)
        app.router.add_get(PREFIX + "/{drill_id}/{token}/", self._document)
        app.router.add_get(PREFIX + "/{drill_id}/{token}", self._slash)
        app.router.add_get(PREFIX + "/{drill_id}/{token}/state", self._state)
        return app

    async def start(self, host: str, port: int) -> int:
        """Listen on `host`:`port` (0: a free port); returns the port. Raises OSError when it can't."""
        runner = web.AppRunner(self.app(), access_log=None)  # a poll a second per projector is no log line
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        address = runner.addresses[0]
        self.port = int(address[1])
        return self.port

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    # ---------------------------------------------------------------- handlers

    @web.middleware
    async def _guard(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        """Rate limits first, the security headers on every answer, a plain 404 for anything unknown."""
        client = client_address(request)
        if self._misses.spent(client) or not self._requests.allow(client):
            response: web.StreamResponse = web.Response(status=429, text="Too many requests\n")
        else:
            try:
                response = await handler(request)
            except web.HTTPNotFound:
                self._misses.allow(client)
                response = web.Response(status=404, text="Not found\n")
            except web.HTTPRedirection as redirect:
                response = web.Response(status=redirect.status, headers={"Location": redirect.headers["Location"]})
            except web.HTTPException as error:
                response = web.Response(status=error.status, text=f"{error.reason}\n")
        response.headers.update(SECURITY_HEADERS)
        return response

    async def _view(self, request: web.Request) -> ProjectorView:
        view = await self._service.view(request.match_info["drill_id"], request.match_info["token"])
        if view is None:
            raise web.HTTPNotFound()
        return view

    async def _document(self, request: web.Request) -> web.Response:
        view = await self._view(request)
        page = self._page.document(view, join_link=self._join_link(view.drill.code), static="../../static")
        return web.Response(text=page, content_type="text/html", charset="utf-8")

    async def _slash(self, request: web.Request) -> web.Response:
        """The link without its final slash: checked like the page, then sent to it (its links are relative)."""
        await self._view(request)
        raise web.HTTPFound(request.path + "/")

    async def _state(self, request: web.Request) -> web.Response:
        """The current screen: the whole of it when it changed since the `key` the page has, else only the key and
        the seconds left (the page's countdown re-syncs on them)."""
        view = await self._view(request)
        state: dict[str, object] = {"key": view.key, "remaining": view.remaining}
        if request.query.get("key") != view.key:
            state["html"] = self._page.screen(view, join_link=self._join_link(view.drill.code))
        return web.Response(text=json.dumps(state), content_type="application/json")

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        data = (resources.files(__package__ or "bot.web") / "static" / name).read_bytes()
        return web.Response(body=data, content_type=STATIC_FILES[name], charset="utf-8")
