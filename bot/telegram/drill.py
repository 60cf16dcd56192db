"""Classroom drills on Telegram: the teacher's set-up wizard and control panel, students joining by code and
nickname, live rounds paced by the teacher, self-paced rounds, post-tests, delayed re-tests and reports."""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable

import segno
from telegram import InputFile, Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import Application, ContextTypes
from telegram.helpers import create_deep_linked_url

from ..core.drill import (
    Drill,
    DrillMode,
    DrillPhase,
    DrillRefused,
    DrillRejection,
    DrillRound,
    DrillSpec,
    normalize_code,
)
from ..core.engine import SessionId, UserId
from ..core.lang import Lang
from ..core.users import UserProfile
from ..i18n.present import HTML, report_summary
from ..services.report_files import report_chart, report_csv
from . import callbacks as cb
from .callbacks import ROUND_LETTERS, Action, Kind, WizardState
from .context import BotServices, Context, profile_of, services
from .render import LETTERS, Rendered
from .sending import edit, send

log = logging.getLogger(__name__)

REFUSAL_KEYS = {
    DrillRejection.NOT_FOUND: "drill.not_found",
    DrillRejection.CLOSED: "drill.closed",
    DrillRejection.EXPIRED: "drill.expired",
    DrillRejection.FULL: "drill.full",
    DrillRejection.ALREADY_JOINED: "drill.already",
    DrillRejection.NOT_TEACHER: "drill.not_teacher",
    DrillRejection.TOO_MANY_GUESSES: "drill.too_many",
    DrillRejection.NOT_NOW: "drill.not_now",
}
CONTROL_REFRESH_SECONDS = 2.0  # answers are counted on the teacher's panel in batches
SEND_CONCURRENCY = 20  # messages to a class go out in parallel; AIORateLimiter keeps them under Telegram's limit


# ---------------------------------------------------------------- teacher commands


async def drill_command(update: Update, context: Context) -> None:
    """/drill: the teacher's drills and a button for a new one."""
    svc = services(context)
    profile = await profile_of(update, svc)
    drills = await svc.drill.teacher_drills(profile.id)
    counts = {d.id: len([s for s in await svc.drill.students(d.id) if s.nickname]) for d in drills[:20]}
    await send(update, svc.drill_render.overview(drills, counts, profile.lang))


async def report_command(update: Update, context: Context) -> None:
    """/report CODE: the summary, a CSV file and a chart, for the drill's teacher only."""
    svc = services(context)
    profile = await profile_of(update, svc)
    if not context.args:
        await send(update, svc.drill_render.text("drill.report_usage", profile.lang))
        return
    try:
        drill = await svc.drill.owned_by_code(profile.id, context.args[0])
    except DrillRefused as refused:
        await send(update, svc.drill_render.text(REFUSAL_KEYS[refused.reason], profile.lang))
        return
    await send_report(context, svc, update.effective_chat.id, drill, profile.lang)


async def send_report(context: Context, svc: BotServices, chat_id: int, drill: Drill, lang: Lang) -> None:
    report = await svc.drill.report(drill)
    answers = await svc.drill.report_answers(drill)
    summary = report_summary(report, svc.bank, svc.t, lang, HTML)
    await context.bot.send_message(chat_id, summary[:4000])
    if not report.rounds:
        return
    csv_bytes = report_csv(report, answers, svc.bank, lang).encode("utf-8-sig")  # BOM: spreadsheets read UTF-8
    await context.bot.send_document(
        chat_id,
        InputFile(io.BytesIO(csv_bytes), filename=f"drill-{drill.code}.csv"),
        caption=svc.t("report.files", lang),
    )
    await context.bot.send_photo(
        chat_id, InputFile(io.BytesIO(report_chart(report)), filename=f"drill-{drill.code}.png")
    )


# ---------------------------------------------------------------- students joining


async def join_command(update: Update, context: Context) -> None:
    """/join CODE."""
    svc = services(context)
    profile = await profile_of(update, svc)
    if not context.args:
        await send(update, svc.drill_render.text("drill.join_usage", profile.lang))
        return
    await join_flow(update, svc, profile, " ".join(context.args))


