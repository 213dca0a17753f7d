"""Live chat business rules.  Queue state lives in the database so every server worker agrees.

Functions are keyword-only, check the actor's role, write audit entries for state changes (not for each
message: those are the conversation itself, encrypted at rest) and commit once.  State-changing functions
return the events to publish (``[(channel, event), ...]``); the WebSocket layer publishes them after commit.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import ValidationError as PydanticValidationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from harbour.core import ratelimit
from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import HOTLINE_ROLES, Role
from harbour.core.config import Settings
from harbour.core.crypto import keyring
from harbour.core.db import atomic, utcnow
from harbour.core.errors import Conflict, Forbidden, HarbourError, NotFound, TooLarge, ValidationFailed
from harbour.core.i18n import N_, gettext, reset_language, set_language
from harbour.core.models import User
from harbour.core.security import ensure_role
from harbour.hotline import service as hotline
from harbour.hotline.chat.choices import NOTICES, ChatStatus, CloseReason, Sender
from harbour.hotline.chat.models import ChatAvailability, ChatBlock, ChatMessage, ChatSession, ChatTranscript
from harbour.hotline.choices import Channel
from harbour.hotline.schemas import CaseCreate, ChatContactDetails, ContactCreate

Events = list[tuple[str, dict]]
PRESENCE = timedelta(minutes=3)  # an available advocate whose console has not been seen for this long is off duty
OPEN = (ChatStatus.queued.value, ChatStatus.active.value)
_REF = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


class ChatUnavailable(Conflict):
    code = "chat_unavailable"


def token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def client_index(address: str | None) -> str | None:
    """A keyed blind index of the visitor's address: lets a block hold without keeping the address."""
    return keyring().blind_index(address, domain="chat_client") if address else None


def _staff(actor: Actor) -> None:
    ensure_role(actor, HOTLINE_ROLES, N_("Only hotline staff can work with chats."))


def ch_chat(session_id: int) -> str:
    return f"chat:{session_id}"


def ch_advocate(user_id: int) -> str:
    return f"advocate:{user_id}"


QUEUE = "queue"


def message_event(msg: ChatMessage) -> dict:
    return {"type": "message", "session": msg.session_id, "id": msg.id, "sender": msg.sender, "body": msg.body,
            "at": msg.at.isoformat(timespec="seconds")}


def _status_event(chat: ChatSession) -> dict:
    return {"type": "status", "session": chat.id, "status": chat.status, "reason": chat.close_reason}


def _system(db: Session, chat: ChatSession, code: str) -> ChatMessage:
    msg = ChatMessage(session_id=chat.id, sender=Sender.system.value, body=code, at=utcnow())
    db.add(msg)
    db.flush()
    return msg


# -- on duty ------------------------------------------------------------------
def within_hours(settings: Settings, now: datetime | None = None) -> bool:
    if not settings.chat_hours:
        return True
    start_s, end_s = settings.chat_hours.split("-")
    start, end = time.fromisoformat(start_s), time.fromisoformat(end_s) if end_s != "24:00" else time.max
    local = (now or utcnow()).astimezone(ZoneInfo(settings.chat_timezone)).time()
    return start <= local < end if start <= end else (local >= start or local < end)


def advocates_on_duty(db: Session, now: datetime | None = None) -> int:
    now = now or utcnow()
    return db.execute(
        select(func.count()).select_from(ChatAvailability).join(User, User.id == ChatAvailability.user_id)
        .where(ChatAvailability.available.is_(True), ChatAvailability.last_seen_at >= now - PRESENCE,
               User.is_active.is_(True), User.role.in_([r.value for r in HOTLINE_ROLES]))).scalar_one()


def is_open(db: Session, settings: Settings, now: datetime | None = None) -> bool:
    """Chat is open when inside the configured hours (if any) and at least one advocate is on duty."""
    return within_hours(settings, now) and advocates_on_duty(db, now) > 0


