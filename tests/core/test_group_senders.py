"""Who may control a group quiz when a command comes on behalf of a chat: a channel posting in its discussion group,
or the group itself (an anonymous admin). The rule is `core.group.may_control`; end to end in
tests/telegram/test_echoes_and_channels.py."""

from __future__ import annotations

import random

import pytest

from bot.core.group import (
    ChatId,
    Control,
    GroupRules,
    GroupSession,
    GroupSessionId,
    Sender,
    admin_control,
    group_from_dict,
    group_to_dict,
    may_control,
    open_lobby,
)
from bot.core.model import QuestionBank

GROUP = -100_500
CHANNEL, OTHER_CHANNEL = -100_900, -100_901
STARTER, MEMBER = 7, 8


def lobby(bank: QuestionBank, starter: Sender) -> GroupSession:
    session = open_lobby(
        bank,
        session_id=GroupSessionId("g1"),
        chat_id=ChatId(GROUP),
        starter_id=starter.id,
        starter_is_chat=starter.is_chat,
        topic=None,
        count=2,
        rules=GroupRules(),
        rng=random.Random(1),
        now=0.0,
    )
    assert session is not None
    return session


PERSON = Sender(STARTER)
VIA_CHANNEL = Sender(CHANNEL, is_chat=True)
ANONYMOUS_ADMIN = Sender(GROUP, is_chat=True)


@pytest.mark.parametrize(
    ("starter", "sender", "expected"),
    [
        # Opened by a person: they, the admins (an anonymous one among them); no channel.
        (PERSON, PERSON, Control.YES),
        (PERSON, Sender(MEMBER), Control.IF_ADMIN),
        (PERSON, ANONYMOUS_ADMIN, Control.YES),
        (PERSON, VIA_CHANNEL, Control.NO),
        # Opened on behalf of a channel: no personal starter. The same channel, the admins; no other channel.
        (VIA_CHANNEL, VIA_CHANNEL, Control.YES),
        (VIA_CHANNEL, Sender(OTHER_CHANNEL, is_chat=True), Control.NO),
        (VIA_CHANNEL, Sender(MEMBER), Control.IF_ADMIN),
        (VIA_CHANNEL, ANONYMOUS_ADMIN, Control.YES),
        (VIA_CHANNEL, Sender(CHANNEL), Control.IF_ADMIN),  # a person with the chat's number is not the chat
        # Opened by an anonymous admin: any anonymous admin, any admin; no channel.
        (ANONYMOUS_ADMIN, ANONYMOUS_ADMIN, Control.YES),
        (ANONYMOUS_ADMIN, Sender(MEMBER), Control.IF_ADMIN),
        (ANONYMOUS_ADMIN, VIA_CHANNEL, Control.NO),
    ],
    ids=lambda v: repr(v),
)
def test_who_may_control_a_quiz(small_bank: QuestionBank, starter: Sender, sender: Sender, expected: Control) -> None:
    assert may_control(lobby(small_bank, starter), sender) is expected


def test_a_chat_started_quiz_records_the_chat_never_a_stand_in(small_bank: QuestionBank) -> None:
    session = lobby(small_bank, VIA_CHANNEL)
    assert (session.starter_id, session.starter_is_chat) == (CHANNEL, True)
    assert group_from_dict(group_to_dict(session)) == session


def test_a_session_stored_before_chat_starters_reads_as_a_persons(small_bank: QuestionBank) -> None:
    stored = group_to_dict(lobby(small_bank, PERSON))
    del stored["starter_chat"]
    assert group_from_dict(stored).starter_is_chat is False


def test_what_an_admin_may_do_the_group_itself_may_and_a_channel_may_not() -> None:
    assert admin_control(ANONYMOUS_ADMIN, GROUP) is Control.YES
    assert admin_control(Sender(-1, is_chat=True), GROUP) is Control.NO  # the anonymous admin of another group
    assert admin_control(VIA_CHANNEL, GROUP) is Control.NO
    assert admin_control(Sender(MEMBER), GROUP) is Control.IF_ADMIN
