"""Read the operational database into de-identified rows of the data standard.

Only the columns a standard field needs are selected: encrypted columns (names, phones, e-mails, notes,
summaries, aliases) are never read, so they are never even decrypted.  Exact times become a year (and, for
durations, a band).  Situations need an active statistics consent at ``now``; event rows (contacts,
referrals, unmet needs, agency occurrences) carry no person attribute and no case key.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

from sqlalchemy import and_, func, inspect, or_, select
from sqlalchemy.orm import Session

from harbour.core import crypto
from harbour.directory.choices import SERVICE_TAXONOMY, ServiceType
from harbour.directory.models import Attribute, Referral, TaxonomyTerm, UnmetNeed
from harbour.hotline.models import Case, Consent, Contact
from harbour.stats import standard
from harbour.stats.choices import GEO_LEAVES, UNKNOWN, response_band

PSEUDONYM_DOMAIN = "stats-situation"
CASE_COLUMNS = (Case.id, Case.status, Case.outcome, Case.risk_level, Case.victim_count, Case.age_band, Case.gender,
                Case.citizenship, Case.exploitation_types, Case.recruitment, Case.control_means, Case.needs,
                Case.province, Case.created_at)


def _province(code: str | None) -> str:
    return code if code in GEO_LEAVES else UNKNOWN


def _hours(start: datetime | None, end: datetime | None) -> float | None:
    if start is None or end is None:
        return None
    return max(0.0, (end - start).total_seconds() / 3600)


def consenting_case_ids(db: Session, now: datetime) -> set[int]:
    """Cases whose statistics consent is in force at ``now`` (recorded, not revoked, not expired)."""
    q = select(Consent.case_id).where(
        Consent.purpose == "statistics", Consent.revoked_at.is_(None), Consent.given_at <= now,
        or_(Consent.expires_at.is_(None), Consent.expires_at > now))
    return set(db.execute(q).scalars())


def _first_contacts(db: Session) -> dict[int, tuple]:
    """case id → (received_at, channel, classification, contact count) of its first contact."""
    out: dict[int, list] = {}
    q = (select(Contact.case_id, Contact.received_at, Contact.channel, Contact.classification)
         .where(Contact.case_id.is_not(None)).order_by(Contact.case_id, Contact.received_at, Contact.id))
    for case_id, at, channel, classification in db.execute(q):
        if case_id not in out:
            out[case_id] = [at, channel, classification, 0]
        out[case_id][3] += 1
    return {k: tuple(v) for k, v in out.items()}


def _referral_summary(db: Session) -> dict[int, dict]:
    out: dict[int, dict] = defaultdict(lambda: {"made": 0, "accepted": 0, "completed": 0, "first": None})
    q = select(Referral.case_id, Referral.status, Referral.sent_at)
    for case_id, status, sent_at in db.execute(q):
        s = out[case_id]
        s["made"] += 1
        s["accepted"] += status in ("accepted", "completed")
        s["completed"] += status == "completed"
        if s["first"] is None or sent_at < s["first"]:
            s["first"] = sent_at
    return out


def situation_rows(db: Session, now: datetime) -> list[dict]:
    consenting = consenting_case_ids(db, now)
    if not consenting:
        return []
    firsts = _first_contacts(db)
    referrals = _referral_summary(db)
    ring = crypto.keyring()
    rows = []
    for (case_id, status, outcome, risk, victims, age, gender, citizenship, exploitation, recruitment, control,
         needs, province, created_at) in db.execute(select(*CASE_COLUMNS).where(Case.id.in_(consenting))):
        first_at, channel, classification, n_contacts = firsts.get(case_id, (created_at, None, None, 0))
        ref = referrals.get(case_id, {"made": 0, "accepted": 0, "completed": 0, "first": None})
        row = {
            "situationId": ring.blind_index(str(case_id), domain=PSEUDONYM_DOMAIN)[:24],
            "yearOfRegistration": first_at.year,
            "province": _province(province),
            "gender": gender or "unknown",
            "ageBroad": age or "unknown",
            "majorityStatus": standard.majority(age),
            "citizenshipStatus": citizenship or "unknown",
            "nationality": standard.nationality(citizenship),
            **standard.case_flags(exploitation, control, recruitment, needs),
            "firstChannel": channel,
            "classification": classification or "unknown",
            "contactCount": min(n_contacts, standard.CAPS["contactCount"]),
            "victimCount": min(max(victims or 1, 1), standard.CAPS["victimCount"]),
            "riskLevel": risk or "unknown",
            "caseStatus": status,
            "caseOutcome": outcome or "none",
            "referralsMade": ref["made"],
            "referralsAccepted": ref["accepted"],
            "referralsCompleted": ref["completed"],
            "timeToFirstReferral": response_band(_hours(first_at, ref["first"])),
        }
        rows.append(row)
    return rows


def _language_group(code: str | None) -> str:
    if not code:
        return UNKNOWN
    return code if code in ("en", "fr") else "other"


def contact_rows(db: Session) -> list[dict]:
    q = select(Contact.received_at, Contact.province, Contact.channel, Contact.classification, Contact.caller_type,
               Contact.case_id, Contact.language)
    return [{"year": at.year, "province": _province(prov), "channel": channel,
             "classification": classification or UNKNOWN, "callerType": caller or UNKNOWN,
             "caseOpened": "yes" if case_id else "no", "languageGroup": _language_group(lang)}
            for at, prov, channel, classification, caller, case_id, lang in db.execute(q)]


def _service_types(db: Session) -> dict[str, str]:
    """service id → its first Harbour service type (in the vocabulary's order)."""
    order = {code: i for i, code in enumerate(ServiceType.codes())}
    q = (select(Attribute.link_id, TaxonomyTerm.code).join(TaxonomyTerm, Attribute.taxonomy_term_id == TaxonomyTerm.id)
         .where(TaxonomyTerm.taxonomy == SERVICE_TAXONOMY, Attribute.link_entity == "service"))
    best: dict[str, str] = {}
    for service_id, code in db.execute(q):
        if code in order and (service_id not in best or order[code] < order[best[service_id]]):
            best[service_id] = code
    return best


def referral_rows(db: Session) -> list[dict]:
    types = _service_types(db)
    q = (select(Referral.sent_at, Referral.responded_at, Referral.status, Referral.outcome, Referral.service_id,
                Case.province).join(Case, Referral.case_id == Case.id))
    return [{"year": sent.year, "province": _province(prov), "serviceType": types.get(service_id, "other"),
             "status": status, "outcome": outcome or "none",
             "providerResponse": response_band(_hours(sent, responded))}
            for sent, responded, status, outcome, service_id, prov in db.execute(q)]


def unmet_rows(db: Session) -> list[dict]:
    out = []
    for at, needs, prov in db.execute(select(UnmetNeed.at, UnmetNeed.needs, UnmetNeed.province)):
        for need in sorted(set(needs or [])) or ["other"]:
            out.append({"year": at.year, "province": _province(prov), "need": str(need)[:40]})
    return out


def _occurrence_model(db: Session):
    """The sharing module's Occurrence model and rls helper, or None when the table does not exist (yet)."""
    try:
        from harbour.sharing import rls
        from harbour.sharing.models import Occurrence
    except ImportError:  # pragma: no cover - the sharing module is part of the package
        return None
    if not inspect(db.get_bind()).has_table(Occurrence.__tablename__):
        return None
    return Occurrence, rls


def occurrence_rows(db: Session) -> list[dict]:
    """Agency occurrences by offence and jurisdiction (the sharing module); none when its tables are absent."""
    found = _occurrence_model(db)
    if found is None:
        return []
    Occurrence, rls = found  # noqa: N806
    ring = crypto.keyring()
    out = []
    with rls.across_agencies(db):
        q = select(Occurrence.occurred_on, Occurrence.jurisdiction, Occurrence.offence_codes, Occurrence.agency_id)
        for occurred_on, jurisdiction, codes, agency_id in db.execute(q):
            agency = ring.blind_index(str(agency_id), domain="stats-agency")[:16]
            for code in sorted(set(codes or [])) or ["unspecified"]:
                out.append({"year": occurred_on.year, "province": _province(jurisdiction), "offence": str(code)[:40],
                            "agency": agency})
    return out


EXTRACTORS = {
    "situations": situation_rows,
    "contacts": lambda db, now: contact_rows(db),
    "referrals": lambda db, now: referral_rows(db),
    "unmet_needs": lambda db, now: unmet_rows(db),
    "occurrences": lambda db, now: occurrence_rows(db),
}


def change_probe(db: Session, now: datetime) -> dict:
    """A cheap summary of everything a build reads: when nothing in it moved, the store is up to date.

    Counts catch deletions, maxima catch edits; consents in force at ``now`` catch expiries."""
    def one(q):
        value = db.execute(q).one()
        return [v.isoformat() if isinstance(v, datetime) else v for v in value]

    probe = {
        "case": one(select(func.count(Case.id), func.max(Case.updated_at))),
        "contact": one(select(func.count(Contact.id), func.max(Contact.updated_at), func.max(Contact.created_at))),
        "consent": len(consenting_case_ids(db, now)),
        "consent_changes": one(select(func.count(Consent.id), func.max(Consent.given_at), func.max(Consent.revoked_at))),
        "referral": one(select(func.count(Referral.id), func.max(Referral.sent_at), func.max(Referral.responded_at),
                               func.max(Referral.completed_at), func.max(Referral.revoked_at))),
        "unmet": one(select(func.count(UnmetNeed.id), func.max(UnmetNeed.at))),
        "consent_expiring": [],
    }
    expiring = select(Consent.id).where(and_(Consent.expires_at.is_not(None), Consent.expires_at <= now))
    probe["consent_expiring"] = len(list(db.execute(expiring).scalars()))
    found = _occurrence_model(db)
    probe["occurrence"] = None
    if found is not None:
        Occurrence, rls = found  # noqa: N806
        with rls.across_agencies(db):
            probe["occurrence"] = one(select(func.count(Occurrence.id), func.max(Occurrence.updated_at)))
    return probe
