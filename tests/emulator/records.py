"""What the emulator records and keeps: API calls, uploaded files, injected faults, chat and poll state."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from .objects import JSON


@dataclass(frozen=True)
class UploadedFile:
    """A file the bot uploaded in a multipart request (or one the emulator made up for a test update)."""

    file_id: str
    file_unique_id: str
    field: str
    """The multipart field it arrived in (``photo``, ``document``, or an ``attach://`` name)."""
    filename: str
    content_type: str
    data: bytes
    file_path: str
    """Where ``getFile`` says it lives under ``base_file_url``."""

    @property
    def size(self) -> int:
        """Size in bytes, as reported in ``file_size``."""
        return len(self.data)


@dataclass
class ApiCall:
    """One HTTP request to the Bot API, as the emulator saw and answered it.

    ``params`` holds the request parameters with JSON-encoded values (``reply_markup``, ``options``,
    numbers, booleans...) decoded to Python objects, whatever the body encoding (query string,
    form, multipart or JSON). ``time`` is ``time.monotonic()`` at arrival; calls are appended to
    ``BotApiEmulator.calls`` when their response is ready, so a long ``getUpdates`` is listed late.
    """

    method: str
    """Canonical Bot API name (``sendMessage``) or, for an unknown method, the name as sent."""
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    time: float
    status: int = 0
    """HTTP status; 0 when the connection was dropped on purpose (``drop_next``)."""
    response: JSON | None = None
    """The JSON body sent back; ``None`` when the connection was dropped."""
    http_method: str = "POST"
    fault: str | None = None
    """``"fail"``, ``"delay"`` or ``"drop"`` when an injected fault shaped this call."""

    @property
    def ok(self) -> bool:
        """True when Telegram would have reported success."""
        return bool(self.response and self.response.get("ok"))

    @property
    def result(self) -> Any:
        """The ``result`` of a successful call (a Message dict for ``sendMessage``...)."""
        return self.response.get("result") if self.response else None

    @property
    def description(self) -> str | None:
        """The error description of a failed call."""
        return self.response.get("description") if self.response else None

    @property
    def chat_id(self) -> int | str | None:
        """The ``chat_id`` parameter, if any."""
        return self.params.get("chat_id")

    def short(self) -> str:
        """A one-line summary for assertion messages."""
        shown = {k: v for k, v in self.params.items() if k not in ("reply_markup",)}
        text = repr(shown)
        if len(text) > 160:
            text = text[:157] + "..."
        outcome = "dropped" if self.response is None else ("ok" if self.ok else f"{self.status} {self.description}")
        return f"{self.method}({text}) -> {outcome}"


FaultKind = Literal["fail", "delay", "drop"]


@dataclass
class Fault:
    """An injected fault armed by ``fail_next`` / ``delay`` / ``drop_next``."""

    kind: FaultKind
    method: str
    """Lower-cased method name, or ``"*"`` for any method."""
    times: int
    chat_id: int | str | None = None
    status: int = 429
    retry_after: int | None = None
    description: str | None = None
    seconds: float = 0.0
    processed: bool = False
    """For delay/drop: run the method first (the side effect happens, the reply is late or lost)."""

    def matches(self, method: str, params: dict[str, Any]) -> bool:
        """Does this fault apply to a call of ``method`` with ``params``?"""
        if self.times <= 0 or self.method not in ("*", method.lower()):
            return False
        return self.chat_id is None or str(params.get("chat_id")) == str(self.chat_id)


@dataclass
class GroupMembers:
    """Who is in a group and with which status; drives getChatMember / getChatAdministrators."""

    creator: JSON | None = None
    admins: dict[int, JSON] = field(default_factory=dict)
    members: dict[int, JSON] = field(default_factory=dict)
    left: dict[int, JSON] = field(default_factory=dict)
    banned: dict[int, JSON] = field(default_factory=dict)


BotStatus = Literal["member", "administrator", "left", "kicked"]


@dataclass
class ChatState:
    """Everything the emulator knows about one chat."""

    chat: JSON
    """The ``Chat`` object embedded in messages."""
    bot_status: BotStatus = "member"
    """For groups: the bot's own membership; for private chats ``kicked`` means blocked by the user."""
    people: GroupMembers = field(default_factory=GroupMembers)
    next_message_id: int = 1
    messages: dict[int, JSON] = field(default_factory=dict)
    deleted: dict[int, JSON] = field(default_factory=dict)
    pinned: list[int] = field(default_factory=list)
    migrated_to: int | None = None
    description: str | None = None
    bot_denied_rights: frozenset[str] = frozenset()
    menu_button: JSON | None = None

    @property
    def id(self) -> int:
        """The chat id."""
        return int(self.chat["id"])

    @property
    def type(self) -> str:
        """``private``, ``group``, ``supergroup`` or ``channel``."""
        return str(self.chat["type"])

    @property
    def is_group(self) -> bool:
        """Group or supergroup (or channel): anything but a private chat."""
        return self.type != "private"


@dataclass
class PollState:
    """A poll the bot sent, with every user's current vote."""

    poll: JSON
    chat_id: int
    message_id: int
    votes: dict[int, list[int]] = field(default_factory=dict)

    @property
    def id(self) -> str:
        """The poll id."""
        return str(self.poll["id"])

    @property
    def closed(self) -> bool:
        """Closed by stopPoll, by the test, or because ``close_date`` has passed."""
        return bool(self.poll["is_closed"])

    def vote(self, user_id: int, chosen: list[int]) -> None:
        """Set (or, with no options, retract) one user's vote and update the counts by that vote alone: a big
        group's thousands of votes would make a full recount per vote quadratic."""
        before = self.votes.pop(user_id, [])
        if chosen:
            self.votes[user_id] = chosen
        options = self.poll["options"]
        for index in before:
            if 0 <= index < len(options):
                options[index]["voter_count"] -= 1
        for index in chosen:
            if 0 <= index < len(options):
                options[index]["voter_count"] += 1
        self.poll["total_voter_count"] += bool(chosen) - bool(before)
