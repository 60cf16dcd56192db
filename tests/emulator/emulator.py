"""``BotApiEmulator``: the Bot API server plus the test-side helpers that play users and Telegram.

The helpers are synchronous: each builds the update Telegram would send, queues it for ``getUpdates``
(waking a waiting long poll) and returns the update dict. They also keep the emulator's state in step
(message history, group membership, poll votes), so that later API calls by the bot see what Telegram
would show it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from . import objects as obj
from .methods import BotApiMethods
from .objects import JSON, now, utf16_len
from .records import ApiCall, BotStatus, ChatState, GroupMembers, UploadedFile

if TYPE_CHECKING:
    from telegram import Bot
    from telegram.ext import ApplicationBuilder

UserRef = Mapping[str, Any] | int
"""A user dict from :meth:`BotApiEmulator.make_user`, or a known user's id."""
ChatRef = Mapping[str, Any] | int
"""A chat dict (as returned by :meth:`BotApiEmulator.add_group`) or a chat id."""
MessageRef = Mapping[str, Any] | ApiCall | Any
"""A message dict, an :class:`ApiCall` whose result is a message, or a ``telegram.Message``."""

_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{1,64})?")
_SERVICE_KEYS = (
    "new_chat_members",
    "left_chat_member",
    "migrate_to_chat_id",
    "migrate_from_chat_id",
    "pinned_message",
    "group_chat_created",
    "supergroup_chat_created",
    "new_chat_title",
)


