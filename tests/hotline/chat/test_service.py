"""Chat rules at the service level, on SQLite and PostgreSQL: queue, on duty, take, transfer, end, block, case."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, text

from harbour.core.errors import Conflict, Forbidden, TooLarge, ValidationFailed
from harbour.core.models import AuditEntry
from harbour.hotline.chat import service
from harbour.hotline.chat.models import ChatAvailability, ChatMessage, ChatSession, ChatTranscript
from harbour.hotline.models import Case, Contact
from tests.conftest import actor_of


@pytest.fixture
def advocate(make_user, db):
    user = make_user("hotline_advocate")
    service.set_available(db, actor=actor_of(user), available=True)
    return user


def _start(db, settings, lang="en", address="192.0.2.10"):
    chat, raw, _events = service.start_chat(db, settings, language=lang, address=address)
    return chat, raw


def test_queue_order_and_place(db, settings, advocate):
    chats = [_start(db, settings)[0] for _ in range(3)]
    assert [service.queue_place(db, c) for c in chats] == [1, 2, 3]
    assert [c.id for c in service.queue(db, actor=actor_of(advocate))] == [c.id for c in chats]
    service.take(db, actor=actor_of(advocate), chat_id=chats[0].id)
    for c in chats:
        db.refresh(c)
    assert service.queue_place(db, chats[0]) is None
    assert [service.queue_place(db, c) for c in chats[1:]] == [1, 2]
    assert service.queued_ids(db) == [c.id for c in chats[1:]]  # what the per-process recount reads


def test_chat_closed_without_an_available_advocate(db, settings, make_user):
    with pytest.raises(service.ChatUnavailable):
        _start(db, settings)
    user = make_user("hotline_advocate")
    service.set_available(db, actor=actor_of(user), available=True)
    assert service.is_open(db, settings)
    row = db.get(ChatAvailability, user.id)
    row.last_seen_at = datetime.now(UTC) - timedelta(minutes=10)  # console closed long ago: off duty
    db.commit()
    assert not service.is_open(db, settings)
    service.touch(db, actor=actor_of(user))
    assert service.is_open(db, settings)
    service.set_available(db, actor=actor_of(user), available=False)
    assert not service.is_open(db, settings)


def test_configured_hours(settings):
    settings.chat_hours, settings.chat_timezone = "09:00-17:00", "America/Toronto"
    assert service.within_hours(settings, datetime(2026, 1, 5, 15, 0, tzinfo=UTC))  # 10:00 in Toronto
    assert not service.within_hours(settings, datetime(2026, 1, 5, 23, 0, tzinfo=UTC))  # 18:00
    settings.chat_hours = "22:00-06:00"  # overnight
    assert service.within_hours(settings, datetime(2026, 1, 5, 5, 0, tzinfo=UTC))  # 00:00
    assert not service.within_hours(settings, datetime(2026, 1, 5, 17, 0, tzinfo=UTC))  # 12:00


def test_out_of_hours_refuses_even_with_advocates(db, settings, advocate):
    settings.chat_hours = "00:00-00:01"
    if service.within_hours(settings):
        settings.chat_hours = "00:02-00:03"
    with pytest.raises(service.ChatUnavailable):
        _start(db, settings)


def test_language_must_be_en_or_fr(db, settings, advocate):
    with pytest.raises(ValidationFailed):
        _start(db, settings, lang="de")


def test_take_is_once_only(db, settings, advocate, make_user):
    other = make_user("hotline_advocate")
    chat, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    with pytest.raises(Conflict):
        service.take(db, actor=actor_of(other), chat_id=chat.id)
    assert db.get(ChatSession, chat.id).advocate_id == advocate.id


@pytest.mark.parametrize("role", ["provider_staff", "researcher", "admin", "agency_analyst"])
def test_only_hotline_roles_see_and_take_chats(db, settings, advocate, make_user, role):
    chat, _ = _start(db, settings)
    outsider = actor_of(make_user(role))
    with pytest.raises(Forbidden):
        service.queue(db, actor=outsider)
    with pytest.raises(Forbidden):
        service.take(db, actor=outsider, chat_id=chat.id)
    with pytest.raises(Forbidden):
        service.set_available(db, actor=outsider, available=True)
    assert service.queue(db, actor=actor_of(advocate))  # allowed side


def test_several_chats_at_once_and_only_the_assigned_advocate_writes(db, settings, advocate, make_user):
    other = make_user("hotline_advocate")
    a, _ = _start(db, settings)
    b, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=a.id)
    service.take(db, actor=actor_of(advocate), chat_id=b.id)
    assert {c.id for c in service.my_chats(db, actor=actor_of(advocate))} == {a.id, b.id}
    service.post_advocate_message(db, settings, actor=actor_of(advocate), chat_id=b.id, body="Hello B")
    with pytest.raises(Forbidden):
        service.post_advocate_message(db, settings, actor=actor_of(other), chat_id=a.id, body="intruding")
    with pytest.raises(Forbidden):
        service.advocate_messages(db, actor=actor_of(other), chat_id=a.id)
    assert [m.body for m in service.messages(db, chat_id=b.id) if m.sender == "advocate"] == ["Hello B"]
    assert not [m for m in service.messages(db, chat_id=a.id) if m.sender == "advocate"]


def test_transfer(db, settings, advocate, make_user):
    colleague = make_user("hotline_advocate")
    stranger = make_user("hotline_advocate")
    provider = make_user("provider_staff")
    chat, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    with pytest.raises(ValidationFailed):
        service.transfer(db, actor=actor_of(advocate), chat_id=chat.id, to_user_id=provider.id)
    with pytest.raises(Forbidden):
        service.transfer(db, actor=actor_of(stranger), chat_id=chat.id, to_user_id=stranger.id)
    _chat, events = service.transfer(db, actor=actor_of(advocate), chat_id=chat.id, to_user_id=colleague.id)
    assert db.get(ChatSession, chat.id).advocate_id == colleague.id
    assert (f"advocate:{colleague.id}", {"type": "assigned", "session": chat.id}) in events
    assert (f"advocate:{advocate.id}", {"type": "unassigned", "session": chat.id}) in events
    with pytest.raises(Forbidden):  # the previous advocate no longer writes in it
        service.post_advocate_message(db, settings, actor=actor_of(advocate), chat_id=chat.id, body="still here?")
    service.post_advocate_message(db, settings, actor=actor_of(colleague), chat_id=chat.id, body="Hello")


def test_supervisor_may_step_in(db, settings, advocate, make_user):
    supervisor = make_user("hotline_supervisor")
    colleague = make_user("hotline_advocate")
    chat, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    service.transfer(db, actor=actor_of(supervisor), chat_id=chat.id, to_user_id=colleague.id)
    assert db.get(ChatSession, chat.id).advocate_id == colleague.id


def test_message_validation(db, settings, advocate):
    chat, _ = _start(db, settings)
    with pytest.raises(ValidationFailed):
        service.post_visitor_message(db, settings, chat_id=chat.id, body="   ")
    with pytest.raises(ValidationFailed):
        service.post_visitor_message(db, settings, chat_id=chat.id, body="bell\x07")
    with pytest.raises(ValidationFailed):
        service.post_visitor_message(db, settings, chat_id=chat.id, body={"not": "text"})
    with pytest.raises(TooLarge):
        service.post_visitor_message(db, settings, chat_id=chat.id, body="x" * (settings.chat_max_chars + 1))
    msg, _ = service.post_visitor_message(db, settings, chat_id=chat.id, body="x" * settings.chat_max_chars)
    assert len(msg.body) == settings.chat_max_chars


def test_a_batch_stores_the_valid_messages_and_refuses_each_bad_one_in_few_statements(db, settings, advocate,
                                                                                     make_user):
    from sqlalchemy import event

    other = make_user("hotline_advocate")
    chats = [_start(db, settings)[0] for _ in range(5)]
    for c in chats[:4]:
        service.take(db, actor=actor_of(advocate), chat_id=c.id)
    service.end(db, settings, actor=actor_of(advocate), chat_id=chats[3].id)
    me = actor_of(advocate)
    good = [(None, c.id, f"Fictional visitor line {i}") for i, c in enumerate(chats[:3])] * 5 + \
        [(me, c.id, f"Fictional advocate line {i}") for i, c in enumerate(chats[:3])] * 2
    bad = [(None, chats[3].id, "to an ended chat"), (me, chats[3].id, "to an ended chat"),
           (actor_of(other), chats[0].id, "not my chat"), (None, chats[1].id, "   "), (me, 999_999, "no such chat"),
           (me, chats[4].id, "still in the queue")]
    items = good[:10] + bad + good[10:]
    statements = []
    listener = lambda *args: statements.append(args[2])  # noqa: E731
    event.listen(db.get_bind(), "before_cursor_execute", listener)
    try:
        results = service.post_messages(db, settings, items)
    finally:
        event.remove(db.get_bind(), "before_cursor_execute", listener)
    assert [error is None for _msg, error in results] == [True] * 10 + [False] * len(bad) + [True] * 11
    assert [type(error).__name__ for _msg, error in results[10:16]] == [
        "Conflict", "Conflict", "Forbidden", "ValidationFailed", "NotFound", "Forbidden"]
    stored = [m for m, _e in results if m is not None]
    assert len({m.id for m in stored}) == 21 and all(m.id for m in stored)
    db.expire_all()
    assert [m.body for m in service.messages(db, chat_id=chats[0].id) if m.sender != "system"] == \
        [body for _a, chat_id, body in good[:10] + good[10:] if chat_id == chats[0].id]
    assert not [m for m in service.messages(db, chat_id=chats[3].id) if m.sender not in ("system",)]
    # one query for the batch's chats and one for the unknown id, not a query per message; on PostgreSQL (a
    # network round trip per statement) one multi-row INSERT for the batch (SQLite inserts in-process, row by row)
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2
    inserts = [s for s in statements if s.lstrip().upper().startswith("INSERT")]
    assert len(inserts) == (21 if settings.is_sqlite else 1)


def test_injection_is_stored_verbatim_and_encrypted(db, settings, advocate):
    chat, _ = _start(db, settings)
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    msg, events = service.post_visitor_message(db, settings, chat_id=chat.id, body=payload)
    assert events[0][1]["body"] == payload  # text, never HTML: the client renders it with textContent
    raw = db.execute(text("SELECT body FROM chat_message WHERE id = :i"), {"i": msg.id}).scalar_one()
    assert "script" not in raw and payload not in raw


def test_end_and_block(db, settings, advocate):
    chat, raw = _start(db, settings, address="192.0.2.77")
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    events = service.end(db, settings, actor=actor_of(advocate), chat_id=chat.id, block=True)
    assert any(e[1].get("status") == "closed" for e in events)
    assert db.get(ChatSession, chat.id).close_reason == "blocked"
    with pytest.raises(Forbidden):  # same address
        _start(db, settings, address="192.0.2.77")
    with pytest.raises(Forbidden):  # same browser (old chat cookie), other address
        service.start_chat(db, settings, language="en", address="198.51.100.1", previous_token=raw)
    _start(db, settings, address="198.51.100.2")  # others are not affected
    with pytest.raises(Conflict):
        service.post_visitor_message(db, settings, chat_id=chat.id, body="hello?")
    # the block expires
    db.execute(text("UPDATE chat_block SET expires_at = :t"), {"t": datetime(2020, 1, 1)})
    db.commit()
    _start(db, settings, address="192.0.2.77")


def test_idle_chat_closes_for_safety_and_abandoned_queue_entries_go(db, settings, advocate):
    settings.chat_idle_seconds = 300
    active, _ = _start(db, settings)
    waiting, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=active.id)
    assert service.sweep(db, settings) == []  # nothing idle yet
    later = datetime.now(UTC) + timedelta(seconds=301)
    events = service.sweep(db, settings, now=later)
    db.expire_all()
    assert db.get(ChatSession, active.id).close_reason == "idle"
    assert db.get(ChatSession, waiting.id).close_reason == "abandoned"
    assert [m.body for m in service.messages(db, chat_id=active.id)][-1] == "idle"
    assert {"type": "status", "session": active.id, "status": "closed", "reason": "idle"} in [e for _c, e in events]


def test_visitor_reply_keeps_the_chat_open(db, settings, advocate):
    chat, _ = _start(db, settings)
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    msg, _ = service.post_visitor_message(db, settings, chat_id=chat.id, body="still here")
    db.execute(text("UPDATE chat_session SET last_visitor_at = :t WHERE id = :i"),
               {"t": datetime.now(UTC).replace(tzinfo=None) if settings.is_sqlite else datetime.now(UTC),
                "i": chat.id})
    db.commit()
    service.sweep(db, settings, now=datetime.now(UTC) + timedelta(seconds=settings.chat_idle_seconds - 5))
    db.expire_all()
    assert db.get(ChatSession, chat.id).status == "active"


def test_retention_deletes_closed_chats_not_made_into_cases(db, settings, advocate):
    chat, _ = _start(db, settings)
    service.post_visitor_message(db, settings, chat_id=chat.id, body="forget me")
    service.visitor_close(db, chat_id=chat.id)
    service.sweep(db, settings, now=datetime.now(UTC) + timedelta(hours=settings.chat_retention_hours + 1))
    db.expire_all()
    assert db.get(ChatSession, chat.id) is None
    assert not db.execute(select(ChatMessage).where(ChatMessage.session_id == chat.id)).first()


def test_chat_becomes_contact_and_case_with_encrypted_transcript(db, settings, advocate, make_user):
    chat, _ = _start(db, settings, lang="fr")
    service.take(db, actor=actor_of(advocate), chat_id=chat.id)
    phrase = "Je cherche un refuge près de Thunder Bay <b>vite</b>"
    service.post_visitor_message(db, settings, chat_id=chat.id, body=phrase)
    service.post_advocate_message(db, settings, actor=actor_of(advocate), chat_id=chat.id, body="Je suis là.")
    with pytest.raises(Forbidden):
        service.convert_to_case(db, actor=actor_of(make_user("hotline_advocate")), chat_id=chat.id)
    contact, case, transcript = service.convert_to_case(db, actor=actor_of(advocate), chat_id=chat.id)
    db.expire_all()
    contact, case = db.get(Contact, contact.id), db.get(Case, case.id)
    assert contact.channel == "web_chat" and contact.case_id == case.id and contact.language == "fr"
    assert case.assigned_to_id == advocate.id
    assert any(e.kind == "contact_attached" for e in case.events)
    row = db.get(ChatTranscript, transcript.id)
    assert phrase in row.body and "Je suis là." in row.body and row.message_count == 3
    raw = db.execute(text("SELECT body FROM chat_transcript WHERE id = :i"), {"i": row.id}).scalar_one()
    assert "Thunder Bay" not in raw and "refuge" not in raw
    actions = {(a.action, a.record_type) for a in db.execute(select(AuditEntry)).scalars()}
    assert {("create", "contact"), ("create", "case"), ("create", "chat_transcript")} <= actions
    with pytest.raises(Conflict):
        service.convert_to_case(db, actor=actor_of(advocate), chat_id=chat.id)
    # a closed chat that became a case is kept past the retention period
    service.end(db, settings, actor=actor_of(advocate), chat_id=chat.id)
    service.sweep(db, settings, now=datetime.now(UTC) + timedelta(hours=settings.chat_retention_hours + 1))
    assert db.get(ChatSession, chat.id) is not None
