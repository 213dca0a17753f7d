"""Sharing fixtures: three fictional agencies, their members, agreements and synthetic person records.

Every person here is invented (names like "Testperson", 555-01XX phone numbers, example.org e-mail).
"""

from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest
from tests.conftest import PASSWORD, actor_of

from harbour.core.audit import Actor
from harbour.sharing import agencies, agreements, hits, ingest, linking
from harbour.sharing.schemas import AgencyCreate, AgreementCreate

ADMIN = Actor(None, "system:tests", "admin")

AGENCIES = [
    ("TPS", "Fictional Toronto Police", "municipal_police", "ON", "+1-416-555-0100"),
    ("SPVM", "Fictional Montreal Police", "municipal_police", "QC", "+1-514-555-0100"),
    ("CBSA", "Fictional Border Agency", "cbsa", None, "+1-613-555-0100"),
]

PERSON_HEADER = "record_id,agency,given_name,middle_name,surname,date_of_birth,sex,phone,email,street_address,city," \
                "province,postal_code\n"


def person_row(agency: str, rid: str, given: str = "Alexa", surname: str = "Testperson", dob: str = "1990-04-12",
               phone: str = "416-555-0142", city: str = "Toronto", province: str = "ON") -> dict:
    return {"record_id": rid, "agency": agency, "given_name": given, "surname": surname, "date_of_birth": dob,
            "sex": "F", "phone": phone, "email": f"{rid.lower()}@example.org", "street_address": "1 Fictional Way",
            "city": city, "province": province, "postal_code": "M5V 1A1"}


@pytest.fixture(scope="session")
def password_hash() -> str:
    from harbour.core.security import hash_password

    return hash_password(PASSWORD)  # once: argon2 is slow on purpose


@pytest.fixture
def fast_user(db, password_hash):
    """A user written directly with a precomputed password hash (argon2 per user would dominate the tests)."""
    from harbour.core.models import User

    def _make(role: str, username: str) -> User:
        user = User(username=username, display_name=f"Test {role} (fictional)", role=role, password_hash=password_hash)
        db.add(user)
        db.flush()
        return user

    return _make


@pytest.fixture
def world(db, fast_user):
    make_user = fast_user
    ns = SimpleNamespace(agency={}, analyst={}, steward={})
    for code, name, kind, province, phone in AGENCIES:
        ns.agency[code] = agencies.create_agency(db, actor=ADMIN, data=AgencyCreate(
            code=code, name=name, kind=kind, province=province, contact_name=f"{code} sharing desk",
            contact_email=f"desk@{code.lower()}.example.org", contact_phone=phone))
    db.commit()
    for code, *_ in AGENCIES:
        ns.analyst[code] = make_user("agency_analyst", f"analyst-{code.lower()}")
        ns.steward[code] = make_user("agency_data_steward", f"steward-{code.lower()}")
        agencies.add_member(db, actor=ADMIN, code=code, username=ns.analyst[code].username)
        agencies.add_member(db, actor=ADMIN, code=code, username=ns.steward[code].username)
    ns.admin = make_user("admin", "sharing-admin")
    ns.loner = make_user("agency_analyst", "analyst-without-agency")
    ns.advocate = make_user("hotline_advocate", "advocate-x")
    db.commit()
    ns.actor = lambda user: actor_of(user)
    return ns


def make_agreement(db, *, reference: str = "MOU-1", parties=(("TPS", True, True), ("SPVM", True, True)),
                   categories=("person", "occurrence"), purposes=("investigation",), level: str = "summary",
                   starts_on: date | None = None, ends_on: date | None = None, activate: bool = True):
    data = AgreementCreate(
        reference=reference, title="Fictional MOU", legal_basis="Fictional statute s. 1",
        parties=[{"agency": a, "provides": p, "receives": r} for a, p, r in parties],
        categories=list(categories), purposes=list(purposes), disclosure_level=level,
        starts_on=starts_on or date.today() - timedelta(days=30), ends_on=ends_on, activate=activate)
    agreement = agreements.create_agreement(db, actor=ADMIN, data=data)
    db.commit()
    return agreement


def ingest_people(db, user, rows, source: str = "RMS-test"):
    batch = ingest.ingest(db, actor=actor_of(user), record_type="person", rows=[dict(r) for r in rows],
                          source_system=source)
    db.commit()
    return batch


def deliver_hit(db, world):
    """The same fictional person in Toronto's and Montréal's records, linked: each agency gets a hit."""
    ingest_people(db, world.analyst["TPS"], [person_row("TPS", "T-1")])
    ingest_people(db, world.analyst["SPVM"], [person_row("SPVM", "S-1")])
    match, _ = linking.store_match(db, method="splink", key_a=(world.agency["TPS"].id, "T-1"),
                                   key_b=(world.agency["SPVM"].id, "S-1"), probability=0.99)
    hits.deliver(db, match)
    db.commit()
    return match