def looks_like_code(text: str) -> bool:
    return normalize_code(text) is not None


async def join_flow(update: Update, svc: BotServices, profile: UserProfile, code_text: str) -> None:
    """Join by code: ask for a nickname the first time; someone already in picks up where they are."""
    lang = profile.lang
    try:
        joined = await svc.drill.join(profile.id, code_text)
    except DrillRefused as refused:
        key = "drill.own_drill" if refused.reason is DrillRejection.NOT_NOW else REFUSAL_KEYS[refused.reason]
        await send(update, svc.drill_render.text(key, lang))
        return
    if joined.student.nickname is None:
        await send(update, svc.drill_render.text("drill.ask_nickname", lang, code=joined.drill.code))
        return
    await send(update, svc.drill_render.text("drill.already", lang, nickname=joined.student.nickname))


async def take_nickname(update: Update, context: Context) -> bool:
    """A private text from someone who joined a drill and owes a nickname: it is the nickname. True if taken."""
    svc = services(context)
    user = update.effective_user
    message = update.effective_message
    if user is None or message is None or not message.text:
        return False
    student = await svc.drill.awaiting_nickname(user.id)
    if student is None:
        return False
    profile = await profile_of(update, svc)
    nickname = await svc.drill.choose_nickname(student, message.text)
    if nickname is None:
        await send(update, svc.drill_render.text("drill.bad_nickname", profile.lang))
        return True
    drill = await svc.drill.get(student.drill_id)
    if drill is None:
        return True
    schedule_control_refresh(context.application, drill.id)
    if drill.spec.mode is DrillMode.LIVE:
        await send(update, svc.drill_render.text("drill.welcome_live", profile.lang, nickname=nickname))
        return True
    await send(update, svc.drill_render.text("drill.welcome_self", profile.lang, nickname=nickname))
    if drill.phase is DrillPhase.OPEN:
        await start_self_paced(update, svc, profile, drill, drill.round)
    return True


async def start_self_paced(
    update: Update, svc: BotServices, profile: UserProfile, drill: Drill, round_: DrillRound
) -> None:
    view = await svc.drill.start_self_paced(profile.id, drill, round_, ask_confidence=profile.ask_confidence)
    if view is not None:
        await send(update, svc.render.question(view, profile.lang))


# ---------------------------------------------------------------- buttons


async def button(update: Update, context: Context) -> None:
    """Wizard steps, teacher controls, live answers and "start this round" buttons."""
    query = update.callback_query
    assert query is not None
    svc = services(context)
    profile = await profile_of(update, svc)
    action = cb.parse(query.data)
    if action is None or query.message is None:  # every drill button edits or answers its own message
        await query.answer(svc.t("notice.invalid", profile.lang))
        return
    try:
        notice = await act(update, context, svc, profile, action)
    except DrillRefused as refused:
        await query.answer(svc.t(REFUSAL_KEYS[refused.reason], profile.lang))
        return
    await query.answer(notice)