class BotApiEmulator(BotApiMethods):
    """A local Telegram Bot API server for end-to-end tests of a python-telegram-bot application.

    Example::

        async with BotApiEmulator(token="123456:TEST-token", bot_username="DeepfakeQuizBot") as emu:
            app = emu.application_builder().build()   # or ApplicationBuilder().base_url(emu.base_url)...
            alice = emu.make_user(1001, "Alice")
            emu.send_text(alice, "/start")
            reply = await emu.wait_for("sendMessage", chat_id=alice["id"])
    """

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    # ------------------------------------------------------------------ PTB conveniences

    def make_bot(self, **kwargs: Any) -> Bot:
        """A ``telegram.Bot`` wired to this emulator (not initialized)."""
        from telegram import Bot  # imported lazily: the package is importable without PTB

        kwargs.setdefault("base_url", self.base_url)
        kwargs.setdefault("base_file_url", self.base_file_url)
        return Bot(self.token, **kwargs)

    def application_builder(self) -> ApplicationBuilder[Any, Any, Any, Any, Any, Any]:
        """An ``ApplicationBuilder`` with token, ``base_url`` and ``base_file_url`` set to this emulator."""
        from telegram.ext import ApplicationBuilder

        return ApplicationBuilder().token(self.token).base_url(self.base_url).base_file_url(self.base_file_url)

    # ------------------------------------------------------------------ references

    def _user(self, user: UserRef) -> JSON:
        if isinstance(user, int):
            if user not in self._users:
                raise KeyError(f"unknown user {user}: create it with emu.make_user({user}, ...)")
            return self._users[user]
        return dict(user)

    def _chat_ref(self, chat: ChatRef) -> ChatState:
        chat_id = chat if isinstance(chat, int) else int(chat["id"])
        state = self._chats.get(chat_id)
        if state is None:
            raise KeyError(f"unknown chat {chat_id}: create it with emu.add_group(...) or emu.make_user(...)")
        return state

    def _private(self, user: JSON) -> ChatState:
        return self._register_chat(obj.private_chat(user))

    @staticmethod
    def _message_ref(message: MessageRef) -> tuple[int, int]:
        if isinstance(message, ApiCall):
            message = message.result
        if hasattr(message, "to_dict") and not isinstance(message, Mapping):
            message = message.to_dict()
        if not isinstance(message, Mapping) or "message_id" not in message:
            raise TypeError(f"not a message: {message!r}")
        return int(message["chat"]["id"]), int(message["message_id"])

    # ------------------------------------------------------------------ users and chats

    def make_user(
        self,
        user_id: int,
        first_name: str = "Test",
        language_code: str | None = "en",
        username: str | None = None,
        *,
        last_name: str | None = None,
        is_premium: bool | None = None,
    ) -> JSON:
        """A ``User`` dict (``is_bot`` false); its private chat with the bot is registered too."""
        user = obj.user(
            user_id,
            first_name,
            last_name=last_name,
            username=username,
            language_code=language_code,
            is_premium=is_premium,
        )
        self._users[user_id] = user
        self._private(user)
        return dict(user)

    def add_group(
        self,
        chat_id: int,
        title: str = "Test group",
        type: Literal["group", "supergroup", "channel"] = "group",  # mirrors the Bot API field name
        admins: Iterable[UserRef] = (),
        members: Iterable[UserRef] = (),
        *,
        creator: UserRef | None = None,
        username: str | None = None,
        bot_status: BotStatus = "member",
        bot_denied_rights: Iterable[str] = (),
        description: str | None = None,
    ) -> JSON:
        """Create (or reset) a group whose membership drives getChatMember & co.; returns its ``Chat`` dict.

        ``bot_status`` is the bot's own membership: ``member`` (default), ``administrator`` (every right except
        those in ``bot_denied_rights``), or ``left`` to model a group the bot will be added to later.
        """
        people = GroupMembers()
        if creator is not None:
            people.creator = self._known(self._user(creator))
        for admin in admins:
            user = self._known(self._user(admin))
            people.admins[user["id"]] = user
        for member in members:
            user = self._known(self._user(member))
            people.members[user["id"]] = user
        chat = obj.group_chat(chat_id, title, type, username)
        self._chats[chat_id] = ChatState(
            chat=chat,
            bot_status=bot_status,
            people=people,
            description=description,
            bot_denied_rights=frozenset(bot_denied_rights),
        )
        return dict(chat)

    def _known(self, user: JSON) -> JSON:
        self._users.setdefault(int(user["id"]), user)
        self._private(user)
        return user

    def chat_state(self, chat: ChatRef) -> ChatState:
        """The emulator's full state of a chat (membership, messages, pins...), for advanced assertions."""
        return self._chat_ref(chat)

    # ------------------------------------------------------------------ delivery

    def _addressed_to_bot(self, chat: ChatState, message: JSON) -> bool:
        """Would Telegram deliver this group message to the bot (privacy mode, membership)?"""
        if chat.type == "private":
            return chat.bot_status != "kicked"
        if chat.bot_status not in ("member", "administrator"):
            return False
        text = str(message.get("text") or message.get("caption") or "")
        command = _COMMAND.match(text)
        if command and "@" in command.group():
            # "/cmd@OtherBot" goes to the other bot only, whatever the privacy mode.
            return command.group().split("@", 1)[1].lower() == self.bot_username.lower()
        if not self.privacy_mode or chat.bot_status == "administrator":
            return True
        if command or any(key in message for key in _SERVICE_KEYS):
            return True
        replied = message.get("reply_to_message") or {}
        return bool(replied.get("from", {}).get("id") == self.bot_id)

    def _deliver(self, chat: ChatState, kind: str, message: JSON) -> JSON:
        update: JSON = {kind: copy.deepcopy(message)}
        if self._addressed_to_bot(chat, message):
            return self._queue(update)
        update["update_id"] = None
        self.undelivered.append(update)
        return update

    def _user_message(
        self, user: JSON, chat: ChatRef | None, content: JSON, reply_to: MessageRef | None = None
    ) -> tuple[ChatState, JSON]:
        state = self._private(user) if chat is None else self._chat_ref(chat)
        self._users.setdefault(int(user["id"]), user)
        if state.type == "private":
            if state.id != user["id"]:
                raise ValueError("a user can only write in their own private chat with the bot")
            if state.bot_status == "kicked":
                # Writing to a bot you blocked unblocks it: Telegram reports that first.
                self.unblock_chat(state.id)
        elif state.migrated_to is not None:
            raise ValueError(f"chat {state.id} was migrated to {state.migrated_to}: write there")
        else:
            people = state.people
            uid = int(user["id"])
            creator_id = people.creator["id"] if people.creator else None
            if uid != creator_id and uid not in people.admins:
                people.members.setdefault(uid, user)
                people.left.pop(uid, None)
        message: JSON = {"message_id": 0, "from": dict(user), "chat": dict(state.chat), "date": now()}
        message.update(content)
        if reply_to is not None:
            chat_id, message_id = self._message_ref(reply_to)
            original = self.message(chat_id, message_id)
            message["reply_to_message"] = {k: v for k, v in original.items() if k != "reply_to_message"}
        return state, self._store(state, message)

    # ------------------------------------------------------------------ user actions

    def send_text(
        self,
        user: UserRef,
        text: str,
        chat: ChatRef | None = None,
        *,
        reply_to: MessageRef | None = None,
        sender_chat: Mapping[str, Any] | None = None,
    ) -> JSON:
        """A text message from ``user`` in their private chat (default) or in a group ``chat``.

        A leading ``/command`` (also ``/command@BotName args``) gets a ``bot_command`` entity with its UTF-16
        length. In groups, privacy mode decides whether the bot gets it: if not, the update is recorded in
        ``emu.undelivered`` and returned with ``update_id`` None.

        ``sender_chat`` (a ``Chat`` dict) sends it on behalf of that chat, as Telegram does for a channel posting in
        its discussion group (``user`` then being Channel_Bot, 136817688) or an anonymous admin (the group itself,
        ``user`` GroupAnonymousBot, 1087968824); the stand-in ``user`` is the caller's to give.
        """
        sender = self._user(user)
        content: JSON = {"text": text}
        if sender_chat is not None:
            content["sender_chat"] = dict(sender_chat)
        command = _COMMAND.match(text)
        if command:
            content["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}]
        state, message = self._user_message(sender, chat, content, reply_to)
        return self._deliver(state, "message", message)

    def edit_text(self, user: UserRef, message: MessageRef, text: str) -> JSON:
        """The user edits one of their text messages: an ``edited_message`` update."""
        chat_id, message_id = self._message_ref(message)
        stored = self._chat_ref(chat_id).messages.get(message_id)
        if stored is None or stored["from"]["id"] != self._user(user)["id"]:
            raise ValueError("a user can only edit their own, existing messages")
        stored["text"] = text
        stored.pop("entities", None)
        command = _COMMAND.match(text)
        if command:
            stored["entities"] = [{"type": "bot_command", "offset": 0, "length": utf16_len(command.group())}]
        stored["edit_date"] = now()
        return self._deliver(self._chat_ref(chat_id), "edited_message", stored)

    def send_sticker(self, user: UserRef, chat: ChatRef | None = None, *, emoji: str = "\N{GRINNING FACE}") -> JSON:
        """A sticker message from ``user`` (something a text-only bot must ignore or answer politely)."""
        uploaded = self._register_file(
            b"RIFF\x00\x00\x00\x00WEBP",
            filename="sticker.webp",
            content_type="image/webp",
            field="sticker",
            kind="stickers",
        )
        state, message = self._user_message(
            self._user(user), chat, {"sticker": obj.sticker(uploaded.file_id, uploaded.file_unique_id, emoji)}
        )
        return self._deliver(state, "message", message)

    def send_document(
        self,
        user: UserRef,
        data: bytes,
        filename: str,
        chat: ChatRef | None = None,
        *,
        mime_type: str = "application/octet-stream",
        caption: str | None = None,
    ) -> JSON:
        """A document from ``user``; the bot can fetch it with getFile and download it from ``base_file_url``."""
        uploaded = self._register_file(data, filename=filename, content_type=mime_type, field="document")
        content: JSON = {
            "document": {
                "file_id": uploaded.file_id,
                "file_unique_id": uploaded.file_unique_id,
                "file_name": filename,
                "mime_type": mime_type,
                "file_size": uploaded.size,
            }
        }
        if caption is not None:
            content["caption"] = caption
        state, message = self._user_message(self._user(user), chat, content)
        return self._deliver(state, "message", message)

    def _callback(
        self, user: JSON, chat: ChatState | None, chat_id: int, message: JSON | None, message_id: int, data: str
    ) -> JSON:
        self._callback_counter += 1
        query_id = str(4_100_000_000_000_000_000 + self._callback_counter)
        self._open_queries.add(query_id)
        if message is None:
            # Telegram's InaccessibleMessage: the chat, the id, and date 0.
            if chat is not None:
                chat_obj = chat.chat
            elif chat_id > 0:
                chat_obj = obj.private_chat(user if user["id"] == chat_id else obj.user(chat_id, "Unknown"))
            else:
                chat_obj = obj.group_chat(chat_id, "Unknown group")
            message = {"chat": dict(chat_obj), "message_id": message_id, "date": 0}
        instance = str(int(obj.unique_id("chat_instance", chat_id), 16) % 10**19)
        query: JSON = {
            "id": query_id,
            "from": dict(user),
            "chat_instance": instance,
            "message": copy.deepcopy(message),
            "data": data,
        }
        return self._queue({"callback_query": query})

    def press_button(self, user: UserRef, message: MessageRef, data: str) -> JSON:
        """``user`` presses the inline button with ``callback_data == data`` on a stored bot message.

        The update carries the message's *latest* version. Raises ``ValueError`` if the message has no such
        button (a real client can only press buttons that exist; use :meth:`press_raw` to forge).
        """
        chat_id, message_id = self._message_ref(message)
        chat = self._chat_ref(chat_id)
        stored = chat.messages.get(message_id)
        if stored is None:
            raise ValueError(f"message {message_id} in chat {chat_id} does not exist (deleted?)")
        buttons = [
            b.get("callback_data") for row in stored.get("reply_markup", {}).get("inline_keyboard", []) for b in row
        ]
        if data not in buttons:
            raise ValueError(f"message {message_id} has no button with callback_data {data!r}; it has {buttons}")
        return self._callback(self._user(user), chat, chat_id, stored, message_id, data)

    def press_raw(self, user: UserRef, chat_id: int, message_id: int, data: str) -> JSON:
        """A forged or stale button press: any ``data`` on any message id, known or not.

        For an unknown message the update carries an ``InaccessibleMessage`` (date 0), as Telegram does.
        """
        chat = self._chats.get(chat_id)
        stored = chat.messages.get(message_id) if chat else None
        return self._callback(self._user(user), chat, chat_id, stored, message_id, data)

    def answer_poll(
        self,
        user: UserRef,
        poll_id: str,
        option_ids: Iterable[int],
        *,
        allow_closed: bool = True,
        force: bool = False,
        poll_update: bool = True,
    ) -> JSON:
        """``user`` votes in a poll the bot sent: returns the queued ``poll_answer`` update.

        Updates the stored poll's counts and, like Telegram for the bot's own polls, also queues a ``poll``
        update with the new state (``poll_update=False`` to skip). An empty ``option_ids`` retracts a vote.
        A vote on a closed poll is still delivered (counts unchanged) unless ``allow_closed=False``, which
        raises. Votes Telegram would never send (anonymous poll, out-of-range or multiple options where not
        allowed, a revote on a quiz) raise ``ValueError`` unless ``force=True``. Unknown poll ids are
        delivered as they are (a forged or pre-restart poll the bot must cope with).
        """
        voter = self._user(user)
        chosen = list(option_ids)
        state = self._polls.get(str(poll_id))
        if state is None:
            persistent = [obj.unique_id("option", poll_id, index)[:10] for index in chosen]
            return self._queue({"poll_answer": obj.poll_answer(str(poll_id), voter, chosen, persistent)})
        self._refresh_poll(state)
        poll = state.poll
        options = poll["options"]
        if not force:
            if poll["is_anonymous"]:
                raise ValueError("the poll is anonymous: Telegram sends no poll_answer for it")
            if any(not 0 <= index < len(options) for index in chosen) or len(set(chosen)) != len(chosen):
                raise ValueError(f"invalid option ids {chosen} for a poll with {len(options)} options")
            if len(chosen) > 1 and not poll["allows_multiple_answers"]:
                raise ValueError("the poll allows only one answer")
            if voter["id"] in state.votes and not poll["allows_revoting"]:
                raise ValueError("the poll does not allow changing a vote (quizzes never do)")
            if not chosen and not poll["allows_revoting"]:
                raise ValueError("the poll does not allow retracting a vote")
        if state.closed and not allow_closed:
            raise ValueError(f"poll {poll_id} is closed")
        persistent = [
            options[i]["persistent_id"] if 0 <= i < len(options) else obj.unique_id("option", poll_id, i)[:10]
            for i in chosen
        ]
        if not state.closed:
            state.vote(int(voter["id"]), chosen)
            self._sync_poll_message(state)
        answer = self._queue({"poll_answer": obj.poll_answer(state.id, voter, chosen, persistent)})
        if poll_update and not state.closed:
            self._queue({"poll": copy.deepcopy(poll)})
        return answer

    def close_poll(self, poll_id: str) -> JSON:
        """The poll's ``open_period`` ran out: close it and queue the ``poll`` update Telegram sends."""
        state = self._polls[str(poll_id)]
        state.poll["is_closed"] = True
        self._sync_poll_message(state)
        return self._queue({"poll": copy.deepcopy(state.poll)})

    # ------------------------------------------------------------------ membership events

    def block_chat(self, chat_id: int, *, notify: bool = True) -> JSON:
        """The user blocks the bot: sending to them fails with 403 "bot was blocked by the user".

        Queues the ``my_chat_member`` update (member -> kicked) Telegram sends, unless ``notify=False``.
        """
        chat = self._chat_ref(chat_id)
        if chat.type != "private":
            raise ValueError("only private chats can block the bot; use remove_bot_from_group for groups")
        chat.bot_status = "kicked"
        user = self._private_user(chat)
        update = {
            "my_chat_member": obj.chat_member_updated(
                chat.chat, user, obj.member_member(self.bot_user), obj.member_banned(self.bot_user)
            )
        }
        return self._queue(update) if notify else update

    def unblock_chat(self, chat_id: int, *, notify: bool = True) -> JSON:
        """The user unblocks (restarts) the bot: ``my_chat_member`` kicked -> member."""
        chat = self._chat_ref(chat_id)
        chat.bot_status = "member"
        user = self._private_user(chat)
        update = {
            "my_chat_member": obj.chat_member_updated(
                chat.chat, user, obj.member_banned(self.bot_user), obj.member_member(self.bot_user)
            )
        }
        return self._queue(update) if notify else update

    def add_bot_to_group(
        self,
        chat: ChatRef,
        by_user: UserRef,
        *,
        as_admin: bool = False,
        service_message: bool = True,
        title: str | None = None,
        type: Literal["group", "supergroup"] = "group",
    ) -> JSON:
        """``by_user`` adds the bot to a group (created if ``chat`` is a new id): returns ``my_chat_member``.

        Like Telegram, also queues the ``new_chat_members`` service message (``service_message=False`` to skip).
        """
        adder = self._known(self._user(by_user))
        chat_id = chat if isinstance(chat, int) else int(chat["id"])
        if chat_id not in self._chats:
            self.add_group(
                chat_id,
                title or (chat["title"] if isinstance(chat, Mapping) else f"Group {chat_id}"),
                type,
                creator=adder,
                bot_status="left",
            )
        state = self._chats[chat_id]
        is_creator = state.people.creator is not None and state.people.creator["id"] == adder["id"]
        if not is_creator and adder["id"] not in state.people.admins:
            state.people.members.setdefault(adder["id"], adder)
        old = self._bot_member(state)
        state.bot_status = "administrator" if as_admin else "member"
        update = self._queue(
            {"my_chat_member": obj.chat_member_updated(state.chat, adder, old, self._bot_member(state))}
        )
        if service_message:
            _, message = self._user_message(adder, chat_id, {"new_chat_members": [dict(self.bot_user)]})
            self._deliver(state, "message", message)
        return update

    def promote_bot(self, chat: ChatRef, by_user: UserRef, *, denied_rights: Iterable[str] = ()) -> JSON:
        """``by_user`` makes the bot an administrator (``my_chat_member`` member -> administrator)."""
        state = self._chat_ref(chat)
        old = self._bot_member(state)
        state.bot_status = "administrator"
        state.bot_denied_rights = frozenset(denied_rights)
        return self._queue(
            {"my_chat_member": obj.chat_member_updated(state.chat, self._user(by_user), old, self._bot_member(state))}
        )

    def remove_bot_from_group(self, chat: ChatRef, by_user: UserRef) -> JSON:
        """``by_user`` removes the bot: ``my_chat_member`` to ``left`` (group) or ``kicked`` (supergroup).

        Afterwards sending there fails with 403 "bot was kicked from the group chat".
        """
        state = self._chat_ref(chat)
        old = self._bot_member(state)
        state.bot_status = "kicked"
        new = obj.member_left(self.bot_user) if state.type == "group" else obj.member_banned(self.bot_user)
        return self._queue({"my_chat_member": obj.chat_member_updated(state.chat, self._user(by_user), old, new)})

    def member_joined(self, chat: ChatRef, user: UserRef) -> JSON:
        """``user`` joins a group: a ``new_chat_members`` service message."""
        joiner = self._known(self._user(user))
        state, message = self._user_message(joiner, chat, {"new_chat_members": [dict(joiner)]})
        return self._deliver(state, "message", message)

    def member_left(self, chat: ChatRef, user: UserRef) -> JSON:
        """``user`` leaves a group: a ``left_chat_member`` service message; they become ``left``."""
        leaver = self._user(user)
        state = self._chat_ref(chat)
        message = {
            "message_id": 0,
            "from": dict(leaver),
            "chat": dict(state.chat),
            "date": now(),
            "left_chat_member": dict(leaver),
        }
        self._store(state, message)
        uid = int(leaver["id"])
        state.people.members.pop(uid, None)
        state.people.admins.pop(uid, None)
        if state.people.creator is not None and state.people.creator["id"] == uid:
            state.people.creator = None
        state.people.left[uid] = leaver
        return self._deliver(state, "message", message)

    def migrate_group(self, old_chat_id: int, new_chat_id: int, *, by_user: UserRef | None = None) -> tuple[JSON, JSON]:
        """A group becomes a supergroup with a new id; returns the two service-message updates.

        The old chat gets ``migrate_to_chat_id``, the new supergroup ``migrate_from_chat_id``. Members,
        admins and the bot's status move over; calls to the old id then fail with 400 "group chat was
        upgraded to a supergroup chat" and ``parameters.migrate_to_chat_id`` (PTB's ``ChatMigrated``).
        """
        old = self._chat_ref(old_chat_id)
        if old.type != "group":
            raise ValueError("only basic groups migrate to supergroups")
        actor = self._user(by_user) if by_user is not None else (old.people.creator or dict(self.bot_user))
        new_chat = obj.group_chat(new_chat_id, str(old.chat.get("title", "")), "supergroup", old.chat.get("username"))
        new = ChatState(
            chat=new_chat,
            bot_status=old.bot_status,
            people=copy.deepcopy(old.people),
            description=old.description,
            bot_denied_rights=old.bot_denied_rights,
        )
        self._chats[new_chat_id] = new
        to_message = self._store(
            old,
            {
                "message_id": 0,
                "from": dict(actor),
                "chat": dict(old.chat),
                "date": now(),
                "migrate_to_chat_id": new_chat_id,
            },
        )
        old.migrated_to = new_chat_id
        from_message = self._store(
            new,
            {
                "message_id": 0,
                "from": dict(actor),
                "chat": dict(new_chat),
                "date": now(),
                "migrate_from_chat_id": old_chat_id,
            },
        )
        return self._deliver(old, "message", to_message), self._deliver(new, "message", from_message)

    # ------------------------------------------------------------------ inspection

    def messages(self, chat_id: int, *, include_users: bool = False) -> list[JSON]:
        """Messages in a chat, oldest first, in their latest version (deleted ones excluded).

        By default only the bot's messages; ``include_users=True`` adds the users' (and service) messages.
        """
        chat = self._chat_ref(chat_id)
        return [
            copy.deepcopy(m)
            for m in chat.messages.values()
            if include_users or m.get("from", {}).get("id") == self.bot_id
        ]

    def last_message(self, chat_id: int, *, include_users: bool = False) -> JSON:
        """The newest message of the bot (or of anyone, with ``include_users``) in a chat; raises if none."""
        found = self.messages(chat_id, include_users=include_users)
        if not found:
            raise AssertionError(f"no {'' if include_users else 'bot '}messages in chat {chat_id}")
        return found[-1]

    def message(self, chat_id: int, message_id: int) -> JSON:
        """One stored message (latest version), deleted or not."""
        chat = self._chat_ref(chat_id)
        found = chat.messages.get(message_id) or chat.deleted.get(message_id)
        if found is None:
            raise KeyError(f"no message {message_id} in chat {chat_id}")
        return copy.deepcopy(found)

    def deleted_messages(self, chat_id: int) -> list[JSON]:
        """Messages the bot deleted in a chat, in deletion order."""
        return [copy.deepcopy(m) for m in self._chat_ref(chat_id).deleted.values()]

    def pinned(self, chat_id: int) -> list[int]:
        """Pinned message ids, oldest pin first."""
        return list(self._chat_ref(chat_id).pinned)

    def poll(self, poll_id: str) -> JSON:
        """A poll the bot sent, with current counts and ``is_closed``."""
        state = self._polls[str(poll_id)]
        self._refresh_poll(state)
        return copy.deepcopy(state.poll)

    @property
    def polls(self) -> list[JSON]:
        """Every poll the bot sent, oldest first."""
        return [self.poll(poll_id) for poll_id in self._polls]

    def poll_votes(self, poll_id: str) -> dict[int, list[int]]:
        """Current votes by user id."""
        return {uid: list(v) for uid, v in self._polls[str(poll_id)].votes.items()}

    @property
    def uploads(self) -> list[UploadedFile]:
        """Files the bot uploaded (multipart), in order."""
        return [f for call in self.calls for f in call.files.values()]

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a ``file_id`` the bot uploaded or a test user sent."""
        return self.files[re.sub(r"_s\d+$", "", file_id)].data

    def commands(self, scope: Mapping[str, Any] | None = None, language_code: str = "") -> list[JSON]:
        """Commands stored by setMyCommands for exactly this scope and language (``[]`` if none)."""
        key = json.dumps(dict(scope or {"type": "default"}), sort_keys=True)
        return list(self._commands.get((key, language_code), []))

    def visible_commands(self, chat_id: int, user_id: int | None = None, language_code: str = "") -> list[JSON]:
        """The command menu a user would see in a chat, by the Bot API's documented fallback order."""
        chat = self._chat_ref(chat_id)
        language = language_code[:2].lower()
        if chat.type == "private":
            scopes: list[JSON] = [
                {"type": "chat", "chat_id": chat.id},
                {"type": "all_private_chats"},
                {"type": "default"},
            ]
        else:
            people = chat.people
            is_admin = user_id is not None and (user_id in people.admins or (people.creator or {}).get("id") == user_id)
            scopes = []
            if user_id is not None:
                scopes.append({"type": "chat_member", "chat_id": chat.id, "user_id": user_id})
            if is_admin:
                scopes.append({"type": "chat_administrators", "chat_id": chat.id})
            scopes.append({"type": "chat", "chat_id": chat.id})
            if is_admin:
                scopes.append({"type": "all_chat_administrators"})
            scopes += [{"type": "all_group_chats"}, {"type": "default"}]
        for scope in scopes:
            for lang in [language, ""] if language else [""]:
                found = self._commands.get((json.dumps(scope, sort_keys=True), lang))
                if found:
                    return list(found)
        return []
