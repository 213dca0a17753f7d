"""Read-only views of a plan for the public page, the API, the CSV export and the annual report.

``chart()`` is the one grouped structure everything else is built from::

    {"strategy": {...}, "fiscal_year": "2013-2014" | None, "reference_fiscal_year": "2013-2014",
     "pillars": [{"code", "name_en", "name_fr", "position",
       "objectives": [{"number", "text_en", "text_fr",
         "tasks": [{"number", "text_en", "text_fr",
           "deliverables": [{"id", "ref", "text_en", "text_fr", "timeline", "start_fiscal_year",
                             "end_fiscal_year", "status", "status_text", "status_fiscal_year",
                             "leads", "partners", "lead_text", "narrative_en", "narrative_fr",
                             "note_en", "note_fr", "overdue", "latest_update", "pending"?}]}]}]}]}

``status`` is the status as of ``fiscal_year`` (the latest published or approved status of that
year or before; ``None`` when nothing was reported by then), or the current status when
``fiscal_year`` is ``None``.  Only approved updates are ever used; ``approved_only=False`` adds a
``pending`` list of updates waiting for review (for the coordinator's console, never public).
Everything is plain data (str, int, bool, list, dict, date) so it serialises as JSON as is.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from harbour.core.errors import NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.plan.choices import (
    DeliverableStatus,
    ReviewState,
    check_fiscal_year,
    fiscal_year_of,
    previous_fiscal_year,
)
from harbour.plan.models import (
    PlanDeliverable,
    PlanDeliverableStatusRecord,
    PlanIndicator,
    PlanObjective,
    PlanPillar,
    PlanProgressEntry,
    PlanStrategy,
    PlanTask,
)

NOT_REPORTED = "not_reported"


def current_fiscal_year(today: date | None = None) -> str:
    return fiscal_year_of(today or date.today())


def fiscal_year_or_422(value: str | None, field: str = "fiscal_year") -> str | None:
    if value is None:
        return None
    try:
        return check_fiscal_year(value)
    except ValueError:
        raise ValidationFailed(N_("Write the fiscal year like 2013-2014 (two consecutive years)."),
                               fields={field: N_("Use the expected format.")}) from None


def get_strategy(db: Session, code: str) -> PlanStrategy:
    strategy = db.execute(select(PlanStrategy).where(PlanStrategy.code == code)).scalar_one_or_none()
    if strategy is None:
        raise NotFound(N_("No plan or strategy has that code."))
    return strategy


def list_strategies(db: Session, *, published_only: bool = True) -> list[PlanStrategy]:
    query = select(PlanStrategy).order_by(PlanStrategy.start_fiscal_year.desc(), PlanStrategy.code)
    if published_only:
        query = query.where(PlanStrategy.published.is_(True))
    return list(db.execute(query).scalars())


def strategy_dict(s: PlanStrategy) -> dict:
    return {"code": s.code, "kind": s.kind, "title_en": s.title_en, "title_fr": s.title_fr,
            "start_fiscal_year": s.start_fiscal_year, "end_fiscal_year": s.end_fiscal_year,
            "source_en": s.source_en, "source_fr": s.source_fr}


def _load_tree(db: Session, strategy: PlanStrategy) -> list[PlanPillar]:
    return list(db.execute(
        select(PlanPillar).where(PlanPillar.strategy_id == strategy.id).order_by(PlanPillar.position, PlanPillar.id)
        .options(selectinload(PlanPillar.objectives).selectinload(PlanObjective.tasks).selectinload(PlanTask.deliverables))
    ).scalars())


def _status_records(db: Session, strategy_id: int) -> dict[int, list[PlanDeliverableStatusRecord]]:
    out: dict[int, list[PlanDeliverableStatusRecord]] = defaultdict(list)
    rows = db.execute(
        select(PlanDeliverableStatusRecord).join(PlanDeliverable, PlanDeliverable.id == PlanDeliverableStatusRecord.deliverable_id)
        .where(PlanDeliverable.strategy_id == strategy_id).order_by(PlanDeliverableStatusRecord.fiscal_year)
    ).scalars()
    for r in rows:
        out[r.deliverable_id].append(r)
    return out


def _entries(db: Session, strategy_id: int, states: tuple[str, ...]) -> dict[int, list[PlanProgressEntry]]:
    out: dict[int, list[PlanProgressEntry]] = defaultdict(list)
    rows = db.execute(
        select(PlanProgressEntry).join(PlanDeliverable, PlanDeliverable.id == PlanProgressEntry.deliverable_id)
        .where(PlanDeliverable.strategy_id == strategy_id, PlanProgressEntry.state.in_(states))
        .order_by(PlanProgressEntry.fiscal_year, PlanProgressEntry.entry_date, PlanProgressEntry.id)
    ).scalars()
    for e in rows:
        out[e.deliverable_id].append(e)
    return out


def status_as_of(d: PlanDeliverable, records: list[PlanDeliverableStatusRecord], fiscal_year: str | None):
    """(status, status_text, fiscal year of that status) as of a fiscal year, or now."""
    if fiscal_year is None:
        return d.status, d.status_text, d.status_fiscal_year
    best = None
    for r in records:
        if r.fiscal_year <= fiscal_year:
            best = r
    if best is None:
        if not records and d.status_fiscal_year is None:
            return d.status, d.status_text, None  # status given without a year: treat as standing
        return None, None, None
    return best.status, best.status_text, best.fiscal_year


def update_dict(e: PlanProgressEntry) -> dict:
    return {"id": e.id, "fiscal_year": e.fiscal_year, "entry_date": e.entry_date, "department": e.department_code,
            "narrative_en": e.narrative_en, "narrative_fr": e.narrative_fr, "evidence_links": list(e.evidence_links),
            "proposed_status": e.proposed_status, "state": e.state}


def chart(db: Session, strategy_code: str, fiscal_year: str | None = None, approved_only: bool = True, *,
          pillar: str | None = None, department: str | None = None, status: str | None = None,
          overdue_only: bool = False) -> dict:
    """The plan grouped pillars → objectives → tasks → deliverables (see the module docstring)."""
    strategy = get_strategy(db, strategy_code)
    fiscal_year = fiscal_year_or_422(fiscal_year)
    reference = fiscal_year or current_fiscal_year()
    records = _status_records(db, strategy.id)
    approved = _entries(db, strategy.id, (ReviewState.approved.value,))
    pending = {} if approved_only else _entries(db, strategy.id, (ReviewState.submitted.value,))
    pillars = []
    for p in _load_tree(db, strategy):
        if pillar and p.code != pillar:
            continue
        objectives = []
        for o in p.objectives:
            tasks = []
            for t in o.tasks:
                items = []
                for d in t.deliverables:
                    st, st_text, st_fy = status_as_of(d, records.get(d.id, []), fiscal_year)
                    overdue = bool(d.end_fiscal_year and d.end_fiscal_year < reference
                                   and st != DeliverableStatus.complete.value)
                    if department and department not in d.departments:
                        continue
                    if status and (st or NOT_REPORTED) != status:
                        continue
                    if overdue_only and not overdue:
                        continue
                    updates = [e for e in approved.get(d.id, []) if fiscal_year is None or e.fiscal_year <= fiscal_year]
                    item = {
                        "id": d.id, "ref": d.ref, "text_en": d.text_en, "text_fr": d.text_fr, "timeline": d.timeline,
                        "start_fiscal_year": d.start_fiscal_year, "end_fiscal_year": d.end_fiscal_year,
                        "status": st, "status_text": st_text, "status_fiscal_year": st_fy,
                        "leads": list(d.lead_departments), "partners": list(d.partner_departments),
                        "lead_text": d.lead_text, "narrative_en": d.narrative_en, "narrative_fr": d.narrative_fr,
                        "note_en": d.note_en, "note_fr": d.note_fr, "overdue": overdue,
                        "latest_update": update_dict(updates[-1]) if updates else None,
                    }
                    if not approved_only:
                        item["pending"] = [update_dict(e) for e in pending.get(d.id, [])]
                    items.append(item)
                if items:
                    tasks.append({"number": t.number, "text_en": t.text_en, "text_fr": t.text_fr,
                                  "deliverables": items})
            if tasks:
                objectives.append({"number": o.number, "text_en": o.text_en, "text_fr": o.text_fr, "tasks": tasks})
        if objectives:
            pillars.append({"code": p.code, "name_en": p.name_en, "name_fr": p.name_fr, "position": p.position,
                            "objectives": objectives})
    return {"strategy": strategy_dict(strategy), "fiscal_year": fiscal_year, "reference_fiscal_year": reference,
            "pillars": pillars}


def iter_deliverables(grouped: dict):
    """(pillar, objective, task, deliverable) for every deliverable of a chart()."""
    for p in grouped["pillars"]:
        for o in p["objectives"]:
            for t in o["tasks"]:
                for d in t["deliverables"]:
                    yield p, o, t, d


def _empty_counts() -> dict[str, int]:
    return {code: 0 for code in [*DeliverableStatus.codes(), NOT_REPORTED]}


def status_summary(db: Session, strategy_code: str, fiscal_year: str | None = None,
                   approved_only: bool = True) -> dict:
    """Counts by status, overall, per pillar and per lead department (a deliverable counts once per lead)."""
    grouped = chart(db, strategy_code, fiscal_year, approved_only)
    total, overdue = _empty_counts(), 0
    by_pillar: dict[str, dict] = {}
    by_department: dict[str, dict[str, int]] = defaultdict(_empty_counts)
    count = 0
    for p, _o, _t, d in iter_deliverables(grouped):
        key = d["status"] or NOT_REPORTED
        count += 1
        total[key] += 1
        overdue += d["overdue"]
        entry = by_pillar.setdefault(p["code"], {"code": p["code"], "name_en": p["name_en"], "name_fr": p["name_fr"],
                                                 "total": 0, "by_status": _empty_counts()})
        entry["total"] += 1
        entry["by_status"][key] += 1
        for lead in d["leads"]:
            by_department[lead][key] += 1
    return {"strategy": grouped["strategy"], "fiscal_year": grouped["fiscal_year"], "total": count,
            "by_status": total, "overdue": overdue, "by_pillar": list(by_pillar.values()),
            "by_department": {k: by_department[k] for k in sorted(by_department)}}


def changes_since(db: Session, strategy_code: str, fiscal_year: str) -> dict:
    """What changed in ``fiscal_year`` compared with the fiscal year before it.

    ``changed``: status differs from the previous year's; ``first_reported``: no status before;
    ``updates``: approved progress updates dated in this fiscal year.
    """
    fiscal_year = fiscal_year_or_422(fiscal_year)
    if fiscal_year is None:
        raise ValidationFailed(N_("Choose a fiscal year."), fields={"fiscal_year": N_("This field is required.")})
    previous = previous_fiscal_year(fiscal_year)
    now, before = chart(db, strategy_code, fiscal_year), chart(db, strategy_code, previous)
    earlier = {d["id"]: d for _p, _o, _t, d in iter_deliverables(before)}
    approved = _entries(db, get_strategy(db, strategy_code).id, (ReviewState.approved.value,))
    changed, first, updates = [], [], []
    for p, o, t, d in iter_deliverables(now):
        old = earlier.get(d["id"], {}).get("status")
        row = {"deliverable_id": d["id"], "pillar": p["code"], "objective": o["number"], "task": t["number"],
               "ref": d["ref"], "text_en": d["text_en"], "text_fr": d["text_fr"], "leads": d["leads"],
               "from_status": old, "to_status": d["status"]}
        if d["status"] is not None and old is None:
            first.append(row)
        elif d["status"] != old:
            changed.append(row)
        for e in approved.get(d["id"], []):
            if e.fiscal_year == fiscal_year:
                updates.append({**row, "update": update_dict(e)})
    return {"strategy": now["strategy"], "fiscal_year": fiscal_year, "previous_fiscal_year": previous,
            "changed": changed, "first_reported": first, "updates": updates,
            "counts": {"changed": len(changed), "first_reported": len(first), "updates": len(updates)}}


def indicators(db: Session, strategy_code: str) -> list[PlanIndicator]:
    strategy = get_strategy(db, strategy_code)
    return list(db.execute(
        select(PlanIndicator).where(PlanIndicator.strategy_id == strategy.id).order_by(PlanIndicator.code)
        .options(selectinload(PlanIndicator.values))
    ).scalars())


CSV_COLUMNS = (
    "strategy", "fiscal_year", "pillar", "pillar_en", "pillar_fr", "objective", "objective_en", "objective_fr",
    "task", "task_en", "task_fr", "deliverable_ref", "deliverable_en", "deliverable_fr", "timeline",
    "start_fiscal_year", "end_fiscal_year", "status", "status_text", "status_fiscal_year", "overdue",
    "lead_departments", "partner_departments", "lead_text", "narrative_en", "narrative_fr",
    "latest_update_fiscal_year", "latest_update_en", "latest_update_fr", "note_en", "note_fr",
)


def _cell(value) -> str:
    """Text for a spreadsheet cell; a leading = + - @ is neutralised so no cell runs as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        value = "; ".join(value)
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def csv_rows(grouped: dict):
    """One row per deliverable of a chart(), columns CSV_COLUMNS, both languages."""
    code, fy = grouped["strategy"]["code"], grouped["fiscal_year"] or ""
    for p, o, t, d in iter_deliverables(grouped):
        upd = d["latest_update"] or {}
        yield [_cell(v) for v in (
            code, fy, p["code"], p["name_en"], p["name_fr"], o["number"], o["text_en"], o["text_fr"],
            t["number"], t["text_en"], t["text_fr"], d["ref"], d["text_en"], d["text_fr"], d["timeline"],
            d["start_fiscal_year"], d["end_fiscal_year"], d["status"] or NOT_REPORTED, d["status_text"],
            d["status_fiscal_year"], d["overdue"], d["leads"], d["partners"], d["lead_text"], d["narrative_en"],
            d["narrative_fr"], upd.get("fiscal_year"), upd.get("narrative_en"), upd.get("narrative_fr"),
            d["note_en"], d["note_fr"],
        )]


def write_csv(grouped: dict, fh) -> int:
    """Write the chart as CSV to a text stream; returns the number of deliverable rows."""
    import csv

    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    n = 0
    for row in csv_rows(grouped):
        writer.writerow(row)
        n += 1
    return n