async def act(update: Update, context: Context, svc: BotServices, profile: UserProfile, action: Action) -> str | None:
    query = update.callback_query
    assert query is not None
    lang = profile.lang
    if action.kind is Kind.WIZARD:
        assert action.wizard is not None
        if not svc.drill_render.offered(action.wizard):
            return svc.t("notice.invalid", lang)
        if action.wizard.step >= 8:
            await create(update, context, svc, profile, action.wizard)
        else:
            await edit(query, svc.drill_render.wizard(action.wizard, lang))
        return None
    if action.kind is Kind.TEACHER:
        return await teacher_action(context, svc, profile, action.session_id, action.value)
    if action.kind is Kind.LIVE_CHOICE:
        drill = await svc.drill.get(action.session_id)
        if drill is None or drill.phase is not DrillPhase.ASKING or drill.position != action.position:
            return svc.t("drill.not_now", lang)
        base = query.message.text_html if query.message and query.message.text else ""
        rating = svc.drill_render.live_rating(
            action.session_id, action.value, action.position, action.option, base, lang
        )
        await edit(query, rating)
        return None
    if action.kind is Kind.LIVE_RATING:
        answer = await svc.drill.live_answer(
            profile.id,
            action.session_id,
            round_=DrillRound(ROUND_LETTERS[action.value]),
            position=action.position,
            shown=action.option,
            confidence=action.confidence,
        )
        if not answer.recorded:
            return svc.t("notice.already", lang)
        base = query.message.text_html.split("\n\n👉")[0] if query.message and query.message.text else ""
        received = svc.t("drill.answer_received", lang, letter=LETTERS[action.option])
        await edit(query, Rendered(f"{base}\n\n{received}"))
        schedule_control_refresh(context.application, action.session_id)
        return None
    if action.kind is Kind.SELF_START:
        drill = await svc.drill.get(action.session_id)
        round_ = DrillRound(ROUND_LETTERS[action.value])
        student = await svc.drill.storage.student(action.session_id, profile.id) if drill else None
        if drill is None or student is None:
            return svc.t("drill.not_found", lang)
        allowed = (round_ is DrillRound.RETEST and drill.retest_sent) or (
            round_ is drill.round and drill.phase is DrillPhase.OPEN
        )
        if not allowed:
            return svc.t("drill.closed", lang)
        if (
            await svc.drill.storage.drill_session(drill.id, round_, profile.id) is not None
            and round_ is DrillRound.RETEST
        ):
            current = await svc.quiz.current(profile.id)
            if current is not None:
                return svc.t("notice.already", lang)
        await start_self_paced(update, svc, profile, drill, round_)
        return None
    return svc.t("notice.invalid", lang)


async def create(update: Update, context: Context, svc: BotServices, profile: UserProfile, state: WizardState) -> None:
    """The wizard's last step: make the drill, then give the teacher its code, link, QR code and control panel."""
    query = update.callback_query
    assert query is not None
    lang = profile.lang
    spec = DrillSpec(
        topics=tuple(svc.drill_render.chosen_topics(state)),
        count=state.count,
        seconds=state.seconds or None,
        mode=DrillMode.LIVE if state.mode == "l" else DrillMode.SELF_PACED,
        pair=state.pair,
        open_days=state.days,
        retest_days=state.retest or None,
    )
    drill = await svc.drill.create(profile.id, spec)
    if drill is None:
        await edit(query, svc.render.text("quiz.no_questions", lang))
        return
    link = create_deep_linked_url(context.bot.username, drill.code)
    await edit(query, svc.drill_render.created(drill, link, lang))
    qr = io.BytesIO()
    segno.make(link, error="m").save(qr, kind="png", scale=10, border=2)
    chat_id = query.message.chat.id if query.message else profile.id
    await context.bot.send_photo(
        chat_id,
        InputFile(io.BytesIO(qr.getvalue()), filename=f"join-{drill.code}.png"),
        caption=svc.t("drill.qr_caption", lang, code=drill.code),
    )
    control = svc.drill_render.control(drill, [], lang)
    message = await context.bot.send_message(chat_id, control.text, reply_markup=control.markup)
    await svc.drill.note_control_message(drill.id, message.message_id)
    schedule_drill(context.application, drill)


async def teacher_action(
    context: Context, svc: BotServices, profile: UserProfile, drill_id: str, what: str
) -> str | None:
    lang = profile.lang
    if what == "r":
        drill = await svc.drill.owned(profile.id, drill_id)
        await send_report(context, svc, profile.id, drill, lang)
        return None
    if what == "n":
        live = await svc.drill.live_next(profile.id, drill_id)
        await broadcast_question(context.application, svc, live)
        schedule_drill(context.application, live.drill)
    elif what == "v":
        await reveal(context.application, svc, drill_id, teacher_id=profile.id)
    elif what == "f":
        drill = await svc.drill.finish_round(profile.id, drill_id)
        await round_over(context.application, svc, drill)
    elif what == "p":
        drill = await svc.drill.start_post(profile.id, drill_id)
        if drill.spec.mode is DrillMode.SELF_PACED:
            await notify_students(context.application, svc, drill, "drill.post_open")
        schedule_drill(context.application, drill)
    elif what == "c":
        drill = await svc.drill.close(profile.id, drill_id)
        schedule_drill(context.application, drill)
    await refresh_control(context.application, svc, drill_id)
    return None


