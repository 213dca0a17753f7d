"""Chat pages: the visitor's (under /help/chat) and the advocate's console (under /console/chat).  Thin routes."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from starlette.concurrency import run_in_threadpool

from harbour.core import flash
from harbour.core.choices import Province
from harbour.core.errors import HarbourError
from harbour.core.i18n import N_, gettext, reset_language, set_language
from harbour.core.security import DbSession, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import parse_form, redirect, render
from harbour.hotline import service as hotline
from harbour.hotline.chat import service
from harbour.hotline.chat.choices import NOTICES, ChatStatus, CloseReason
from harbour.hotline.chat.ws import CHAT_COOKIE, publish_all
from harbour.hotline.choices import Classification
from harbour.hotline.schemas import ChatContactDetails

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser

AVAILABILITY_SAVED = flash.message("chat.availability_saved", N_("Availability saved."))
CHAT_TAKEN = flash.message("chat.taken", N_("Chat taken: it is under My chats."))
CHAT_TRANSFERRED = flash.message("chat.transferred", N_("Chat transferred."))
CHAT_ENDED = flash.message("chat.ended", N_("Chat ended."))
CHAT_BLOCKED = flash.message("chat.blocked", N_("Chat ended and the visitor blocked."))
CHAT_CASE_OPENED = flash.message("chat.case_opened", N_("Chat saved as a contact, and a case opened."))


def notices(settings) -> dict[str, str]:
    minutes = max(1, round(settings.chat_idle_seconds / 60))
    return {code: gettext(text, minutes=minutes) if "%(" in text else gettext(text) for code, text in NOTICES.items()}


# -- visitor ------------------------------------------------------------------------
def _entry(request: Request, db, *, status_code: int = 200, error: str | None = None, blocked: bool = False,
           limited: bool = False):
    settings = request.app.state.settings
    return render(request, "hotline/chat_start.html", {
        "active": "help", "open": service.is_open(db, settings) and not (blocked or limited), "error": error,
        "limited": limited,
    }, status_code=status_code)


@router.get("/help/chat")
def chat_start_page(request: Request, db: DB):
    chat = service.visitor_chat(db, request.cookies.get(CHAT_COOKIE))
    if chat is not None and chat.status != ChatStatus.closed:
        return redirect("/help/chat/room")
    return _entry(request, db)


@router.post("/help/chat")
async def chat_start(request: Request, db: DB, language: Annotated[str, Form(max_length=5)] = ""):
    settings = request.app.state.settings
    address = request.client.host if request.client else None
    try:
        chat, raw, events = await run_in_threadpool(
            service.start_chat, db, settings, language=language, address=address,
            previous_token=request.cookies.get(CHAT_COOKIE))
    except HarbourError as exc:
        return _entry(request, db, status_code=exc.status_code, error=exc.text(), blocked=exc.status_code == 403,
                      limited=exc.status_code == 429)
    await publish_all(request.app, events)
    response = redirect("/help/chat/room", request)
    # A session cookie (no Max-Age): gone when the browser closes; useless once the chat ends.
    response.set_cookie(CHAT_COOKIE, raw, httponly=True, samesite="strict", secure=settings.secure_cookies,
                        path="/help/chat")
    return response


@router.get("/help/chat/room")
def chat_room(request: Request, db: DB):
    chat = service.visitor_chat(db, request.cookies.get(CHAT_COOKIE))
    if chat is None:
        return redirect("/help/chat")
    token = set_language(chat.language)  # the chat page speaks the language the visitor chose for the chat
    try:
        return render(request, "hotline/chat_room.html", {
            "active": "help", "chat": chat, "chat_lang": chat.language,
            "notices": notices(request.app.state.settings), "max_chars": request.app.state.settings.chat_max_chars,
        }, headers={"Content-Language": chat.language})
    finally:
        reset_language(token)


@router.post("/help/chat/end")
async def chat_end(request: Request, db: DB):
    """End the chat (the End button without JavaScript, and the quick exit's beacon)."""
    chat = service.visitor_chat(db, request.cookies.get(CHAT_COOKIE))
    if chat is not None:
        events = await run_in_threadpool(service.visitor_close, db, chat_id=chat.id)
        await publish_all(request.app, events)
    response = redirect("/help", request)
    response.delete_cookie(CHAT_COOKIE, path="/help/chat")
    return response


# -- console --------------------------------------------------------------------------
def _console(request: Request, db, who, *, status_code: int = 200, error: str | None = None,
             case_form: dict | None = None):
    actor = who.actor
    service.touch(db, actor=actor)
    mine = service.my_chats(db, actor=actor)
    history = {c.id: service.messages(db, chat_id=c.id) for c in mine}
    return render(request, "hotline/chat_console.html", {
        "active": "chat", "queue": service.queue(db, actor=actor), "mine": mine, "history": history,
        "closed": service.recent_closed(db, actor=actor), "available": service.availability(db, actor=actor),
        "colleagues": [u for u in hotline.hotline_staff(db) if u.id != actor.id],
        "notices": notices(request.app.state.settings), "error": error, "reasons": dict(CloseReason.options()),
        "max_chars": request.app.state.settings.chat_max_chars,
        "classifications": Classification.options(), "provinces": Province.options(),
        "case_form": case_form or {"classification": Classification.potential_case.value},
    }, status_code=status_code)


@router.get("/console/chat")
def console(request: Request, db: DB, who: Who):
    return _console(request, db, who)


@router.get("/console/chat/queue")
def queue_panel(request: Request, db: DB, who: Who):
    service.touch(db, actor=who.actor)
    return render(request, "hotline/_chat_queue.html", {"queue": service.queue(db, actor=who.actor)})


@router.get("/console/chat/count")
def queue_count(request: Request, db: DB, who: Who):
    return render(request, "hotline/_chat_count.html", {"count": service.waiting_count(db, actor=who.actor)})


async def _act(request: Request, db, who, fn, *, done: flash.Message, then: str = "/console/chat"):
    try:
        result = await run_in_threadpool(fn)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        db.rollback()
        return _console(request, db, who, status_code=exc.status_code, error=exc.text())
    events = result[1] if isinstance(result, tuple) else result
    await publish_all(request.app, events or [])
    return redirect(then, request, flash=done)


@router.post("/console/chat/availability")
async def set_availability(request: Request, db: DB, who: Who, available: Annotated[str, Form(max_length=5)] = ""):
    return await _act(request, db, who, lambda: service.set_available(db, actor=who.actor, available=available == "on"),
                      done=AVAILABILITY_SAVED)


@router.post("/console/chat/{chat_id}/take")
async def take(request: Request, db: DB, who: Who, chat_id: IdPath):
    return await _act(request, db, who, lambda: service.take(db, actor=who.actor, chat_id=chat_id),
                      done=CHAT_TAKEN, then=f"/console/chat#chat-{chat_id}")


@router.post("/console/chat/{chat_id}/transfer")
async def transfer(request: Request, db: DB, who: Who, chat_id: IdPath,
                   to_user_id: Annotated[str, Form(max_length=12)] = ""):
    if not to_user_id.isdigit():
        return _console(request, db, who, status_code=422, error=gettext(N_("Choose a colleague.")))
    return await _act(request, db, who, lambda: service.transfer(db, actor=who.actor, chat_id=chat_id,
                                                                 to_user_id=int(to_user_id)), done=CHAT_TRANSFERRED)


@router.post("/console/chat/{chat_id}/end")
async def end(request: Request, db: DB, who: Who, chat_id: IdPath):
    settings = request.app.state.settings
    return await _act(request, db, who, lambda: service.end(db, settings, actor=who.actor, chat_id=chat_id),
                      done=CHAT_ENDED)


@router.post("/console/chat/{chat_id}/block")
async def block(request: Request, db: DB, who: Who, chat_id: IdPath):
    settings = request.app.state.settings
    return await _act(request, db, who, lambda: service.end(db, settings, actor=who.actor, chat_id=chat_id,
                                                            block=True), done=CHAT_BLOCKED)


@router.post("/console/chat/{chat_id}/case")
async def to_case(request: Request, db: DB, who: Who, chat_id: IdPath):
    form = await request.form()
    typed = {k: str(form.get(k) or "")[:200] for k in ("classification", "province", "city")}
    details, errors = parse_form(ChatContactDetails, form)
    if errors:
        return _console(request, db, who, status_code=422, case_form=typed, error=gettext(N_(
            "Choose the classification and province from the lists, and keep the city under 120 characters.")))
    try:
        _contact, case, _transcript = await run_in_threadpool(
            service.convert_to_case, db, actor=who.actor, chat_id=chat_id, details=details)
    except HarbourError as exc:
        if exc.status_code in (403, 404):
            raise
        db.rollback()
        return _console(request, db, who, status_code=exc.status_code, error=exc.text(), case_form=typed)
    return redirect(f"/console/cases/{case.id}", request, flash=CHAT_CASE_OPENED)


@router.get("/console/chat/transcripts/{transcript_id}")
def transcript(request: Request, db: DB, who: Who, transcript_id: IdPath):
    row = service.read_transcript(db, actor=who.actor, transcript_id=transcript_id)
    return render(request, "hotline/chat_transcript.html", {"active": "cases", "t": row})


@router.get("/console/chat/case/{case_id}/transcripts")
def case_transcripts(request: Request, db: DB, who: Who, case_id: IdPath):
    rows = service.transcripts_for_case(db, actor=who.actor, case_id=case_id)
    return render(request, "hotline/_chat_transcripts.html", {"rows": rows})


