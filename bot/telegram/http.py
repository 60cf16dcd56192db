"""The HTTP client under every Bot API call: aiohttp in place of python-telegram-bot's default httpx.

Why: under load, httpcore checks every pooled connection for expiry on each request (a readability poll per
socket) and re-tries `import sniffio` on every call; in bench/bench_stack.py that was half of a worker's CPU.
aiohttp keeps idle connections in a per-host queue. `BaseRequest` is PTB's documented extension point: PTB still
encodes the parameters, maps HTTP status codes to its errors and parses the replies; this class only moves bytes.
"""

from __future__ import annotations

import json
import re
from typing import Any

import aiohttp
from telegram.error import NetworkError, TelegramError, TimedOut
from telegram.request import BaseRequest, RequestData

SNIPPET = 80  # characters of a reply that is not the Bot API's, quoted in the error


class NotBotApi(TelegramError):
    """The server answered with something other than the Bot API's JSON (`{"ok": ...}`): a web page, another API.

    PTB raises it as is for a 2xx reply, and as the cause (`__cause__`) of the error it makes of any other status
    (InvalidToken for a 404, NetworkError for a 502...)."""

    def __init__(self, reply: str) -> None:
        super().__init__(f"not a Bot API reply: {reply!r}")
        self.reply = reply


def causes(error: BaseException) -> list[BaseException]:
    """`error` and each exception it was raised from."""
    found: list[BaseException] = []
    seen: BaseException | None = error
    while seen is not None and seen not in found:
        found.append(seen)
        seen = seen.__cause__
    return found


def not_bot_api(error: BaseException) -> NotBotApi | None:
    """The NotBotApi `error` is or was raised from, if any."""
    return next((e for e in causes(error) if isinstance(e, NotBotApi)), None)


class AiohttpRequest(BaseRequest):
    """A `BaseRequest` on one `aiohttp.ClientSession` with a bounded connection pool.

    Timeouts: `connect_timeout` bounds opening a connection, `pool_timeout` the wait for a free one, and
    `read_timeout` each read of the reply. aiohttp has no separate write timeout; a stalled upload ends at the read
    timeout, as the server's reply never comes.
    """

    def __init__(
        self,
        *,
        connection_pool_size: int = 64,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 15.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._pool_size = connection_pool_size
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._open = False

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        # The session opens at the first request: a request object PTB initializes but never uses (getUpdates under
        # webhooks, or every one after a rejected token) then leaves nothing open to warn about at exit.
        self._open = True

    async def shutdown(self) -> None:
        self._open = False
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    @staticmethod
    def parse_json_payload(payload: bytes) -> dict[str, Any]:
        """The reply's JSON, as PTB's own does; a reply that is not the Bot API's raises NotBotApi.

        PTB's own logs a reply that is not JSON with a traceback and the whole reply (a web server's page: dozens
        of lines) before raising; the error says it in one line, and a JSON reply without `ok` (another API) is
        refused here rather than failing later as a KeyError."""
        text = payload.decode("utf-8", "replace")
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or "ok" not in data:
            raise NotBotApi(_snippet(text))
        return data

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if not self._open:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        session = self._session
        if session is None or session.closed:
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size), headers={"User-Agent": self.USER_AGENT}
            )
        read = _given(read_timeout, self._read_timeout)
        connect = _given(connect_timeout, self._connect_timeout)
        pool = _given(pool_timeout, self._pool_timeout)
        # aiohttp's `connect` covers waiting for a pooled connection and opening a new one.
        acquire = None if connect is None or pool is None else connect + pool
        timeout = aiohttp.ClientTimeout(total=None, connect=acquire, sock_connect=connect, sock_read=read)
        try:
            async with session.request(method, url, data=_body(request_data), timeout=timeout) as response:
                return response.status, await response.read()
        except TimeoutError as error:
            raise TimedOut from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _snippet(text: str) -> str:
    """The start of a reply on one line. Cut between words: a page that quotes the request's URL must not show part of
    the token, which a log's masking (the whole token only) would miss."""
    text = " ".join(text.split())
    if len(text) <= SNIPPET:
        return text
    return re.sub(r"[\w:-]+$", "", text[: SNIPPET + 1]).rstrip() + "…"


def _given(value: object, default: float | None) -> float | None:
    """A timeout PTB passed for this call, or ours when it passed its "not given" marker."""
    if value is BaseRequest.DEFAULT_NONE or not isinstance(value, int | float | None):
        return default
    return value


def _body(request_data: RequestData | None) -> aiohttp.FormData | dict[str, str] | None:
    """Form-encoded parameters, or multipart when files go with them (as PTB's own request classes send them)."""
    if request_data is None:
        return None
    if not request_data.contains_files:
        return request_data.json_parameters
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form