@atomic
def set_available(db: Session, *, actor: Actor, available: bool) -> Events:
    _staff(actor)
    row = db.get(ChatAvailability, actor.id) or ChatAvailability(user_id=actor.id)
    row.available, row.updated_at, row.last_seen_at = available, utcnow(), utcnow()
    db.add(row)
    audit(db, actor, "update", "chat_availability", actor.id, detail={"available": available})
    db.commit()
    return [(QUEUE, {"type": "queue"})]


@atomic
def touch(db: Session, *, actor: Actor) -> bool:
    """The advocate's console is open: keeps them on duty.  Returns their availability."""
    _staff(actor)
    row = db.get(ChatAvailability, actor.id)
    if row is None:
        return False
    row.last_seen_at = utcnow()
    db.commit()
    return row.available


def availability(db: Session, *, actor: Actor) -> bool:
    row = db.get(ChatAvailability, actor.id)
    return bool(row and row.available)


# -- the visitor side -----------------------------------------------------------
def _blocked(db: Session, *, index: str | None, hashed: str | None, now: datetime) -> bool:
    conds = [c for c in ((ChatBlock.client_index == index) if index else None,
                         (ChatBlock.token_hash == hashed) if hashed else None) if c is not None]
    if not conds:
        return False
    from sqlalchemy import or_

    return db.execute(select(ChatBlock.id).where(ChatBlock.expires_at > now, or_(*conds)).limit(1)).first() \
        is not None


@atomic
def start_chat(db: Session, settings: Settings, *, language: str, address: str | None,
               previous_token: str | None = None) -> tuple[ChatSession, str, Events]:
    """Open an anonymous chat in the queue.  Returns the session, the visitor's secret (for a cookie only)
    and the events to publish.  Each client (``address``) may start ``chat_starts`` chats per window (429 beyond)."""
    if language not in ("en", "fr"):
        raise ValidationFailed(N_("Choose English or French."), fields={"language": N_("Choose English or French.")})
    now = utcnow()
    index = client_index(address)
    if _blocked(db, index=index, hashed=token_hash(previous_token) if previous_token else None, now=now):
        raise Forbidden(N_("Chat is not available from this connection right now. You can call the hotline at "
                           "any time."))
    if not is_open(db, settings, now):
        raise ChatUnavailable(N_("No advocate is available for chat right now. Please call the hotline."))
    ratelimit.enforce(db, ratelimit.chat_starts(settings), address=address, message=N_(
        "You have started several chats in a short time. Please wait a few minutes before starting another one."))
    raw = secrets.token_urlsafe(32)
    chat = ChatSession(reference="CH-" + "".join(secrets.choice(_REF) for _ in range(7)), token_hash=token_hash(raw),
                       language=language, status=ChatStatus.queued.value, queued_at=now, last_visitor_at=now,
                       last_seen_at=now, client_index=index)
    db.add(chat)
    db.flush()
    audit(db, Actor.system("public-chat"), "create", "chat_session", chat.id, detail={"language": language})
    db.commit()
    return chat, raw, [(QUEUE, {"type": "queue"})]


def visitor_chat(db: Session, raw_token: str | None) -> ChatSession | None:
    if not raw_token or len(raw_token) > 100:
        return None
    return db.execute(select(ChatSession).where(ChatSession.token_hash == token_hash(raw_token))).scalar_one_or_none()


def queue_place(db: Session, chat: ChatSession) -> int | None:
    """1 for the first in line; None once the chat is no longer waiting."""
    if chat.status != ChatStatus.queued.value:
        return None
    ahead = db.execute(select(func.count()).select_from(ChatSession).where(
        ChatSession.status == ChatStatus.queued.value,
        (ChatSession.queued_at < chat.queued_at) | ((ChatSession.queued_at == chat.queued_at)
                                                    & (ChatSession.id < chat.id)))).scalar_one()
    return ahead + 1


def _queued(what):
    """The waiting chats, first in line first: the one queue order (``queue_place`` counts the same way)."""
    return select(what).where(ChatSession.status == ChatStatus.queued.value).order_by(ChatSession.queued_at,
                                                                                         ChatSession.id)


def queued_ids(db: Session) -> list[int]:
    """The waiting chats, first in line first (``queue_place`` of each is its position here, from 1)."""
    return list(db.execute(_queued(ChatSession.id)).scalars())


