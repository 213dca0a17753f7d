"""Public pages (get help, report a tip, signs of trafficking), sign-in and account pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from harbour.core import flash, ratelimit, security
from harbour.core.choices import Province, Role, scopes_for_role
from harbour.core.errors import HarbourError
from harbour.core.i18n import N_, current_language, gettext
from harbour.core.models import WebSession
from harbour.core.security import DbSession, Principal, WebUser, verify_csrf
from harbour.core.types import IdPath
from harbour.core.web import env, redirect, render
from harbour.hotline import service as hotline
from harbour.web.navigation import console_menu

env.globals["console_menu"] = console_menu  # the console menu's sections (display only)

router = APIRouter(dependencies=[Depends(verify_csrf)], include_in_schema=False)
DB = DbSession
Who = WebUser

SIGNED_OUT = flash.message("account.signed_out", N_("You have signed out."))
TOKEN_REVOKED = flash.message("account.token_revoked", N_("Token revoked."))
LANGUAGE_SAVED = flash.message("account.language_saved", N_("Language saved."))
TIME_ZONE_SAVED = flash.message("account.time_zone_saved", N_("Time zone saved."))
TOTP_OFF = flash.message("account.totp_off", N_("Two-step verification turned off."))
POLICY_SAVED = flash.message("admin.policy_saved", N_("Sign-in policy saved."))
ACCOUNT_UNLOCKED = flash.message("admin.account_unlocked", N_("Account unlocked."))
ACCOUNT_ENABLED = flash.message("admin.account_enabled", N_("Account enabled."))
ACCOUNT_DISABLED = flash.message("admin.account_disabled", N_("Account disabled."))


# -- public pages -------------------------------------------------------------
@router.get("/")
def home():
    return RedirectResponse("/help", status_code=303)


@router.get("/help")
def get_help(request: Request):
    return render(request, "public/help.html", {"active": "help"})


@router.get("/signs")
def signs(request: Request):
    return render(request, "public/signs.html", {"active": "signs"})


@router.get("/tip")
def tip_form(request: Request):
    return render(request, "public/tip.html", {"active": "tip", "provinces": Province.options(), "form": {}})


@router.post("/tip")
def tip_submit(request: Request, db: DB, summary: Annotated[str, Form()] = "",
               province: Annotated[str, Form()] = "", city: Annotated[str, Form()] = ""):
    form = {"summary": summary, "province": province, "city": city}
    errors = {}
    if not summary.strip():
        errors["summary"] = gettext(N_("Tell us what you saw or heard."))
    elif len(summary) > 5000:
        errors["summary"] = gettext(N_("Please keep it under 5,000 characters."))
    if province and province not in Province.codes():
        errors["province"] = gettext(N_("Choose a province or territory from the list."))
    if len(city) > 120:
        errors["city"] = gettext(N_("Please keep it under 120 characters."))
    if any(ord(ch) < 32 and ch not in "\n\r\t" for ch in summary + city):
        errors["summary"] = gettext(N_("Please remove unusual control characters and try again."))
    if not errors and not ratelimit.hit(db, ratelimit.tips(request.app.state.settings),
                                        address=request.client.host if request.client else None):
        return render(request, "public/tip.html", {
            "active": "tip", "provinces": Province.options(), "form": form,
            "form_error": gettext(N_("Too many reports from this connection. Please wait a few minutes, or call the hotline.")),
        }, status_code=429)
    if not errors:
        try:
            hotline.submit_public_tip(db, summary=summary, province=province or None, city=city or None,
                                      language=current_language())
        except ValidationError:
            errors["summary"] = gettext(N_("Please remove unusual control characters and try again."))
    if errors:
        return render(request, "public/tip.html", {
            "active": "tip", "provinces": Province.options(), "form": form, "errors": errors,
            "form_error": gettext(N_("Please correct the highlighted fields.")),
        }, status_code=422)
    return redirect("/tip/thanks")


@router.get("/tip/thanks")
def tip_thanks(request: Request):
    return render(request, "public/tip_thanks.html", {"active": "tip"})


# -- sign in ------------------------------------------------------------------
def _safe_next(next_path: str | None) -> str:
    if next_path and next_path.startswith("/") and not next_path.startswith("//") and "\\" not in next_path:
        return next_path
    return "/console"


def _set_session_cookie(request: Request, response, token: str) -> None:
    response.set_cookie(security.SESSION_COOKIE, token, httponly=True, samesite="strict",
                        secure=request.app.state.settings.secure_cookies, path="/")


@router.get("/login")
def login_form(request: Request, next: str = "/console", reason: str | None = None):
    notice = gettext(N_("You were signed out after 15 minutes without activity.")) if reason == "expired" else None
    return render(request, "auth/login.html", {"next": _safe_next(next), "notice": notice})


@router.post("/login")
def login(request: Request, db: DB, username: Annotated[str, Form(max_length=80)] = "",
          password: Annotated[str, Form(max_length=200)] = "", next: Annotated[str, Form()] = "/console"):
    settings = request.app.state.settings
    try:
        user = security.authenticate(db, settings, username=username.strip(), password=password)
    except security.LoginFailed as exc:
        return render(request, "auth/login.html", {"next": _safe_next(next), "form_error": exc.text(),
                                                   "username": username}, status_code=400)
    second = security.needs_second_factor(db, user)
    token, ws = security.start_session(db, user, mfa_passed=not second)
    db.commit()
    response = redirect("/login/totp" if second else _safe_next(next))
    _set_session_cookie(request, response, token)
    if user.preferred_language in ("en", "fr"):
        response.set_cookie(security.LANG_COOKIE, user.preferred_language, httponly=True, samesite="strict",
                            secure=settings.secure_cookies)
    return response


def _pending(request: Request, db: Session) -> WebSession:
    token = request.cookies.get(security.SESSION_COOKIE)
    ws = security.load_session(db, request.app.state.settings, token)
    if ws is None:
        raise security.LoginRequired("/console", "expired" if token else None)
    security.remember_session(request, ws, pending=True)
    return ws


@router.get("/login/totp")
def totp_form(request: Request, db: DB):
    ws = _pending(request, db)
    if ws.mfa_passed:
        return redirect("/console")
    ctx = {"enrol": not ws.user.totp_enabled}
    if ctx["enrol"]:
        secret = security.begin_totp_enrolment(db, ws.user)
        db.commit()
        ctx.update(secret=secret, uri=security.totp_uri(ws.user, secret))
    return render(request, "auth/totp.html", ctx)


@router.post("/login/totp")
def totp_submit(request: Request, db: DB, code: Annotated[str, Form(max_length=12)] = ""):
    ws = _pending(request, db)
    user = ws.user
    ok = security.enable_totp(db, user=user, code=code) if not user.totp_enabled else security.verify_totp(db, user, code)
    if not ok:
        if security.second_factor_failed(db, request.app.state.settings, ws):
            response = render(request, "auth/login.html", {"next": "/console", "form_error": gettext(
                N_("Too many failed attempts: this account is locked for a while. Try again later."))},
                status_code=400)
            response.delete_cookie(security.SESSION_COOKIE, path="/")
            return response
        ctx = {"enrol": not user.totp_enabled, "form_error": gettext(N_("That code did not work. Try the current one."))}
        if ctx["enrol"]:
            ctx.update(secret=user.totp_secret, uri=security.totp_uri(user, user.totp_secret))
        return render(request, "auth/totp.html", ctx, status_code=400)
    user.failed_logins = 0
    ws.mfa_passed = True
    db.commit()
    return redirect("/console")


@router.post("/logout")
def logout(request: Request, db: DB):
    ws = security.load_session(db, request.app.state.settings, request.cookies.get(security.SESSION_COOKIE))
    if ws is not None:
        security.end_session(db, ws)
        db.commit()
    response = redirect("/login", request, flash=SIGNED_OUT)
    response.delete_cookie(security.SESSION_COOKIE, path="/")
    return response


# -- console home and account -------------------------------------------------
@router.get("/console")
def console_home(request: Request, who: Who):
    if who.role == Role.hotline_supervisor:
        return redirect("/console/dashboard")
    if who.role == Role.hotline_advocate:
        return redirect("/console/contacts/new")
    if who.role == Role.admin:
        return redirect("/admin")
    if who.role == Role.provider_staff:
        return redirect("/portal")
    if who.role == Role.plan_coordinator:
        return redirect("/console/plan")
    if who.role in (Role.agency_analyst, Role.agency_data_steward):
        return redirect("/console/sharing")
    return redirect("/account")


def _account_ctx(db: Session, who: Principal, **extra) -> dict:
    tokens = security.tokens_of(db, user_id=who.user.id)
    return {"active": "account", "tokens": tokens, "scopes": scopes_for_role(who.role),
            "totp_required": security.role_requires_totp(db, who.role), "zone_errors": {}, **extra}


@router.get("/account")
def account(request: Request, db: DB, who: Who):
    return render(request, "auth/account.html", _account_ctx(db, who))


@router.post("/account/tokens")
def create_token(request: Request, db: DB, who: Who, name: Annotated[str, Form(max_length=120)] = "",
                 scopes: Annotated[list[str], Form()] = [], days: Annotated[int, Form(ge=1, le=365)] = 90):  # noqa: B006
    try:
        raw, _tok = security.issue_token(db, actor=who.actor, user=who.user, name=name or "token", scopes=scopes,
                                         days=days)
    except HarbourError as exc:
        return render(request, "auth/account.html", _account_ctx(
            db, who, form_error=exc.text(), form={"name": name, "scopes": scopes, "days": days}), status_code=422)
    db.commit()
    return render(request, "auth/account.html", _account_ctx(db, who, new_token=raw))


@router.post("/account/tokens/{token_id}/revoke")
def revoke_token(request: Request, db: DB, who: Who, token_id: IdPath):
    security.revoke_own_token(db, actor=who.actor, token_id=token_id)
    db.commit()
    return redirect("/account", request, flash=TOKEN_REVOKED)


@router.post("/account/language")
def set_language(request: Request, db: DB, who: Who, language: Annotated[str, Form()] = "en"):
    if language in ("en", "fr"):
        who.user.preferred_language = language
        db.commit()
    return redirect("/account?lang=" + (language if language in ("en", "fr") else "en"), request, flash=LANGUAGE_SAVED)


@router.post("/account/time-zone")
def set_time_zone(request: Request, db: DB, who: Who, time_zone: Annotated[str, Form(max_length=60)] = ""):
    try:
        security.set_time_zone(db, user=who.user, time_zone=time_zone)
    except HarbourError as exc:
        db.rollback()
        return render(request, "auth/account.html", _account_ctx(db, who, zone_errors={"time_zone": exc.text()}),
                      status_code=422)
    db.commit()
    return redirect("/account", request, flash=TIME_ZONE_SAVED)


@router.post("/account/totp/disable")
def totp_disable(request: Request, db: DB, who: Who):
    security.disable_totp(db, user=who.user)
    db.commit()
    return redirect("/account", request, flash=TOTP_OFF)


@router.post("/account/totp/enable")
def totp_enable(request: Request, db: DB, who: Who):
    """Start enrolment: the next sign-in step asks for the authenticator code."""
    security.begin_totp_enrolment(db, who.user)
    who.session.mfa_passed = False
    db.commit()
    return redirect("/login/totp")


# -- administration -------------------------------------------------------------
@router.get("/admin")
def admin(request: Request, db: DB, who: Who):
    users, policies = security.admin_overview(db, actor=who.actor)
    return render(request, "admin/admin.html", {"active": "admin", "users": users, "roles": Role.options(),
                                                "policies": policies, "now": security.now_utc()})


@router.post("/admin/roles/{role}/totp")
def admin_role_totp(request: Request, db: DB, who: Who, role: str, require: Annotated[str, Form()] = ""):
    security.set_role_policy(db, actor=who.actor, role=role, require_totp=require == "on")
    db.commit()
    return redirect("/admin", request, flash=POLICY_SAVED)


@router.post("/admin/users/{user_id}/unlock")
def admin_unlock(request: Request, db: DB, who: Who, user_id: IdPath):
    security.unlock_user(db, actor=who.actor, user_id=user_id)
    db.commit()
    return redirect("/admin", request, flash=ACCOUNT_UNLOCKED)


@router.post("/admin/users/{user_id}/active")
def admin_active(request: Request, db: DB, who: Who, user_id: IdPath, active: Annotated[str, Form()] = ""):
    security.set_user_active(db, actor=who.actor, user_id=user_id, active=active == "on")
    db.commit()
    return redirect("/admin", request, flash=ACCOUNT_ENABLED if active == "on" else ACCOUNT_DISABLED)
