"""Statistics vocabularies: regions, release modes, bands, and who may see what."""

from __future__ import annotations

from harbour.core.choices import Choice, Province, Role
from harbour.core.i18n import N_

ALL = "*"  # "every value" in a cell key (a margin)
UNKNOWN = "unknown"
MIN_PUBLISHED = 10  # counts 1..9 are never published (suppress mode)


class Region(Choice):
    """Groups of provinces and territories used by the filters (and as margins in every table)."""

    ATL = "ATL", N_("Atlantic provinces")
    PRA = "PRA", N_("Prairie provinces")
    TER = "TER", N_("The territories")


REGION_MEMBERS: dict[str, tuple[str, ...]] = {
    "ATL": ("NB", "NL", "NS", "PE"),
    "PRA": ("AB", "MB", "SK"),
    "TER": ("NT", "NU", "YT"),
}
PROVINCE_REGION = {p: r for r, members in REGION_MEMBERS.items() for p in members}
PROVINCES = tuple(Province.codes())
GEO_LEAVES = PROVINCES + (UNKNOWN,)  # every situation has exactly one leaf


def geo_codes() -> list[str]:
    """Every geography a filter or a release cell may name."""
    return list(PROVINCES) + [UNKNOWN] + list(REGION_MEMBERS) + [ALL]


def geo_label(code: str) -> str:
    from harbour.core.i18n import gettext

    if code == ALL:
        return gettext(N_("Canada"))
    if code == UNKNOWN:
        return gettext(N_("Province not recorded"))
    if code in REGION_MEMBERS:
        return Region(code).label
    return Province(code).label


class ReleaseMode(Choice):
    suppress = "suppress", N_("Small-cell suppression")
    dp = "dp", N_("Differential privacy")


class Audience(Choice):
    public = "public", N_("Public (disclosure-controlled)")
    internal = "internal", N_("Internal (exact counts, de-identified)")


class ResponseBand(Choice):
    under_1h = "lt_1h", N_("Under 1 hour")
    h1_4 = "1h_4h", N_("1 to 4 hours")
    h4_24 = "4h_24h", N_("4 to 24 hours")
    d1_3 = "1d_3d", N_("1 to 3 days")
    d3_7 = "3d_7d", N_("3 to 7 days")
    over_7d = "gt_7d", N_("More than 7 days")
    none = "none", N_("No answer or referral yet")


def response_band(hours: float | None) -> str:
    if hours is None:
        return ResponseBand.none.value
    for limit, band in ((1, "lt_1h"), (4, "1h_4h"), (24, "4h_24h"), (72, "1d_3d"), (168, "3d_7d")):
        if hours < limit:
            return band
    return ResponseBand.over_7d.value


class Nationality(Choice):
    """Domestic vs foreign nationals (IRPA: a foreign national is neither a citizen nor a permanent resident)."""

    domestic = "domestic", N_("Canadian citizens and permanent residents")
    foreign = "foreign", N_("Foreign nationals")
    unknown = "unknown", N_("Unknown")


class MajorityStatus(Choice):
    minor = "minor", N_("Minor (under 18)")
    adult = "adult", N_("Adult")
    unknown = "unknown", N_("Unknown")


# Who sees exact (internal) statistics and may download releases' working files: de-identified, yet not public.
INTERNAL_ROLES = frozenset({Role.researcher, Role.agency_analyst, Role.agency_data_steward, Role.hotline_supervisor,
                            Role.admin})
# Who may publish a release (it spends privacy budget) or rebuild the store.
RELEASE_ROLES = frozenset({Role.admin})
