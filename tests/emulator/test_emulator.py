"""Tests of the Bot API emulator itself.

1. Contract: every kind of object the emulator returns goes through PTB 22.8's own ``de_json`` and must
   parse without unknown fields, deprecation warnings or loss (``to_dict()`` gives the same JSON back).
   If a PTB upgrade makes a field required, these fail first, pointing at the emulator.
2. PTB's real HTTP path (``telegram.Bot`` over httpx): each method, and each error mapped to PTB's exceptions.
3. A small echo ``Application`` over long polling, end to end, stopping cleanly.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import time
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import pytest
import telegram
from telegram import (
    BotCommand,
    BotCommandScopeChat,
    ChatFullInfo,
    ChatMember,
    ChatMemberAdministrator,
    ChatMemberBanned,
    ChatMemberLeft,
    ChatMemberMember,
    ChatMemberOwner,
    ChatMemberRestricted,
    File,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Poll,
    ReplyParameters,
    TelegramObject,
    Update,
    User,
    WebhookInfo,
)
from telegram.constants import PollLimit
from telegram.error import (
    BadRequest,
    ChatMigrated,
    Conflict,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    PollAnswerHandler,
    filters,
)
from telegram.warnings import PTBDeprecationWarning

from tests.emulator import ApiCall, BotApiEmulator, objects, parse_html, parse_markdown_v2

TOKEN = "123456:TEST-token"
BOT_USERNAME = "DeepfakeQuizBot"
JSONDict = dict[str, Any]

# A PTBDeprecationWarning means the emulator sends something PTB 22.8 considers outdated.
pytestmark = pytest.mark.filterwarnings("error::telegram.warnings.PTBDeprecationWarning")

# 1x1 PNG, so sendPhoto can report real dimensions.
PNG_1X1 = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000100e5270de40000000049454e44ae426082"
)


@pytest.fixture
async def emu() -> AsyncIterator[BotApiEmulator]:
    """A running emulator; fails the test if the emulator hit an internal error."""
    async with BotApiEmulator(token=TOKEN, bot_username=BOT_USERNAME) as emulator:
        yield emulator
    assert not emulator.internal_errors, emulator.internal_errors


@pytest.fixture
async def bot(emu: BotApiEmulator) -> AsyncIterator[telegram.Bot]:
    """An initialized ``telegram.Bot`` talking to the emulator over HTTP."""
    async with emu.make_bot() as ptb_bot:
        yield ptb_bot


async def raw(
    emu: BotApiEmulator,
    method: str,
    *,
    token: str = TOKEN,
    json_body: JSONDict | None = None,
    data: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
    http_method: str = "POST",
) -> tuple[int, JSONDict]:
    """A request without PTB: lets the tests use JSON bodies, GET and raw form encodings."""
    async with httpx.AsyncClient() as client:
        response = await client.request(
            http_method, f"{emu.base_url}{token}/{method}", json=json_body, data=data, params=query
        )
    return response.status_code, response.json()


async def api(emu: BotApiEmulator, method: str, **params: Any) -> Any:
    """Call a method with an ``application/json`` body and return its result (asserting success)."""
    status, body = await raw(emu, method, json_body=params)
    assert status == 200 and body["ok"], body
    return body["result"]


def without_ptb_defaults(out: Any, sent: Any) -> Any:
    """``out`` minus the ``False`` flags PTB's ``Message.to_dict`` adds by itself (``group_chat_created``...)."""
    if isinstance(out, dict) and isinstance(sent, dict):
        return {
            key: without_ptb_defaults(value, sent.get(key))
            for key, value in out.items()
            if key in sent or value is not False
        }
    if isinstance(out, list) and isinstance(sent, list) and len(out) == len(sent):
        return [without_ptb_defaults(o, s) for o, s in zip(out, sent, strict=True)]
    return out


def assert_round_trip(cls: type[TelegramObject], data: JSONDict) -> Any:
    """``cls.de_json(data)`` must work, know every field, and give ``data`` back from ``to_dict()``."""
    parsed = cls.de_json(data, None)
    assert parsed is not None
    assert parsed.api_kwargs == {}, f"fields PTB does not know: {parsed.api_kwargs}"
    assert without_ptb_defaults(parsed.to_dict(), data) == data
    return parsed


