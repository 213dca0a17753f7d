"""Sharing demo (called by `harbour demo`): fictional agencies, their members, agreements in every state,
a few hundred synthetic person records with phones, handles/ads, vehicles, locations and occurrences,
then record linkage, hits and two disclosure requests.

Everything goes through the sharing services (agencies, ingest, agreements, linking, hits), so blind
indexes, audit entries, entities and hits are the real ones.  The people come from
:mod:`harbour.sharing.demo_people` (Faker with a fixed seed; 555-01XX phones, example.com e-mails,
``DEMO`` plates and record numbers); every agency's name says "(fictional)".

Logins (password ``<username>-pass``): ``demo-analyst`` works for the demo Toronto police service and
``demo-steward`` is the data steward of the demo Montréal police service; ``demo-tps-steward``,
``demo-spvm-analyst``, ``demo-vpd-analyst``, ``demo-npf-analyst`` and ``demo-lab-analyst`` show other
agencies' points of view, and the hotline supervisor ``demo-supervisor`` is a member of the demo hotline
agency.  The remaining agencies load their records through inactive import accounts that cannot sign in.

Idempotent: once the demo Toronto agency exists nothing is added again (missing memberships are restored).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.db import utcnow
from harbour.core.models import User
from harbour.core.security import create_user
from harbour.sharing import agencies, agreements, hits, ingest, linking
from harbour.sharing.demo_people import AGENCIES, DemoRecord, generate
from harbour.sharing.models import Agency, AgencyMembership, Hit
from harbour.sharing.schemas import AgencyCreate, AgreementCreate, AgreementStatusBody, PartyIn

ADMIN = Actor(None, "system:demo", Role.admin.value)
MARKER = "DEMO-TPS"
SOURCE = "Demo records system (fictional)"
ALL_CATEGORIES = ["person", "phone", "handle", "vehicle", "location", "occurrence"]

# username → (agency, role, display name, language): people who sign in.  demo-analyst, demo-steward and
# demo-supervisor come from the hotline demo (created here too when missing); the others are created here.
MEMBERS: list[tuple[str, str, str, str, str]] = [
    ("demo-analyst", "DEMO-TPS", Role.agency_analyst, "Demo Agency Analyst (fictional)", "en"),
    ("demo-tps-steward", "DEMO-TPS", Role.agency_data_steward, "Demo Toronto Data Steward (fictional)", "en"),
    ("demo-steward", "DEMO-SPVM", Role.agency_data_steward, "Demo Data Steward (fictional)", "fr"),
    ("demo-spvm-analyst", "DEMO-SPVM", Role.agency_analyst, "Demo Analyste Montréal (fictive)", "fr"),
    ("demo-vpd-analyst", "DEMO-VPD", Role.agency_analyst, "Demo Vancouver Analyst (fictional)", "en"),
    ("demo-npf-analyst", "DEMO-NPF", Role.agency_analyst, "Demo National Police Analyst (fictional)", "en"),
    ("demo-lab-analyst", "DEMO-LAB", Role.agency_analyst, "Demo Labour Inspection Analyst (fictional)", "en"),
    ("demo-supervisor", "DEMO-HOTLINE", Role.hotline_supervisor, "Demo Supervisor (fictional)", "en"),
]
# The other agencies feed their records through an import service account that cannot sign in (inactive,
# no usable password): the way a records system is connected, and no slow password hashing in the demo.
IMPORTERS = [a.code for a in AGENCIES if a.code not in {m[1] for m in MEMBERS}]


def importer_name(code: str) -> str:
    return f"demo-import-{code.removeprefix('DEMO-').lower()}"


def sharing_demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of the sharing demo's own logins, for the printed login table."""
    from harbour.hotline.demo import DEMO_USERS, demo_password

    existing = {u for u, *_ in DEMO_USERS}
    return [(u, demo_password(u), str(role)) for u, _a, role, _n, _l in MEMBERS if u not in existing]


