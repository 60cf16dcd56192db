"""Classroom drills on Telegram: the teacher's set-up wizard and control panel, students joining by code and
nickname, live rounds paced by the teacher, self-paced rounds, post-tests, delayed re-tests and reports.

The drill service decides (who may do what, when a round is due, who scored what); these handlers carry a press
to it and show what it returns, through the drill renderer.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
from collections.abc import Awaitable

import segno
from telegram import InputFile, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.helpers import create_deep_linked_url

from ..core.drill import Drill, DrillMode, DrillRefused, DrillRejection, DrillSpec, normalize_code
from ..core.echo import echo_safe
from ..core.engine import UserId
from ..core.lang import Lang
from ..core.users import UserProfile
from ..i18n.present import HTML
from ..i18n.report_chart import render_report_chart
from ..i18n.report_text import chart_data, report_summary
from ..services.drill_views import DrillDue, LiveQuestion, LiveReveal, Panel, RoundFinished, RoundOpened, RoundOver
from ..services.report_files import report_csv, students_csv
from . import callbacks as cb
from . import timers
from .callbacks import Action, Kind, TeacherMove, WizardState
from .context import BotApplication, BotContext, BotServices, profile_of
from .sending import CAPTION_LIMIT, edit, in_messages, send

log = logging.getLogger(__name__)

REFUSAL_KEYS = {
    DrillRejection.NOT_FOUND: "drill.not_found",
    DrillRejection.BAD_CODE: "drill.bad_code",
    DrillRejection.CLOSED: "drill.closed",
    DrillRejection.EXPIRED: "drill.expired",
    DrillRejection.FULL: "drill.full",
    DrillRejection.NOT_TEACHER: "drill.not_teacher",
    DrillRejection.TOO_MANY_GUESSES: "drill.too_many",
    DrillRejection.NOT_NOW: "drill.not_now",
    DrillRejection.OWN_DRILL: "drill.own_drill",
    DrillRejection.IN_PROGRESS: "notice.already",
}
OVERVIEW_SIZE = 20  # drills listed by /drill
CONTROL_REFRESH_SECONDS = 2.0  # answers are counted on the teacher's panel in batches
SEND_CONCURRENCY = 20  # messages to a class go out in parallel; AIORateLimiter keeps them under Telegram's limit
SWEEP_SECONDS = 30.0
WIZARD_LAST_STEP = 8  # the summary's Create button


def drill_timer(drill_id: str) -> str:
    return f"drill:{drill_id}"


def panel_timer(drill_id: str) -> str:
    return f"drillctl:{drill_id}"


# ---------------------------------------------------------------- teacher commands


async def drill_command(update: Update, context: BotContext) -> None:
    """/drill: the teacher's drills and a button for a new one."""
    profile = await profile_of(update, context)
    drills = await context.drill.overview(profile.id, limit=OVERVIEW_SIZE)
    await send(update, context.drill_render.overview(drills, profile.lang))


async def report_command(update: Update, context: BotContext) -> None:
    """/report CODE: the summary, a CSV file and a chart, for the drill's teacher only."""
    profile = await profile_of(update, context)
    if not context.args:
        await send(update, context.drill_render.text("drill.report_usage", profile.lang))
        return
    try:
        drill = await context.drill.owned_by_code(profile.id, context.args[0])
    except DrillRefused as refused:
        await send(update, context.drill_render.text(REFUSAL_KEYS[refused.reason], profile.lang))
        return
    await send_report(context, profile.id, drill, profile.lang)


async def send_report(context: BotContext, chat_id: int, drill: Drill, lang: Lang) -> None:
    """The report in words, the two CSV files, and the chart with its figures as text (for screen readers)."""
    full = await context.drill.report(drill)
    report = full.report
    for part in in_messages(report_summary(report, context.bank, context.t, lang, HTML)):
        await context.bot.send_message(chat_id, part)
    if not report.rounds:
        return
    # BOM: spreadsheets read the files as UTF-8.
    answers_csv = report_csv(report, full.answers, context.bank, lang).encode("utf-8-sig")
    await context.bot.send_document(
        chat_id,
        InputFile(io.BytesIO(answers_csv), filename=f"drill-{drill.code}-answers.csv"),
        caption=context.drill_render.report_files_caption(lang),
    )
    await context.bot.send_document(
        chat_id,
        InputFile(io.BytesIO(students_csv(report).encode("utf-8-sig")), filename=f"drill-{drill.code}-students.csv"),
    )
    # Drawing takes a good part of a second: off the event loop, so other chats are not kept waiting.
    chart = await asyncio.to_thread(render_report_chart, chart_data(report, context.bank, lang), context.t, lang)
    caption = html.escape(chart.caption, quote=False)
    fits = len(caption) <= CAPTION_LIMIT
    await context.bot.send_photo(
        chat_id,
        InputFile(io.BytesIO(chart.png), filename=f"drill-{drill.code}.png"),
        caption=caption if fits else None,
    )
    if not fits:
        for part in in_messages(caption):
            await context.bot.send_message(chat_id, part)


