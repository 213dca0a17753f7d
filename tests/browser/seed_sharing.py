"""A small information-sharing scene for the browser suite (the full sharing demo takes minutes to build).

Two fictional police services; an agreement lets the Montréal one receive a *summary* of the Toronto one's
person records for a criminal investigation, and another lists victim protection at hit/no-hit only; one
fictional person is in both services' records, so each has a hit.  Signs in as ``browser-analyst`` (Montréal)
and ``browser-steward`` (Toronto's data steward), passwords ``<username>-pass``.  Idempotent.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.choices import Role
from harbour.core.models import User
from harbour.core.security import create_user
from harbour.sharing import agencies, agreements, hits, ingest, linking
from harbour.sharing.models import Agency
from harbour.sharing.schemas import AgencyCreate, AgreementCreate

ADMIN = Actor(None, "system:browser-seed", "admin")
TORONTO, MONTREAL = "BRW-TPS", "BRW-SPVM"
ANALYST, STEWARD, TORONTO_ANALYST = "browser-analyst", "browser-steward", "browser-tps-analyst"
PERSON = {"given_name": "Alexa", "surname": "Testperson", "date_of_birth": "1990-04-12", "sex": "F",
          "phone": "416-555-0142", "city": "Toronto", "province": "ON"}


def _user(db: Session, username: str, role: Role, display: str) -> User:
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    return user or create_user(db, actor=ADMIN, username=username, display_name=display, role=role.value,
                               password=f"{username}-pass", preferred_language="en")


def _actor(user: User) -> Actor:
    return Actor(user.id, user.username, user.role, user.organization)


def load_disclosure_scene(db: Session) -> dict[str, int]:
    if db.execute(select(Agency.id).where(Agency.code == TORONTO)).first():
        return {"sharing scene": 0}
    for code, name, province in ((TORONTO, "Browser-test Toronto Police (fictional)", "ON"),
                                 (MONTREAL, "Browser-test Montréal Police (fictional)", "QC")):
        agencies.create_agency(db, actor=ADMIN, data=AgencyCreate(
            code=code, name=name, kind="municipal_police", province=province,
            contact_name=f"{code} sharing desk (fictional)", contact_email=f"desk@{code.lower()}.example.org",
            contact_phone="613-555-0199"))
    analyst = _user(db, ANALYST, Role.agency_analyst, "Browser Analyst Montréal (fictional)")
    steward = _user(db, STEWARD, Role.agency_data_steward, "Browser Data Steward Toronto (fictional)")
    tps_analyst = _user(db, TORONTO_ANALYST, Role.agency_analyst, "Browser Analyst Toronto (fictional)")
    db.commit()
    for user, code in ((analyst, MONTREAL), (steward, TORONTO), (tps_analyst, TORONTO)):
        agencies.add_member(db, actor=ADMIN, code=code, username=user.username)
    parties = [{"agency": TORONTO, "provides": True, "receives": True},
               {"agency": MONTREAL, "provides": True, "receives": True}]
    for reference, purposes, level in (("BRW-MOU-1", ["investigation"], "summary"),
                                       ("BRW-MOU-2", ["victim_protection"], "hit")):
        agreements.create_agreement(db, actor=ADMIN, data=AgreementCreate(
            reference=reference, title="Fictional browser-test MOU", legal_basis="Fictional statute s. 1",
            parties=parties, categories=["person"], purposes=purposes, disclosure_level=level,
            starts_on=date.today() - timedelta(days=30), activate=True))
    db.commit()
    ids = {}
    for user, code, record_id in ((tps_analyst, TORONTO, "BRW-T-1"), (analyst, MONTREAL, "BRW-S-1")):
        ingest.ingest(db, actor=_actor(user), record_type="person", source_system="RMS-browser-test",
                      rows=[{"record_id": record_id, "agency": code, **PERSON}])
        db.commit()
        ids[code] = db.execute(select(Agency.id).where(Agency.code == code)).scalar_one()
    match, _new = linking.store_match(db, method="splink", key_a=(ids[TORONTO], "BRW-T-1"),
                                      key_b=(ids[MONTREAL], "BRW-S-1"), probability=0.99)
    made = hits.deliver(db, match)
    db.commit()
    return {"sharing scene hits": len(made)}