def seconds_of(thing: object, attribute: str) -> float:
    """A PTB time-period attribute in seconds.

    Reading ``retry_after`` / ``open_period`` warns unless ``PTB_TIMEDELTA`` is set: that deprecation is
    PTB's own (int -> timedelta in PTB 23), not something the emulator sent, so it is silenced here.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value = getattr(thing, attribute)
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


KEYBOARD = {
    "inline_keyboard": [[{"text": "Yes", "callback_data": "answer:1"}, {"text": "Docs", "url": "https://example.org"}]]
}


# --------------------------------------------------------------------------- 1. contract with PTB's parsing


async def test_get_me_is_a_complete_user(emu: BotApiEmulator) -> None:
    me = assert_round_trip(User, await api(emu, "getMe"))
    assert me.is_bot and me.username == BOT_USERNAME and me.id == 123456
    assert me.can_join_groups is True and me.can_read_all_group_messages is False  # privacy mode on


async def test_message_with_inline_keyboard_and_entities(emu: BotApiEmulator) -> None:
    emu.make_user(1001, "Alice")
    data = await api(emu, "sendMessage", chat_id=1001, text="<b>Q1</b> 😀 ok", parse_mode="HTML", reply_markup=KEYBOARD)
    message = assert_round_trip(Message, data)
    assert message.text == "Q1 😀 ok" and message.from_user.id == emu.bot_id and message.chat.id == 1001
    assert message.entities[0].type == "bold" and message.entities[0].length == 2
    assert message.reply_markup.inline_keyboard[0][0].callback_data == "answer:1"


async def test_edited_message(emu: BotApiEmulator) -> None:
    emu.make_user(1001, "Alice")
    sent = await api(emu, "sendMessage", chat_id=1001, text="before", reply_markup=KEYBOARD)
    data = await api(emu, "editMessageText", chat_id=1001, message_id=sent["message_id"], text="after")
    edited = assert_round_trip(Message, data)
    assert edited.text == "after" and edited.edit_date is not None
    assert edited.reply_markup is None  # like Telegram: an edit without reply_markup drops the keyboard
    data = await api(emu, "editMessageReplyMarkup", chat_id=1001, message_id=sent["message_id"], reply_markup=KEYBOARD)
    assert assert_round_trip(Message, data).reply_markup.inline_keyboard[0][1].url == "https://example.org"


async def test_quiz_poll_and_stop_poll(emu: BotApiEmulator) -> None:
    emu.make_user(1001, "Alice")
    data = await api(
        emu,
        "sendPoll",
        chat_id=1001,
        question="Real or fake?",
        options=[{"text": "Real"}, {"text": "Fake"}, "Unsure"],
        type="quiz",
        correct_option_ids=[1],
        is_anonymous=False,
        explanation="<i>Look at the hands</i>",
        explanation_parse_mode="HTML",
        open_period=60,
    )
    poll = assert_round_trip(Message, data).poll
    assert poll.type == "quiz" and poll.correct_option_ids == (1,) and not poll.is_anonymous
    assert poll.allows_revoting is False and poll.members_only is False
    assert [o.text for o in poll.options] == ["Real", "Fake", "Unsure"]
    assert len({o.persistent_id for o in poll.options}) == 3
    assert poll.explanation == "Look at the hands" and poll.explanation_entities[0].type == "italic"
    assert seconds_of(poll, "open_period") == 60 and poll.close_date is not None
    stopped = assert_round_trip(Poll, await api(emu, "stopPoll", chat_id=1001, message_id=data["message_id"]))
    assert stopped.is_closed and stopped.id == poll.id
    assert emu.poll(poll.id)["is_closed"] is True


async def test_poll_answer_and_poll_updates(emu: BotApiEmulator) -> None:
    alice = emu.make_user(1001, "Alice")
    data = await api(
        emu,
        "sendPoll",
        chat_id=1001,
        question="Q",
        options=["a", "b"],
        type="quiz",
        correct_option_ids=[0],
        is_anonymous=False,
    )
    poll_id = data["poll"]["id"]
    answer = emu.answer_poll(alice, poll_id, [1])
    update = assert_round_trip(Update, answer)
    assert update.poll_answer.option_ids == (1,) and update.poll_answer.user.id == 1001
    assert update.poll_answer.option_persistent_ids == (data["poll"]["options"][1]["persistent_id"],)
    assert update.effective_chat is None  # poll answers carry no chat
    poll_update = assert_round_trip(Update, emu.pending_updates[-1])
    assert poll_update.poll.total_voter_count == 1 and poll_update.poll.options[1].voter_count == 1
    with pytest.raises(ValueError, match="quizzes never"):
        emu.answer_poll(alice, poll_id, [0])  # Telegram does not let anyone change a quiz answer

    bob = emu.make_user(1002, "Bob")
    assert_round_trip(Update, emu.close_poll(poll_id))
    late = emu.answer_poll(bob, poll_id, [0])  # delivered anyway: the bot must cope with late answers
    assert late["update_id"] is not None and emu.poll(poll_id)["total_voter_count"] == 1
    with pytest.raises(ValueError, match="closed"):
        emu.answer_poll(bob, poll_id, [0], allow_closed=False, force=True)
    anonymous = await api(emu, "sendPoll", chat_id=1001, question="Q", options=["a", "b"])
    with pytest.raises(ValueError, match="anonymous"):
        emu.answer_poll(alice, anonymous["poll"]["id"], [0])


async def test_callback_query_updates(emu: BotApiEmulator) -> None:
    alice = emu.make_user(1001, "Alice")
    sent = await api(emu, "sendMessage", chat_id=1001, text="pick", reply_markup=KEYBOARD)
    update = assert_round_trip(Update, emu.press_button(alice, sent, "answer:1"))
    query = update.callback_query
    assert query.data == "answer:1" and query.chat_instance and query.from_user.id == 1001
    assert query.message.message_id == sent["message_id"] and query.message.reply_markup is not None
    forged = assert_round_trip(Update, emu.press_raw(alice, 1001, 999, "answer:999"))
    assert forged.callback_query.message.is_accessible is False  # Telegram's InaccessibleMessage (date 0)


async def test_chat_member_updates_and_service_messages(emu: BotApiEmulator) -> None:
    alice = emu.make_user(1001, "Alice")
    bob = emu.make_user(1002, "Bob", language_code="zh-hant")
    update = assert_round_trip(Update, emu.add_bot_to_group(-100, alice, title="Quiz night"))
    change = update.my_chat_member
    assert change.old_chat_member.status == "left" and change.new_chat_member.status == "member"
    assert change.chat.title == "Quiz night" and change.from_user.id == 1001
    joined = assert_round_trip(Update, emu.pending_updates[-1])
    assert joined.message.new_chat_members[0].id == emu.bot_id
    assert assert_round_trip(Update, emu.member_left(-100, bob)).message.left_chat_member.id == 1002
    to_update, from_update = emu.migrate_group(-100, -1001234567890, by_user=alice)
    assert assert_round_trip(Update, to_update).message.migrate_to_chat_id == -1001234567890
    assert assert_round_trip(Update, from_update).message.migrate_from_chat_id == -100
    removed = assert_round_trip(Update, emu.remove_bot_from_group(-1001234567890, alice)).my_chat_member
    assert isinstance(removed.new_chat_member, ChatMemberBanned)  # supergroups ban
    blocked = assert_round_trip(Update, emu.block_chat(1001)).my_chat_member
    assert blocked.new_chat_member.status == "kicked" and blocked.chat.type == "private"
    sticker = assert_round_trip(Update, emu.send_sticker(bob)).message.sticker
    assert sticker.type == "regular" and sticker.emoji
    command = assert_round_trip(Update, emu.send_text(bob, "/start@DeepfakeQuizBot payload")).message
    assert command.entities[0].type == "bot_command" and command.entities[0].length == len("/start@DeepfakeQuizBot")


@pytest.mark.parametrize(
    ("kind", "title"),
    [("private", None), ("group", "Quiz night"), ("supergroup", "Big quiz")],
)
async def test_get_chat_is_a_complete_chat_full_info(emu: BotApiEmulator, kind: str, title: str | None) -> None:
    emu.make_user(1001, "Alice", username="alice")
    chat_id = 1001 if kind == "private" else -4242
    if kind != "private":
        emu.add_group(chat_id, title or "", type=kind, description="about")  # type: ignore[arg-type]
    info = assert_round_trip(ChatFullInfo, await api(emu, "getChat", chat_id=chat_id))
    assert info.id == chat_id and info.type == kind and info.max_reaction_count > 0
    assert info.accepted_gift_types is not None and 0 <= info.accent_color_id <= 6
    assert info.title == title


async def test_every_chat_member_status(emu: BotApiEmulator) -> None:
    owner, admin, member, gone = (
        emu.make_user(i, n) for i, n in ((1, "Owner"), (2, "Admin"), (3, "Member"), (4, "Gone"))
    )
    emu.add_group(
        -7, "G", type="supergroup", creator=owner, admins=[admin], members=[member], bot_status="administrator"
    )
    expected = {1: ChatMemberOwner, 2: ChatMemberAdministrator, 3: ChatMemberMember, 4: ChatMemberLeft}
    for user_id, cls in expected.items():
        parsed = assert_round_trip(ChatMember, {**await api(emu, "getChatMember", chat_id=-7, user_id=user_id)})
        assert type(parsed) is cls
    me = ChatMember.de_json(await api(emu, "getChatMember", chat_id=-7, user_id=emu.bot_id), None)
    assert isinstance(me, ChatMemberAdministrator) and me.can_manage_topics is True
    banned = ChatMember.de_json(objects.member_banned(gone), None)
    restricted = ChatMember.de_json(objects.member_restricted(gone, can_send_messages=True), None)
    assert isinstance(banned, ChatMemberBanned) and isinstance(restricted, ChatMemberRestricted)
    assert restricted.can_send_messages and not restricted.can_send_polls
    admins = await api(emu, "getChatAdministrators", chat_id=-7)
    assert [ChatMember.de_json(a, None).status for a in admins] == ["creator", "administrator", "administrator"]


async def test_webhook_info_commands_files_and_errors(emu: BotApiEmulator) -> None:
    assert_round_trip(WebhookInfo, await api(emu, "getWebhookInfo"))
    await api(emu, "setWebhook", url="https://bot.example.org:8443/hook", max_connections=5)
    info = assert_round_trip(WebhookInfo, await api(emu, "getWebhookInfo"))
    assert info.url.endswith("/hook") and info.max_connections == 5

    await api(emu, "setMyCommands", commands=[{"command": "start", "description": "Start"}])
    commands = BotCommand.de_list(await api(emu, "getMyCommands"), None)
    assert [(c.command, c.description) for c in commands] == [("start", "Start")]

    emu.make_user(1001, "Alice")
    document = await api(
        emu,
        "sendDocument",
        chat_id=1001,
        document=emu.send_document(1001, b"x", "a.txt")["message"]["document"]["file_id"],
    )
    assert assert_round_trip(Message, document).document.file_name == "a.txt"
    file = assert_round_trip(File, await api(emu, "getFile", file_id=document["document"]["file_id"]))
    assert file.file_path and file.file_size == 1

    status, body = await raw(emu, "sendMessage", json_body={"chat_id": 1001, "text": ""})
    assert status == 400 and body == {
        "ok": False,
        "error_code": 400,
        "description": "Bad Request: message text is empty",
    }
    emu.fail_next("sendMessage", status=429, retry_after=7)
    status, body = await raw(emu, "sendMessage", json_body={"chat_id": 1001, "text": "x"})
    # PTB 22.8 has no ResponseParameters class any more: BaseRequest reads parameters.retry_after itself.
    assert status == 429 and body["error_code"] == 429 and body["parameters"] == {"retry_after": 7}
    status, body = await raw(emu, "getMe", token="999:wrong")
    assert status == 401 and body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body = await raw(emu, "noSuchMethod")
    assert status == 400 and body["description"] == "Bad Request: method not found"


def test_markup_parsing_matches_telegram() -> None:
    assert parse_html("<b>1 &lt; 2</b> &amp; <a href='https://x.org'>x</a>") == (
        "1 < 2 & x",
        [
            {"type": "bold", "offset": 0, "length": 5},
            {"type": "text_link", "url": "https://x.org", "offset": 8, "length": 1},
        ],
    )
    assert parse_markdown_v2("*bold* 😀 _it_ \\.") == (
        "bold 😀 it .",
        [{"type": "bold", "offset": 0, "length": 4}, {"type": "italic", "offset": 8, "length": 2}],
    )


# --------------------------------------------------------------------------- 2. PTB's HTTP path


async def test_bot_methods_through_ptb(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    alice = emu.make_user(1001, "Alice")
    emu.add_group(-5, "Group", admins=[alice], bot_status="administrator")
    assert (await bot.get_me()).username == BOT_USERNAME
    keyboard = InlineKeyboardMarkup(
        [[InlineKeyboardButton("A", callback_data="a"), InlineKeyboardButton("B", callback_data="b")]]
    )
    first = await bot.send_message(1001, "Hello", reply_markup=keyboard)
    second = await bot.send_message(1001, "Reply", reply_parameters=ReplyParameters(first.message_id))
    assert second.reply_to_message is not None and second.reply_to_message.message_id == 1
    assert (first.message_id, second.message_id) == (1, 2)
    assert emu.last_message(1001)["text"] == "Reply" and len(emu.messages(1001)) == 2

    edited = await bot.edit_message_text("Hello!", 1001, first.message_id, reply_markup=keyboard)
    assert isinstance(edited, Message) and edited.text == "Hello!" and edited.reply_markup == keyboard
    unmarked = await bot.edit_message_reply_markup(1001, first.message_id)
    assert isinstance(unmarked, Message) and unmarked.reply_markup is None
    assert await bot.send_chat_action(1001, "typing")
    assert await bot.pin_chat_message(-5, (await bot.send_message(-5, "pin me")).message_id)
    pinned = (await bot.get_chat(-5)).pinned_message
    assert emu.pinned(-5) == [1] and pinned is not None and pinned.text == "pin me"
    assert await bot.unpin_chat_message(-5)
    assert await bot.delete_message(1001, second.message_id)
    assert [m["message_id"] for m in emu.deleted_messages(1001)] == [2]

    poll_message = await bot.send_poll(1001, "Q?", ["yes", "no"], is_anonymous=False)
    assert poll_message.poll is not None
    assert poll_message.poll.type == "regular" and poll_message.poll.allows_revoting is True
    emu.answer_poll(alice, poll_message.poll.id, [0])
    stopped = await bot.stop_poll(1001, poll_message.message_id)
    assert stopped.is_closed and stopped.options[0].voter_count == 1

    photo = await bot.send_photo(1001, PNG_1X1, caption="<i>pic</i>", parse_mode="HTML", filename="pic.png")
    assert photo.photo[-1].width == 1 and photo.caption == "pic"
    document = await bot.send_document(1001, b"report,1\n", filename="report.csv")
    assert document.document is not None and document.document.file_name == "report.csv"
    upload = emu.uploads[-1]
    assert (upload.filename, upload.data, upload.field) == ("report.csv", b"report,1\n", "document")
    downloaded = await (await bot.get_file(document.document.file_id)).download_as_bytearray()
    assert bytes(downloaded) == b"report,1\n" and emu.file_bytes(photo.photo[-1].file_id) == PNG_1X1

    assert (await bot.get_chat(1001)).first_name == "Alice"
    assert (await bot.get_chat_member(-5, 1001)).status == "administrator"
    assert (await bot.get_chat_member(-5, emu.bot_id)).status == "administrator"
    assert len(await bot.get_chat_administrators(-5)) == 2 and await bot.get_chat_member_count(-5) == 2
    assert await bot.set_chat_menu_button(1001)
    assert await bot.log_out() and await bot.close()
    assert await bot.leave_chat(-5)
    assert emu.update_type(emu.pending_updates[-1]) == "my_chat_member"
    with pytest.raises(Forbidden, match="bot is not a member of the group chat"):
        await bot.send_message(-5, "still here?")


async def test_commands_by_scope_and_language(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    emu.make_user(1001, "Alice")
    await bot.set_my_commands([("start", "Start"), ("quiz", "Play")])
    await bot.set_my_commands([("start", "開始")], language_code="zh")
    await bot.set_my_commands([("start", "開始!")], scope=BotCommandScopeChat(1001))
    assert [c.command for c in await bot.get_my_commands()] == ["start", "quiz"]
    assert (await bot.get_my_commands(language_code="zh"))[0].description == "開始"
    assert await bot.get_my_commands(language_code="fr") == ()
    assert emu.visible_commands(1001, language_code="zh-hant")[0]["description"] == "開始!"
    assert await bot.delete_my_commands(scope=BotCommandScopeChat(1001))
    assert emu.visible_commands(1001, language_code="zh-hant")[0]["description"] == "開始"
    with pytest.raises(BadRequest, match=r"(?i)invalid language code"):
        await bot.set_my_commands([("start", "x")], language_code="zh-hans")
    with pytest.raises(BadRequest, match=r"(?i)bot_command_invalid"):
        await bot.set_my_commands([("Start", "x")])


async def test_ptb_error_mapping(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    emu.make_user(1001, "Alice")
    async with BotApiEmulator(token="42:other") as other:
        with pytest.raises(InvalidToken):
            await telegram.Bot(TOKEN, base_url=other.base_url).get_me()
    with pytest.raises(BadRequest, match=r"(?i)method not found"):
        await bot.do_api_request("nosuchmethod")

    emu.fail_next("sendMessage", status=429, retry_after=3)
    # RetryAfter.__init__ reads its own retry_after, so PTB warns while *raising* it (unless PTB_TIMEDELTA=1).
    with warnings.catch_warnings(), pytest.raises(RetryAfter) as retry:
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        await bot.send_message(1001, "flood")
    assert seconds_of(retry.value, "retry_after") == 3
    for status in (500, 502):
        emu.fail_next("getChat", status=status)
        with pytest.raises(NetworkError):
            await bot.get_chat(1001)
    emu.fail_next("*", status=403, description="Forbidden: user is deactivated", chat_id=1001)
    with pytest.raises(Forbidden, match="deactivated"):
        await bot.send_chat_action(1001, "typing")

    emu.block_chat(1001)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(1001, "hi")
    emu.unblock_chat(1001)
    alice = emu.make_user(1001, "Alice")
    emu.add_bot_to_group(-9, alice, title="G")
    emu.remove_bot_from_group(-9, alice)
    with pytest.raises(Forbidden, match="bot was kicked from the group chat"):
        await bot.send_message(-9, "hi")
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(777, "hi")

    emu.add_group(-10, "Old")
    emu.migrate_group(-10, -1009)
    with pytest.raises(ChatMigrated) as migrated:
        await bot.send_message(-10, "hi")
    assert migrated.value.new_chat_id == -1009
    assert (await bot.send_message(-1009, "hi")).chat.type == "supergroup"

    await bot.set_webhook("https://bot.example.org/hook")
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()


async def test_telegram_validation(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    emu.make_user(1001, "Alice")
    message = await bot.send_message(1001, "same")
    # PTB strips "Bad Request: " and str.capitalize()s the rest: match error texts case-insensitively.
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text("same", 1001, message.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", 1001, 999)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(1001, 999)
    too_long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="é" * 33)]])  # 66 bytes
    with pytest.raises(BadRequest, match=r"(?i)button_data_invalid"):
        await bot.send_message(1001, "x", reply_markup=too_long_data)
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(1001, "x" * 4097)
    assert (await bot.send_message(1001, "x" * 4096)).text
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities: character '.' is reserved"):
        await bot.send_message(1001, "Score: 3.5", parse_mode="MarkdownV2")
    with pytest.raises(BadRequest, match=r"(?i)unsupported start tag"):
        await bot.send_message(1001, "1 <3 you", parse_mode="HTML")
    assert (await bot.send_message(1001, "123")).text == "123"  # raw strings are never JSON-decoded

    bad_polls: list[dict[str, Any]] = [
        {"question": "", "options": ["a", "b"]},
        {"question": "q" * (PollLimit.MAX_QUESTION_LENGTH + 1), "options": ["a", "b"]},
        {"question": "q", "options": [str(i) for i in range(PollLimit.MAX_OPTION_NUMBER + 1)]},
        {"question": "q", "options": ["a", "o" * (PollLimit.MAX_OPTION_LENGTH + 1)]},
        {"question": "q", "options": ["a", "b"], "type": "quiz"},
        {"question": "q", "options": ["a", "b"], "type": "quiz", "correct_option_ids": [2]},
        {"question": "q", "options": ["a", "b"], "type": "quiz", "correct_option_ids": [0], "explanation": "e" * 201},
        {"question": "q", "options": ["a", "b"], "open_period": 4},
        {"question": "q", "options": ["a", "b"], "open_period": PollLimit.MAX_OPEN_PERIOD + 1},
        {"question": "q", "options": ["a", "b"], "type": "survey"},
    ]
    for kwargs in bad_polls:
        with pytest.raises(BadRequest):
            await bot.send_poll(1001, **kwargs)
    quiz = await bot.send_poll(
        1001, "q", ["a", "b"], type="quiz", correct_option_ids=[1], open_period=PollLimit.MAX_OPEN_PERIOD
    )
    await bot.stop_poll(1001, quiz.message_id)
    with pytest.raises(BadRequest, match=r"(?i)poll has already been closed"):
        await bot.stop_poll(1001, quiz.message_id)


async def test_callback_answers(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    alice = emu.make_user(1001, "Alice")
    sent = await bot.send_message(
        1001, "x", reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    )
    query_id = emu.press_button(alice, sent.to_dict(), "a")["callback_query"]["id"]
    assert await bot.answer_callback_query(query_id, text="Correct!")
    assert emu.callback_answers[query_id]["text"] == "Correct!"
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    with pytest.raises(ValueError, match="no button"):
        emu.press_button(alice, sent.to_dict(), "forged")


async def test_slow_and_dropped_replies(emu: BotApiEmulator) -> None:
    emu.make_user(1001, "Alice")
    async with emu.make_bot() as bot:
        emu.delay("sendMessage", 1.0)
        with pytest.raises(TimedOut):
            await bot.send_message(1001, "slow", read_timeout=0.2)
        assert emu.messages(1001)[-1]["text"] == "slow"  # Telegram sent it even though the client gave up
        emu.drop_next("sendMessage")
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "lost")
        assert len(emu.messages(1001)) == 1
        emu.drop_next("sendMessage", processed=True)
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "sent but unacknowledged")
        assert len(emu.messages(1001)) == 2
        assert [c.fault for c in emu.calls_to("sendMessage")] == ["delay", "drop", "drop"]


async def test_request_encodings(emu: BotApiEmulator) -> None:
    emu.make_user(1001, "Alice")
    form = {
        "chat_id": "1001",
        "text": "true",
        "reply_markup": '{"inline_keyboard": [[{"text": "A", "callback_data": "1"}]]}',
    }
    status, body = await raw(emu, "sendmessage", data=form)  # method names are case-insensitive
    assert status == 200 and body["result"]["text"] == "true" and body["result"]["reply_markup"]["inline_keyboard"]
    status, body = await raw(emu, "sendMessage", query={"chat_id": "1001", "text": "[1]"}, http_method="GET")
    assert status == 200 and body["result"]["text"] == "[1]"
    status, body = await raw(
        emu, "sendMessage", json_body={"chat_id": "1001", "text": 5, "reply_markup": form["reply_markup"]}
    )
    assert status == 200 and body["result"]["text"] == "5" and "reply_markup" in body["result"]
    call = emu.calls_to("sendMessage", chat_id=1001)[0]
    assert call.method == "sendMessage" and call.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "1"


async def test_get_updates_semantics(emu: BotApiEmulator) -> None:
    alice = emu.make_user(1001, "Alice")
    first = emu.send_text(alice, "one")
    emu.send_text(alice, "two")
    # message_reaction updates are only sent when allowed_updates asks for them: never delivered here.
    emu.inject({"update_id": 1, "message_reaction": {"chat": {"id": 1001, "type": "private"}}})
    updates = await api(emu, "getUpdates", limit=1)
    assert [u["update_id"] for u in updates] == [first["update_id"]]
    updates = await api(emu, "getUpdates", offset=first["update_id"] + 1)
    assert [u["message"]["text"] for u in updates] == ["two"]
    assert await api(emu, "getUpdates", offset=updates[-1]["update_id"] + 1) == []

    started = time.monotonic()
    waiter = asyncio.create_task(api(emu, "getUpdates", timeout=5))
    await asyncio.sleep(0.1)
    pressed = emu.send_text(alice, "three")
    assert [u["update_id"] for u in await waiter] == [pressed["update_id"]]
    assert time.monotonic() - started < 1.5  # answered when the update came, not after the timeout

    started = time.monotonic()
    assert await api(emu, "getUpdates", offset=pressed["update_id"] + 1, timeout=1) == []
    assert 0.9 < time.monotonic() - started < 2

    emu.send_text(alice, "four")
    assert await api(emu, "getUpdates", allowed_updates=["callback_query"]) == []  # dropped for good
    assert await api(emu, "getUpdates", allowed_updates=[]) == []
    await api(emu, "setWebhook", url="https://example.org/hook")
    status, body = await raw(emu, "getUpdates", json_body={})
    assert status == 409 and "webhook is active" in body["description"]


async def test_wait_for_reports_recent_calls(emu: BotApiEmulator, bot: telegram.Bot) -> None:
    emu.make_user(1001, "Alice")
    mark = emu.mark()
    await bot.send_message(1001, "one")
    call = await emu.wait_for("sendMessage", chat_id=1001, since=mark)
    assert isinstance(call, ApiCall) and call.ok and call.result["text"] == "one"
    with pytest.raises(
        AssertionError, match=r"(?s)editMessageText.*sendMessage\(\{'chat_id': 1001, 'text': 'one'\}\) -> ok"
    ):
        await emu.wait_for("editMessageText", timeout=0.1)
    await bot.send_message(1001, "two")
    assert [c.result["text"] for c in await emu.wait_for("sendMessage", count=2)] == ["one", "two"]
    assert (await emu.wait_for("sendMessage", since=call)).result["text"] == "two"


# --------------------------------------------------------------------------- 3. a PTB Application end to end


def echo_application(emu: BotApiEmulator, seen: list[Update]) -> Application:
    """An echo bot: /start sends a keyboard, text is echoed, presses edit the message, poll answers are kept."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        keyboard = InlineKeyboardMarkup(
            [[InlineKeyboardButton("Fake", callback_data="fake"), InlineKeyboardButton("Real", callback_data="real")]]
        )
        assert update.effective_message is not None
        await update.effective_message.reply_text("Real or fake?", reply_markup=keyboard)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        message = update.effective_message
        assert message is not None and message.text is not None
        await message.reply_text(message.text)

    async def pressed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer("Noted")
        await query.edit_message_text(f"You said {query.data}")

    async def poll_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        seen.append(update)

    app = emu.application_builder().build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(pressed))
    app.add_handler(PollAnswerHandler(poll_answer))
    return app


