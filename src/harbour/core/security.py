"""Authentication, roles, sessions, lockout, TOTP, API tokens and CSRF."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

import pyotp
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from fastapi import Depends, Request
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import ApiScope, Role
from harbour.core.config import Settings
from harbour.core.db import utcnow
from harbour.core.errors import Forbidden, HarbourError, NotAuthenticated, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.models import ApiToken, RolePolicy, User, WebSession

SESSION_COOKIE = "harbour_session"
CSRF_COOKIE = "harbour_csrf"
LANG_COOKIE = "harbour_lang"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


_DUMMY_HASH = _hasher.hash("timing-equaliser-not-a-password")


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def validate_password(password: str) -> None:
    if len(password) < 12:
        raise ValidationFailed(N_("Passwords need at least 12 characters."), fields={"password": N_("Too short.")})


# -- principals -----------------------------------------------------------
@dataclass
class Principal:
    user: User
    scopes: frozenset[str] | None = None  # None: a browser session, every scope of the role
    session: WebSession | None = None
    token: ApiToken | None = None
    extra: dict = field(default_factory=dict)

    @property
    def actor(self) -> Actor:
        return Actor(self.user.id, self.user.username, self.user.role, self.user.organization)

    @property
    def role(self) -> str:
        return self.user.role

    def require_scope(self, scope: ApiScope) -> None:
        if self.scopes is not None and scope.value not in self.scopes:
            raise Forbidden(N_("This API token lacks the scope %(scope)s."), scope=scope.value)

    def actor_for(self, scope: ApiScope) -> Actor:
        """The acting user, once the token is known to carry ``scope``."""
        self.require_scope(scope)
        return self.actor


def ensure_role(actor: Actor, roles, message: str = N_("Your role does not allow this.")) -> None:
    """Service-layer role check; raises 403 when the actor's role is not listed."""
    if actor.role not in {str(r) for r in roles}:
        raise Forbidden(message)


# -- users --------------------------------------------------------------
def create_user(
    db: Session, *, actor: Actor, username: str, display_name: str, role: str, password: str,
    organization: str | None = None, preferred_language: str = "en",
) -> User:
    if role not in Role.codes():
        raise ValidationFailed(N_("Unknown role."), fields={"role": N_("Choose one of the listed roles.")})
    validate_password(password)
    if db.execute(select(User.id).where(User.username == username)).first():
        raise ValidationFailed(N_("That username is taken."), fields={"username": N_("Already in use.")})
    user = User(
        username=username, display_name=display_name, role=role, organization=organization,
        password_hash=hash_password(password), preferred_language=preferred_language,
    )
    db.add(user)
    db.flush()
    audit(db, actor, "create", "user", user.id, detail={"role": role})
    return user


def set_password(db: Session, *, actor: Actor, user: User, password: str) -> None:
    validate_password(password)
    user.password_hash = hash_password(password)
    user.failed_logins = 0
    user.locked_until = None
    audit(db, actor, "update", "user", user.id, detail={"field": "password"})


def role_requires_totp(db: Session, role: str) -> bool:
    policy = db.get(RolePolicy, role)
    return bool(policy and policy.require_totp)


def set_role_policy(db: Session, *, actor: Actor, role: str, require_totp: bool) -> RolePolicy:
    ensure_role(actor, {Role.admin})
    if role not in Role.codes():
        raise ValidationFailed(N_("Unknown role."))
    policy = db.get(RolePolicy, role) or RolePolicy(role=role)
    policy.require_totp = require_totp
    policy.updated_at = utcnow()
    db.add(policy)
    audit(db, actor, "update", "role_policy", role, detail={"require_totp": require_totp})
    return policy


# -- sign in --------------------------------------------------------------
class LoginFailed(HarbourError):
    status_code = 400
    code = "login_failed"


