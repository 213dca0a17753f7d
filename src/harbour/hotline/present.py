"""How a case reads in the console: timeline events and the potential-victims line (translated at render time)."""

from __future__ import annotations

from harbour.core import formats, timezones
from harbour.core.i18n import N_, gettext, ngettext
from harbour.hotline.choices import (
    AgeBand,
    CaseOutcome,
    CaseStatus,
    Citizenship,
    ConsentPurpose,
    EventKind,
    Gender,
    RiskLevel,
    TaskKind,
)
from harbour.hotline.models import Case, CaseEvent

FIELD_LABELS = {
    "risk_level": N_("Risk level"), "victim_count": N_("How many people"), "age_band": N_("Age"),
    "gender": N_("Gender"), "citizenship": N_("Citizenship or immigration status"),
    "exploitation_types": N_("Type of exploitation"), "indicators": N_("Trafficking indicators"),
    "recruitment": N_("Recruitment"), "control_means": N_("Means of control"), "needs": N_("Needs"),
    "province": N_("Province or territory"), "city": N_("City or community"),
    "survivor_alias": N_("Name or alias"), "notes": N_("Case notes"),
}


def _label(choice_cls, code):
    try:
        return choice_cls(code).label
    except ValueError:
        return code or ""


def victims_summary(case: Case) -> str:
    """The potential victims in words: "2 potential victims · 18 to 24 · Temporary foreign worker".  What is
    not known (not recorded, or recorded as unknown) is left out rather than shown as a dash."""
    parts = []
    if case.victim_count is not None:
        parts.append(ngettext("%(num)s potential victim", "%(num)s potential victims", case.victim_count))
    for choice_cls, code in ((AgeBand, case.age_band), (Gender, case.gender), (Citizenship, case.citizenship)):
        if code and code != "unknown":
            parts.append(_label(choice_cls, code))
    return " · ".join(parts) if parts else gettext(N_("Not known yet"))


def describe_event(ev: CaseEvent, tz=None, task_titles: dict[int, str] | None = None) -> str:
    """A one-line, translated description of a timeline event.  The event itself holds codes only, never
    personal data; ``task_titles`` (the case's tasks, id → what the advocate typed, read with the case) puts
    a task's own words on its lines.  Times it carries (stored in UTC) are shown in ``tz``, the reader's time
    zone (UTC if not given)."""
    d = ev.data or {}
    task_titles = task_titles or {}
    tz = tz or timezones.zone(None, "UTC")
    title = _label(EventKind, ev.kind)
    detail = ""
    if ev.kind == EventKind.status_changed:
        detail = f"{_label(CaseStatus, d.get('old'))} → {_label(CaseStatus, d.get('new'))}"
        if d.get("outcome"):
            detail += f" ({_label(CaseOutcome, d['outcome'])})"
    elif ev.kind in (EventKind.consent_recorded, EventKind.consent_revoked, EventKind.override_requested,
                     EventKind.override_approved, EventKind.override_refused):
        detail = _label(ConsentPurpose, d.get("purpose"))
        if d.get("expires"):
            detail += " · " + gettext("until %(when)s", when=timezones.shown(d["expires"], tz))
    elif ev.kind == EventKind.task_added:
        typed = task_titles.get(d.get("task_id"))
        kind = d.get("task_kind")
        detail = typed or _label(TaskKind, kind)
        if typed and kind and kind != TaskKind.general:
            detail += f" ({_label(TaskKind, kind)})"
        detail += " · " + gettext("due %(when)s", when=timezones.shown(d.get("due") or "", tz))
    elif ev.kind == EventKind.task_done:
        detail = task_titles.get(d.get("task_id"), "")
    elif ev.kind == EventKind.contact_attached:
        detail = d.get("reference", "")
    elif ev.kind == EventKind.case_opened and d.get("risk_level"):
        detail = _label(RiskLevel, d["risk_level"])
    elif ev.kind == EventKind.case_updated:
        detail = ", ".join(gettext(FIELD_LABELS[f]) if f in FIELD_LABELS else f for f in d.get("fields", []))
    elif ev.kind in (EventKind.referral_sent, EventKind.referral_updated):
        from harbour.directory.choices import ReferralStatus

        detail = d.get("summary", "")
        if ev.kind == EventKind.referral_updated and d.get("status"):
            detail += f" · {_label(ReferralStatus, d['status'])}"
    return formats.labelled(title, detail) if detail else title