# ---------------------------------------------------------------- students joining


async def join_command(update: Update, context: BotContext) -> None:
    """/join CODE."""
    profile = await profile_of(update, context)
    if not context.args:
        await send(update, context.drill_render.text("drill.join_usage", profile.lang))
        return
    await join_flow(update, context, profile, " ".join(context.args))


def looks_like_code(text: str) -> bool:
    return normalize_code(text) is not None


async def join_flow(update: Update, context: BotContext, profile: UserProfile, code_text: str) -> None:
    """Join by code: ask for a nickname the first time; someone already in picks up where they are."""
    lang = profile.lang
    try:
        joined = await context.drill.join(profile.id, code_text)
    except DrillRefused as refused:
        await send(update, context.drill_render.text(REFUSAL_KEYS[refused.reason], lang))
        return
    if joined.student.nickname is None:
        await send(update, context.drill_render.text("drill.ask_nickname", lang, code=joined.drill.code))
        return
    await send(update, context.drill_render.text("drill.already", lang, nickname=echo_safe(joined.student.nickname)))


async def take_nickname(update: Update, context: BotContext) -> bool:
    """A private text from someone who joined a drill and owes a nickname: it is the nickname. True if taken."""
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not message.text:
        return False
    student = await context.drill.awaiting_nickname(user.id)
    if student is None:
        return False
    profile = await profile_of(update, context)
    named = await context.drill.name_student(student, message.text, ask_confidence=profile.ask_confidence)
    if named.nickname is None:
        await send(update, context.drill_render.text("drill.bad_nickname", profile.lang))
        return True
    if named.drill is None:
        return True
    schedule_panel_refresh(context.application, named.drill.id)
    live = named.drill.spec.mode is DrillMode.LIVE
    welcome = "drill.welcome_live" if live else "drill.welcome_self"
    await send(update, context.drill_render.text(welcome, profile.lang, nickname=echo_safe(named.nickname)))
    if named.question is not None:
        await send(update, context.render.question(named.question, profile.lang))
    return True


# ---------------------------------------------------------------- buttons


async def button(update: Update, context: BotContext) -> None:
    """Wizard steps, teacher controls, live answers and "start this round" buttons."""
    query = update.callback_query
    assert query is not None
    profile = await profile_of(update, context)
    action = cb.parse(query.data)
    if action is None or query.message is None:  # every drill button edits or answers its own message
        await query.answer(context.t("notice.invalid", profile.lang))
        return
    try:
        notice = await act(update, context, profile, action)
    except DrillRefused as refused:
        await query.answer(context.t(REFUSAL_KEYS[refused.reason], profile.lang))
        return
    await query.answer(notice)


async def act(update: Update, context: BotContext, profile: UserProfile, action: Action) -> str | None:
    """Carry out one drill button press; returns the short notice to answer with, if any."""
    query = update.callback_query
    assert query is not None
    lang = profile.lang
    render = context.drill_render
    if action.kind is Kind.WIZARD:
        assert action.wizard is not None
        if not render.offered(action.wizard):
            return context.t("notice.invalid", lang)
        if action.wizard.step >= WIZARD_LAST_STEP:
            await create(update, context, profile, action.wizard)
        else:
            await edit(query, render.wizard(action.wizard, lang))
        return None
    if action.kind is Kind.TEACHER:
        assert action.move is not None
        await teacher_move(context, profile, action.session_id, action.move)
        return None
    if action.kind is Kind.LIVE_CHOICE:
        item = await context.drill.live_question(action.session_id, action.position)
        await edit(query, render.live_rating(item, action.option, lang))
        return None
    if action.kind is Kind.LIVE_RATING:
        assert action.round is not None
        answer = await context.drill.live_answer(
            profile.id,
            action.session_id,
            round_=action.round,
            position=action.position,
            shown=action.option,
            confidence=action.confidence,
        )
        if not answer.recorded:
            return context.t("notice.already", lang)
        await edit(query, render.live_received(answer.item, action.option, lang))
        schedule_panel_refresh(context.application, action.session_id)
        return None
    if action.kind is Kind.SELF_START:
        assert action.round is not None
        view = await context.drill.start_round(
            profile.id, action.session_id, action.round, ask_confidence=profile.ask_confidence
        )
        if view is not None:
            await send(update, context.render.question(view, lang))
        return None
    return context.t("notice.invalid", lang)


