"""Controlled vocabularies with bilingual labels, shared by every domain."""

from __future__ import annotations

from enum import StrEnum

from harbour.core.i18n import N_, gettext


class Choice(StrEnum):
    """A vocabulary value with a catalogue label: ``member = "code", N_("Label")``."""

    def __new__(cls, value: str, label: str | None = None):
        obj = str.__new__(cls, value)
        obj._value_ = value
        obj._label = label or value
        return obj

    @property
    def label(self) -> str:
        return gettext(self._label)

    @classmethod
    def options(cls) -> list[tuple[str, str]]:
        return [(m.value, m.label) for m in cls]

    @classmethod
    def codes(cls) -> list[str]:
        return [m.value for m in cls]


class Role(Choice):
    hotline_advocate = "hotline_advocate", N_("Hotline advocate")
    hotline_supervisor = "hotline_supervisor", N_("Hotline supervisor")
    provider_staff = "provider_staff", N_("Service provider staff")
    agency_analyst = "agency_analyst", N_("Agency analyst")
    agency_data_steward = "agency_data_steward", N_("Agency data steward")
    plan_coordinator = "plan_coordinator", N_("Plan coordinator")
    researcher = "researcher", N_("Researcher")
    admin = "admin", N_("Administrator")


HOTLINE_ROLES = frozenset({Role.hotline_advocate, Role.hotline_supervisor})


class Province(Choice):
    AB = "AB", N_("Alberta")
    BC = "BC", N_("British Columbia")
    MB = "MB", N_("Manitoba")
    NB = "NB", N_("New Brunswick")
    NL = "NL", N_("Newfoundland and Labrador")
    NS = "NS", N_("Nova Scotia")
    NT = "NT", N_("Northwest Territories")
    NU = "NU", N_("Nunavut")
    ON = "ON", N_("Ontario")
    PE = "PE", N_("Prince Edward Island")
    QC = "QC", N_("Quebec")
    SK = "SK", N_("Saskatchewan")
    YT = "YT", N_("Yukon")


class ApiScope(Choice):
    hotline_read = "hotline:read", N_("Read hotline contacts, cases, consents and tasks")
    hotline_write = "hotline:write", N_("Create and change hotline contacts, cases, consents and tasks")
    directory_read = "directory:read", N_("Search the provider directory and read provider records")
    directory_write = "directory:write", N_("Update provider capacity, hours, contact details and vetting")
    referrals_read = "referrals:read", N_("Read referrals")
    referrals_write = "referrals:write", N_("Send, answer and update referrals")
    plan_read = "plan:read", N_("Read action plans, deliverables, status and approved progress updates")
    plan_write = "plan:write", N_("Write and review action-plan progress updates and indicator values")
    sharing_read = "sharing:read", N_("Read your agency's records, hits, agreements and disclosure requests")
    sharing_write = "sharing:write", N_("Ingest your agency's records, request and decide disclosures, submit encodings")
    stats_read = "stats:read", N_("Read statistics: dashboards (exact numbers only for analysts and researchers), "
                                  "releases and the privacy budget")


# Which API scopes each role may put on its tokens; domains extend this as they add APIs.
_HOTLINE_SCOPES = {ApiScope.hotline_read, ApiScope.hotline_write, ApiScope.directory_read, ApiScope.directory_write,
                   ApiScope.referrals_read, ApiScope.referrals_write}
ROLE_SCOPES: dict[str, set[str]] = {
    Role.hotline_advocate: _HOTLINE_SCOPES,
    Role.hotline_supervisor: _HOTLINE_SCOPES,
    Role.provider_staff: {ApiScope.directory_read, ApiScope.directory_write, ApiScope.referrals_read,
                          ApiScope.referrals_write},
    Role.admin: {ApiScope.directory_read, ApiScope.directory_write},
}
# Action plans: every role may read them (they are public); the plan coordinator also writes.
for _role in Role:
    ROLE_SCOPES[_role] = set(ROLE_SCOPES.get(_role, set())) | {ApiScope.plan_read}
# Statistics: every role may read the public (disclosure-controlled) numbers; the service decides the rest.
for _role in Role:
    ROLE_SCOPES[_role] = set(ROLE_SCOPES.get(_role, set())) | {ApiScope.stats_read}
ROLE_SCOPES[Role.plan_coordinator] |= {ApiScope.plan_write}
# Sharing: members of agencies (analysts, data stewards, hotline supervisors) and administrators (agencies,
# agreements, linkage); the sharing service decides what each may do with them.
for _role in (Role.agency_analyst, Role.agency_data_steward, Role.hotline_supervisor, Role.admin):
    ROLE_SCOPES[_role] = set(ROLE_SCOPES.get(_role, set())) | {ApiScope.sharing_read, ApiScope.sharing_write}


def scopes_for_role(role: str) -> list[tuple[str, str]]:
    allowed = {str(s) for s in ROLE_SCOPES.get(role, set())}
    return [(code, label) for code, label in ApiScope.options() if code in allowed]
