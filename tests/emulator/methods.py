"""The Bot API methods the emulator implements, with Telegram's validation and error texts.

Each handler takes the decoded parameters and the uploaded files and returns the ``result`` (a JSON
value) or raises :class:`~tests.emulator.errors.ApiError`. Error texts are Telegram's where a bot is
likely to match on them ("message is not modified", "bot was blocked by the user", "chat not found"...).
"""

from __future__ import annotations

import copy
import json
import re
from typing import Any

from telegram.constants import PollLimit

from . import objects as obj
from .errors import ApiError, bad_request, forbidden
from .markup import render
from .objects import JSON, now
from .params import get_bool, get_int, get_object, get_str, require_int
from .records import ChatState, PollState, UploadedFile
from .server import EmulatorServer, api_method

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER = 200
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
SCOPE_TYPES = frozenset(
    {
        "default",
        "all_private_chats",
        "all_group_chats",
        "all_chat_administrators",
        "chat",
        "chat_administrators",
        "chat_member",
    }
)
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
_LANGUAGE_RE = re.compile(r"[a-z]{2}")
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")
_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the same "
    "as a current content and reply markup of the message"
)


class BotApiMethods(EmulatorServer):
    """Bot API method handlers plus the chat bookkeeping they share with the test helpers."""

    min_poll_options: int = int(PollLimit.MIN_OPTION_NUMBER)
    """1 in Bot API 10.0 / PTB 22.8 (it was 2 before); a test may raise it to mimic older servers."""
    max_poll_options: int = int(PollLimit.MAX_OPTION_NUMBER)

    def __init__(
        self,
        token: str = "123456:TEST-token",
        bot_username: str = "DeepfakeQuizBot",
        *,
        bot_first_name: str | None = None,
        privacy_mode: bool = True,
        host: str = "127.0.0.1",
    ) -> None:
        super().__init__(token, bot_username, bot_first_name=bot_first_name, privacy_mode=privacy_mode, host=host)
        self._commands: dict[tuple[str, str], list[JSON]] = {}
        self._default_menu_button: JSON | None = None
        self._open_queries: set[str] = set()
        self.callback_answers: dict[str, dict[str, Any]] = {}
        """``answerCallbackQuery`` parameters by callback query id."""
        self._poll_counter = 0
        self._callback_counter = 0

    # ------------------------------------------------------------------ chat bookkeeping

    def _register_chat(self, chat: JSON) -> ChatState:
        state = self._chats.get(int(chat["id"]))
        if state is None:
            state = ChatState(chat=dict(chat))
            self._chats[state.id] = state
        return state

    def _find_chat(self, chat_id: Any) -> ChatState | None:
        if isinstance(chat_id, str) and chat_id.startswith("@"):
            name = chat_id[1:].lower()
            return next((c for c in self._chats.values() if str(c.chat.get("username", "")).lower() == name), None)
        try:
            return self._chats.get(int(chat_id))
        except (TypeError, ValueError):
            return None

    def _chat_for(self, params: dict[str, Any], key: str = "chat_id") -> ChatState:
        """The chat a method targets, after Telegram's access checks (blocked, kicked, migrated)."""
        raw = params.get(key)
        if raw is None or raw == "":
            raise bad_request("chat_id is empty")
        chat = self._find_chat(raw)
        if chat is None:
            raise bad_request("chat not found")
        if chat.migrated_to is not None:
            raise bad_request("group chat was upgraded to a supergroup chat", {"migrate_to_chat_id": chat.migrated_to})
        if chat.type == "private":
            if chat.bot_status == "kicked":
                raise forbidden("bot was blocked by the user")
        elif chat.bot_status in ("kicked", "left"):
            kind = (
                "supergroup chat"
                if chat.type == "supergroup"
                else ("channel chat" if chat.type == "channel" else "group chat")
            )
            if chat.bot_status == "kicked":
                raise forbidden(f"bot was kicked from the {kind}")
            raise forbidden(f"bot is not a member of the {kind}")
        return chat

    def _bot_member(self, chat: ChatState) -> JSON:
        if chat.type == "private" or chat.bot_status == "member":
            return obj.member_member(self.bot_user)
        if chat.bot_status == "administrator":
            return obj.member_administrator(self.bot_user, chat_type=chat.type, denied=chat.bot_denied_rights)
        if chat.bot_status == "kicked":
            return obj.member_banned(self.bot_user)
        return obj.member_left(self.bot_user)

    def _member(self, chat: ChatState, user_id: int) -> JSON:
        """The ChatMember object for ``user_id`` in ``chat``."""
        if user_id == self.bot_id:
            return self._bot_member(chat)
        people = chat.people
        if chat.type == "private":
            if user_id != chat.id:
                raise bad_request("user not found")
            return obj.member_member(self._private_user(chat))
        if people.creator is not None and people.creator["id"] == user_id:
            return obj.member_owner(people.creator)
        if user_id in people.admins:
            return obj.member_administrator(people.admins[user_id], chat_type=chat.type)
        if user_id in people.members:
            return obj.member_member(people.members[user_id])
        if user_id in people.banned:
            return obj.member_banned(people.banned[user_id])
        known = people.left.get(user_id) or self._users.get(user_id)
        if known is None:
            raise bad_request("user not found")
        return obj.member_left(known)

    def _private_user(self, chat: ChatState) -> JSON:
        """The user on the other side of a private chat."""
        return self._users.get(chat.id) or obj.user(chat.id, str(chat.chat.get("first_name", "")))

    def _bot_can(self, chat: ChatState, right: str) -> bool:
        """Private chats allow everything; in groups the bot needs the admin right."""
        if chat.type == "private":
            return True
        return chat.bot_status == "administrator" and right not in chat.bot_denied_rights

    def _store(self, chat: ChatState, message: JSON) -> JSON:
        """Give ``message`` the chat's next message_id and keep it."""
        message["message_id"] = chat.next_message_id
        chat.next_message_id += 1
        chat.messages[message["message_id"]] = message
        return message

    def _message(self, chat: ChatState, params: dict[str, Any], not_found: str) -> JSON:
        message_id = require_int(params, "message_id")
        message = chat.messages.get(message_id)
        if message is None:
            raise bad_request(not_found)
        return message

    # ------------------------------------------------------------------ shared validation

    @staticmethod
    def _inline_markup(params: dict[str, Any]) -> JSON | None:
        """Validate ``reply_markup``; return it if it is an inline keyboard (the only kind echoed back)."""
        markup = get_object(params, "reply_markup", "reply keyboard markup")
        if markup is None:
            return None
        if not isinstance(markup, dict):
            raise bad_request("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" not in markup:
            if not any(key in markup for key in ("keyboard", "remove_keyboard", "force_reply")):
                raise bad_request("can't parse reply keyboard markup JSON object")
            return None
        rows = markup["inline_keyboard"]
        if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
            raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
        clean_rows: list[list[JSON]] = []
        count = 0
        for row in rows:
            clean_row: list[JSON] = []
            for button in row:
                if not isinstance(button, dict):
                    raise bad_request("can't parse inline keyboard button: InlineKeyboardButton must be an Object")
                button = {key: value for key, value in button.items() if value is not None}
                if not isinstance(button.get("text"), str):
                    raise bad_request('can\'t parse inline keyboard button: Field "text" must be of type String')
                if not button["text"]:
                    raise bad_request("BUTTON_TEXT_INVALID")
                actions = [key for key in BUTTON_ACTIONS if key in button]
                if not actions:
                    raise bad_request("text buttons are unallowed in the inline keyboard")
                if "callback_data" in button:
                    data = button["callback_data"]
                    size = len(str(data).encode("utf-8"))
                    if not isinstance(data, str) or size < 1 or size > MAX_CALLBACK_DATA_BYTES:
                        raise bad_request("BUTTON_DATA_INVALID")
                if "url" in button and not re.match(r"(https?|tg)://\S+$", str(button["url"])):
                    raise bad_request("BUTTON_URL_INVALID")
                clean_row.append(button)
                count += 1
            if clean_row:
                clean_rows.append(clean_row)
        if count > 100:
            raise bad_request("reply markup is too long")
        return {"inline_keyboard": clean_rows} if clean_rows else None

    @staticmethod
    def _text(params: dict[str, Any]) -> tuple[str, list[JSON]]:
        raw = get_str(params, "text")
        if raw is None or not raw.strip():
            raise bad_request("message text is empty")
        text, entities = render(raw, get_str(params, "parse_mode"), get_object(params, "entities", "entities"))
        if not text.strip():
            raise bad_request("message text is empty")
        if len(text) > MAX_TEXT:
            raise bad_request("message is too long")
        return text, entities

    @staticmethod
    def _caption(params: dict[str, Any]) -> tuple[str | None, list[JSON]]:
        raw = get_str(params, "caption")
        if raw is None or raw == "":
            return None, []
        text, entities = render(
            raw, get_str(params, "parse_mode"), get_object(params, "caption_entities", "caption entities")
        )
        if len(text) > MAX_CAPTION:
            raise bad_request("message caption is too long")
        return text, entities

    def _new_bot_message(self, chat: ChatState, params: dict[str, Any], content: JSON) -> JSON:
        """A message from the bot with ``content``, reply target and inline keyboard, stored in ``chat``."""
        markup = self._inline_markup(params)
        message: JSON = {"message_id": 0, "from": dict(self.bot_user), "chat": dict(chat.chat), "date": now()}
        message.update(content)
        reply_to = self._reply_target(chat, params)
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        if markup is not None:
            message["reply_markup"] = markup
        if get_bool(params, "protect_content"):
            message["has_protected_content"] = True
        return self._store(chat, message)

    def _reply_target(self, chat: ChatState, params: dict[str, Any]) -> JSON | None:
        reply = get_object(params, "reply_parameters", "reply parameters")
        if isinstance(reply, dict):
            message_id = reply.get("message_id")
            allow_missing = bool(reply.get("allow_sending_without_reply"))
            if reply.get("chat_id") is not None and str(reply["chat_id"]) != str(chat.id):
                target_chat = self._find_chat(reply["chat_id"])
            else:
                target_chat = chat
        else:
            message_id = params.get("reply_to_message_id")
            allow_missing = get_bool(params, "allow_sending_without_reply")
            target_chat = chat
        if message_id is None:
            return None
        found = target_chat.messages.get(int(message_id)) if target_chat is not None else None
        if found is None and not allow_missing:
            raise bad_request("message to be replied not found")
        return found

    def _file_input(self, params: dict[str, Any], files: dict[str, UploadedFile], field: str) -> UploadedFile:
        """Resolve a String-or-InputFile parameter: upload, ``attach://name``, known file_id or URL."""
        if field in files:
            return files[field]
        value = get_str(params, field)
        if not value:
            raise bad_request(f"there is no {field} in the request")
        if value.startswith("attach://"):
            attached = files.get(value.removeprefix("attach://"))
            if attached is None:
                raise bad_request(f"wrong remote file identifier specified: can't find attached file {value!r}")
            return attached
        if value in self.files:
            return self.files[value]
        if value.startswith(("http://", "https://")):
            # Telegram would download the URL; the emulator has no network, so it remembers the URL.
            return self._register_file(
                value.encode(),
                filename=value.rsplit("/", 1)[-1] or "file",
                content_type="application/octet-stream",
                field=field,
            )
        raise bad_request("wrong file identifier/HTTP URL specified")

    # ------------------------------------------------------------------ bot & updates

    @api_method("getMe")
    async def _get_me(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        return self.bot_user

    @api_method("logOut")
    async def _log_out(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    @api_method("close")
    async def _close(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        return True

    @api_method("getUpdates")
    async def _get_updates(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> list[JSON]:
        if self._webhook["url"]:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = get_int(params, "offset")
        limit = min(max(get_int(params, "limit", 100) or 100, 1), 100)
        timeout = max(get_int(params, "timeout", 0) or 0, 0)
        allowed = get_object(params, "allowed_updates", "allowed updates")
        return await self._long_poll(offset, limit, float(timeout), allowed if isinstance(allowed, list) else None)

    @api_method("setWebhook")
    async def _set_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        url = get_str(params, "url") or ""
        if url:
            match = re.match(r"https://[^/:]+(?::(\d+))?(/.*)?$", url)
            if not url.startswith("https://"):
                raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
            if match is None:
                raise bad_request("bad webhook: Failed to resolve host: Name or service not known")
            if match.group(1) and int(match.group(1)) not in (80, 88, 443, 8443):
                raise bad_request("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = get_str(params, "secret_token")
        if secret is not None and not _SECRET_RE.fullmatch(secret):
            raise bad_request("secret token contains unallowed characters")
        if get_bool(params, "drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": url}
        if secret is not None:
            self._webhook["secret_token"] = secret
        for key in ("max_connections", "allowed_updates", "ip_address"):
            if params.get(key) is not None:
                self._webhook[key] = params[key]
        if isinstance(params.get("allowed_updates"), list):
            self._allowed_updates = frozenset(params["allowed_updates"]) or None
        # Wake a waiting getUpdates: from now on it must fail with 409, as on Telegram.
        self._poll_generation += 1
        self._updates_pulse.fire()
        return True

    @property
    def webhook(self) -> JSON:
        """The webhook set by setWebhook (``url`` is ``""`` when none), including its ``secret_token``.

        The emulator stores it but never delivers updates to it: tests drive webhook bots by calling the
        bot's own webhook handler, or run the bot with polling.
        """
        return dict(self._webhook)

    @api_method("deleteWebhook")
    async def _delete_webhook(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        if get_bool(params, "drop_pending_updates"):
            self._updates.clear()
        self._webhook = {"url": ""}
        return True

    @api_method("getWebhookInfo")
    async def _get_webhook_info(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        info: JSON = {
            "url": self._webhook["url"],
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates),
        }
        if self._webhook["url"]:
            info["max_connections"] = self._webhook.get("max_connections", 40)
            info["ip_address"] = self._webhook.get("ip_address", "127.0.0.1")
            if self._webhook.get("allowed_updates"):
                info["allowed_updates"] = list(self._webhook["allowed_updates"])
        return info

    # ------------------------------------------------------------------ commands & menu

    def _scope_key(self, params: dict[str, Any]) -> str:
        scope = get_object(params, "scope", "bot command scope")
        if scope is None:
            scope = {"type": "default"}
        if not isinstance(scope, dict) or scope.get("type") not in SCOPE_TYPES:
            raise bad_request("can't parse BotCommandScope: unsupported bot command scope type")
        kind = scope["type"]
        key: JSON = {"type": kind}
        if kind in ("chat", "chat_administrators", "chat_member"):
            if scope.get("chat_id") is None:
                raise bad_request("can't parse BotCommandScope: Can't find field \"chat_id\"")
            chat = self._find_chat(scope["chat_id"])
            if chat is None:
                raise bad_request("chat not found")
            key["chat_id"] = chat.id
            if kind == "chat_member":
                if scope.get("user_id") is None:
                    raise bad_request("can't parse BotCommandScope: Can't find field \"user_id\"")
                key["user_id"] = int(scope["user_id"])
        return json.dumps(key, sort_keys=True)

    @staticmethod
    def _language(params: dict[str, Any]) -> str:
        code = get_str(params, "language_code") or ""
        if code and not _LANGUAGE_RE.fullmatch(code):
            # Telegram wants a two-letter ISO 639-1 code: "zh-hans" or "en-US" are refused.
            raise bad_request("invalid language code specified")
        return code

    @api_method("setMyCommands")
    async def _set_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        commands = get_object(params, "commands", "commands")
        if not isinstance(commands, list):
            raise bad_request(
                'parameter "commands" is required' if commands is None else "can't parse commands JSON object"
            )
        if len(commands) > 100:
            raise bad_request("too many commands specified")
        clean: list[JSON] = []
        for command in commands:
            if not isinstance(command, dict):
                raise bad_request("can't parse BotCommand: BotCommand must be an Object")
            for field in ("command", "description"):
                if field not in command:
                    raise bad_request(f"can't parse BotCommand: Can't find field \"{field}\"")
            name, description = str(command["command"]), str(command["description"])
            if not _COMMAND_RE.fullmatch(name):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(description) <= 256:
                raise bad_request("BOT_COMMAND_DESCRIPTION_INVALID")
            clean.append({"command": name, "description": description})
        key = (self._scope_key(params), self._language(params))
        if clean:
            self._commands[key] = clean
        else:
            self._commands.pop(key, None)
        return True

    @api_method("getMyCommands")
    async def _get_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> list[JSON]:
        return list(self._commands.get((self._scope_key(params), self._language(params)), []))

    @api_method("deleteMyCommands")
    async def _delete_my_commands(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._commands.pop((self._scope_key(params), self._language(params)), None)
        return True

    @api_method("setChatMenuButton")
    async def _set_chat_menu_button(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        button = get_object(params, "menu_button", "menu button")
        if button is not None and (
            not isinstance(button, dict) or button.get("type") not in ("commands", "web_app", "default")
        ):
            raise bad_request("can't parse MenuButton: unsupported menu button type")
        if params.get("chat_id") is None:
            self._default_menu_button = button
        else:
            chat = self._chat_for(params)
            if chat.type != "private":
                raise bad_request("menu button can be set only in private chats")
            chat.menu_button = button
        return True

    @api_method("getChatMenuButton")
    async def _get_chat_menu_button(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        button = self._default_menu_button
        if params.get("chat_id") is not None:
            button = self._chat_for(params).menu_button or button
        return button or {"type": "commands"}

    # ------------------------------------------------------------------ messages

    @api_method("sendMessage")
    async def _send_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        text, entities = self._text(params)
        content: JSON = {"text": text}
        if entities:
            content["entities"] = entities
        return self._new_bot_message(chat, params, content)

    def _editable(self, params: dict[str, Any]) -> tuple[ChatState, JSON] | None:
        """The stored message an edit targets, or ``None`` for inline messages (not tracked)."""
        if params.get("inline_message_id"):
            return None
        chat = self._chat_for(params)
        message = self._message(chat, params, "message to edit not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("message can't be edited")
        return chat, message

    @staticmethod
    def _apply_edit(message: JSON, changes: JSON, markup: JSON | None) -> JSON:
        unchanged = (
            all(message.get(key) == value for key, value in changes.items()) and message.get("reply_markup") == markup
        )
        if unchanged:
            raise bad_request(_NOT_MODIFIED)
        for key, value in changes.items():
            if value in (None, []):
                message.pop(key, None)
            else:
                message[key] = value
        # Telegram replaces the keyboard on every edit: no reply_markup means no keyboard afterwards.
        if markup is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = markup
        message["edit_date"] = now()
        return message

    @api_method("editMessageText")
    async def _edit_message_text(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON | bool:
        target = self._editable(params)
        text, entities = self._text(params)
        markup = self._inline_markup(params)
        if target is None:
            return True
        _, message = target
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        return self._apply_edit(message, {"text": text, "entities": entities or None}, markup)

    @api_method("editMessageCaption")
    async def _edit_message_caption(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON | bool:
        target = self._editable(params)
        caption, entities = self._caption(params)
        markup = self._inline_markup(params)
        if target is None:
            return True
        _, message = target
        if not any(key in message for key in ("photo", "document", "video", "audio", "animation", "voice")):
            raise bad_request("there is no caption in the message to edit")
        return self._apply_edit(message, {"caption": caption, "caption_entities": entities or None}, markup)

    @api_method("editMessageReplyMarkup")
    async def _edit_message_reply_markup(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON | bool:
        target = self._editable(params)
        markup = self._inline_markup(params)
        if target is None:
            return True
        _, message = target
        return self._apply_edit(message, {}, markup)

    def _delete(self, chat: ChatState, message_id: int) -> bool:
        message = chat.messages.get(message_id)
        if message is None:
            return False
        if message.get("from", {}).get("id") != self.bot_id and not self._bot_can(chat, "can_delete_messages"):
            raise bad_request("message can't be deleted")
        chat.deleted[message_id] = chat.messages.pop(message_id)
        if message_id in chat.pinned:
            chat.pinned.remove(message_id)
        return True

    @api_method("deleteMessage")
    async def _delete_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        if not self._delete(chat, require_int(params, "message_id")):
            raise bad_request("message to delete not found")
        return True

    @api_method("deleteMessages")
    async def _delete_messages(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        ids = get_object(params, "message_ids", "message identifiers")
        if not isinstance(ids, list) or not 1 <= len(ids) <= 100:
            raise bad_request(
                "message identifiers are not specified" if not ids else "too many message identifiers specified"
            )
        # Telegram skips messages it can't find and still answers True.
        for message_id in ids:
            self._delete(chat, int(message_id))
        return True

    @api_method("answerCallbackQuery")
    async def _answer_callback_query(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        query_id = get_str(params, "callback_query_id")
        if not query_id:
            raise bad_request("query_id is empty" if query_id is None else "QUERY_ID_INVALID")
        if query_id not in self._open_queries:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = get_str(params, "text") or ""
        if len(text) > MAX_CALLBACK_ANSWER:
            raise bad_request("MESSAGE_TOO_LONG")
        self._open_queries.discard(query_id)
        self.callback_answers[query_id] = dict(params)
        return True

    @api_method("sendChatAction")
    async def _send_chat_action(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        self._chat_for(params)
        if get_str(params, "action") not in CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        return True

    @api_method("pinChatMessage")
    async def _pin_chat_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        if not self._bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message = self._message(chat, params, "message to pin not found")
        if message["message_id"] in chat.pinned:
            chat.pinned.remove(message["message_id"])
        chat.pinned.append(message["message_id"])
        return True

    @api_method("unpinChatMessage")
    async def _unpin_chat_message(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        if not self._bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        message_id = get_int(params, "message_id")
        if message_id is None:
            if chat.pinned:
                chat.pinned.pop()
        elif message_id in chat.pinned:
            chat.pinned.remove(message_id)
        elif message_id not in chat.messages:
            raise bad_request("message to unpin not found")
        return True

    @api_method("unpinAllChatMessages")
    async def _unpin_all_chat_messages(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        if not self._bot_can(chat, "can_pin_messages"):
            raise bad_request("not enough rights to manage pinned messages in the chat")
        chat.pinned.clear()
        return True

    # ------------------------------------------------------------------ media

    @api_method("sendPhoto")
    async def _send_photo(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        photo = self._file_input(params, files, "photo")
        caption, entities = self._caption(params)
        if len(photo.data) > 10 * 1024 * 1024:
            raise bad_request("PHOTO_INVALID_DIMENSIONS")
        width, height = obj.image_size(photo.data) or (800, 600)
        content: JSON = {"photo": obj.photo_sizes(photo.file_id, photo.file_unique_id, width, height, photo.size)}
        if caption is not None:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._new_bot_message(chat, params, content)

    @api_method("sendDocument")
    async def _send_document(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        document = self._file_input(params, files, "document")
        caption, entities = self._caption(params)
        if len(document.data) > 50 * 1024 * 1024:
            raise ApiError(413, "Request Entity Too Large")
        content: JSON = {
            "document": {
                "file_id": document.file_id,
                "file_unique_id": document.file_unique_id,
                "file_name": document.filename,
                "mime_type": document.content_type,
                "file_size": document.size,
            }
        }
        if caption is not None:
            content["caption"] = caption
            if entities:
                content["caption_entities"] = entities
        return self._new_bot_message(chat, params, content)

    @api_method("getFile")
    async def _get_file(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        file_id = get_str(params, "file_id") or ""
        base_id = re.sub(r"_s\d+$", "", file_id)  # smaller photo sizes share the original's bytes
        uploaded = self.files.get(base_id)
        if uploaded is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": file_id,
            "file_unique_id": uploaded.file_unique_id,
            "file_size": uploaded.size,
            "file_path": uploaded.file_path,
        }

    # ------------------------------------------------------------------ polls

    @api_method("sendPoll")
    async def _send_poll(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        question_raw = get_str(params, "question") or ""
        question, question_entities = render(
            question_raw,
            get_str(params, "question_parse_mode"),
            get_object(params, "question_entities", "question entities"),
        )
        if not question.strip():
            raise bad_request("poll question must be non-empty")
        if len(question) > PollLimit.MAX_QUESTION_LENGTH:
            raise bad_request(f"poll question length must not exceed {int(PollLimit.MAX_QUESTION_LENGTH)}")
        options = get_object(params, "options", "options")
        if not isinstance(options, list):
            raise bad_request(
                "can't parse options JSON object" if options is not None else "poll options must be non-empty"
            )
        if len(options) < self.min_poll_options:
            raise bad_request(
                f"poll must have at least {self.min_poll_options} option{'s' if self.min_poll_options > 1 else ''}"
            )
        if len(options) > self.max_poll_options:
            raise bad_request(f"poll can't have more than {self.max_poll_options} options")
        option_texts: list[tuple[str, list[JSON]]] = []
        for option in options:
            if isinstance(option, dict):
                text, entities = render(
                    str(option.get("text", "")), option.get("text_parse_mode"), option.get("text_entities")
                )
            else:
                text, entities = str(option), []
            if not text.strip():
                raise bad_request("poll options must be non-empty")
            if len(text) > PollLimit.MAX_OPTION_LENGTH:
                raise bad_request(f"poll options length must not exceed {int(PollLimit.MAX_OPTION_LENGTH)}")
            option_texts.append((text, entities))
        poll_type = get_str(params, "type") or "regular"
        if poll_type not in ("regular", "quiz"):
            raise bad_request("wrong poll type specified")
        correct = self._correct_option_ids(params, poll_type, len(option_texts))
        explanation_raw = get_str(params, "explanation")
        explanation, explanation_entities = render(
            explanation_raw or "",
            get_str(params, "explanation_parse_mode"),
            get_object(params, "explanation_entities", "explanation entities"),
        )
        if len(explanation) > PollLimit.MAX_EXPLANATION_LENGTH:
            raise bad_request("explanation is too long")
        if explanation.count("\n") > PollLimit.MAX_EXPLANATION_LINE_FEEDS:
            raise bad_request("explanation can't contain more than 2 line feeds")
        open_period = get_int(params, "open_period")
        close_date = get_int(params, "close_date")
        if open_period is not None and not PollLimit.MIN_OPEN_PERIOD <= open_period <= PollLimit.MAX_OPEN_PERIOD:
            raise bad_request("wrong open period specified")
        if (
            close_date is not None
            and not now() + PollLimit.MIN_OPEN_PERIOD <= close_date <= now() + PollLimit.MAX_OPEN_PERIOD
        ):
            raise bad_request("wrong close date specified")
        is_anonymous = get_bool(params, "is_anonymous", True)
        if not is_anonymous and chat.type == "channel":
            raise bad_request("non-anonymous polls can't be sent to channel chats")

        self._poll_counter += 1
        poll_id = str(5_300_000_000_000_000_000 + self._poll_counter)
        poll: JSON = {
            "id": poll_id,
            "question": question,
            "options": [
                obj.poll_option(text, obj.unique_id("option", poll_id, index)[:10])
                | ({"text_entities": ents} if ents else {})
                for index, (text, ents) in enumerate(option_texts)
            ],
            "total_voter_count": 0,
            "is_closed": get_bool(params, "is_closed"),
            "is_anonymous": is_anonymous,
            "type": poll_type,
            "allows_multiple_answers": get_bool(params, "allows_multiple_answers"),
            # Bot API 9.6: revoting defaults to off for quizzes and on for regular polls.
            "allows_revoting": get_bool(params, "allows_revoting", poll_type == "regular"),
            "members_only": get_bool(params, "members_only"),
        }
        if question_entities:
            poll["question_entities"] = question_entities
        if correct:
            poll["correct_option_ids"] = correct
        if explanation_raw:
            poll["explanation"] = explanation
            if explanation_entities:
                poll["explanation_entities"] = explanation_entities
        if open_period is not None:
            poll["open_period"] = open_period
            poll["close_date"] = now() + open_period
        elif close_date is not None:
            poll["close_date"] = close_date
        description = get_str(params, "description")
        if description:
            poll["description"] = description
        message = self._new_bot_message(chat, params, {"poll": poll})
        self._polls[poll_id] = PollState(poll=copy.deepcopy(poll), chat_id=chat.id, message_id=message["message_id"])
        return message

    @staticmethod
    def _correct_option_ids(params: dict[str, Any], poll_type: str, option_count: int) -> list[int]:
        # PTB 22.8 sends correct_option_ids (Bot API 9.6); older clients send correct_option_id.
        raw = get_object(params, "correct_option_ids", "correct option identifiers")
        if raw is None and params.get("correct_option_id") is not None:
            raw = [get_int(params, "correct_option_id")]
        if poll_type != "quiz":
            return []
        if not raw:
            raise bad_request("correct option ID must be specified for quiz polls")
        ids = [int(value) for value in (raw if isinstance(raw, list) else [raw])]
        if len(set(ids)) != len(ids) or any(not 0 <= value < option_count for value in ids):
            raise bad_request("wrong correct option ID specified")
        return sorted(ids)

    def _refresh_poll(self, state: PollState) -> None:
        """Close a poll whose ``close_date`` has passed, as Telegram does on its own."""
        close_date = state.poll.get("close_date")
        if not state.closed and close_date is not None and now() >= int(close_date):
            state.poll["is_closed"] = True
            self._sync_poll_message(state)

    def _sync_poll_message(self, state: PollState) -> None:
        chat = self._chats.get(state.chat_id)
        message = chat.messages.get(state.message_id) if chat else None
        if message is not None and "poll" in message:
            message["poll"] = copy.deepcopy(state.poll)

    @api_method("stopPoll")
    async def _stop_poll(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        message = self._message(chat, params, "message with poll to stop not found")
        if "poll" not in message:
            raise bad_request("message with poll to stop not found")
        if message.get("from", {}).get("id") != self.bot_id:
            raise bad_request("poll can't be stopped")
        state = self._polls[str(message["poll"]["id"])]
        self._refresh_poll(state)
        if state.closed:
            raise bad_request("poll has already been closed")
        markup = self._inline_markup(params)
        state.poll["is_closed"] = True
        self._sync_poll_message(state)
        if markup is not None:
            message["reply_markup"] = markup
        return state.poll

    # ------------------------------------------------------------------ chats & members

    @api_method("getChat")
    async def _get_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        pinned = chat.messages.get(chat.pinned[-1]) if chat.pinned else None
        return obj.chat_full_info(chat.chat, pinned_message=pinned, description=chat.description)

    @api_method("getChatMember")
    async def _get_chat_member(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> JSON:
        chat = self._chat_for(params)
        return self._member(chat, require_int(params, "user_id"))

    @api_method("getChatAdministrators")
    async def _get_chat_administrators(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> list[JSON]:
        chat = self._chat_for(params)
        if chat.type == "private":
            raise bad_request("there are no administrators in the private chat")
        admins: list[JSON] = []
        if chat.people.creator is not None:
            admins.append(obj.member_owner(chat.people.creator))
        admins.extend(obj.member_administrator(u, chat_type=chat.type) for u in chat.people.admins.values())
        if chat.bot_status == "administrator":
            admins.append(self._bot_member(chat))
        return admins

    @api_method("getChatMemberCount")
    async def _get_chat_member_count(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> int:
        chat = self._chat_for(params)
        if chat.type == "private":
            return 2
        people = chat.people
        ids = set(people.admins) | set(people.members)
        if people.creator is not None:
            ids.add(int(people.creator["id"]))
        return len(ids) + (1 if chat.bot_status in ("member", "administrator") else 0)

    @api_method("leaveChat")
    async def _leave_chat(self, params: dict[str, Any], files: dict[str, UploadedFile]) -> bool:
        chat = self._chat_for(params)
        if chat.type == "private":
            raise bad_request("chat member status can't be changed in private chats")
        old = self._bot_member(chat)
        chat.bot_status = "left"
        # Telegram tells the bot about its own departure with a my_chat_member update.
        self._queue({"my_chat_member": obj.chat_member_updated(chat.chat, self.bot_user, old, self._bot_member(chat))})
        return True