async def create(update: Update, context: BotContext, profile: UserProfile, state: WizardState) -> None:
    """The wizard's last step: make the drill, then give the teacher its code, link, QR code and control panel."""
    query = update.callback_query
    assert query is not None
    lang = profile.lang
    spec = DrillSpec(
        topics=tuple(context.drill_render.chosen_topics(state)),
        count=state.count,
        seconds=state.seconds or None,
        mode=state.mode,
        pair=state.pair,
        open_days=state.days,
        retest_days=state.retest or None,
        judgment=state.judgment,
        lang=lang,
        names_on_screen=state.names_on_screen,
        podium=state.podium,
    )
    drill = await context.drill.create(profile.id, spec)
    if drill is None:
        await edit(query, context.render.text("quiz.no_questions", lang))
        return
    link = create_deep_linked_url(context.bot.username, drill.code)
    await edit(query, context.drill_render.created(drill, link, lang))
    qr = io.BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=10, border=2)
    chat_id = query.message.chat.id if query.message else profile.id
    await context.bot.send_photo(
        chat_id,
        InputFile(io.BytesIO(qr.getvalue()), filename=f"join-{drill.code}.png"),
        caption=context.drill_render.qr_caption(drill, lang),
    )
    control = context.drill_render.control(Panel(drill=drill, nicknames=[]), lang)
    message = await context.bot.send_message(chat_id, control.text, reply_markup=control.markup)
    await context.drill.note_control_message(drill.id, message.message_id)
    schedule_drill(context.application, drill)


async def teacher_move(context: BotContext, profile: UserProfile, drill_id: str, move: TeacherMove) -> None:
    """A button on the teacher's panel; the service checks it is their drill and that the move fits."""
    application = context.application
    if move is TeacherMove.REPORT:
        drill = await context.drill.owned(profile.id, drill_id)
        await send_report(context, profile.id, drill, profile.lang)
        return
    if move is TeacherMove.NEXT:
        live = await context.drill.live_next(profile.id, drill_id)
        await broadcast_question(context, live)
        schedule_drill(application, live.drill)
    elif move is TeacherMove.REVEAL:
        await show_reveal(context, await context.drill.live_reveal(drill_id, teacher_id=profile.id))
    elif move is TeacherMove.FINISH_ROUND:
        await show_scores(context, await context.drill.finish_round(profile.id, drill_id))
    elif move is TeacherMove.POST_TEST:
        opened = await context.drill.start_post(profile.id, drill_id)
        await offer_round(context, opened)
        schedule_drill(application, opened.drill)
    elif move is TeacherMove.CLOSE:
        schedule_drill(application, await context.drill.close(profile.id, drill_id))
    await refresh_panel(context, drill_id)


# ---------------------------------------------------------------- to the class


async def gather_limited(calls: list[Awaitable[object]]) -> None:
    gate = asyncio.Semaphore(SEND_CONCURRENCY)

    async def one(call: Awaitable[object]) -> None:
        async with gate:
            try:
                await call
            except Forbidden:
                pass  # a student who blocked the bot misses messages, not their answers
            except TelegramError as error:
                log.warning("drill message failed: %s", error)

    await asyncio.gather(*(one(c) for c in calls))


async def lang_of(context: BotContext, user_id: int) -> Lang:
    return await context.quiz.known_lang(UserId(user_id)) or Lang.ZH_HANT


async def broadcast_question(context: BotContext, live: LiveQuestion) -> None:
    """The same question to every student, each remembering their message to reveal it later."""
    bot = context.bot

    async def one(user_id: int) -> None:
        rendered = context.drill_render.live_question(live.item, await lang_of(context, user_id))
        message = await bot.send_message(user_id, rendered.text, reply_markup=rendered.markup)
        await context.drill.set_student_message(live.drill.id, user_id, message.message_id)

    await gather_limited([one(s.user_id) for s in live.students])