def authenticate(db: Session, settings: Settings, *, username: str, password: str) -> User:
    """Check a password with lockout after repeated failures.  Same message for unknown users."""
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    now = utcnow()
    if user is None:
        _check_password(_DUMMY_HASH, password)
        raise LoginFailed(N_("Sign-in failed: check the username and password."))
    if user.locked_until and user.locked_until > now:
        audit(db, Actor(user.id, user.username, user.role), "login_refused", "user", user.id,
              detail={"reason": "locked"})
        db.commit()
        raise LoginFailed(N_("Too many failed attempts: this account is locked for a while. Try again later."))
    if not user.is_active or not _check_password(user.password_hash, password):
        user.failed_logins += 1
        detail = {"reason": "bad_password", "failures": user.failed_logins}
        if user.failed_logins >= settings.lockout_threshold:
            user.locked_until = now + timedelta(minutes=settings.lockout_minutes)
            user.failed_logins = 0
            detail["locked"] = True
        audit(db, Actor(user.id, user.username, user.role), "login_failed", "user", user.id, detail=detail)
        db.commit()
        raise LoginFailed(N_("Sign-in failed: check the username and password."))
    user.locked_until = None  # the failure count is cleared once sign-in completes (after TOTP if needed)
    user.last_login_at = now
    return user


def start_session(db: Session, user: User, *, mfa_passed: bool) -> tuple[str, WebSession]:
    token = secrets.token_urlsafe(32)
    if mfa_passed:
        user.failed_logins = 0
    ws = WebSession(token_hash=sha256(token), user_id=user.id, csrf_token=secrets.token_urlsafe(32),
                    mfa_passed=mfa_passed)
    db.add(ws)
    db.flush()
    audit(db, Actor(user.id, user.username, user.role), "login", "user", user.id,
          detail={"mfa": mfa_passed})
    return token, ws


def needs_second_factor(db: Session, user: User) -> bool:
    return user.totp_enabled or role_requires_totp(db, user.role)


def end_session(db: Session, ws: WebSession) -> None:
    ws.ended_at = utcnow()
    audit(db, Actor(ws.user.id, ws.user.username, ws.user.role), "logout", "user", ws.user_id)


def load_session(db: Session, settings: Settings, token: str | None) -> WebSession | None:
    if not token:
        return None
    ws = db.execute(select(WebSession).where(WebSession.token_hash == sha256(token))).scalar_one_or_none()
    if ws is None or ws.ended_at is not None or not ws.user.is_active:
        return None
    now = utcnow()
    if now - ws.last_seen_at > timedelta(minutes=settings.session_idle_minutes):
        ws.ended_at = now
        db.commit()
        return None
    ws.last_seen_at = now
    db.commit()
    return ws


# -- TOTP ---------------------------------------------------------------
def begin_totp_enrolment(db: Session, user: User) -> str:
    if not user.totp_secret or user.totp_enabled is False:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def totp_uri(user: User, secret: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name="Harbour")


def verify_totp(db: Session, user: User, code: str) -> bool:
    """Check a 6-digit code (±30 s), refusing a code already used."""
    if not user.totp_secret or not code or not code.strip().isdigit():
        return False
    totp = pyotp.TOTP(user.totp_secret)
    now = utcnow()
    for offset in (0, -1, 1):
        at = now + timedelta(seconds=30 * offset)
        step = int(at.timestamp()) // 30
        if hmac.compare_digest(totp.at(at), code.strip()):
            if user.last_totp_step is not None and step <= user.last_totp_step:
                return False
            user.last_totp_step = step
            return True
    return False


def second_factor_failed(db: Session, settings: Settings, ws: WebSession) -> bool:
    """Count a wrong TOTP code like a wrong password; at the threshold lock the account and end the
    half-signed-in session.  Returns True when the account is now locked."""
    user = ws.user
    user.failed_logins += 1
    detail = {"reason": "bad_totp", "failures": user.failed_logins}
    locked = user.failed_logins >= settings.lockout_threshold
    if locked:
        user.locked_until = utcnow() + timedelta(minutes=settings.lockout_minutes)
        user.failed_logins = 0
        ws.ended_at = utcnow()
        detail["locked"] = True
    audit(db, Actor(user.id, user.username, user.role), "login_failed", "user", user.id, detail=detail)
    db.commit()
    return locked


