"""Access boundaries, both ways: roles, token scopes, authentication, CSRF, sessions, lockout, TOTP, public tip form."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pyotp
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text

from harbour.core import security
from harbour.core.errors import Forbidden
from harbour.core.models import RolePolicy, User
from harbour.hotline.models import Contact
from tests.conftest import PASSWORD, actor_of, csrf_of

API = "/api/v1/hotline"
STAFF = ("hotline_advocate", "hotline_supervisor")
OUTSIDERS = ("provider_staff", "agency_analyst", "agency_data_steward", "plan_coordinator", "researcher", "admin")
HOTLINE_TABLES = ("hotline_contact", "hotline_case", "hotline_consent", "hotline_consent_override", "hotline_task",
                  "hotline_safety_plan", "hotline_escalation", "hotline_case_event")


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture(autouse=True)
def _cheap_password_hashing(monkeypatch):
    """Argon2 with minimal cost (the stored hash carries its parameters, so verification is unchanged)."""
    from argon2 import PasswordHasher

    monkeypatch.setattr(security, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def db_time(app, dt: datetime):
    """A datetime for a raw SQL parameter: SQLite columns hold naive UTC."""
    return dt.astimezone(UTC).replace(tzinfo=None) if app.state.settings.is_sqlite else dt


def sign_in(c: TestClient, user, password: str = PASSWORD):
    token = csrf_of(c, "/login")
    return c.post("/login", data={"username": user.username, "password": password, "csrf_token": token,
                                  "next": "/console"}, follow_redirects=False)


@pytest.fixture
def other_client(app):
    """A second browser."""
    with TestClient(app) as c:
        yield c


def snapshot(app, tables=HOTLINE_TABLES) -> dict:
    with app.state.engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT * FROM {t} ORDER BY 1")).all() for t in tables}


# -- a small world of hotline records ----------------------------------------------------
@dataclass
class World:
    case: int
    contact: int
    loose_contact: int
    consent: int
    override: int
    task: int


def build_world(client, h) -> World:
    def post(path, body):
        r = client.post(API + path, json=body, headers=h)
        assert r.status_code == 201, r.text
        return r.json()["id"]

    case = post("/cases", {})
    contact = post("/contacts", {"channel": "phone", "caller_name": "Fictional Person", "case_id": case})
    loose = post("/contacts", {"channel": "text"})
    consent = post(f"/cases/{case}/consents", {"purpose": "referral", "method": "verbal"})
    override = post(f"/cases/{case}/overrides", {"purpose": "law_enforcement",
                                                 "reason": "Caller reports they will be moved tonight"})
    task = post(f"/cases/{case}/tasks", {"title": "Call back", "due_at": now().isoformat()})
    return World(case, contact, loose, consent, override, task)


def endpoints(w: World) -> list[tuple[str, str, dict | None, str]]:
    """Every hotline API endpoint open to all hotline staff: (method, path, body, scope needed)."""
    due = (now() + timedelta(days=1)).isoformat()
    return [
        ("GET", "/contacts", None, "read"),
        ("GET", f"/contacts/{w.contact}", None, "read"),
        ("POST", "/repeat-callers/lookup", {"phone": "613-555-0150"}, "read"),
        ("GET", "/cases", None, "read"),
        ("GET", f"/cases/{w.case}", None, "read"),
        ("GET", f"/cases/{w.case}/timeline", None, "read"),
        ("GET", f"/cases/{w.case}/consents", None, "read"),
        ("GET", "/tasks", None, "read"),
        ("GET", f"/cases/{w.case}/tasks", None, "read"),
        ("GET", f"/cases/{w.case}/safety-plan", None, "read"),
        ("POST", "/contacts", {"channel": "phone"}, "write"),
        ("PATCH", f"/contacts/{w.contact}", {"city": "Thunder Bay"}, "write"),
        ("POST", f"/contacts/{w.loose_contact}/attach", {"case_id": w.case}, "write"),
        ("POST", "/cases", {}, "write"),
        ("PATCH", f"/cases/{w.case}", {"risk_level": "high"}, "write"),
        ("POST", f"/cases/{w.case}/consents", {"purpose": "follow_up", "method": "verbal"}, "write"),
        ("POST", f"/consents/{w.consent}/revoke", {"reason": "Survivor changed their mind"}, "write"),
        ("POST", f"/cases/{w.case}/overrides", {"purpose": "referral", "reason": "Immediate danger reported"},
         "write"),
        ("POST", f"/cases/{w.case}/tasks", {"title": "Follow up", "due_at": due}, "write"),
        ("PATCH", f"/tasks/{w.task}", {"done": True}, "write"),
        ("PUT", f"/cases/{w.case}/safety-plan", {"safe_to_text": "no"}, "write"),
        ("POST", f"/cases/{w.case}/escalations", {"reason": "Caller in danger now"}, "write"),
    ]


def supervisor_only(w: World) -> list[tuple[str, str, dict | None, str]]:
    return [
        ("GET", f"/cases/{w.case}/viewers", None, "read"),
        ("POST", f"/overrides/{w.override}/decision", {"approve": True, "hours": 2}, "write"),
    ]


def test_all_routes_are_covered():
    """The lists above name every hotline API route (a new route must be added to the access tests)."""
    from harbour.hotline.api import router

    w = World(1, 1, 1, 1, 1, 1)
    listed = {(m, re.sub(r"/1(?=/|$)", "/{}", p)) for m, p, _, _ in endpoints(w) + supervisor_only(w)}
    routes = set()
    for route in router.routes:
        assert route.path.startswith(API + "/")
        for method in route.methods - {"HEAD", "OPTIONS"}:
            routes.add((method, re.sub(r"\{[a-z_]+\}", "{}", route.path[len(API):])))
    assert routes == listed, f"not covered: {routes - listed}; stale: {listed - routes}"


# -- roles --------------------------------------------------------------------------------
def test_non_hotline_roles_cannot_get_hotline_tokens(make_user, db):
    from harbour.core.errors import ValidationFailed

    for role in OUTSIDERS:
        user = make_user(role)
        for scopes in (["hotline:read"], ["hotline:write"], ["hotline:read", "hotline:write"]):
            with pytest.raises(ValidationFailed):
                security.issue_token(db, actor=actor_of(user), user=user, name="fictional", scopes=scopes)
            db.rollback()
    for role in STAFF:
        user = make_user(role)
        raw, tok = security.issue_token(db, actor=actor_of(user), user=user, name="fictional",
                                        scopes=["hotline:read", "hotline:write"])
        db.commit()
        assert raw.startswith("hbr_") and tok.token_hash == security.sha256(raw) and raw not in tok.token_hash


def test_non_hotline_roles_are_refused_on_every_endpoint(app, client, make_user, token_for):
    """Tokens issued while the person was hotline staff stop working for hotline data when their role changes."""
    world = build_world(client, token_for(make_user("hotline_advocate")))
    tokens = {}
    for role in OUTSIDERS:
        user = make_user("hotline_advocate")
        tokens[role] = token_for(user)
        with app.state.engine.begin() as conn:
            conn.execute(text("UPDATE user_account SET role = :r WHERE id = :i"), {"r": role, "i": user.id})
    before = snapshot(app, HOTLINE_TABLES + ("audit_log",))
    for role, h in tokens.items():
        for method, path, body, _ in endpoints(world) + supervisor_only(world):
            r = client.request(method, API + path, json=body, headers=h)
            assert r.status_code == 403, f"{role} {method} {path}: {r.status_code} {r.text[:200]}"
            assert r.json()["error"]["code"] == "forbidden"
    assert snapshot(app, HOTLINE_TABLES + ("audit_log",)) == before


@pytest.mark.parametrize("role", STAFF)
def test_hotline_roles_are_allowed_on_every_endpoint(client, make_user, token_for, role):
    world = build_world(client, token_for(make_user("hotline_advocate")))
    h = token_for(make_user(role))
    for method, path, body, _ in endpoints(world):
        r = client.request(method, API + path, json=body, headers=h)
        assert 200 <= r.status_code < 300, f"{role} {method} {path}: {r.status_code} {r.text[:200]}"
    for method, path, body, _ in supervisor_only(world):
        r = client.request(method, API + path, json=body, headers=h)
        if role == "hotline_supervisor":
            assert r.status_code == 200, f"{method} {path}: {r.text}"
        else:
            assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden", f"{method} {path}"


def test_supervisor_only_actions_both_ways(client, make_user, token_for):
    adv_h = token_for(make_user("hotline_advocate"))
    world = build_world(client, adv_h)
    sup_h = token_for(make_user("hotline_supervisor"))
    assert client.get(f"{API}/cases/{world.case}/viewers", headers=adv_h).status_code == 403
    assert client.post(f"{API}/overrides/{world.override}/decision", json={"approve": True},
                       headers=adv_h).status_code == 403
    # the refusal changed nothing: the override is still undecided and a supervisor can decide it
    r = client.post(f"{API}/overrides/{world.override}/decision", json={"approve": True}, headers=sup_h)
    assert r.status_code == 200 and r.json()["approved"] is True
    r = client.get(f"{API}/cases/{world.case}/viewers", headers=sup_h)
    assert r.status_code == 200 and isinstance(r.json(), list)


# -- token scopes ---------------------------------------------------------------------------
def test_token_scopes(app, client, make_user, token_for):
    # -- read only token can read but not write
    adv = make_user("hotline_advocate")
    world = build_world(client, token_for(adv))
    ro = token_for(adv, scopes=("hotline:read",))
    for method, path, body, scope in endpoints(world):
        if scope == "read":
            r = client.request(method, API + path, json=body, headers=ro)
            assert r.status_code == 200, f"{method} {path}: {r.text[:200]}"
    before = snapshot(app)
    for method, path, body, scope in endpoints(world):
        if scope == "write":
            r = client.request(method, API + path, json=body, headers=ro)
            assert r.status_code == 403, f"{method} {path}: {r.status_code}"
            assert r.json()["error"]["code"] == "forbidden"
            assert "hotline:write" in r.json()["error"]["message"]
    assert snapshot(app) == before

    # -- write only token cannot read
    adv = make_user("hotline_advocate")
    world = build_world(client, token_for(adv))
    wo = token_for(adv, scopes=("hotline:write",))
    for method, path, body, scope in endpoints(world):
        if scope == "read":
            r = client.request(method, API + path, json=body, headers=wo)
            assert r.status_code == 403, f"{method} {path}"
            assert "hotline:read" in r.json()["error"]["message"]
    assert client.post(f"{API}/contacts", json={"channel": "email"}, headers=wo).status_code == 201


# -- authentication ----------------------------------------------------------------------------
def _assert_401(r, label):
    assert r.status_code == 401, f"{label}: {r.status_code} {r.text[:200]}"
    assert r.json()["error"]["code"] == "not_authenticated", label
    assert r.json()["error"]["message"]


def test_api_without_a_valid_token_is_401(app, client, make_user, token_for, db, login):
    # -- api without a valid token is 401
    adv = make_user("hotline_advocate")
    good = token_for(adv)
    assert client.get(f"{API}/cases", headers=good).status_code == 200
    raw_token = good["Authorization"].split(" ", 1)[1]
    for label, headers in [
        ("no header", {}),
        ("empty bearer", {"Authorization": "Bearer "}),
        ("made-up token", {"Authorization": "Bearer hbr_not-a-real-token"}),
        ("token with a changed character", {"Authorization": "Bearer " + raw_token[:-1] + (
            "A" if raw_token[-1] != "A" else "B")}),
        ("basic auth", {"Authorization": "Basic aGFyYm91cjpwYXNzd29yZA=="}),
        ("token without scheme", {"Authorization": raw_token}),
    ]:
        _assert_401(client.get(f"{API}/cases", headers=headers), label)
        _assert_401(client.post(f"{API}/contacts", json={"channel": "phone"}, headers=headers), label)
    assert client.get(f"{API}/contacts", headers=good).json()["total"] == 0

    # revoked
    revoked = token_for(adv)
    tok = db.execute(select(security.ApiToken).where(
        security.ApiToken.token_hash == security.sha256(revoked["Authorization"][7:]))).scalar_one()
    assert client.get(f"{API}/cases", headers=revoked).status_code == 200
    security.revoke_token(db, actor=actor_of(adv), token=tok)
    db.commit()
    _assert_401(client.get(f"{API}/cases", headers=revoked), "revoked token")

    # expired
    expiring = token_for(adv)
    assert client.get(f"{API}/cases", headers=expiring).status_code == 200
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE api_token SET expires_at = :t WHERE token_hash = :h"),
                     {"t": db_time(app, now() - timedelta(seconds=1)),
                      "h": security.sha256(expiring["Authorization"][7:])})
    _assert_401(client.get(f"{API}/cases", headers=expiring), "expired token")

    # disabled user: every token of theirs stops working at once
    admin = make_user("admin")
    assert client.get(f"{API}/cases", headers=good).status_code == 200
    security.set_user_active(db, actor=actor_of(admin), user_id=adv.id, active=False)
    db.commit()
    _assert_401(client.get(f"{API}/cases", headers=good), "disabled user")
    security.set_user_active(db, actor=actor_of(admin), user_id=adv.id, active=True)
    db.commit()
    assert client.get(f"{API}/cases", headers=good).status_code == 200

    # -- browser session does not authenticate the api
    adv = make_user("hotline_advocate")
    assert login(adv).status_code == 303
    assert client.get("/account").status_code == 200
    _assert_401(client.get(f"{API}/cases"), "session cookie only")
    _assert_401(client.post(f"{API}/contacts", json={"channel": "phone"}), "session cookie only")


# -- web console -----------------------------------------------------------------------------
def _console_get_paths() -> list[str]:
    from harbour.hotline import views as hotline_views
    from harbour.web import views as site_views

    paths = []
    for router in (site_views.router, hotline_views.router):
        for route in router.routes:
            if "GET" in route.methods and re.match(r"^/(console|account|admin)(/|$)", route.path):
                paths.append(re.sub(r"\{[a-z_]+\}", "1", route.path))
    return paths


def test_console_pages(client, other_client, make_user, login):
    # anonymous visitors are sent to sign in, from every console page
    paths = _console_get_paths()
    assert {"/console", "/account", "/admin"} <= set(paths)
    for path in paths:
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, f"{path}: {r.status_code}"
        assert r.headers["location"].startswith("/login?next="), path
    # and state-changing console posts are refused before they do anything
    r = client.post("/account/totp/enable", data={"csrf_token": csrf_of(client, "/login")}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")

    # signed in, the hotline console is for hotline staff only
    researcher = make_user("researcher")
    assert login(researcher).status_code == 303
    assert client.get("/account").status_code == 200
    for path in ("/console/contacts", "/console/cases", "/console/tasks", "/console/contacts/new", "/admin"):
        assert client.get(path, follow_redirects=False).status_code == 403, path
    adv = make_user("hotline_advocate")
    assert sign_in(other_client, adv).status_code == 303
    for path in ("/console/contacts", "/console/cases", "/console/tasks", "/console/contacts/new"):
        assert other_client.get(path, follow_redirects=False).status_code == 200, path
    assert other_client.get("/admin", follow_redirects=False).status_code == 403


# -- CSRF ------------------------------------------------------------------------------------
def fresh(db, model, key):
    """Read a row as the database has it now (the fixture session would otherwise return its cached copy)."""
    db.rollback()
    db.expire_all()
    return db.get(model, key)


def _contacts(db) -> list[Contact]:
    db.rollback()
    db.expire_all()
    return list(db.execute(select(Contact)).scalars())


def test_csrf_on_forms(client, other_client, make_user, login, db):
    # the anonymous tip form
    token = csrf_of(client, "/tip")
    summary = "Workers at a fictional shop never leave the building."
    for data in ({"summary": summary}, {"summary": summary, "csrf_token": "forged"}):
        r = client.post("/tip", data=data, follow_redirects=False)
        assert r.status_code == 403
    assert _contacts(db) == []
    r = client.post("/tip", data={"summary": summary, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tip/thanks"
    assert len(_contacts(db)) == 1

    # signing out needs the session's own token
    adv = make_user("hotline_advocate")
    login(adv)
    someone_elses = csrf_of(other_client, "/tip")  # a valid token, but another browser's
    assert someone_elses != client.cookies.get(security.CSRF_COOKIE)
    for label, data in [("no token", {}), ("wrong token", {"csrf_token": "not-the-token"}),
                        ("another browser's token", {"csrf_token": someone_elses})]:
        r = client.post("/logout", data=data, follow_redirects=False)
        assert r.status_code == 403, label
        assert client.get("/account", follow_redirects=False).status_code == 200, f"still signed in after {label}"
    token = csrf_of(client, "/account")
    r = client.post("/logout", data={"csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    # the header form (htmx) works too
    login(adv)
    r = client.post("/logout", headers={"X-CSRF-Token": csrf_of(client, "/account")}, follow_redirects=False)
    assert r.status_code == 303


# -- sessions --------------------------------------------------------------------------------
def _session_cookie(response) -> str:
    cookies = [c for c in response.headers.get_list("set-cookie") if c.startswith(security.SESSION_COOKIE + "=")]
    assert len(cookies) == 1, response.headers.get_list("set-cookie")
    return cookies[0]


def test_session_cookie_is_secure_behind_https(settings, make_user):
    from harbour.app import create_app

    app = create_app(settings.model_copy(update={"base_url": "https://harbour.example"}))
    try:
        with TestClient(app, base_url="https://testserver") as c:
            user = make_user("hotline_advocate")
            token = csrf_of(c, "/login")
            r = c.post("/login", data={"username": user.username, "password": PASSWORD, "csrf_token": token},
                       follow_redirects=False)
            assert r.status_code == 303
            assert "secure" in [a.strip().lower() for a in _session_cookie(r).split(";")]
    finally:
        app.state.engine.dispose()


def _age_sessions(app, user, minutes: int) -> None:
    with app.state.engine.begin() as conn:
        conn.execute(text("UPDATE web_session SET last_seen_at = :t WHERE user_id = :u"),
                     {"t": db_time(app, now() - timedelta(minutes=minutes)), "u": user.id})


def test_session_cookie_idle_timeout_and_disabled_user(app, client, other_client, make_user, login, db):
    adv = make_user("hotline_advocate")
    r = login(adv)
    assert r.status_code == 303
    cookie = _session_cookie(r)
    attrs = [a.strip().lower() for a in cookie.split(";")]
    assert "httponly" in attrs
    assert "samesite=strict" in attrs
    assert "path=/" in attrs
    assert not any(a.startswith("expires") or a.startswith("max-age") for a in attrs), "session cookie must not persist"
    assert "secure" not in attrs  # plain http test server
    # the raw session token is never stored: the table holds its SHA-256
    value = cookie.split(";", 1)[0].split("=", 1)[1]
    with app.state.engine.connect() as conn:
        hashes = [row[0] for row in conn.execute(text("SELECT token_hash FROM web_session"))]
    assert hashes == [security.sha256(value)]

    # idle timeout: 14 minutes is fine, 16 is not
    _age_sessions(app, adv, 14)
    assert client.get("/account", follow_redirects=False).status_code == 200
    _age_sessions(app, adv, 16)
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == "/login?next=%2Faccount&reason=expired"
    # the session is over for good, not only for that request
    r = client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    with app.state.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM web_session WHERE ended_at IS NULL")).scalar_one() == 0

    # a disabled user loses a live session at once, and cannot sign in again
    other, admin = make_user("hotline_advocate"), make_user("admin")
    assert sign_in(other_client, other).status_code == 303
    assert other_client.get("/account", follow_redirects=False).status_code == 200
    security.set_user_active(db, actor=actor_of(admin), user_id=other.id, active=False)
    db.commit()
    r = other_client.get("/account", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    assert sign_in(client, other).status_code == 400

    # after sign-in, the browser only ever goes to a page of this site
    for target, expected in [("//evil.example/phish", "/console"), ("https://evil.example/", "/console"),
                             ("/\\evil.example", "/console"), ("javascript:alert(1)", "/console"),
                             ("/console/cases", "/console/cases")]:
        token = csrf_of(client, "/login")
        r = client.post("/login", data={"username": adv.username, "password": PASSWORD, "csrf_token": token,
                                        "next": target}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == expected, target
        client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})


def test_sign_in_again_from_the_login_page_after_idle_timeout(app, client, make_user, login):
    """Regression: the sign-in form must work while the browser still holds a stale (idle-expired) session."""
    adv = make_user("hotline_advocate")
    assert login(adv).status_code == 303
    _age_sessions(app, adv, 16)
    r = login(adv)  # straight back to /login (a bookmark), without opening a console page first
    assert r.status_code == 303, r.status_code
    assert client.get("/account", follow_redirects=False).status_code == 200


# -- lockout -------------------------------------------------------------------------------
def test_lockout_after_five_failures_until_an_admin_unlocks(client, other_client, make_user, login, db):
    # -- unknown user and wrong password look the same
    adv = make_user("hotline_advocate")
    token = csrf_of(client, "/login")
    unknown = client.post("/login", data={"username": "nobody-fictional", "password": PASSWORD,
                                          "csrf_token": token})
    wrong = login(adv, password="not the password at all")
    assert unknown.status_code == wrong.status_code == 400
    marker = "Sign-in failed"
    assert (marker in unknown.text) == (marker in wrong.text)

    # -- lockout after five failures until an admin unlocks
    adv, admin = make_user("hotline_advocate"), make_user("admin")
    # four failures, then the right password still works (and resets the count)
    for _ in range(4):
        assert login(adv, password="wrong password, fictional").status_code == 400
    assert sign_in(other_client, adv).status_code == 303
    assert fresh(db, User, adv.id).failed_logins == 0

    for _ in range(5):
        assert login(adv, password="wrong password, fictional").status_code == 400
    locked_until = fresh(db, User, adv.id).locked_until
    assert locked_until is not None and locked_until > now() + timedelta(minutes=14)
    r = login(adv)
    assert r.status_code == 400, "the right password must be refused while locked"
    assert security.SESSION_COOKIE not in "".join(r.headers.get_list("set-cookie"))

    # an advocate cannot unlock anyone; an admin can
    with pytest.raises(Forbidden):
        security.unlock_user(db, actor=actor_of(make_user("hotline_supervisor")), user_id=adv.id)
    db.rollback()
    assert login(adv).status_code == 400
    security.unlock_user(db, actor=actor_of(admin), user_id=adv.id)
    db.commit()
    r = login(adv)
    assert r.status_code == 303 and r.headers["location"] == "/console"


def test_cli_unlock(app, client, make_user, login, settings, monkeypatch):
    from typer.testing import CliRunner

    from harbour.cli import app as cli
    from harbour.core.config import get_settings

    adv = make_user("hotline_advocate")
    for _ in range(5):
        login(adv, password="wrong password, fictional")
    assert login(adv).status_code == 400
    monkeypatch.setenv("HARBOUR_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("HARBOUR_KEY_FILE", str(settings.key_file))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["users", "unlock", adv.username])
        assert result.exit_code == 0, result.output
        missing = CliRunner().invoke(cli, ["users", "unlock", "nobody-fictional"])
        assert missing.exit_code == 2
    finally:
        get_settings.cache_clear()
    assert login(adv).status_code == 303


# -- TOTP -------------------------------------------------------------------------------------
def _secret(db, user) -> str:
    secret = fresh(db, User, user.id).totp_secret
    assert secret
    return secret


def test_role_policy_forces_totp_before_the_console(app, client, other_client, make_user, login, db):
    admin = make_user("admin")
    security.set_role_policy(db, actor=actor_of(admin), role="hotline_advocate", require_totp=True)
    db.commit()
    adv = make_user("hotline_advocate")
    r = login(adv)
    assert r.status_code == 303 and r.headers["location"] == "/login/totp"
    for path in ("/console", "/account", "/console/contacts"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/login/totp", path

    page = client.get("/login/totp")
    assert page.status_code == 200
    token = csrf_of(client, "/login/totp")
    secret = _secret(db, adv)  # read after the last enrolment page view
    totp = pyotp.TOTP(secret)
    window = {totp.at(now() + timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    wrong = next(c for c in ("000000", "111111", "222222", "333333") if c not in window)
    r = client.post("/login/totp", data={"code": wrong, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 400
    assert client.get("/account", follow_redirects=False).headers["location"] == "/login/totp"
    r = client.post("/login/totp", data={"code": "abcdef", "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 400

    code = totp.now()
    r = client.post("/login/totp", data={"code": code, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    assert client.get("/account", follow_redirects=False).status_code == 200
    r = client.get("/console", follow_redirects=False)
    assert not r.headers.get("location", "").startswith("/login")
    assert fresh(db, User, adv.id).totp_enabled is True

    # sign out, sign in again: the same code cannot be used twice
    client.post("/logout", data={"csrf_token": csrf_of(client, "/account")})
    assert login(adv).headers["location"] == "/login/totp"
    token = csrf_of(client, "/login/totp")
    assert _secret(db, adv) == secret  # enrolled: the secret is no longer replaced
    r = client.post("/login/totp", data={"code": code, "csrf_token": token}, follow_redirects=False)
    assert r.status_code == 400, "a TOTP code must not be accepted twice"
    assert client.get("/account", follow_redirects=False).headers["location"] == "/login/totp"

    # a role without the policy signs in with the password alone
    sup = make_user("hotline_supervisor")
    assert sign_in(other_client, sup).headers["location"] == "/console"


def test_repeated_wrong_totp_codes_lock_the_sign_in(client, make_user, login, db):
    admin = make_user("admin")
    security.set_role_policy(db, actor=actor_of(admin), role="hotline_advocate", require_totp=True)
    db.commit()
    adv = make_user("hotline_advocate")
    assert login(adv).headers["location"] == "/login/totp"
    token = csrf_of(client, "/login/totp")
    totp = pyotp.TOTP(_secret(db, adv))
    window = {totp.at(now() + timedelta(seconds=30 * k)) for k in (-1, 0, 1)}
    wrong = [c for c in (f"{n:06d}" for n in range(100_000, 100_020)) if c not in window][:6]
    for code in wrong:
        r = client.post("/login/totp", data={"code": code, "csrf_token": token}, follow_redirects=False)
        assert r.status_code in (303, 400, 403, 429)
    r = client.post("/login/totp", data={"code": totp.now(), "csrf_token": token}, follow_redirects=False)
    assert r.headers.get("location") != "/console", "a correct code after six wrong ones must not sign in"


def test_only_an_admin_sets_role_policy(client, other_client, make_user, login, db):
    adv = make_user("hotline_advocate")
    login(adv)
    token = csrf_of(client, "/account")
    r = client.post("/admin/roles/hotline_supervisor/totp", data={"require": "on", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 403
    with pytest.raises(Forbidden):
        security.set_role_policy(db, actor=actor_of(adv), role="hotline_supervisor", require_totp=True)
    assert fresh(db, RolePolicy, "hotline_supervisor") is None

    admin = make_user("admin")
    assert sign_in(other_client, admin).status_code == 303
    token = csrf_of(other_client, "/admin")
    r = other_client.post("/admin/roles/hotline_supervisor/totp", data={"require": "on", "csrf_token": token},
                          follow_redirects=False)
    assert r.status_code == 303
    assert fresh(db, RolePolicy, "hotline_supervisor").require_totp is True
    r = other_client.post("/admin/roles/hotline_supervisor/totp", data={"csrf_token": token},
                          follow_redirects=False)
    assert r.status_code == 303
    assert fresh(db, RolePolicy, "hotline_supervisor").require_totp is False


# -- public tip form ------------------------------------------------------------------------
def test_public_tip_is_an_anonymous_rate_limited_signal(client, db):
    assert client.get("/tip").status_code == 200
    token = csrf_of(client, "/tip")
    summary = "Fictional neighbour: workers at a fictional parlour never leave."
    r = client.post("/tip", data={"summary": summary, "province": "MB", "city": "Winnipeg", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/tip/thanks"
    [tip] = _contacts(db)
    assert tip.classification == "tip"
    assert tip.anonymous is True
    assert tip.source == "public_tip_form"
    assert tip.case_id is None
    assert tip.channel == "web_form"
    assert tip.summary == summary
    assert (tip.province, tip.city) == ("MB", "Winnipeg")
    assert tip.caller_name is None and tip.caller_phone is None and tip.caller_email is None
    assert tip.created_by_id is None

    # ten reports per connection, then 429
    for i in range(9):
        r = client.post("/tip", data={"summary": f"Fictional tip number {i}", "csrf_token": token},
                        follow_redirects=False)
        assert r.status_code == 303, i
    r = client.post("/tip", data={"summary": "One fictional tip too many", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 429
    assert len(_contacts(db)) == 10


def test_public_tip_validation_stores_nothing(client, db):
    # -- public tip with control characters is refused
    token = csrf_of(client, "/tip")
    for bad in ("Fictional\x00tip", "Fictional\x1b[2Jtip"):
        r = client.post("/tip", data={"summary": bad, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 422
    r = client.post("/tip", data={"summary": "Fictional tip", "city": "Fict\x07ville", "csrf_token": token},
                    follow_redirects=False)
    assert r.status_code == 422
    assert _contacts(db) == []

    # -- public tip validation stores nothing
    token = csrf_of(client, "/tip")
    for label, data in [
        ("empty", {"summary": ""}),
        ("blank", {"summary": "    "}),
        ("too long", {"summary": "Fictional " * 501}),
        ("unknown province", {"summary": "Fictional tip", "province": "ZZ"}),
        ("city too long", {"summary": "Fictional tip", "city": "C" * 121}),
    ]:
        r = client.post("/tip", data={**data, "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 422, f"{label}: {r.status_code}"
    assert _contacts(db) == []
    # refused attempts do not use up the rate limit
    for i in range(10):
        r = client.post("/tip", data={"summary": f"Fictional tip {i}", "csrf_token": token}, follow_redirects=False)
        assert r.status_code == 303, i
    assert len(_contacts(db)) == 10