def _agreements(today: date) -> list[tuple[AgreementCreate, str | None]]:
    """(agreement, status change after creation).  Dates are relative to today so the states stay true."""
    def make(ref, title, parties, level, purposes, *, categories=ALL_CATEGORIES, start=-700, end=700, activate=True):
        return AgreementCreate(
            reference=ref, title=title,
            legal_basis="Demo memorandum of understanding (fictional), under the parties' enabling statutes.",
            parties=[p if isinstance(p, PartyIn) else PartyIn(agency=p) for p in parties], categories=categories,
            purposes=purposes, disclosure_level=level, starts_on=today + timedelta(days=start),
            ends_on=None if end is None else today + timedelta(days=end), activate=activate)

    police = ["investigation", "victim_protection", "prosecution"]
    return [
        (make("DEMO-MOU-ONQC-FULL", "Demo Ontario–Quebec–national trafficking investigations MOU (fictional)",
              ["DEMO-TPS", "DEMO-OPF", "DEMO-QPF", "DEMO-NPF"], "full", police), None),
        (make("DEMO-MOU-TPS-SPVM", "Demo Toronto–Montréal summary exchange (fictional)", ["DEMO-TPS", "DEMO-SPVM"],
              "summary", ["investigation", "victim_protection"],
              categories=["person", "phone", "handle", "occurrence"]), None),
        (make("DEMO-MOU-MUNI-HIT", "Demo municipal hit/no-hit network (fictional)",
              ["DEMO-TPS", "DEMO-VPD", "DEMO-HRP"], "hit", ["investigation"],
              categories=["person", "phone", "handle", "vehicle"]), None),
        (make("DEMO-MOU-TPS-WPS-2022", "Demo Toronto–Winnipeg pilot, ended (fictional)", ["DEMO-TPS", "DEMO-WPS"],
              "full", police, start=-1400, end=-30), None),
        (make("DEMO-MOU-TPS-BSA", "Demo Toronto–border agency exchange, revoked (fictional)",
              ["DEMO-TPS", "DEMO-BSA"], "full", ["investigation", "border_enforcement"]),
         "revoked"),
        (make("DEMO-MOU-TPS-FIU", "Demo Toronto–financial intelligence draft (fictional)", ["DEMO-TPS", "DEMO-FIU"],
              "summary", ["investigation", "financial_intelligence"], activate=False), None),
        (make("DEMO-MOU-LABOUR", "Demo labour exploitation task force (fictional)",
              ["DEMO-LAB", "DEMO-IMM", "DEMO-BSA", "DEMO-NPF", "DEMO-VPD"], "full",
              ["labour_inspection", "border_enforcement", "investigation", "victim_protection"]), None),
        (make("DEMO-MOU-HOTLINE", "Demo hotline tips to police (fictional)",
              [PartyIn(agency="DEMO-HOTLINE", receives=False), PartyIn(agency="DEMO-WPS", provides=False),
               PartyIn(agency="DEMO-TPS", provides=False), PartyIn(agency="DEMO-OPF", provides=False)],
              "summary", ["victim_protection", "investigation"], categories=["person", "handle", "phone"]), None),
        (make("DEMO-MOU-CROWN", "Demo Crown disclosure from Ontario police (fictional)",
              [PartyIn(agency="DEMO-CROWN", provides=False), PartyIn(agency="DEMO-TPS", receives=False),
               PartyIn(agency="DEMO-OPF", receives=False)], "full", ["prosecution"]), None),
        (make("DEMO-MOU-QC-FULL", "Demo Quebec police services exchange (fictional)", ["DEMO-SPVM", "DEMO-QPF"],
              "full", police), None),
        (make("DEMO-MOU-NGO-WPS", "Demo NGO and Winnipeg victim support (fictional)", ["DEMO-NGO", "DEMO-WPS"],
              "hit", ["victim_protection"], categories=["person", "phone"]), None),
        (make("DEMO-MOU-SPVM-HRP", "Demo Montréal–Halifax exchange, suspended (fictional)", ["DEMO-SPVM", "DEMO-HRP"],
              "summary", ["investigation"]), "suspended"),
    ]


def _agency_data(code: str) -> AgencyCreate:
    a = next(x for x in AGENCIES if x.code == code)
    short = code.removeprefix("DEMO-").lower()
    return AgencyCreate(code=a.code, name=a.name, name_fr=a.name_fr, kind=a.kind, province=a.province,
                        contact_name=f"Demo sharing desk, {a.name}", contact_email=f"sharing-{short}@example.com",
                        contact_phone="613-555-01" + f"{AGENCIES.index(a):02d}")


def _ensure_user(db: Session, username: str, role: str, display: str, lang: str) -> User:
    from harbour.hotline.demo import demo_password

    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        user = create_user(db, actor=ADMIN, username=username, display_name=display, role=role,
                           password=demo_password(username), preferred_language=lang)
    return user


def _ensure_members(db: Session) -> int:
    added = 0
    wanted = [(u, code, str(role), display, lang) for u, code, role, display, lang in MEMBERS]
    for code in IMPORTERS:
        wanted.append((importer_name(code), code, None, f"Demo records import, {code} (fictional service account)",
                       "en"))
    for username, code, role, display, lang in wanted:
        if role is None:
            user = _ensure_service_account(db, username, display)
        else:
            user = _ensure_user(db, username, role, display, lang)
        if db.execute(select(AgencyMembership.id).where(AgencyMembership.user_id == user.id)).first() is None:
            agencies.add_member(db, actor=ADMIN, code=code, username=username)
            added += 1
    return added


def _ensure_service_account(db: Session, username: str, display: str) -> User:
    user = db.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is None:
        # "!" is no Argon2 hash: no password can ever match it, and the account is inactive besides.
        user = User(username=username, display_name=display, role=Role.agency_analyst.value, password_hash="!",
                    is_active=False, preferred_language="en")
        db.add(user)
        db.flush()
        audit(db, ADMIN, "create", "user", user.id, detail={"role": user.role, "service_account": True})
    return user