def visitor_seen(db: Session, chat_id: int) -> None:
    db.execute(update(ChatSession).where(ChatSession.id == chat_id).values(last_seen_at=utcnow()))
    db.commit()


@atomic
def visitor_close(db: Session, *, chat_id: int) -> Events:
    """Quick exit or "end chat" from the visitor."""
    chat = db.get(ChatSession, chat_id)
    if chat is None or chat.status not in OPEN:
        return []
    return _close(db, chat, CloseReason.visitor_left, Actor.system("public-chat"))


def _clean(settings: Settings, body: object) -> str:
    if not isinstance(body, str):
        raise ValidationFailed(N_("A message must be text."))
    body = body.replace("\r\n", "\n").replace("\r", "\n").strip()
    if not body:
        raise ValidationFailed(N_("The message is empty."))
    if len(body) > settings.chat_max_chars:
        raise TooLarge(N_("The message is too long (at most %(max)s characters)."), max=settings.chat_max_chars)
    if any((ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) < 0xA0 for ch in body):
        raise ValidationFailed(N_("Please remove unusual control characters and try again."))
    return body


def _visitor_message(db: Session, settings: Settings, chat_id: int, body: object, now: datetime) -> ChatMessage:
    text = _clean(settings, body)
    chat = db.get(ChatSession, chat_id)
    if chat is None or chat.status not in OPEN:
        raise Conflict(N_("This chat has ended."))
    msg = ChatMessage(session_id=chat.id, sender=Sender.visitor.value, body=text, at=now)
    db.add(msg)
    chat.last_visitor_at = chat.last_seen_at = now
    return msg


def _advocate_message(db: Session, settings: Settings, actor: Actor, chat_id: int, body: object,
                      now: datetime) -> ChatMessage:
    text = _clean(settings, body)
    _staff(actor)
    chat = _load(db, chat_id)
    if chat.advocate_id != actor.id:
        raise Forbidden(N_("This chat is handled by another advocate."))
    if chat.status != ChatStatus.active.value:
        raise Conflict(N_("This chat has ended."))
    msg = ChatMessage(session_id=chat.id, sender=Sender.advocate.value, author_id=actor.id, body=text, at=now)
    db.add(msg)
    return msg


@atomic
def post_messages(db: Session, settings: Settings, items: list[tuple[Actor | None, int, object]]
                  ) -> list[tuple[ChatMessage | None, HarbourError | None]]:
    """Store several messages in one transaction (one commit: the group commit that keeps latency low under
    load).  Each item is ``(actor, chat_id, body)``; ``actor`` None means the visitor of that chat (the caller
    has already matched the visitor's secret).  Returns, per item, the message or the error that refused it."""
    now = utcnow()
    out: list[tuple[ChatMessage | None, HarbourError | None]] = []
    # Round trips, not Python, set the cost of a batch (above all on PostgreSQL across a network): the batch's
    # chats come in one query (later lookups hit the session's identity map) and its messages go in one
    # multi-row INSERT at the end (no autoflush of each message before the next lookup).
    chat_ids = {chat_id for _actor, chat_id, _body in items if isinstance(chat_id, int)}
    loaded = db.execute(select(ChatSession).where(ChatSession.id.in_(chat_ids))).scalars().all() if chat_ids else []
    with db.no_autoflush:
        for actor, chat_id, body in items:
            try:
                msg = _visitor_message(db, settings, chat_id, body, now) if actor is None else \
                    _advocate_message(db, settings, actor, chat_id, body, now)
                out.append((msg, None))
            except HarbourError as exc:
                out.append((None, exc))
    db.commit()
    del loaded  # held until here: the identity map keeps only weak references
    return out


def post_visitor_message(db: Session, settings: Settings, *, chat_id: int, body: object) -> tuple[ChatMessage, Events]:
    [(msg, error)] = post_messages(db, settings, [(None, chat_id, body)])
    if error is not None:
        raise error
    return msg, [(ch_chat(chat_id), message_event(msg))]


# -- the advocate side ----------------------------------------------------------
def _load(db: Session, chat_id: int) -> ChatSession:
    chat = db.get(ChatSession, chat_id)
    if chat is None:
        raise NotFound()
    return chat


