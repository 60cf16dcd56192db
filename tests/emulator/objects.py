"""Builders for Bot API objects as JSON dicts, complete enough for python-telegram-bot 22.8 to parse.

Every builder here fills in the fields that PTB 22.8's ``__init__`` treats as required, including the
ones older Bot API docs don't list (checked against PTB's source, see test_emulator.py which feeds each
builder's output through ``de_json``):

* ``ChatFullInfo``: ``accent_color_id``, ``max_reaction_count``, ``accepted_gift_types`` (5 booleans).
* ``Poll``: ``allows_revoting`` and ``members_only`` (PTB raises ``TypeError`` without them);
  ``correct_option_ids`` (a list) instead of the removed ``correct_option_id``, which PTB 22.8 still
  accepts but answers with a ``PTBDeprecationWarning``.
* ``PollOption``: ``persistent_id``; ``PollAnswer``: ``option_persistent_ids``.
* ``ChatMemberAdministrator``: 13 required booleans; ``ChatMemberRestricted`` also needs
  ``can_edit_tag`` and ``can_react_to_messages``.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

JSON = dict[str, Any]
"""A Bot API object (or update) as decoded JSON."""

ADMIN_RIGHTS: tuple[str, ...] = (
    "can_manage_chat",
    "can_delete_messages",
    "can_manage_video_chats",
    "can_restrict_members",
    "can_promote_members",
    "can_change_info",
    "can_invite_users",
    "can_post_stories",
    "can_edit_stories",
    "can_delete_stories",
    "can_pin_messages",
)
"""Administrator rights a test may switch off; all are granted by default (except promote)."""

RESTRICTED_FLAGS: tuple[str, ...] = (
    "can_send_messages",
    "can_send_audios",
    "can_send_documents",
    "can_send_photos",
    "can_send_videos",
    "can_send_video_notes",
    "can_send_voice_notes",
    "can_send_polls",
    "can_send_other_messages",
    "can_add_web_page_previews",
    "can_change_info",
    "can_invite_users",
    "can_pin_messages",
    "can_manage_topics",
    "can_edit_tag",
    "can_react_to_messages",
)


def now() -> int:
    """Unix time in whole seconds, as Telegram's ``date`` fields."""
    return int(time.time())


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: Telegram's unit for entity offsets and lengths."""
    return len(text.encode("utf-16-le")) // 2


def unique_id(*parts: object) -> str:
    """A stable short identifier derived from ``parts`` (file_unique_id, chat_instance, ...)."""
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return digest[:16]


def user(
    user_id: int,
    first_name: str,
    *,
    is_bot: bool = False,
    last_name: str | None = None,
    username: str | None = None,
    language_code: str | None = None,
    is_premium: bool | None = None,
) -> JSON:
    """A ``User``; optional fields are left out when ``None`` as Telegram does."""
    data: JSON = {"id": user_id, "is_bot": is_bot, "first_name": first_name}
    if last_name is not None:
        data["last_name"] = last_name
    if username is not None:
        data["username"] = username
    if language_code is not None:
        data["language_code"] = language_code
    if is_premium is not None:
        data["is_premium"] = is_premium
    return data


def bot_user(bot_id: int, first_name: str, username: str, *, can_read_all_group_messages: bool) -> JSON:
    """The ``getMe`` result: a ``User`` with the bot-only capability flags."""
    data = user(bot_id, first_name, is_bot=True, username=username)
    data.update(
        can_join_groups=True,
        can_read_all_group_messages=can_read_all_group_messages,
        supports_inline_queries=False,
        can_connect_to_business=False,
        has_main_web_app=False,
    )
    return data


def private_chat(of_user: JSON) -> JSON:
    """The ``Chat`` of a user's private conversation with the bot (its id is the user's id)."""
    data: JSON = {"id": of_user["id"], "type": "private", "first_name": of_user["first_name"]}
    for key in ("last_name", "username"):
        if key in of_user:
            data[key] = of_user[key]
    return data


def group_chat(chat_id: int, title: str, chat_type: str = "group", username: str | None = None) -> JSON:
    """The ``Chat`` of a group, supergroup or channel."""
    data: JSON = {"id": chat_id, "type": chat_type, "title": title}
    if username is not None:
        data["username"] = username
    return data


def accepted_gift_types() -> JSON:
    """``AcceptedGiftTypes``: required inside ``ChatFullInfo`` since PTB 22.1 / Bot API 9.0."""
    return {
        "unlimited_gifts": True,
        "limited_gifts": True,
        "unique_gifts": True,
        "premium_subscription": True,
        "gifts_from_channels": True,
    }


def chat_permissions(default: bool = True) -> JSON:
    """``ChatPermissions`` with every flag set to ``default``."""
    return dict.fromkeys(RESTRICTED_FLAGS, default)


def chat_full_info(chat: JSON, *, pinned_message: JSON | None = None, description: str | None = None) -> JSON:
    """The ``getChat`` result (``ChatFullInfo``) for a chat built by :func:`private_chat`/:func:`group_chat`."""
    data: JSON = dict(chat)
    data.update(
        # Telegram derives the accent colour from the id; any 0-6 value is valid.
        accent_color_id=abs(int(chat["id"])) % 7,
        max_reaction_count=11,
        accepted_gift_types=accepted_gift_types(),
    )
    if chat["type"] == "private":
        data["has_private_forwards"] = False
    else:
        data["permissions"] = chat_permissions()
        if description is not None:
            data["description"] = description
    if chat["type"] == "supergroup":
        data.update(join_to_send_messages=False, has_visible_history=True)
    if pinned_message is not None:
        data["pinned_message"] = pinned_message
    return data


