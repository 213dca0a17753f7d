"""Live web chat tables.  Message bodies and transcripts are EncryptedText; the visitor is known only by
the hash of a random session secret and, while a chat is open or blocked, a keyed blind index of their address."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.crypto import EncryptedText
from harbour.core.db import Base, UTCDateTime, utcnow
from harbour.core.models import User


class ChatSession(Base):
    __tablename__ = "chat_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(20), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    language: Mapped[str] = mapped_column(String(2), default="en")
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    queued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    taken_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), index=True)
    close_reason: Mapped[str | None] = mapped_column(String(20))
    advocate_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"), index=True)
    last_visitor_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    client_index: Mapped[str | None] = mapped_column(String(64))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_contact.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("hotline_case.id"))

    advocate: Mapped[User | None] = relationship(foreign_keys=[advocate_id], lazy="joined")


class ChatMessage(Base):
    __tablename__ = "chat_message"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("chat_session.id", ondelete="CASCADE"), index=True)
    sender: Mapped[str] = mapped_column(String(10))  # visitor | advocate | system
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    body: Mapped[str] = mapped_column(EncryptedText())
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatBlock(Base):
    """An advocate's block of an abusive visitor: by session secret and by address (keyed index), time-limited."""

    __tablename__ = "chat_block"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_index: Mapped[str | None] = mapped_column(String(64), index=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    session_reference: Mapped[str] = mapped_column(String(20))
    by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class ChatTranscript(Base):
    """The transcript of a chat turned into a hotline contact and case (encrypted at rest)."""

    __tablename__ = "chat_transcript"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_reference: Mapped[str] = mapped_column(String(20))
    case_id: Mapped[int] = mapped_column(ForeignKey("hotline_case.id"), index=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("hotline_contact.id"), index=True)
    language: Mapped[str] = mapped_column(String(2))
    message_count: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(EncryptedText())
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ChatAvailability(Base):
    """An advocate who marked themselves available for chats; on duty while their console is open."""

    __tablename__ = "chat_availability"

    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), primary_key=True)
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    user: Mapped[User] = relationship(lazy="joined")