def _may_handle(actor: Actor, chat: ChatSession) -> None:
    """The assigned advocate handles a chat; a supervisor may step in on any."""
    _staff(actor)
    if chat.advocate_id != actor.id and actor.role != Role.hotline_supervisor:
        raise Forbidden(N_("This chat is handled by another advocate."))


def queue(db: Session, *, actor: Actor) -> list[ChatSession]:
    _staff(actor)
    return list(db.execute(_queued(ChatSession)).scalars())


def waiting_count(db: Session, *, actor: Actor) -> int:
    """How many visitors wait (for the console's menu); 0 for anyone who does not work with chats."""
    if actor.role not in HOTLINE_ROLES:
        return 0
    return db.execute(select(func.count()).select_from(_queued(ChatSession.id).subquery())).scalar_one()


def my_chats(db: Session, *, actor: Actor) -> list[ChatSession]:
    _staff(actor)
    return list(db.execute(select(ChatSession).where(ChatSession.advocate_id == actor.id,
                                                     ChatSession.status == ChatStatus.active.value)
                           .order_by(ChatSession.taken_at)).scalars())


def recent_closed(db: Session, *, actor: Actor, limit: int = 10) -> list[ChatSession]:
    """This advocate's recently closed chats (to turn into a case after the visitor has gone)."""
    _staff(actor)
    return list(db.execute(select(ChatSession).where(ChatSession.advocate_id == actor.id,
                                                     ChatSession.status == ChatStatus.closed.value)
                           .order_by(ChatSession.closed_at.desc()).limit(limit)).scalars())


def chat_for_advocate(db: Session, *, actor: Actor, chat_id: int) -> ChatSession:
    chat = _load(db, chat_id)
    _may_handle(actor, chat)
    return chat


def messages(db: Session, *, chat_id: int) -> list[ChatMessage]:
    return list(db.execute(select(ChatMessage).where(ChatMessage.session_id == chat_id)
                           .order_by(ChatMessage.id)).scalars())


def advocate_messages(db: Session, *, actor: Actor, chat_id: int) -> list[ChatMessage]:
    chat_for_advocate(db, actor=actor, chat_id=chat_id)
    return messages(db, chat_id=chat_id)


@atomic
def take(db: Session, *, actor: Actor, chat_id: int) -> tuple[ChatSession, Events]:
    """Take the chat from the queue: one conditional UPDATE, so two advocates (on any workers) cannot both win."""
    _staff(actor)
    now = utcnow()
    result = db.execute(update(ChatSession).where(ChatSession.id == chat_id,
                                                  ChatSession.status == ChatStatus.queued.value)
                        .values(status=ChatStatus.active.value, advocate_id=actor.id, taken_at=now,
                                last_visitor_at=now))
    if result.rowcount != 1:
        db.rollback()
        _load(db, chat_id)
        raise Conflict(N_("Another advocate has already taken this chat, or it has ended."))
    chat = _load(db, chat_id)
    db.refresh(chat)
    msg = _system(db, chat, "taken")
    audit(db, actor, "take", "chat_session", chat.id)
    db.commit()
    return chat, [(ch_chat(chat.id), _status_event(chat)), (ch_chat(chat.id), message_event(msg)),
                  (ch_advocate(actor.id), {"type": "assigned", "session": chat.id}), (QUEUE, {"type": "queue"})]


def post_advocate_message(db: Session, settings: Settings, *, actor: Actor, chat_id: int,
                          body: object) -> tuple[ChatMessage, Events]:
    [(msg, error)] = post_messages(db, settings, [(actor, chat_id, body)])
    if error is not None:
        raise error
    return msg, [(ch_chat(chat_id), message_event(msg))]


