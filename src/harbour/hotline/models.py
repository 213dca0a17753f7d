"""Hotline tables.  Survivor-identifying fields are EncryptedText."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.crypto import EncryptedText
from harbour.core.db import Base, JSONList, UTCDateTime, utcnow
from harbour.core.models import User


class Case(Base):
    __tablename__ = "hotline_case"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    outcome: Mapped[str | None] = mapped_column(String(40))
    risk_level: Mapped[str | None] = mapped_column(String(20), index=True)
    victim_count: Mapped[int | None] = mapped_column(Integer)
    age_band: Mapped[str | None] = mapped_column(String(10))
    gender: Mapped[str | None] = mapped_column(String(20))
    citizenship: Mapped[str | None] = mapped_column(String(30))
    exploitation_types: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    indicators: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    recruitment: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    control_means: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    needs: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    province: Mapped[str | None] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    survivor_alias: Mapped[str | None] = mapped_column(EncryptedText())
    notes: Mapped[str | None] = mapped_column(EncryptedText())
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    version: Mapped[int] = mapped_column(Integer, default=1)

    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")
    contacts: Mapped[list[Contact]] = relationship(back_populates="case", order_by="Contact.received_at")
    consents: Mapped[list[Consent]] = relationship(back_populates="case", order_by="Consent.given_at")
    tasks: Mapped[list[Task]] = relationship(back_populates="case", order_by="Task.due_at")
    events: Mapped[list[CaseEvent]] = relationship(back_populates="case", order_by="CaseEvent.id")
    safety_plan: Mapped[SafetyPlan | None] = relationship(back_populates="case", uselist=False)

    __mapper_args__ = {"version_id_col": version}


class Contact(Base):
    __tablename__ = "hotline_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    channel: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    language: Mapped[str | None] = mapped_column(String(8))
    interpreter_language: Mapped[str | None] = mapped_column(String(8))
    caller_type: Mapped[str | None] = mapped_column(String(30))
    classification: Mapped[str | None] = mapped_column(String(20), index=True)
    province: Mapped[str | None] = mapped_column(String(2), index=True)
    city: Mapped[str | None] = mapped_column(String(120))
    summary: Mapped[str | None] = mapped_column(EncryptedText())
    caller_name: Mapped[str | None] = mapped_column(EncryptedText())
    caller_phone: Mapped[str | None] = mapped_column(EncryptedText())
    caller_email: Mapped[str | None] = mapped_column(EncryptedText())
    phone_index: Mapped[str | None] = mapped_column(String(64), index=True)
    anonymous: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(20), default="console")
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case | None] = relationship(back_populates="contacts")


class Consent(Base):
    """Purpose-specific, time-limited, revocable consent given by the survivor."""

    __tablename__ = "hotline_consent"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    method: Mapped[str] = mapped_column(String(20))
    given_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    note: Mapped[str | None] = mapped_column(EncryptedText())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    revoke_reason: Mapped[str | None] = mapped_column(EncryptedText())

    case: Mapped[Case] = relationship(back_populates="consents")
    recorded_by: Mapped[User | None] = relationship(foreign_keys=[recorded_by_id], lazy="joined")

    def is_active(self, at: datetime) -> bool:
        return self.revoked_at is None and self.given_at <= at and (self.expires_at is None or self.expires_at > at)


class ConsentOverride(Base):
    """Imminent-danger override: a reason, then a supervisor's sign-off; time-limited."""

    __tablename__ = "hotline_consent_override"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    purpose: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(EncryptedText())
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    approved: Mapped[bool | None] = mapped_column(Boolean)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship()
    requested_by: Mapped[User] = relationship(foreign_keys=[requested_by_id], lazy="joined")
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id], lazy="joined")

    def is_active(self, at: datetime) -> bool:
        return bool(self.approved) and self.expires_at is not None and self.expires_at > at


class Task(Base):
    __tablename__ = "hotline_task"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="general")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    case: Mapped[Case] = relationship(back_populates="tasks")
    assigned_to: Mapped[User | None] = relationship(foreign_keys=[assigned_to_id], lazy="joined")


class SafetyPlan(Base):
    __tablename__ = "hotline_safety_plan"
    __table_args__ = (UniqueConstraint("case_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"))
    safe_to_call_back: Mapped[str] = mapped_column(String(10), default="unknown")
    safe_to_leave_voicemail: Mapped[str] = mapped_column(String(10), default="unknown")
    safe_to_text: Mapped[str] = mapped_column(String(10), default="unknown")
    safe_times: Mapped[str | None] = mapped_column(EncryptedText())
    code_word: Mapped[str | None] = mapped_column(EncryptedText())
    notes: Mapped[str | None] = mapped_column(EncryptedText())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    case: Mapped[Case] = relationship(back_populates="safety_plan")


class Escalation(Base):
    """An emergency escalation, e.g. a warm transfer to 9-1-1."""

    __tablename__ = "hotline_escalation"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_contact.id"))
    kind: Mapped[str] = mapped_column(String(20), default="911_transfer")
    reason: Mapped[str] = mapped_column(EncryptedText())
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))


class CaseEvent(Base):
    """The case timeline.  ``data`` holds codes and ids only, never personal data."""

    __tablename__ = "hotline_case_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    kind: Mapped[str] = mapped_column(String(40))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    data: Mapped[dict] = mapped_column(JSON, default=dict)

    case: Mapped[Case] = relationship(back_populates="events")
    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id], lazy="joined")
