"""The HTTP side of the emulator: routing, parameter parsing, recording, faults and long polling.

:class:`EmulatorServer` is the base of :class:`~tests.emulator.BotApiEmulator`; the Bot API methods
and the test-side helpers live in the subclasses (``methods.py``, ``emulator.py``). Everything runs on
the test's event loop, so the synchronous test helpers and the request handlers never race.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Literal, overload

from aiohttp import BodyPartReader, web

from . import objects as obj
from .errors import STATUS_DESCRIPTIONS, ApiError
from .objects import JSON
from .params import decode_params
from .records import ApiCall, ChatState, Fault, PollState, UploadedFile

_LOGGER = logging.getLogger(__name__)

Handler = Callable[[dict[str, Any], dict[str, UploadedFile]], Awaitable[Any]]

DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
"""Update types Telegram sends only when ``allowed_updates`` asks for them explicitly."""

_FILE_FOLDERS = {"photo": "photos", "sticker": "stickers", "video": "videos", "audio": "music", "voice": "voice"}
"""Telegram's ``file_path`` folders by upload field (anything else lands in ``documents``)."""

_METHODS: dict[str, tuple[str, str]] = {}
"""lower-case method name -> (canonical name, attribute name of the handler)."""


def api_method(name: str) -> Callable[[Callable[..., Awaitable[Any]]], Callable[..., Awaitable[Any]]]:
    """Register a coroutine method as the handler of Bot API method ``name`` (case-insensitive)."""

    def register(func: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
        _METHODS[name.lower()] = (name, func.__name__)
        return func

    return register


class _Pulse:
    """A broadcast "something changed" signal that waiters can await with a timeout.

    Each ``fire`` wakes everyone waiting *now* and arms a fresh event for later waiters, which is what
    long polling and ``wait_for`` need; ``asyncio.Condition`` would force the sync helpers to be async.
    """

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def fire(self) -> None:
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), seconds)