@atomic
def transfer(db: Session, *, actor: Actor, chat_id: int, to_user_id: int) -> tuple[ChatSession, Events]:
    chat = _load(db, chat_id)
    _may_handle(actor, chat)
    if chat.status != ChatStatus.active.value:
        raise Conflict(N_("Only a chat in progress can be transferred."))
    target = db.get(User, to_user_id)
    if target is None or not target.is_active or target.role not in HOTLINE_ROLES:
        raise ValidationFailed(N_("Chats can only be transferred to active hotline staff."),
                               fields={"to_user_id": N_("Not a hotline staff member.")})
    if target.id == chat.advocate_id:
        raise ValidationFailed(N_("This advocate already has the chat."), fields={"to_user_id": N_("Choose a colleague.")})
    previous = chat.advocate_id
    chat.advocate_id = target.id
    chat.last_visitor_at = utcnow()
    msg = _system(db, chat, "transferred")
    audit(db, actor, "transfer", "chat_session", chat.id, detail={"from": previous, "to": target.id})
    db.commit()
    events = [(ch_chat(chat.id), message_event(msg)), (ch_advocate(target.id), {"type": "assigned", "session": chat.id})]
    if previous:
        events.append((ch_advocate(previous), {"type": "unassigned", "session": chat.id}))
    return chat, events


def _close(db: Session, chat: ChatSession, reason: CloseReason, actor: Actor) -> Events:
    result = db.execute(update(ChatSession).where(ChatSession.id == chat.id, ChatSession.status.in_(OPEN))
                        .values(status=ChatStatus.closed.value, closed_at=utcnow(), close_reason=reason.value))
    if result.rowcount != 1:
        db.rollback()
        return []
    db.refresh(chat)
    msg = _system(db, chat, reason.value)
    audit(db, actor, "close", "chat_session", chat.id, detail={"reason": reason.value})
    db.commit()
    return [(ch_chat(chat.id), message_event(msg)), (ch_chat(chat.id), _status_event(chat)),
            (QUEUE, {"type": "queue"})]


@atomic
def end(db: Session, settings: Settings, *, actor: Actor, chat_id: int, block: bool = False) -> Events:
    """End a chat; with ``block`` also refuse new chats from this visitor for ``chat_block_hours``."""
    chat = _load(db, chat_id)
    _may_handle(actor, chat)
    if chat.status == ChatStatus.closed.value and not block:
        raise Conflict(N_("This chat has already ended."))
    if block:
        db.add(ChatBlock(client_index=chat.client_index, token_hash=chat.token_hash, session_reference=chat.reference,
                         by_id=actor.id, created_at=utcnow(),
                         expires_at=utcnow() + timedelta(hours=settings.chat_block_hours)))
        audit(db, actor, "block", "chat_session", chat.id, detail={"hours": settings.chat_block_hours})
        db.flush()
    if chat.status == ChatStatus.closed.value:
        db.commit()
        return []
    return _close(db, chat, CloseReason.blocked if block else CloseReason.ended, actor)


def transcript_text(db: Session, chat: ChatSession) -> tuple[str, int]:
    """The conversation as plain text, in the chat's language (system notices translated)."""
    lines = []
    token = set_language(chat.language)
    try:
        for m in messages(db, chat_id=chat.id):
            who = {"visitor": gettext(N_("Visitor")), "advocate": gettext(N_("Advocate")),
                   "system": gettext(N_("Harbour"))}[m.sender]
            body = m.body
            if m.sender == "system":
                body = CloseReason(m.body).label if m.body in CloseReason.codes() else gettext(NOTICES.get(m.body, m.body))
            lines.append(f"[{m.at.strftime('%Y-%m-%d %H:%M:%S')} UTC] {who}: {body}")
    finally:
        reset_language(token)
    return "\n".join(lines), len(lines)


