"""The national data standard: the data dictionary shipped in ``data/standard.yaml`` and the mappings from
Harbour's operational vocabularies to its (CTDC / IOM HTCDS 2.0 aligned) fields.

Nothing here reads the database; :mod:`harbour.stats.extract` applies these mappings to rows it selected.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pyarrow as pa
import yaml

STANDARD_FILE = Path(__file__).resolve().parent / "data" / "standard.yaml"
TABLES = ("situations", "contacts", "referrals", "unmet_needs", "occurrences")
YEAR_COLUMN = {"situations": "yearOfRegistration", "contacts": "year", "referrals": "year", "unmet_needs": "year",
               "occurrences": "year"}
# Fields that exist in the store for joins and de-duplication but never leave it (not in releases or synth data).
INTERNAL_FIELDS = frozenset({"situationId", "agency"})

_ARROW = {"string": pa.string(), "integer": pa.int32(), "boolean": pa.bool_()}


@lru_cache
def dictionary() -> dict:
    """The data dictionary (parsed YAML)."""
    return yaml.safe_load(STANDARD_FILE.read_text(encoding="utf-8"))


def fields(table: str) -> list[dict]:
    return dictionary()["tables"][table]["fields"]


def field_names(table: str) -> list[str]:
    return [f["name"] for f in fields(table)]


def arrow_schema(table: str) -> pa.Schema:
    return pa.schema([(f["name"], _ARROW[f["type"]]) for f in fields(table)])


# -- mappings from hotline codes to standard fields --------------------------------------------------
EXPLOITATION_FIELDS: dict[str, tuple[str, ...]] = {
    "sex": ("isSexualExploit", "typeOfSexNotSpecified"),
    "labour": ("isForcedLabour", "typeOfLabourNotSpecified"),
    "domestic_servitude": ("isForcedLabour", "isSlaveryAndPractices", "typeOfLabourDomesticWork"),
    "forced_criminality": ("isForcedLabour", "isForcedCriminality", "typeOfLabourIllicitActivities"),
    "forced_marriage": ("isForcedMarriage",),
    "organ": ("isOrganRemoval",),
    "child": ("isChildTrafficking",),
    "other": ("isOtherExploit",),
}
CONTROL_FIELDS: dict[str, str] = {
    "threats": "meansOfControlThreats",
    "physical_abuse": "meansOfControlPhysicalAbuse",
    "sexual_abuse": "meansOfControlSexualAbuse",
    "psychological_abuse": "meansOfControlPsychologicalAbuse",
    "debt": "meansOfControlDebtBondage",
    "takes_earnings": "meansOfControlTakesEarnings",
    "restricts_movement": "meansOfControlRestrictsMovement",
    "withholds_documents": "meansOfControlWithholdsDocuments",
    "withholds_necessities": "meansOfControlWithholdsNecessities",
    "psychoactive_substances": "meansOfControlPsychoactiveSubstances",
    "threat_of_law_enforcement": "meansOfControlThreatOfLawEnforcement",
    "false_promises": "meansOfControlFalsePromises",
    "other": "meansOfControlOther",
}
RECRUITMENT_FIELDS: dict[str, tuple[str, ...]] = {
    "intimate_partner": ("recruiterRelationIntimatePartner",),
    "family_member": ("recruiterRelationFamily",),
    "friend_acquaintance": ("recruiterRelationFriend",),
    "job_offer": ("recruiterRelationOther", "recruitmentJobOffer"),
    "online": ("recruiterRelationOther", "recruitmentOnline"),
    "abduction": ("recruiterRelationOther", "isAbduction"),
    "other": ("recruiterRelationOther",),
    "unknown": ("recruiterRelationUnknown",),
}
NEED_FIELDS: dict[str, str] = {
    code: "need" + "".join(part.capitalize() for part in code.split("_"))
    for code in ("emergency_shelter", "transition_housing", "counselling", "medical", "legal", "immigration",
                 "interpretation", "transportation", "financial", "document_replacement", "tattoo_removal",
                 "indigenous_healing", "other")
}
DOMESTIC = frozenset({"citizen", "permanent_resident"})
MINOR_BANDS = frozenset({"0-11", "12-17"})
CAPS = {"contactCount": 20, "victimCount": 50}


def nationality(citizenship: str | None) -> str:
    if not citizenship or citizenship == "unknown":
        return "unknown"
    return "domestic" if citizenship in DOMESTIC else "foreign"


def majority(age_band: str | None) -> str:
    if not age_band or age_band == "unknown":
        return "unknown"
    return "minor" if age_band in MINOR_BANDS else "adult"


def flag_fields(mapping: dict) -> list[str]:
    out: list[str] = []
    for value in mapping.values():
        for name in (value,) if isinstance(value, str) else value:
            if name not in out:
                out.append(name)
    return out


def case_flags(exploitation: list[str], control: list[str], recruitment: list[str], needs: list[str]) -> dict:
    """Boolean standard fields for a case's multi-valued codes (unknown codes are ignored, never guessed)."""
    row = {name: False for name in flag_fields(EXPLOITATION_FIELDS) + flag_fields(RECRUITMENT_FIELDS)
           + list(CONTROL_FIELDS.values()) + list(NEED_FIELDS.values())}
    for code in exploitation or []:
        for name in EXPLOITATION_FIELDS.get(code, ()):
            row[name] = True
    for code in control or []:
        if code in CONTROL_FIELDS:
            row[CONTROL_FIELDS[code]] = True
    row["meansOfControlNotSpecified"] = not any(c in CONTROL_FIELDS for c in control or [])
    known = [c for c in recruitment or [] if c in RECRUITMENT_FIELDS]
    for code in known or ["unknown"]:
        for name in RECRUITMENT_FIELDS[code]:
            row[name] = True
    for code in needs or []:
        if code in NEED_FIELDS:
            row[NEED_FIELDS[code]] = True
    return row
