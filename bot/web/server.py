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

import ipaddress
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from importlib import resources

from aiohttp import web

from ..core.model import QuestionBank
from ..i18n import Translator
from ..services.projector import ProjectorService, ProjectorView
from ..services.wiring import StorageError
from .page import ProjectorPage

log = logging.getLogger(__name__)
PREFIX = "/projector"
STORAGE_WARNING_EVERY = 60.0  # seconds between warnings while the database is down (each projector polls each second)
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
    second; a flood, or a script trying tokens, runs dry. (aiohttp has no rate limiting of its own to reuse.)

    At most `clients` buckets are kept, least recently used first out, so many addresses cost bounded memory and
    constant time per request (a client forgotten early starts again with a full bucket: the limit loosens under a
    flood of addresses, it never blocks the event loop the bot also runs on)."""

    def __init__(
        self, *, rate: float, burst: float, clients: int = 4096, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.rate = rate
        self.burst = burst
        self.clients = clients
        self._clock = clock
        self._buckets: OrderedDict[str, Bucket] = OrderedDict()

    def allow(self, client: str) -> bool:
        """Take a request from the client's bucket: False when it is empty."""
        now = self._clock()
        bucket = self._buckets.get(client)
        if bucket is None:
            bucket = self._buckets[client] = Bucket(tokens=self.burst, at=now)
            if len(self._buckets) > self.clients:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(client)
        self._refill(bucket, now)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def spent(self, client: str) -> bool:
        """Whether the client's bucket is empty, without taking from it (and without keeping a bucket for it)."""
        bucket = self._buckets.get(client)
        if bucket is None:
            return False
        self._refill(bucket, self._clock())
        return bucket.tokens < 1

    def _refill(self, bucket: Bucket, now: float) -> None:
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.at) * self.rate)
        bucket.at = now


def client_address(request: web.Request, trusted_proxies: frozenset[str]) -> str:
    """Who is asking, for the rate limits: the peer, or, when the peer is a trusted proxy (PROJECTOR_TRUSTED_PROXIES,
    nginx on this machine by default), the address it puts in X-Real-IP, so one bad client behind it doesn't shut out
    every projector. Anyone else's header is ignored, and a header that is not an address is too. An IPv6 client
    counts by its /64: one host commonly holds a whole /64, so its single addresses would each get a fresh bucket."""
    peer = request.remote or "?"
    forwarded = request.headers.get("X-Real-IP", "").strip() if peer in trusted_proxies else ""
    return bucket_key(forwarded) or bucket_key(peer) or peer


def bucket_key(address: str) -> str | None:
    """The rate limits' key for an address: itself, an IPv4 client on a dual-stack socket (::ffff:a.b.c.d) as its
    IPv4 address, an IPv6 one as its /64; None when `address` is not an IP address."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


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
        trusted_proxies: frozenset[str] = frozenset({"127.0.0.1", "::1"}),
        requests: RateLimit | None = None,
        misses: RateLimit | None = None,
    ) -> None:
        self._service = service
        self._page = ProjectorPage(t, bank)
        self._join_link = join_link
        self._requests = requests or RateLimit(rate=10.0, burst=30.0)
        # Wrong links: about one a minute, after a first handful (a mistyped link, a reload after the drill ended).
        self._misses = misses or RateLimit(rate=1 / 60, burst=10.0)
        self._trusted_proxies = trusted_proxies
        self._runner: web.AppRunner | None = None
        self.port: int | None = None
        self._storage_warned_at = -STORAGE_WARNING_EVERY

    def app(self) -> web.Application:
        app = web.Application(middlewares=[self._guard])
        app.router.add_get("/favicon.ico", self._no_icon)  # browsers ask on every load; not a wrong link
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
        """Rate limits first, the security headers on every answer, a plain 404 for anything unknown, a 503 (and a
        warning now and then, not a traceback a poll) while the database can't be read."""
        client = client_address(request, self._trusted_proxies)
        if self._misses.spent(client) or not self._requests.allow(client):
            response: web.StreamResponse = web.Response(status=429, text="Too many requests\n")
            response.headers["Retry-After"] = "5"
        else:
            try:
                response = await handler(request)
            except web.HTTPNotFound:
                if request.path.startswith(PREFIX + "/") and not request.path.startswith(PREFIX + "/static/"):
                    self._misses.allow(client)  # a link tried: counted; a stray favicon or asset request is not
                response = web.Response(status=404, text="Not found\n")
            except web.HTTPRedirection as redirect:
                response = web.Response(status=redirect.status, headers={"Location": redirect.headers["Location"]})
            except web.HTTPException as error:
                response = web.Response(status=error.status, text=f"{error.reason}\n", headers=error.headers)
            except StorageError as error:
                self._warn_storage(error)
                response = web.Response(status=503, text="Unavailable\n", headers={"Retry-After": "2"})
        response.headers.update(SECURITY_HEADERS)
        return response

    def _warn_storage(self, error: StorageError) -> None:
        now = time.monotonic()
        if now - self._storage_warned_at >= STORAGE_WARNING_EVERY:
            self._storage_warned_at = now
            log.warning("projector page: the database can't be read: %s", error)

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

    async def _no_icon(self, request: web.Request) -> web.Response:
        return web.Response(status=204)

    async def _static(self, request: web.Request) -> web.Response:
        name = request.match_info["name"]
        if name not in STATIC_FILES:
            raise web.HTTPNotFound()
        data = (resources.files(__package__ or "bot.web") / "static" / name).read_bytes()
        return web.Response(body=data, content_type=STATIC_FILES[name], charset="utf-8")