# ---------------------------------------------------------------- live rounds


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


async def student_lang(svc: BotServices, user_id: int) -> Lang:
    profile = await svc.quiz.storage.get_user(UserId(user_id))
    return profile.lang if profile else Lang.ZH_HANT


async def broadcast_question(application: Application, svc: BotServices, live) -> None:
    """The same question to every student, each remembering their message to reveal it later."""

    async def one(student) -> None:
        rendered = svc.drill_render.live_question(live, await student_lang(svc, student.user_id))
        message = await application.bot.send_message(student.user_id, rendered.text, reply_markup=rendered.markup)
        await svc.drill.set_student_message(live.drill.id, student.user_id, message.message_id)

    await gather_limited([one(s) for s in live.students])


async def reveal(application: Application, svc: BotServices, drill_id: str, *, teacher_id: int | None) -> None:
    live, answers = await svc.drill.live_reveal(drill_id, teacher_id=teacher_id)

    async def one(student) -> None:
        if student.message_id is None:
            return
        rendered = svc.drill_render.live_reveal(
            live, answers.get(student.user_id), await student_lang(svc, student.user_id)
        )
        try:
            await application.bot.edit_message_text(
                rendered.text, chat_id=student.user_id, message_id=student.message_id
            )
        except BadRequest:
            await application.bot.send_message(student.user_id, rendered.text)

    await gather_limited([one(s) for s in live.students])
    schedule_drill(application, live.drill)


async def round_over(application: Application, svc: BotServices, drill: Drill) -> None:
    """After a live round: each student's score and what went to their review list."""
    if drill.spec.mode is not DrillMode.LIVE:
        return
    finished = drill.round if drill.phase is DrillPhase.CLOSED else DrillRound.PRE
    key = f"{drill.id}.{finished.value}"
    answers = await svc.drill.storage.answers(session_id=SessionId(key))
    by_student: dict[int, list[bool]] = {}
    for answer in answers:
        by_student.setdefault(answer.user_id, []).append(answer.correct)

    async def one(student) -> None:
        lang = await student_lang(svc, student.user_id)
        marks = by_student.get(student.user_id, [])
        text = svc.t("drill.round_done", lang, correct=sum(marks), total=drill.total)
        missed = len(marks) - sum(marks)
        if missed:
            text += "\n" + svc.t("drill.round_review", lang, count=missed)
        await application.bot.send_message(student.user_id, text)

    await gather_limited([one(s) for s in await svc.drill.students(drill.id) if s.nickname])


async def notify_students(application: Application, svc: BotServices, drill: Drill, key: str) -> None:
    async def one(student) -> None:
        rendered = svc.drill_render.start_round(drill, key, await student_lang(svc, student.user_id))
        await application.bot.send_message(student.user_id, rendered.text, reply_markup=rendered.markup)

    await gather_limited([one(s) for s in await svc.drill.students(drill.id) if s.nickname])


# ---------------------------------------------------------------- the teacher's panel