# -- API tokens -----------------------------------------------------------
def issue_token(
    db: Session, *, actor: Actor, user: User, name: str, scopes: list[str], days: int | None = 90,
) -> tuple[str, ApiToken]:
    from harbour.core.choices import scopes_for_role

    allowed = {code for code, _label in scopes_for_role(user.role)}
    if not scopes or any(s not in allowed for s in scopes):
        raise ValidationFailed(N_("Choose at least one scope that your role may use."),
                               fields={"scopes": N_("Not a scope for this role.")})
    if actor.id != user.id and actor.role != Role.admin:
        raise Forbidden()
    raw = "hbr_" + secrets.token_urlsafe(32)
    tok = ApiToken(
        user_id=user.id, name=name[:120] or "token", prefix=raw[:10], token_hash=sha256(raw),
        scopes=sorted(set(scopes)), expires_at=(utcnow() + timedelta(days=days)) if days else None,
    )
    db.add(tok)
    db.flush()
    audit(db, actor, "create", "api_token", tok.id, detail={"scopes": tok.scopes, "user": user.id})
    return raw, tok


def revoke_token(db: Session, *, actor: Actor, token: ApiToken) -> None:
    if actor.id != token.user_id and actor.role != Role.admin:
        raise Forbidden()
    token.revoked_at = utcnow()
    audit(db, actor, "revoke", "api_token", token.id)


def principal_from_bearer(db: Session, header: str | None) -> Principal:
    if not header or not header.lower().startswith("bearer "):
        raise NotAuthenticated()
    raw = header.split(" ", 1)[1].strip()
    tok = db.execute(select(ApiToken).where(ApiToken.token_hash == sha256(raw))).scalar_one_or_none()
    now = utcnow()
    if tok is None or tok.revoked_at or (tok.expires_at and tok.expires_at < now) or not tok.user.is_active:
        raise NotAuthenticated(N_("The API token is not valid, expired or revoked."))
    tok.last_used_at = now
    return Principal(user=tok.user, scopes=frozenset(tok.scopes), token=tok)


# -- FastAPI dependencies ---------------------------------------------------
def get_db(request: Request):
    db = request.app.state.sessionmaker()
    try:
        yield db
    finally:
        db.close()


def get_settings_dep(request: Request) -> Settings:
    return request.app.state.settings


def set_time_zone(db: Session, *, user: User, time_zone: str) -> None:
    """The user's own time zone for the console (one of Canada's, or UTC); empty: the deployment's default."""
    from harbour.core import timezones

    if time_zone and time_zone not in timezones.CODES:
        raise ValidationFailed(N_("Choose one of the listed time zones."),
                               fields={"time_zone": N_("Choose one of the listed time zones.")})
    user.time_zone = time_zone or None


@dataclass(frozen=True)
class UserView:
    """A detached snapshot of the signed-in user for templates: safe to render even after a rollback."""

    id: int
    username: str
    display_name: str
    role: str
    organization: str | None
    totp_enabled: bool
    preferred_language: str
    time_zone: str | None = None

    @classmethod
    def of(cls, user: User) -> UserView:
        return cls(user.id, user.username, user.display_name, user.role, user.organization, user.totp_enabled,
                   user.preferred_language, user.time_zone)


def remember_session(request: Request, ws: WebSession, *, pending: bool = False) -> None:
    """Keep what pages need from the session on the request (CSRF token, who is signed in)."""
    request.state.csrf = ws.csrf_token
    if not pending:
        request.state.web_session = ws
        request.state.web_user = UserView.of(ws.user)


class LoginRequired(Exception):
    """Raised by web dependencies; answered with a redirect to the sign-in page."""

    def __init__(self, next_path: str = "/console", reason: str | None = None):
        self.next_path = next_path
        self.reason = reason


def web_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    settings: Settings = request.app.state.settings
    ws = load_session(db, settings, request.cookies.get(SESSION_COOKIE))
    if ws is None:
        reason = "expired" if request.cookies.get(SESSION_COOKIE) else None
        raise LoginRequired(request.url.path, reason)
    if not ws.mfa_passed:
        raise LoginRequired("/login/totp")
    remember_session(request, ws)
    return Principal(user=ws.user, session=ws)


def optional_web_principal(request: Request, db: Session = Depends(get_db)) -> Principal | None:
    ws = load_session(db, request.app.state.settings, request.cookies.get(SESSION_COOKIE))
    if ws is None or not ws.mfa_passed:
        return None
    remember_session(request, ws)
    return Principal(user=ws.user, session=ws)


def api_principal(request: Request, db: Session = Depends(get_db)) -> Principal:
    principal = principal_from_bearer(db, request.headers.get("authorization"))
    db.commit()
    request.state.user_id = principal.user.id  # the access log's user_id (web sessions: web_user)
    return principal


