"""Sharing vocabularies: agency kinds, record categories, purposes, disclosure levels, offence codes."""

from __future__ import annotations

from harbour.core.choices import Choice
from harbour.core.i18n import N_, NP_


class AgencyKind(Choice):
    municipal_police = "municipal_police", N_("Municipal police service")
    provincial_police = "provincial_police", N_("Provincial police service")
    national_police = "national_police", N_("National police (RCMP)")
    cbsa = "cbsa", N_("Canada Border Services Agency")
    ircc = "ircc", N_("Immigration, Refugees and Citizenship Canada")
    fintrac = "fintrac", N_("FINTRAC")
    labour_inspection = "labour_inspection", N_("ESDC labour inspectors")
    crown = "crown", N_("Crown prosecutors")
    ngo = "ngo", N_("Non-governmental organization")
    hotline = "hotline", N_("National human trafficking hotline")


class RecordCategory(Choice):
    person = "person", N_("Persons")
    phone = "phone", N_("Phones")
    handle = "handle", N_("Online handles and ads")
    vehicle = "vehicle", N_("Vehicles")
    location = "location", N_("Locations")
    occurrence = "occurrence", N_("Occurrences")


class Purpose(Choice):
    investigation = "investigation", N_("Criminal investigation")
    victim_protection = "victim_protection", N_("Victim protection and support")
    prosecution = "prosecution", N_("Prosecution")
    border_enforcement = "border_enforcement", N_("Border and immigration enforcement")
    financial_intelligence = "financial_intelligence", N_("Financial intelligence")
    labour_inspection = "labour_inspection", N_("Labour standards inspection")
    data_quality = "data_quality", N_("Data quality (own records)")


class DisclosureLevel(Choice):
    """Ordered: each level includes everything the previous one reveals."""

    hit = "hit", N_("Hit / no-hit only")
    summary = "summary", N_("Summary")
    full = "full", N_("Full record")

    @property
    def rank(self) -> int:
        return LEVEL_RANK[self.value]


LEVEL_RANK = {"hit": 1, "summary": 2, "full": 3}


class AgreementStatus(Choice):
    """Stored states; ``expired`` is computed from the end date and never stored."""

    draft = "draft", N_("Draft")
    active = "active", NP_("agreement", "Active")  # une entente: « Active », « Suspendue », « Révoquée »
    suspended = "suspended", NP_("agreement", "Suspended")
    revoked = "revoked", NP_("agreement", "Revoked")
    expired = "expired", N_("Expired")
    not_started = "not_started", N_("Not yet in force")


STORED_AGREEMENT_STATUSES = ("draft", "active", "suspended", "revoked")


class Sex(Choice):
    female = "F", N_("Female")
    male = "M", N_("Male")
    another = "X", N_("Another gender")
    unknown = "U", N_("Unknown")


class HitStatus(Choice):
    new = "new", NP_("hit", "New")
    seen = "seen", NP_("hit", "Seen")
    closed = "closed", NP_("hit", "Closed")  # une concordance: « Fermée »
    withdrawn = "withdrawn", N_("Withdrawn: the records no longer match")


class RequestStatus(Choice):
    pending = "pending", N_("Waiting for the data steward")
    approved = "approved", N_("Approved")
    denied = "denied", N_("Denied")
    withdrawn = "withdrawn", N_("Withdrawn")


class MatchMethod(Choice):
    splink = "splink", N_("Probabilistic linkage (plaintext)")
    pprl = "pprl", N_("Privacy-preserving linkage (encoded)")


class PersonRole(Choice):
    """A person's part in an occurrence."""

    suspect = "suspect", N_("Suspect / accused")
    victim = "victim", N_("Victim")
    witness = "witness", N_("Witness")
    other = "other", N_("Other")


class LocationKind(Choice):
    residence = "residence", N_("Residence")
    hotel = "hotel", N_("Hotel or short-term rental")
    business = "business", N_("Business (e.g. massage parlour, farm, restaurant)")
    border = "border", N_("Border crossing or port of entry")
    other = "other", N_("Other")


class DocumentType(Choice):
    passport = "passport", N_("Passport")
    work_permit = "work_permit", N_("Work permit")
    study_permit = "study_permit", N_("Study permit")
    driver_licence = "driver_licence", N_("Driver's licence")
    health_card = "health_card", N_("Health card")
    other = "other", N_("Other identity document")


# Offence codes accepted on occurrences: Criminal Code human trafficking (279.01–279.04), commodification
# of sexual activity (286.1–286.4) and the Immigration and Refugee Protection Act's trafficking offence.
OFFENCES: dict[str, str] = {
    "CC-279.01": N_("Trafficking in persons (Criminal Code 279.01)"),
    "CC-279.011": N_("Trafficking of a person under 18 (Criminal Code 279.011)"),
    "CC-279.02": N_("Material benefit from trafficking (Criminal Code 279.02)"),
    "CC-279.03": N_("Withholding or destroying documents (Criminal Code 279.03)"),
    "CC-279.04": N_("Exploitation (Criminal Code 279.04, definition)"),
    "CC-286.1": N_("Obtaining sexual services for consideration (Criminal Code 286.1)"),
    "CC-286.2": N_("Material benefit from sexual services (Criminal Code 286.2)"),
    "CC-286.3": N_("Procuring (Criminal Code 286.3)"),
    "CC-286.4": N_("Advertising sexual services (Criminal Code 286.4)"),
    "IRPA-118": N_("Trafficking in persons (IRPA 118)"),
}


def normalise_offence(code: str) -> str | None:
    """Accept 'CC-279.01', '279.01', 'cc 279.01', 'IRPA 118', 's. 118 IRPA'... → canonical code or None."""
    text = (code or "").strip().upper().replace("S.", "").replace(" ", "").replace("_", "-")
    if text in OFFENCES:
        return text
    if text.startswith("IRPA") or text.endswith("IRPA"):
        number = text.replace("IRPA", "").strip("-")
        return f"IRPA-{number}" if f"IRPA-{number}" in OFFENCES else None
    number = text.removeprefix("CC").strip("-")
    return f"CC-{number}" if f"CC-{number}" in OFFENCES else None


# Roles that work with agency records (members of an agency).
RECORD_ROLES = frozenset({"agency_analyst", "agency_data_steward", "hotline_supervisor"})
STEWARD_ROLES = frozenset({"agency_data_steward"})
AGENCY_CODE_PATTERN = r"^[A-Z0-9][A-Z0-9_-]{1,29}$"
RECORD_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,119}$"