def _member_actor(db: Session, code: str) -> Actor:
    username = importer_name(code) if code in IMPORTERS else next(
        u for u, c, role, *_ in MEMBERS if c == code and role != Role.agency_data_steward)
    user = db.execute(select(User).where(User.username == username)).scalar_one()
    return Actor(user.id, user.username, user.role, user.organization)


def _rows(records: list[DemoRecord]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {c: [] for c in ("person", "phone", "handle", "vehicle", "location", "occurrence")}
    for rec in records:
        person = {k: v for k, v in rec.canonical().items() if v is not None}
        if rec.aliases:
            person["aliases"] = rec.aliases
        out["person"].append(person)
        base = {"agency": rec.agency, "person_record_id": rec.record_id}
        for i, handle in enumerate(rec.handles, start=1):
            row = {**base, "record_id": f"{rec.record_id}-H{i}", "platform": handle["platform"],
                   "handle": handle["handle"], "first_seen": handle["first_seen"].isoformat()}
            if handle.get("ad_url"):
                row["ad_url"] = handle["ad_url"]
            out["handle"].append(row)
        for i, vehicle in enumerate(rec.vehicles, start=1):
            out["vehicle"].append({**base, "record_id": f"{rec.record_id}-V{i}", **vehicle})
        for i, loc in enumerate(rec.locations, start=1):
            row = {**base, "record_id": f"{rec.record_id}-L{i}", **{k: v for k, v in loc.items() if v is not None}}
            row["first_seen"] = loc["first_seen"].isoformat()
            out["location"].append(row)
        if rec.phone and not (rec.identity or "").startswith("local-"):
            out["phone"].append({**base, "record_id": f"{rec.record_id}-T1", "number": rec.phone})
        for occ in rec.occurrences:
            out["occurrence"].append({
                "agency": rec.agency, "record_id": occ.record_id, "occurred_on": occ.occurred_on.isoformat(),
                "jurisdiction": occ.jurisdiction, "offence_codes": occ.offence_codes, "status": "demo (fictional)",
                "summary": occ.summary, "people": [{"person_record_id": rec.record_id, "role": occ.role}]})
    return out


def load_sharing_demo(db: Session, *, seed: int = 2026) -> dict[str, int]:
    """Load the sharing demo once; returns counts for the demo report."""
    if db.execute(select(Agency.id).where(Agency.code == MARKER)).first() is not None:
        added = _ensure_members(db)
        db.commit()
        return {"sharing memberships restored": added} if added else {}
    for a in AGENCIES:
        agencies.create_agency(db, actor=ADMIN, data=_agency_data(a.code))
    _ensure_members(db)
    db.flush()

    records = generate(seed)
    by_agency: dict[str, list[DemoRecord]] = {}
    for rec in records:
        by_agency.setdefault(rec.agency, []).append(rec)
    failed = 0
    for code, recs in by_agency.items():
        actor = _member_actor(db, code)
        rows = _rows(recs)
        for record_type in ("person", "phone", "handle", "vehicle", "location", "occurrence"):
            if rows[record_type]:
                batch = ingest.ingest(db, actor=actor, record_type=record_type, rows=rows[record_type],
                                      source_system=SOURCE)
                failed += batch.rows_failed
    if failed:
        raise RuntimeError(f"sharing demo: {failed} demo rows were refused by ingest")  # a bug in the generator

    today = utcnow().date()
    for data, change in _agreements(today):
        agreement = agreements.create_agreement(db, actor=ADMIN, data=data)
        if change:
            agreements.set_status(db, actor=ADMIN, agreement_id=agreement.id,
                                  data=AgreementStatusBody(status=change, reason="Demo (fictional) status change."))
    db.flush()
    result = linking.relink(db, actor=linking.SYSTEM)
    requests = _disclosures(db)
    db.commit()
    return {"sharing agencies": len(AGENCIES), "sharing records": len(records),
            "sharing agreements": len(_agreements(today)), "sharing matches": result["matches"],
            "sharing hits": result["hits"], "sharing entities": result["entities"],
            "sharing disclosure requests": requests}


def _disclosures(db: Session) -> int:
    """Journey 3: Toronto asks Montréal for more about two hits; Montréal's steward approves one as a summary."""
    tps = agencies.get_agency(db, "DEMO-TPS")
    spvm = agencies.get_agency(db, "DEMO-SPVM")
    found = list(db.execute(select(Hit).where(Hit.agency_id == tps.id, Hit.other_agency_id == spvm.id)
                            .order_by(Hit.id)).scalars())
    analyst = _member_actor(db, "DEMO-TPS")
    steward_user = db.execute(select(User).where(User.username == "demo-steward")).scalar_one()
    steward = Actor(steward_user.id, steward_user.username, steward_user.role, steward_user.organization)
    made = 0
    for i, hit in enumerate(found[:2]):
        req = hits.request_disclosure(
            db, actor=analyst, hit_id=hit.id, purpose="investigation", level="summary",
            justification="Demo (fictional): the person may be moving between Toronto and Montréal.")
        made += 1
        if i == 0:
            hits.decide(db, actor=steward, request_id=req.id, decision="approve", level="summary",
                        note="Demo (fictional): summary approved for the joint investigation.")
    return made