@atomic
def convert_to_case(db: Session, *, actor: Actor, chat_id: int, details: ChatContactDetails | dict | None = None):
    """Turn the chat into a hotline contact (channel web chat) and a case, with the transcript attached.  The
    contact carries the classification and place the advocate chose (``details``); the case takes its place
    from the contact, as every case opened from a contact does."""
    if not isinstance(details, ChatContactDetails):
        try:
            details = ChatContactDetails.model_validate(details or {})
        except PydanticValidationError as exc:
            raise ValidationFailed(N_(
                "Choose the classification and province from the lists, and keep the city under 120 characters."),
                                   fields={str(e["loc"][0]): N_("Choose one of the listed options.")
                                           for e in exc.errors() if e.get("loc")}) from exc
    chat = _load(db, chat_id)
    _may_handle(actor, chat)
    if chat.case_id is not None:
        raise Conflict(N_("This chat is already part of a case."))
    text, count = transcript_text(db, chat)
    if not count:
        raise ValidationFailed(N_("There is nothing to record yet."))
    end_at = chat.closed_at or utcnow()
    contact, _matches = hotline.create_contact(db, actor=actor, data=ContactCreate(
        channel=Channel.web_chat, received_at=chat.queued_at, language=chat.language, anonymous=True,
        classification=details.classification, province=details.province, city=details.city,
        duration_seconds=min(86_400, int((end_at - (chat.taken_at or chat.queued_at)).total_seconds())),
        summary=gettext(N_("Web chat %(reference)s: the transcript is attached to the case."),
                        reference=chat.reference)))
    case = hotline.open_case(db, actor=actor, data=CaseCreate(contact_ids=[contact.id], assigned_to_id=actor.id))
    chat = _load(db, chat_id)
    transcript = ChatTranscript(session_reference=chat.reference, case_id=case.id, contact_id=contact.id,
                                language=chat.language, message_count=count, body=text, created_by_id=actor.id,
                                created_at=utcnow())
    db.add(transcript)
    chat.contact_id, chat.case_id = contact.id, case.id
    db.flush()
    audit(db, actor, "create", "chat_transcript", transcript.id, purpose="case_management",
          detail={"case": case.id, "contact": contact.id, "messages": count})
    db.commit()
    return contact, case, transcript


@atomic
def transcripts_for_case(db: Session, *, actor: Actor, case_id: int) -> list[ChatTranscript]:
    _staff(actor)
    rows = list(db.execute(select(ChatTranscript).where(ChatTranscript.case_id == case_id)
                           .order_by(ChatTranscript.id)).scalars())
    return rows


@atomic
def read_transcript(db: Session, *, actor: Actor, transcript_id: int) -> ChatTranscript:
    _staff(actor)
    row = db.get(ChatTranscript, transcript_id)
    if row is None:
        raise NotFound()
    audit(db, actor, "read", "chat_transcript", row.id, purpose="case_management", detail={"case": row.case_id})
    db.commit()
    return row


# -- housekeeping ---------------------------------------------------------------
@atomic
def sweep(db: Session, settings: Settings, *, now: datetime | None = None) -> Events:
    """Close active chats whose visitor has not written for ``chat_idle_seconds`` (for their safety) and
    queued chats whose visitor has gone; delete closed chats not turned into a case after the retention
    period, and expired blocks.  Safe to run in every worker at once (conditional updates)."""
    now = now or utcnow()
    idle_before = now - timedelta(seconds=settings.chat_idle_seconds)
    events: Events = []
    system = Actor.system("chat-sweeper")
    idle = list(db.execute(select(ChatSession).where(ChatSession.status == ChatStatus.active.value,
                                                     ChatSession.last_visitor_at < idle_before)).scalars())
    gone = list(db.execute(select(ChatSession).where(ChatSession.status == ChatStatus.queued.value,
                                                     ChatSession.last_seen_at < idle_before)).scalars())
    for chat in idle:
        events += _close(db, chat, CloseReason.idle, system)
    for chat in gone:
        events += _close(db, chat, CloseReason.abandoned, system)
    old = now - timedelta(hours=settings.chat_retention_hours)
    expired = [i for (i,) in db.execute(select(ChatSession.id).where(
        ChatSession.status == ChatStatus.closed.value, ChatSession.closed_at < old, ChatSession.case_id.is_(None)))]
    if expired:
        db.execute(delete(ChatMessage).where(ChatMessage.session_id.in_(expired)))
        db.execute(delete(ChatSession).where(ChatSession.id.in_(expired)))
    db.execute(update(ChatSession).where(ChatSession.status == ChatStatus.closed.value,
                                         ChatSession.client_index.is_not(None)).values(client_index=None))
    db.execute(delete(ChatBlock).where(ChatBlock.expires_at < now))
    db.commit()
    return events
