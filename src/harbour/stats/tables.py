"""The statistical tables every dashboard, release and report is made of.

Each table counts one store table (its *source*) by year, geography and at most one category: *total*
tables count rows, *exclusive* tables split rows by a column whose values partition them (so categories add
up to the total), *flags* tables count rows with each boolean field (one row may count under several).
Codes missing from a vocabulary fall into the table's fallback category, so every exclusive table adds up.
"""

from __future__ import annotations

from dataclasses import dataclass

from harbour.core.choices import Choice
from harbour.core.i18n import N_, gettext
from harbour.directory.choices import ReferralOutcome, ReferralStatus, ServiceType
from harbour.hotline.choices import AgeBand, Channel, Classification, Gender, Need
from harbour.stats.choices import MajorityStatus, Nationality, ResponseBand


@dataclass(frozen=True)
class Table:
    key: str
    source: str
    kind: str  # total | exclusive | flags
    title: str  # catalogue key
    var: str | None = None  # column (exclusive) or family name (flags)
    codes: tuple[tuple[str, str], ...] = ()  # (code or column, label catalogue key)
    fallback: str | None = None
    unit: str = N_("situations")

    def labels(self) -> dict[str, str]:
        return {code: gettext(label) for code, label in self.codes}


def _choice(cls: type[Choice], *extra: tuple[str, str]) -> tuple[tuple[str, str], ...]:
    return tuple((m.value, m._label) for m in cls) + tuple(extra)


def _offences() -> tuple[tuple[str, str], ...]:
    from harbour.sharing.choices import OFFENCES

    return tuple(OFFENCES.items()) + (("unspecified", N_("Offence not specified")),)


SOURCE_UNITS = {"situations": N_("situations"), "contacts": N_("contacts"), "referrals": N_("referrals"),
                "unmet_needs": N_("unmet needs"), "occurrences": N_("offences recorded")}

TABLES: tuple[Table, ...] = (
    Table("situations", "situations", "total", N_("Trafficking situations")),
    Table("exploitation", "situations", "flags", N_("Type of exploitation"), "exploitation", (
        ("isSexualExploit", N_("Sexual exploitation")), ("isForcedLabour", N_("Forced labour")),
        ("isSlaveryAndPractices", N_("Domestic servitude")), ("isForcedCriminality", N_("Forced criminality")),
        ("isForcedMarriage", N_("Forced marriage")), ("isOrganRemoval", N_("Organ removal")),
        ("isChildTrafficking", N_("Child trafficking")), ("isOtherExploit", N_("Other exploitation")))),
    Table("age", "situations", "exclusive", N_("Age band"), "ageBroad", _choice(AgeBand), "unknown"),
    Table("majority", "situations", "exclusive", N_("Minors and adults"), "majorityStatus", _choice(MajorityStatus),
          "unknown"),
    Table("gender", "situations", "exclusive", N_("Gender"), "gender", _choice(Gender), "unknown"),
    Table("nationality", "situations", "exclusive", N_("Domestic and foreign nationals"), "nationality",
          _choice(Nationality), "unknown"),
    Table("control", "situations", "flags", N_("Means of control"), "control", (
        ("meansOfControlThreats", N_("Threats")), ("meansOfControlPhysicalAbuse", N_("Physical abuse")),
        ("meansOfControlSexualAbuse", N_("Sexual abuse")),
        ("meansOfControlPsychologicalAbuse", N_("Psychological abuse")),
        ("meansOfControlDebtBondage", N_("Debt bondage")), ("meansOfControlTakesEarnings", N_("Takes earnings")),
        ("meansOfControlRestrictsMovement", N_("Restricts movement")),
        ("meansOfControlWithholdsDocuments", N_("Withholds documents")),
        ("meansOfControlWithholdsNecessities", N_("Withholds food, sleep or medical care")),
        ("meansOfControlPsychoactiveSubstances", N_("Psychoactive substances")),
        ("meansOfControlThreatOfLawEnforcement", N_("Threatens with police or deportation")),
        ("meansOfControlFalsePromises", N_("False promises")), ("meansOfControlOther", N_("Other")),
        ("meansOfControlNotSpecified", N_("Not recorded")))),
    Table("recruitment", "situations", "flags", N_("Recruitment"), "recruitment", (
        ("recruiterRelationIntimatePartner", N_("Recruiter was an intimate partner")),
        ("recruiterRelationFamily", N_("Recruiter was a family member")),
        ("recruiterRelationFriend", N_("Recruiter was a friend or acquaintance")),
        ("recruitmentJobOffer", N_("Job offer or recruiter")), ("recruitmentOnline", N_("Online or social media")),
        ("isAbduction", N_("Abduction")), ("recruiterRelationUnknown", N_("Recruitment not known")))),
    Table("needs", "situations", "flags", N_("Needs"), "needs", tuple(
        (("need" + "".join(p.capitalize() for p in m.value.split("_"))), m._label) for m in Need)),
    Table("first_referral", "situations", "exclusive", N_("Time from first contact to first referral"),
          "timeToFirstReferral", _choice(ResponseBand), "none"),
    Table("contacts", "contacts", "total", N_("Hotline contacts"), unit=N_("contacts")),
    Table("contact_case", "contacts", "exclusive", N_("Hotline contacts that became cases"), "caseOpened",
          (("yes", N_("Part of a case")), ("no", N_("No case opened"))), "no", unit=N_("contacts")),
    Table("contact_classification", "contacts", "exclusive", N_("Hotline contacts by classification"),
          "classification", _choice(Classification, ("unknown", N_("Not classified"))), "unknown",
          unit=N_("contacts")),
    Table("contact_channel", "contacts", "exclusive", N_("Hotline contacts by channel"), "channel",
          _choice(Channel), "phone", unit=N_("contacts")),
    Table("referrals", "referrals", "total", N_("Referrals"), unit=N_("referrals")),
    Table("referral_service", "referrals", "exclusive", N_("Referrals by service type"), "serviceType",
          _choice(ServiceType), "other", unit=N_("referrals")),
    Table("referral_status", "referrals", "exclusive", N_("Referrals by status"), "status",
          _choice(ReferralStatus), "sent", unit=N_("referrals")),
    Table("referral_outcome", "referrals", "exclusive", N_("Referrals by outcome"), "outcome",
          _choice(ReferralOutcome, ("none", N_("No outcome yet"))), "none", unit=N_("referrals")),
    Table("provider_response", "referrals", "exclusive", N_("Provider response time"), "providerResponse",
          _choice(ResponseBand), "none", unit=N_("referrals")),
    Table("unmet_needs", "unmet_needs", "total", N_("Unmet needs"), unit=N_("unmet needs")),
    Table("unmet_need", "unmet_needs", "exclusive", N_("Unmet needs by need"), "need", _choice(Need), "other",
          unit=N_("unmet needs")),
    Table("occurrences", "occurrences", "total", N_("Offences in agency occurrences"),
          unit=N_("offences recorded")),
    Table("offence", "occurrences", "exclusive", N_("Agency occurrences by offence"), "offence", _offences(),
          "unspecified", unit=N_("offences recorded")),
)
BY_KEY = {t.key: t for t in TABLES}