# -- CSRF -----------------------------------------------------------------
def expected_csrf(request: Request, db: Session) -> list[str]:
    """Tokens this browser may send: its session's (signed in, even half-way before TOTP) and its
    anonymous cookie's (pages rendered before sign-in).  Both are secrets the browser holds in
    HttpOnly, SameSite=Strict cookies or in the server-side session."""
    tokens = []
    raw = request.cookies.get(SESSION_COOKIE)
    if raw:
        ws = db.execute(select(WebSession).where(WebSession.token_hash == sha256(raw))).scalar_one_or_none()
        if ws is not None and ws.ended_at is None:
            tokens.append(ws.csrf_token)
    if request.cookies.get(CSRF_COOKIE):
        tokens.append(request.cookies[CSRF_COOKIE])
    return tokens


async def verify_csrf(request: Request, db: Session = Depends(get_db)) -> None:
    """Router dependency for HTML forms: every state-changing request carries the token."""
    if request.method in SAFE_METHODS:
        return
    sent = request.headers.get("x-csrf-token")
    if not sent:
        form = await request.form()
        sent = form.get("csrf_token")
    if not isinstance(sent, str) or not any(hmac.compare_digest(sent, t) for t in expected_csrf(request, db)):
        raise Forbidden(N_("The form has expired or did not come from Harbour. Reload the page and try again."))


def now_utc() -> datetime:
    return utcnow()


# -- administration -----------------------------------------------------------
def unlock_user(db: Session, *, actor: Actor, user_id: int) -> User:
    ensure_role(actor, {Role.admin})
    user = db.get(User, user_id)
    if user is None:
        from harbour.core.errors import NotFound

        raise NotFound()
    user.locked_until, user.failed_logins = None, 0
    audit(db, actor, "update", "user", user.id, detail={"field": "locked_until"})
    return user


def set_user_active(db: Session, *, actor: Actor, user_id: int, active: bool) -> User:
    ensure_role(actor, {Role.admin})
    user = db.get(User, user_id)
    if user is None:
        from harbour.core.errors import NotFound

        raise NotFound()
    if user.id == actor.id and not active:
        raise ValidationFailed(N_("You cannot disable your own account."))
    user.is_active = active
    audit(db, actor, "update", "user", user.id, detail={"field": "is_active", "value": active})
    return user


def enable_totp(db: Session, *, user: User, code: str) -> bool:
    """Confirm enrolment with a first valid code."""
    if verify_totp(db, user, code):
        user.totp_enabled = True
        user.failed_logins = 0
        audit(db, Actor(user.id, user.username, user.role), "update", "user", user.id, detail={"field": "totp"})
        return True
    return False


def disable_totp(db: Session, *, user: User) -> None:
    if role_requires_totp(db, user.role):
        raise ValidationFailed(N_("Your role requires a second factor; it cannot be turned off."))
    user.totp_enabled, user.totp_secret, user.last_totp_step = False, None, None
    audit(db, Actor(user.id, user.username, user.role), "update", "user", user.id, detail={"field": "totp_off"})


def tokens_of(db: Session, *, user_id: int) -> list[ApiToken]:
    return list(db.execute(select(ApiToken).where(ApiToken.user_id == user_id)
                           .order_by(ApiToken.created_at.desc())).scalars())


def revoke_own_token(db: Session, *, actor: Actor, token_id: int) -> ApiToken:
    """Revoke one of your own tokens; anyone else's token is "not found"."""
    tok = db.get(ApiToken, token_id)
    if tok is None or tok.user_id != actor.id:
        from harbour.core.errors import NotFound

        raise NotFound()
    revoke_token(db, actor=actor, token=tok)
    return tok


def admin_overview(db: Session, *, actor: Actor) -> tuple[list[User], dict[str, bool]]:
    """Every account and the per-role policy, for the administration page."""
    ensure_role(actor, {Role.admin})
    users = list(db.execute(select(User).order_by(User.role, User.username)).scalars())
    policies = {p.role: p.require_totp for p in db.execute(select(RolePolicy)).scalars()}
    return users, policies


# Annotated dependency aliases every router uses.
DbSession = Annotated[Session, Depends(get_db)]
WebUser = Annotated[Principal, Depends(web_principal)]
ApiUser = Annotated[Principal, Depends(api_principal)]
