"""Core tables: users, sessions, API tokens, role policy and the audit chain."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.crypto import EncryptedText
from harbour.core.db import Base, JSONList, UTCDateTime, utcnow


class User(Base):
    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    role: Mapped[str] = mapped_column(String(40), index=True)
    organization: Mapped[str | None] = mapped_column(String(160))
    password_hash: Mapped[str] = mapped_column(String(255))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    time_zone: Mapped[str | None] = mapped_column(String(40))  # None: the deployment's HARBOUR_TIME_ZONE
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    totp_secret: Mapped[str | None] = mapped_column(EncryptedText())
    totp_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    last_totp_step: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def __repr__(self) -> str:  # never print secrets
        return f"<User {self.id} {self.role}>"


class WebSession(Base):
    """Server-side session; the cookie carries a random token, the table its SHA-256."""

    __tablename__ = "web_session"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    mfa_passed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class ApiToken(Base):
    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONList())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class RolePolicy(Base):
    """Per-role security policy set by an administrator (e.g. TOTP required)."""

    __tablename__ = "role_policy"

    role: Mapped[str] = mapped_column(String(40), primary_key=True)
    require_totp: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class AuditEntry(Base):
    """Append-only, hash-chained audit log.  Never updated or deleted."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor_id: Mapped[int | None] = mapped_column(Integer, index=True)
    actor: Mapped[str] = mapped_column(String(120))
    action: Mapped[str] = mapped_column(String(40))
    record_type: Mapped[str] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(80))
    detail: Mapped[dict] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The latest (seq, hash): detects truncation of the chain's tail."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    hash: Mapped[str] = mapped_column(String(64))


class KeyCheck(Base):
    """The key ring this database was sealed with, in a form that proves a ring without revealing it.

    One row (id 1), written when a ring first opens the database (``harbour keys init``, the first
    ``db upgrade``/``demo``, or the first start of a database sealed before this table existed).  Every
    process that touches encrypted data checks its ring against it (``core.keycheck``): the canary must
    decrypt (encryption keys; re-encrypted by rotation like any other field), and the two MACs must match
    (the blind-index key and the audit key, which rotation never changes)."""

    __tablename__ = "key_check"

    id: Mapped[int] = mapped_column(primary_key=True)
    sealed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    canary: Mapped[str] = mapped_column(EncryptedText())
    index_canary: Mapped[str] = mapped_column(String(64))
    audit_canary: Mapped[str] = mapped_column(String(64))


class KeyWorker(Base):
    """A running process that may encrypt (server worker or command), as it last reported itself.

    Key rotation reads these rows: a new key becomes primary only once every live process has loaded it,
    and an old key is retired only once no live process still writes with it (``core.rotation``)."""

    __tablename__ = "key_worker"

    id: Mapped[str] = mapped_column(String(80), primary_key=True)  # host:pid:random
    kind: Mapped[str] = mapped_column(String(20))  # server | command
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    primary_key_id: Mapped[str] = mapped_column(String(40))
    key_ids: Mapped[list[str]] = mapped_column(JSONList())
    writes_with: Mapped[list[str]] = mapped_column(JSONList())


class RateLimit(Base):
    """Per-window request counters shared by every worker (tip form, chat starts; rules in ``core.ratelimit``).

    ``client`` is a keyed blind index of the client's address, never the address itself."""

    __tablename__ = "rate_limit"

    bucket: Mapped[str] = mapped_column(String(40), primary_key=True)
    client: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[int] = mapped_column(Integer, primary_key=True)  # epoch seconds
    hits: Mapped[int] = mapped_column(Integer, default=0)