async def show_reveal(context: BotContext, reveal: LiveReveal) -> None:
    """Each student's question message becomes the answer, with how they did."""
    bot = context.bot

    async def one(user_id: int, message_id: int) -> None:
        lang = await lang_of(context, user_id)
        rendered = context.drill_render.live_reveal(reveal.item, reveal.answers.get(user_id), lang)
        try:
            await bot.edit_message_text(rendered.text, chat_id=user_id, message_id=message_id)
        except BadRequest:
            await bot.send_message(user_id, rendered.text)

    await gather_limited([one(s.user_id, s.message_id) for s in reveal.students if s.message_id is not None])
    schedule_drill(context.application, reveal.drill)


async def show_scores(context: BotContext, over: RoundOver) -> None:
    """After a live round: each student's score and what went to their review list."""
    total = over.drill.total

    async def one(user_id: int, correct: int, answered: int) -> None:
        rendered = context.drill_render.round_done(correct, answered, total, await lang_of(context, user_id))
        await context.bot.send_message(user_id, rendered.text)

    await gather_limited([one(s.user_id, s.correct, s.answered) for s in over.scores])


async def offer_round(context: BotContext, opened: RoundOpened) -> None:
    """A button to start the round, to each student it is for."""

    async def one(user_id: int) -> None:
        rendered = context.drill_render.round_opened(opened, await lang_of(context, user_id))
        await context.bot.send_message(user_id, rendered.text, reply_markup=rendered.markup)

    await gather_limited([one(s.user_id) for s in opened.tell])


# ---------------------------------------------------------------- the teacher's panel


async def refresh_panel(context: BotContext, drill_id: str) -> None:
    panel = await context.drill.panel(drill_id)
    if panel is None:
        return
    drill = panel.drill
    assert drill.control_message_id is not None  # a panel is only made for a drill that has one
    rendered = context.drill_render.control(panel, await lang_of(context, drill.teacher_id))
    try:
        await context.bot.edit_message_text(
            rendered.text, chat_id=drill.teacher_id, message_id=drill.control_message_id, reply_markup=rendered.markup
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.info("could not update the panel of drill %s: %s", drill.code, error.message)
    except Forbidden:
        log.info("the teacher of drill %s blocked the bot", drill.code)


async def answered_privately(context: BotContext, user_id: int, session_id: str) -> None:
    """An answer recorded in someone's own quiz: when the quiz is a drill round, its teacher's panel is updated
    (coalesced like every answer's, see `schedule_panel_refresh`)."""
    drill_id = await context.drill.panel_to_refresh(user_id, session_id)
    if drill_id is not None:
        schedule_panel_refresh(context.application, drill_id)


async def on_panel_refresh(context: BotContext) -> None:
    """Batched panel update after joins and answers (live and self-paced)."""
    await refresh_panel(context, timers.job_data(context))


def schedule_panel_refresh(application: BotApplication, drill_id: str) -> None:
    timers.batch(application, panel_timer(drill_id), CONTROL_REFRESH_SECONDS, on_panel_refresh, drill_id)


# ---------------------------------------------------------------- timers


def schedule_drill(application: BotApplication, drill: Drill) -> None:
    """Wake the bot when the drill is next due (replacing any earlier wake-up)."""
    timers.arm(application, drill_timer(drill.id), drill.due_at, on_drill_timer, drill.id)


async def restore_drill_timers(application: BotApplication, services: BotServices) -> int:
    """Re-arm every drill's timer after a start, and sweep for overdue ones now and then (any worker may act:
    the drill's version check lets exactly one do so), so a timer armed by a worker that died still fires."""
    drills = await services.drill.timed()
    for drill in drills:
        schedule_drill(application, drill)
    timers.sweep(application, "drills", sweep_drills, every=SWEEP_SECONDS, first=SWEEP_SECONDS)
    return len(drills)


async def sweep_drills(context: BotContext) -> None:
    for drill in await context.drill.overdue():
        schedule_drill(context.application, drill)  # due now: the timer job runs at once


async def on_drill_timer(context: BotContext) -> None:
    """A drill's time has come: reveal a timed question, end a self-paced round, or send the re-test."""
    due: DrillDue | None = await context.drill.due(timers.job_data(context))
    if due is None:
        return  # not due, or another move got there first
    if isinstance(due, LiveReveal):
        await show_reveal(context, due)
    elif isinstance(due, RoundFinished):
        schedule_drill(context.application, due.drill)
    else:
        await offer_round(context, due)
    await refresh_panel(context, due.drill.id)