async def run_polling(app: Application, body: Callable[[], Awaitable[None]]) -> float:
    """Run ``body`` while ``app`` long-polls; return how long stopping took."""
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0, timeout=1)
        try:
            await body()
        finally:
            started = time.monotonic()
            await app.updater.stop()
            await app.stop()
    return time.monotonic() - started


async def test_echo_application_over_long_polling(emu: BotApiEmulator) -> None:
    alice = emu.make_user(1001, "Alice")
    bob = emu.make_user(1002, "Bob")
    emu.add_group(-100, "Quiz night", members=[alice, bob])
    answers: list[Update] = []
    app = echo_application(emu, answers)

    async def conversation() -> None:
        mark = emu.mark()
        emu.send_text(alice, "hello there")
        echo = await emu.wait_for("sendMessage", since=mark)
        assert echo.params["text"] == "hello there" and echo.params["chat_id"] == 1001

        emu.send_text(bob, "/start@DeepfakeQuizBot", chat=-100)
        question = await emu.wait_for("sendMessage", chat_id=-100)
        quiet = emu.mark()
        emu.send_text(bob, "plain group chatter", chat=-100)  # privacy mode: never reaches the bot
        assert emu.undelivered and emu.undelivered[-1]["message"]["text"] == "plain group chatter"
        await emu.wait_idle(quiet=0.2)
        assert emu.calls_to("sendMessage", since=quiet) == []

        emu.press_button(bob, question, "fake")
        answered = await emu.wait_for("answerCallbackQuery")
        edited = await emu.wait_for("editMessageText")
        assert answered.ok and answered.params["text"] == "Noted"
        assert edited.ok and emu.last_message(-100)["text"] == "You said fake"
        assert "reply_markup" not in emu.last_message(-100)

        emu.fail_next("sendMessage", status=502)  # one failed reply does not stop the bot
        emu.send_text(alice, "lost")
        await emu.wait_for("sendMessage", predicate=lambda c: c.status == 502)
        emu.send_text(alice, "found")
        await emu.wait_for("sendMessage", predicate=lambda c: c.ok and c.params["text"] == "found")

        poll = await app.bot.send_poll(1001, "Q", ["a", "b"], is_anonymous=False)
        emu.answer_poll(alice, poll.poll.id, [1])
        for _ in range(50):
            if answers:
                break
            await asyncio.sleep(0.02)
        assert poll.poll is not None and answers and answers[0].poll_answer is not None
        assert answers[0].poll_answer.option_persistent_ids == (poll.poll.options[1].persistent_id,)

    stop_time = await run_polling(app, conversation)
    assert stop_time < 2.0, f"stopping took {stop_time:.2f}s"
    assert emu.pending_updates == []  # the final getUpdates confirmed everything
    assert not [c for c in emu.calls if c.method == "getUpdates" and c.status not in (0, 200)]