class EmulatorServer:
    """aiohttp server, request recording, fault injection and the update queue."""

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "DeepfakeQuizBot",
        *,
        bot_first_name: str | None = None,
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        self.token = token
        self.bot_username = bot_username
        self.privacy_mode = privacy_mode
        """Telegram's default for bots: in groups, only commands, replies to the bot and service messages
        reach the bot (unless it is an administrator). Set ``False`` to emulate a bot with privacy off."""
        self.host = host
        prefix = token.split(":", 1)[0]
        bot_id = int(prefix) if prefix.isdigit() else 123456
        self.bot_user: JSON = obj.bot_user(
            bot_id, bot_first_name or bot_username, bot_username, can_read_all_group_messages=not privacy_mode
        )
        self.calls: list[ApiCall] = []
        """Every request, in the order its response was ready."""
        self.internal_errors: list[BaseException] = []
        """Exceptions raised by the emulator itself (its bugs, answered with HTTP 500). Should stay empty."""
        self.undelivered: list[JSON] = []
        """Updates a helper built but Telegram would not deliver (privacy mode, bot not in the group...)."""
        self.files: dict[str, UploadedFile] = {}
        """Every file the emulator knows, by ``file_id``: uploads by the bot and files sent by test users."""
        self._updates: list[JSON] = []
        self._next_update_id = 10_000
        self._allowed_updates: frozenset[str] | None = None
        self._poll_generation = 0
        self._faults: list[Fault] = []
        self._chats: dict[int, ChatState] = {}
        self._users: dict[int, JSON] = {}
        self._polls: dict[str, PollState] = {}
        self._webhook: JSON = {"url": ""}
        self._updates_pulse = _Pulse()
        self._calls_pulse = _Pulse()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._port: int | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> None:
        """Bind to a free port on ``host`` and start serving."""
        if self._runner is not None:
            return
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_route("GET", "/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: when PTB abandons a long poll (Updater.stop), the handler ends at once
        # instead of answering a closed socket later.
        runner = web.AppRunner(app, access_log=None, handler_cancellation=True, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, self.host, 0)
        await site.start()
        # Port 0 lets the OS pick a free port; the runner reports the bound (host, port).
        self._port = int(runner.addresses[0][1])
        self._closing.clear()
        self._runner = runner

    async def stop(self) -> None:
        """Answer pending long polls and delayed calls at once, then shut the server down."""
        self._closing.set()
        self._updates_pulse.fire()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()

    async def __aenter__(self) -> EmulatorServer:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        """The TCP port the server listens on (after :meth:`start`)."""
        if self._port is None:
            raise RuntimeError("the emulator is not started: await emu.start() first")
        return self._port

    @property
    def root_url(self) -> str:
        """``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder().base_url(...)`` / ``Bot(base_url=...)``: PTB appends the token."""
        return f"{self.root_url}/bot"

    @property
    def base_file_url(self) -> str:
        """For ``ApplicationBuilder().base_file_url(...)``: PTB appends the token and the file path."""
        return f"{self.root_url}/file/bot"

    @property
    def bot_id(self) -> int:
        """The bot's user id (the token's numeric prefix)."""
        return int(self.bot_user["id"])

    # ------------------------------------------------------------------ HTTP

    async def _read_request(self, request: web.Request) -> tuple[dict[str, Any], dict[str, UploadedFile]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, UploadedFile] = {}
        if request.can_read_body:
            content_type = request.content_type
            if content_type == "application/json":
                try:
                    body = await request.json()
                except ValueError as exc:
                    raise ApiError(400, "Bad Request: can't parse JSON object") from exc
                if not isinstance(body, dict):
                    raise ApiError(400, "Bad Request: JSON object expected")
                raw.update(body)
            elif content_type == "multipart/form-data":
                reader = await request.multipart()
                async for part in reader:
                    if not isinstance(part, BodyPartReader) or part.name is None:
                        continue
                    if part.filename is not None:
                        data = await part.read()
                        files[part.name] = self._register_file(
                            bytes(data),
                            filename=part.filename,
                            content_type=part.headers.get("Content-Type", "application/octet-stream"),
                            field=part.name,
                            kind=_FILE_FOLDERS.get(part.name, "documents"),
                        )
                    else:
                        raw[part.name] = await part.text()
            else:
                form = await request.post()
                raw.update({key: value for key, value in form.items() if isinstance(value, str)})
        return decode_params(raw), files

    def _register_file(
        self, data: bytes, *, filename: str, content_type: str, field: str, kind: str = "documents"
    ) -> UploadedFile:
        number = len(self.files) + 1
        unique = obj.unique_id("file", number, filename, len(data))
        file_id = f"EMU{kind[:3].upper()}{number:06d}{unique}"
        extension = filename.rsplit(".", 1)[-1] if "." in filename else "bin"
        uploaded = UploadedFile(
            file_id=file_id,
            file_unique_id=unique[:12],
            field=field,
            filename=filename,
            content_type=content_type,
            data=data,
            file_path=f"{kind}/file_{number}.{extension}",
        )
        self.files[file_id] = uploaded
        return uploaded

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(ApiError(401, "Unauthorized").body(), status=401)
        path = request.match_info["path"]
        for uploaded in self.files.values():
            if uploaded.file_path == path:
                return web.Response(body=uploaded.data, content_type=uploaded.content_type)
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _handle_api(self, request: web.Request) -> web.StreamResponse:
        arrival = time.monotonic()
        name = request.match_info["method"]
        canonical, attribute = _METHODS.get(name.lower(), (name, ""))
        call = ApiCall(method=canonical, params={}, files={}, time=arrival, http_method=request.method)
        try:
            call.params, call.files = await self._read_request(request)
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if not attribute:
                # Telegram answers 404 here, but PTB maps 404 to InvalidToken; the brief asks for 400.
                raise ApiError(400, "Bad Request: method not found")
            handler: Handler = getattr(self, attribute)
            fault = self._take_fault(canonical, call.params)
            if fault is not None:
                call.fault = fault.kind
            if fault is not None and fault.kind == "fail":
                raise self._fault_error(fault)
            if fault is not None and not fault.processed and fault.kind == "delay":
                await self._sleep(fault.seconds)
            if fault is not None and not fault.processed and fault.kind == "drop":
                return self._drop(request, call)
            body = await self._run_handler(handler, call)
            status = 200 if body.get("ok") else int(body.get("error_code", 500))
            if fault is not None and fault.processed and fault.kind == "delay":
                await self._sleep(fault.seconds)
            if fault is not None and fault.processed and fault.kind == "drop":
                return self._drop(request, call)
        except ApiError as error:
            body, status = error.body(), error.status
        except asyncio.CancelledError:
            # The client went away (PTB stopping its long poll, or a client-side timeout).
            call.status, call.response = 0, None
            self._record(call)
            raise
        except Exception as exc:  # an emulator bug outside a handler (request parsing...)
            _LOGGER.exception("emulator failure while serving %s", call.method)
            self.internal_errors.append(exc)
            body, status = self._bug_body(exc), 500
        call.status, call.response = status, body
        self._record(call)
        return web.json_response(body, status=status)

    async def _run_handler(self, handler: Handler, call: ApiCall) -> JSON:
        try:
            result = await handler(call.params, call.files)
        except ApiError as error:
            return error.body()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # an emulator bug: answer like Telegram's 500 and keep it for the test
            _LOGGER.exception("emulator failure in %s", call.method)
            self.internal_errors.append(exc)
            return self._bug_body(exc)
        return {"ok": True, "result": copy.deepcopy(result)}

    @staticmethod
    def _bug_body(exc: Exception) -> JSON:
        return {"ok": False, "error_code": 500, "description": f"Internal Server Error: emulator bug: {exc!r}"}

    def _drop(self, request: web.Request, call: ApiCall) -> web.StreamResponse:
        call.status, call.response = 0, None
        self._record(call)
        if request.transport is not None:
            request.transport.close()
        # aiohttp silently fails to write this to the closed transport: the client sees a disconnect.
        return web.Response(status=500)

    def _record(self, call: ApiCall) -> None:
        self.calls.append(call)
        self._calls_pulse.fire()

    async def _sleep(self, seconds: float) -> None:
        # Interruptible by stop(), so a long injected delay never blocks the test's teardown.
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._closing.wait(), seconds)

    # ------------------------------------------------------------------ faults

    def _take_fault(self, method: str, params: dict[str, Any]) -> Fault | None:
        for fault in self._faults:
            if fault.matches(method, params):
                fault.times -= 1
                if fault.times <= 0:
                    self._faults.remove(fault)
                return fault
        return None

    @staticmethod
    def _fault_error(fault: Fault) -> ApiError:
        status = fault.status
        if status == 429:
            retry_after = fault.retry_after if fault.retry_after is not None else 1
            description = fault.description or f"Too Many Requests: retry after {retry_after}"
            return ApiError(429, description, {"retry_after": retry_after})
        description = fault.description or STATUS_DESCRIPTIONS.get(status, f"Error {status}")
        return ApiError(status, description)

    def fail_next(
        self,
        method: str,
        status: int = 429,
        retry_after: int | None = 1,
        times: int = 1,
        description: str | None = None,
        *,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (``"*"``: any) with an error, without running them.

        429 responses carry ``parameters.retry_after`` (PTB raises ``RetryAfter``); other statuses get a
        Telegram-like description: 500/502 -> ``NetworkError``, 403 -> ``Forbidden``, 400 -> ``BadRequest``.
        """
        self._faults.append(
            Fault(
                "fail", method.lower(), times, chat_id, status=status, retry_after=retry_after, description=description
            )
        )

    def delay(
        self, method: str, seconds: float, times: int = 1, *, chat_id: int | str | None = None, processed: bool = True
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ``seconds`` late.

        With ``processed=True`` (default) the method takes effect first and only the reply is slow: a client
        timing out (``TimedOut``) has still sent its message, as with the real API.
        """
        self._faults.append(Fault("delay", method.lower(), times, chat_id, seconds=seconds, processed=processed))

    def drop_next(
        self, method: str, times: int = 1, *, chat_id: int | str | None = None, processed: bool = False
    ) -> None:
        """Close the connection of the next ``times`` calls of ``method`` without answering.

        ``processed=True`` runs the method first: the side effect happens but the client never hears of it,
        the case where a naive retry sends a message twice.
        """
        self._faults.append(Fault("drop", method.lower(), times, chat_id, processed=processed))

    def clear_faults(self) -> None:
        """Disarm every pending fault."""
        self._faults.clear()

    # ------------------------------------------------------------------ updates

    def _queue(self, update: JSON) -> JSON:
        """Give ``update`` the next update_id and queue it for getUpdates; returns it."""
        update["update_id"] = self._next_update_id
        self._next_update_id += 1
        self._updates.append(update)
        self._updates_pulse.fire()
        return update

    def inject(self, update: JSON) -> JSON:
        """Queue an arbitrary update dict (any ``update_id`` in it is replaced); returns the queued dict."""
        update = copy.deepcopy(update)
        update.pop("update_id", None)
        return self._queue(update)

    @property
    def pending_updates(self) -> list[JSON]:
        """Updates queued and not yet confirmed by a getUpdates ``offset``."""
        return list(self._updates)

    @staticmethod
    def update_type(update: JSON) -> str:
        """The kind of an update: ``message``, ``callback_query``, ``poll_answer``..."""
        return next((key for key in update if key != "update_id"), "")

    def _is_allowed(self, update: JSON) -> bool:
        kind = self.update_type(update)
        if self._allowed_updates is None:
            return kind not in DEFAULT_EXCLUDED_UPDATES
        return kind in self._allowed_updates

    def _confirm(self, offset: int | None) -> None:
        if offset is None or offset == 0:
            return
        if offset > 0:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        else:
            self._updates = self._updates[offset:]

    def _take_batch(self, limit: int) -> list[JSON]:
        # Telegram never creates updates of a type the bot did not allow: drop those for good.
        self._updates = [u for u in self._updates if self._is_allowed(u)]
        return copy.deepcopy(self._updates[:limit])

    async def _long_poll(
        self, offset: int | None, limit: int, wait_seconds: float, allowed: Iterable[str] | None
    ) -> list[JSON]:
        if allowed is not None:
            allowed = list(allowed)
            self._allowed_updates = frozenset(allowed) if allowed else None
        self._confirm(offset)
        # A newer getUpdates terminates an older one that is still waiting, as on Telegram.
        self._poll_generation += 1
        generation = self._poll_generation
        self._updates_pulse.fire()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            if generation != self._poll_generation:
                raise ApiError(
                    409,
                    "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running",
                )
            batch = self._take_batch(limit)
            remaining = deadline - loop.time()
            if batch or remaining <= 0 or self._closing.is_set():
                return batch
            await self._updates_pulse.wait(remaining)

    # ------------------------------------------------------------------ inspection

    def _matches(
        self, call: ApiCall, method: str | None, predicate: Callable[[ApiCall], bool] | None, params: dict[str, Any]
    ) -> bool:
        if method is not None and call.method.lower() != method.lower():
            return False
        for key, expected in params.items():
            actual = call.params.get(key)
            if actual != expected and str(actual) != str(expected):
                return False
        return predicate is None or bool(predicate(call))

    def mark(self) -> int:
        """The current number of recorded calls; pass it as ``since=`` to look only at later calls."""
        return len(self.calls)

    @staticmethod
    def _since_index(calls: list[ApiCall], since: int | ApiCall | None) -> int:
        if since is None:
            return 0
        if isinstance(since, ApiCall):
            return next((index + 1 for index, call in enumerate(calls) if call is since), 0)
        return since

    def calls_to(
        self,
        method: str | None = None,
        predicate: Callable[[ApiCall], bool] | None = None,
        *,
        since: int | ApiCall | None = None,
        **params: Any,
    ) -> list[ApiCall]:
        """Recorded calls of ``method`` (case-insensitive; ``None``: any) whose params equal ``params``.

        ``chat_id=42`` matches ``"42"`` too. ``since`` (an index from :meth:`mark` or a call) skips earlier calls.
        """
        start = self._since_index(self.calls, since)
        return [call for call in self.calls[start:] if self._matches(call, method, predicate, params)]

    @overload
    async def wait_for(
        self,
        method: str | None,
        predicate: Callable[[ApiCall], bool] | None = ...,
        timeout: float = ...,  # noqa: ASYNC109  (the documented API; waits on an internal signal)
        count: Literal[1] = ...,
        *,
        since: int | ApiCall | None = ...,
        **params: Any,
    ) -> ApiCall: ...

    @overload
    async def wait_for(
        self,
        method: str | None,
        predicate: Callable[[ApiCall], bool] | None = ...,
        timeout: float = ...,  # noqa: ASYNC109  (the documented API; waits on an internal signal)
        count: int = ...,
        *,
        since: int | ApiCall | None = ...,
        **params: Any,
    ) -> list[ApiCall]: ...

    async def wait_for(
        self,
        method: str | None,
        predicate: Callable[[ApiCall], bool] | None = None,
        timeout: float = 5.0,  # noqa: ASYNC109  (the documented API; waits on an internal signal)
        count: int = 1,
        *,
        since: int | ApiCall | None = None,
        **params: Any,
    ) -> ApiCall | list[ApiCall]:
        """Wait until a matching call has been answered; return it (with ``count=N > 1``: the first N, a list).

        Matching is as in :meth:`calls_to`, over *all* recorded calls unless ``since`` is given: a second
        ``wait_for("sendMessage")`` returns the same call again, so pass ``since=emu.mark()`` (taken before
        the action) or ``count=2``. Raises ``AssertionError`` listing the recent calls on time-out.
        """
        needed = max(count, 1)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            found = self.calls_to(method, predicate, since=since, **params)
            if len(found) >= needed:
                return found[0] if count == 1 else found[:needed]
            remaining = deadline - loop.time()
            if remaining <= 0:
                recent = "\n  ".join(call.short() for call in self.calls[-15:]) or "(none)"
                wanted = f"{method or 'any method'}" + (f" with {params}" if params else "")
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {needed} call(s) to {wanted}"
                    f"{' matching the predicate' if predicate else ''}; found {len(found)}. "
                    f"Recent calls (oldest first):\n  {recent}"
                )
            await self._calls_pulse.wait(remaining)

    async def wait_idle(self, quiet: float = 0.2, timeout: float = 5.0) -> None:  # noqa: ASYNC109
        """Wait until no call other than ``getUpdates`` has arrived for ``quiet`` seconds.

        Use it to assert that the bot sent *nothing* in reply to something.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            busy = [c for c in self.calls if c.method != "getUpdates"]
            last = max((c.time for c in busy), default=0.0)
            idle_for = time.monotonic() - last
            if idle_for >= quiet:
                return
            if loop.time() >= deadline:
                raise AssertionError(f"the bot kept calling the API for {timeout}s")
            await asyncio.sleep(min(quiet - idle_for, max(0.0, deadline - loop.time())) + 0.01)
