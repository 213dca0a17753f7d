"""`harbour demo`: synthetic data through the service layer, every role, idempotent, audit chain intact."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from harbour.core import crypto
from harbour.core.audit import verify
from harbour.core.choices import Province, Role
from harbour.core.db import make_engine, make_sessionmaker
from harbour.core.migrate import upgrade
from harbour.core.models import AuditEntry, User
from harbour.hotline.demo import DemoReport, demo_password, is_obviously_fake_name, load_demo
from harbour.hotline.models import Case, Consent, ConsentOverride, Contact, Escalation, Task

TABLES = (User, Contact, Case, Consent, Task, ConsentOverride, Escalation)


@pytest.fixture
def factory(tmp_path, monkeypatch):
    monkeypatch.setattr(crypto, "_current", None)  # restored afterwards: other tests keep their key ring
    crypto.configure(tmp_path / "keys.json", create=True)
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    upgrade(url)
    engine = make_engine(url)
    yield make_sessionmaker(engine)
    engine.dispose()


def _counts(db) -> dict[str, int]:
    return {t.__name__: db.execute(select(func.count()).select_from(t)).scalar_one() for t in TABLES}


def test_demo_loads_every_role_and_province_once(factory):
    with factory() as db:
        report = load_demo(db, seed=7, contacts=120)
    assert isinstance(report, DemoReport) and not report.already_loaded
    assert report.counts["contacts"] == 120

    with factory() as db:
        roles = set(db.execute(select(User.role).where(User.username.like("demo-%"))).scalars())
        assert roles >= set(Role.codes())
        assert set(db.execute(select(Contact.province)).scalars()) == set(Province.codes())
        counts = _counts(db)
        assert counts["Contact"] == 120
        assert counts["Case"] > 0 and counts["Consent"] > 0 and counts["Task"] > 0
        repeats = db.execute(
            select(Contact.phone_index).where(Contact.phone_index.is_not(None))
            .group_by(Contact.phone_index).having(func.count() > 1)
        ).all()
        assert repeats, "no repeat caller for the repeat-caller lookup to find"
        names = [c.caller_name for c in db.execute(select(Contact)).scalars()]
        assert any(names) and all(is_obviously_fake_name(n) for n in names)
        assert all(is_obviously_fake_name(c.survivor_alias) for c in db.execute(select(Case)).scalars())
        phones = [p for p in db.execute(select(Contact)).scalars() if p.caller_phone]
        assert all(p.caller_phone[-7:-2] == "55501" for p in phones)  # 555-01XX, the fictional range
        assert verify(db).ok
        audit_rows = db.execute(select(func.count()).select_from(AuditEntry)).scalar_one()

    with factory() as db:
        again = load_demo(db, seed=7, contacts=120)
    assert again.already_loaded
    with factory() as db:
        assert _counts(db) == counts
        assert db.execute(select(func.count()).select_from(AuditEntry)).scalar_one() == audit_rows
        assert verify(db).ok

    text = "\n".join(again.lines())
    assert "already loaded" in text
    for username, password, role in again.logins:
        assert password == demo_password(username) and len(password) >= 12
        assert username in text and password in text and role in text
    assert not any(n and n in text for n in names)  # nothing personal in what the command prints