async def refresh_control(application: Application, svc: BotServices, drill_id: str) -> None:
    drill = await svc.drill.get(drill_id)
    if drill is None or drill.control_message_id is None:
        return
    lang = await student_lang(svc, drill.teacher_id)
    students = await svc.drill.students(drill.id)
    answered = correct = 0
    if drill.phase in (DrillPhase.ASKING, DrillPhase.REVEALED):
        answers = [
            a
            for a in await svc.drill.storage.answers(session_id=SessionId(drill.round_key))
            if a.position == drill.position
        ]
        answered, correct = len(answers), sum(a.correct for a in answers)
    elif drill.phase is DrillPhase.OPEN:
        answered = len(
            {
                a.user_id
                for a in await svc.drill.report_answers(drill)
                if a.round is drill.round and a.position == drill.total - 1
            }
        )
    rendered = svc.drill_render.control(drill, students, lang, answered=answered, correct=correct)
    try:
        await application.bot.edit_message_text(
            rendered.text, chat_id=drill.teacher_id, message_id=drill.control_message_id, reply_markup=rendered.markup
        )
    except BadRequest as error:
        if "not modified" not in error.message.lower():
            log.info("could not update the panel of drill %s: %s", drill.code, error.message)
    except Forbidden:
        log.info("the teacher of drill %s blocked the bot", drill.code)


async def on_control_refresh(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Batched panel update after joins and answers."""
    assert context.job is not None
    await refresh_control(context.application, services(context), str(context.job.data))


def schedule_control_refresh(application: Application, drill_id: str) -> None:
    if application.job_queue is None:
        return
    name = f"drillctl:{drill_id}"
    if not application.job_queue.get_jobs_by_name(name):
        application.job_queue.run_once(on_control_refresh, CONTROL_REFRESH_SECONDS, data=drill_id, name=name)


# ---------------------------------------------------------------- timers


def due_at(drill: Drill) -> float | None:
    """When this drill next needs the bot: a timed live question, a self-paced deadline, or a re-test."""
    if drill.phase in (DrillPhase.ASKING, DrillPhase.OPEN) and drill.deadline is not None:
        return drill.deadline
    if drill.phase is DrillPhase.CLOSED and drill.retest_at is not None and not drill.retest_sent:
        return drill.retest_at
    return None


def schedule_drill(application: Application, drill: Drill) -> None:
    if application.job_queue is None:
        return
    name = f"drill:{drill.id}"
    for job in application.job_queue.get_jobs_by_name(name):
        job.schedule_removal()
    when = due_at(drill)
    if when is not None:
        application.job_queue.run_once(on_drill_timer, max(0.0, when - time.time()), data=drill.id, name=name)


SWEEP_SECONDS = 30.0


async def restore_drill_timers(application: Application, svc: BotServices) -> int:
    """Re-arm every drill's timer after a start, and sweep for overdue ones now and then (any worker may act:
    the drill's version check lets exactly one do so), so a timer armed by a worker that died still fires."""
    drills = await svc.drill.timed()
    for drill in drills:
        schedule_drill(application, drill)
    if application.job_queue is not None:
        application.job_queue.run_repeating(sweep_drills, interval=SWEEP_SECONDS, first=SWEEP_SECONDS, name="drills")
    return len(drills)


async def sweep_drills(context: ContextTypes.DEFAULT_TYPE) -> None:
    svc = services(context)
    now = time.time()
    for drill in await svc.drill.timed():
        when = due_at(drill)
        if when is not None and when <= now:
            schedule_drill(context.application, drill)  # due now: the timer job runs at once


async def on_drill_timer(context: ContextTypes.DEFAULT_TYPE) -> None:
    """A drill's time has come: reveal a timed question, end a self-paced round, or send the re-test."""
    assert context.job is not None
    svc = services(context)
    drill = await svc.drill.get(str(context.job.data))
    if drill is None or (when := due_at(drill)) is None or when > time.time() + 0.05:
        return
    try:
        if drill.phase is DrillPhase.ASKING:
            await reveal(context.application, svc, drill.id, teacher_id=None)
        elif drill.phase is DrillPhase.OPEN:
            finished = await svc.drill.finish_round(None, drill.id)
            schedule_drill(context.application, finished)
        elif drill.phase is DrillPhase.CLOSED:
            sent = await svc.drill.mark_retest_sent(drill.id)
            await notify_students(context.application, svc, sent, "drill.retest_open")
    except DrillRefused:
        return  # another move got there first
    await refresh_control(context.application, svc, drill.id)