def member_owner(of_user: JSON, *, is_anonymous: bool = False) -> JSON:
    """``ChatMemberOwner`` (status ``creator``)."""
    return {"status": "creator", "user": of_user, "is_anonymous": is_anonymous}


def member_administrator(
    of_user: JSON,
    *,
    chat_type: str = "group",
    can_be_edited: bool = False,
    denied: frozenset[str] = frozenset(),
    custom_title: str | None = None,
) -> JSON:
    """``ChatMemberAdministrator`` with every right granted except those in ``denied``.

    ``can_promote_members`` is off by default as for admins promoted with the default rights.
    """
    data: JSON = {"status": "administrator", "user": of_user, "can_be_edited": can_be_edited, "is_anonymous": False}
    for right in ADMIN_RIGHTS:
        data[right] = right not in denied and right != "can_promote_members"
    if chat_type == "supergroup":
        data["can_manage_topics"] = "can_manage_topics" not in denied
    if custom_title is not None:
        data["custom_title"] = custom_title
    return data


def member_member(of_user: JSON) -> JSON:
    """``ChatMemberMember``."""
    return {"status": "member", "user": of_user}


def member_restricted(of_user: JSON, *, is_member: bool = True, until_date: int = 0, **flags: bool) -> JSON:
    """``ChatMemberRestricted``; every permission defaults to ``False`` unless given in ``flags``."""
    data: JSON = {"status": "restricted", "user": of_user, "is_member": is_member, "until_date": until_date}
    for flag in RESTRICTED_FLAGS:
        data[flag] = bool(flags.get(flag, False))
    return data


def member_left(of_user: JSON) -> JSON:
    """``ChatMemberLeft``."""
    return {"status": "left", "user": of_user}


def member_banned(of_user: JSON, *, until_date: int = 0) -> JSON:
    """``ChatMemberBanned`` (status ``kicked``; ``until_date`` 0 means forever)."""
    return {"status": "kicked", "user": of_user, "until_date": until_date}


def chat_member_updated(chat: JSON, from_user: JSON, old: JSON, new: JSON) -> JSON:
    """``ChatMemberUpdated`` as carried by ``my_chat_member`` / ``chat_member`` updates."""
    return {"chat": chat, "from": from_user, "date": now(), "old_chat_member": old, "new_chat_member": new}


def poll_option(text: str, persistent_id: str, voter_count: int = 0) -> JSON:
    """``PollOption``; ``persistent_id`` is required by PTB 22.8 (Bot API 9.6)."""
    return {"text": text, "voter_count": voter_count, "persistent_id": persistent_id}


def poll_answer(poll_id: str, of_user: JSON, option_ids: list[int], persistent_ids: list[str]) -> JSON:
    """``PollAnswer``; ``option_persistent_ids`` is required by PTB 22.8 (Bot API 9.6)."""
    return {
        "poll_id": poll_id,
        "user": of_user,
        "option_ids": list(option_ids),
        "option_persistent_ids": list(persistent_ids),
    }


def photo_sizes(file_id: str, file_unique_id: str, width: int, height: int, file_size: int) -> list[JSON]:
    """The ``photo`` array of a message: Telegram sends several sizes, the largest last."""
    sizes: list[JSON] = []
    scale = max(width, height)
    for index, limit in enumerate((90, 320)):
        if scale > limit:
            factor = limit / scale
            sizes.append(
                {
                    "file_id": f"{file_id}_s{index}",
                    "file_unique_id": f"{file_unique_id}s{index}",
                    "width": max(1, round(width * factor)),
                    "height": max(1, round(height * factor)),
                    "file_size": max(1, round(file_size * factor * factor)),
                }
            )
    sizes.append(
        {"file_id": file_id, "file_unique_id": file_unique_id, "width": width, "height": height, "file_size": file_size}
    )
    return sizes


def sticker(file_id: str, file_unique_id: str, emoji: str = "\N{GRINNING FACE}") -> JSON:
    """A regular static ``Sticker``."""
    return {
        "file_id": file_id,
        "file_unique_id": file_unique_id,
        "width": 512,
        "height": 512,
        "is_animated": False,
        "is_video": False,
        "type": "regular",
        "emoji": emoji,
        "set_name": "EmulatorStickers",
        "file_size": 12_000,
    }


def image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG, GIF or JPEG image, or ``None`` if the bytes are not one of those.

    Lets ``sendPhoto`` answer with realistic ``PhotoSize`` dimensions without an imaging library.
    """
    if data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:6] in (b"GIF87a", b"GIF89a") and len(data) >= 10:
        return int.from_bytes(data[6:8], "little"), int.from_bytes(data[8:10], "little")
    if data[:2] == b"\xff\xd8":
        index = 2
        while index + 9 < len(data):
            if data[index] != 0xFF:
                index += 1
                continue
            marker = data[index + 1]
            length = int.from_bytes(data[index + 2 : index + 4], "big")
            # SOF0..SOF15 carry the frame size; C4 (DHT), C8 (JPG) and CC (DAC) share the range but don't.
            if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
                height = int.from_bytes(data[index + 5 : index + 7], "big")
                width = int.from_bytes(data[index + 7 : index + 9], "big")
                return width, height
            index += 2 + length
    return None
