"""Load a plan (action plan, strategy or list of recommendations) from a YAML or JSON file.

File schema (``harbour-plan/1``; the same keys in YAML or JSON)::

    schema: harbour-plan/1                  # optional; if present must be this value
    strategy:
      code: NAP-2012-2016                   # letters, digits, . _ - (at most 40): the import key
      kind: action_plan                     # action_plan | strategy | recommendations
      title: {en: "...", fr: "..."}         # every bilingual text: {en, fr} or a plain string (English)
      start_fiscal_year: 2012-2013          # optional; fiscal years are "YYYY-YYYY", consecutive years
      end_fiscal_year: 2015-2016            # optional
      source: {en: "...", fr: "..."}        # optional: where the text comes from
      published: true                       # optional (default true): shown on the public page
    status_fiscal_year: 2013-2014           # optional: the fiscal year the statuses below describe
    departments:                            # optional: departments beyond the built-in list
      - {code: ABC, name: {en: ..., fr: ...}, aliases: [OLDABC]}
    pillars:
      - code: prevention                    # unique in the plan
        order: 1                            # optional (default: position in the file)
        name: {en: Prevention, fr: Prévention}
        objectives:
          - number: "1.1"                   # digits and dots; unique in the plan
            text: {en: ..., fr: ...}
            tasks:
              - number: "1.11"              # unique in the plan
                text: {en: ..., fr: ...}
                deliverables:
                  - ref: "1"                # optional (default: position in the task, from 1); unique in the task
                    text: {en: ..., fr: ...}
                    timeline: "Start: 2012/13"   # optional: the timeline exactly as printed
                    start: 2012-2013        # optional fiscal year
                    end: 2014-2015          # optional fiscal year (overdue after it unless complete)
                    status: ongoing         # not_started | in_progress | on_track | ongoing | complete | delayed
                    status_text: "Ongoing"  # optional: the status exactly as printed
                    leads: [PS]             # at least one department code (or alias: IRCC, WAGE, GAC, ...)
                    partners: [JUS]         # optional
                    lead_text: "PS,"        # optional: the lead column exactly as printed
                    narrative: {en: ..., fr: ...}   # optional public narrative (e.g. the government's response)
                    note: {en: ..., fr: ...}        # optional transcription note
    indicators:                             # optional
      - code: victims-assisted
        name: {en: ..., fr: ...}
        unit: persons                       # optional
        objective: "2.1"                    # optional: an objective number of this plan
        values: [{fiscal_year: 2013-2014, target: 100, actual: 87}]

Validation is complete before anything is written and every problem is reported with its path,
e.g. ``pillars[1].objectives[0].tasks[3].deliverables[0].status: unknown status 'Done'``.
The import is all-or-nothing (one transaction) and idempotent: rows are matched by strategy code,
pillar code, objective and task numbers and deliverable ref, updated in place, never duplicated;
rows absent from the file are kept (and reported).  Every import writes one audit entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.db import utcnow
from harbour.core.errors import HarbourError
from harbour.core.i18n import N_, gettext
from harbour.plan.choices import StatusSource
from harbour.plan.models import (
    PlanDeliverable,
    PlanDeliverableStatusRecord,
    PlanDepartment,
    PlanIndicator,
    PlanIndicatorValue,
    PlanObjective,
    PlanPillar,
    PlanStrategy,
    PlanTask,
)
from harbour.plan.planfile import SCHEMA, DeliverableIn, DepartmentIn, PlanFile, Text2, pydantic_errors

__all__ = ["SCHEMA", "PlanImportError", "import_file", "import_document", "validate_document", "write_plan",
           "load_document", "shipped_files", "ImportResult"]

DATA_DIR = Path(__file__).resolve().parent / "data"
MAX_FILE_BYTES = 5_000_000


class PlanImportError(HarbourError):
    status_code = 422
    code = "invalid_plan_file"

    def __init__(self, errors: list[str]):
        super().__init__(N_("The plan file is not valid; nothing was imported."))
        self.errors = errors


# -- departments --------------------------------------------------------------------
@lru_cache
def builtin_departments() -> tuple[dict, ...]:
    """The departments shipped in data/departments.yaml (upserted before every import)."""
    with (DATA_DIR / "departments.yaml").open(encoding="utf-8") as fh:
        doc = yaml.safe_load(fh)
    return tuple(DepartmentIn.model_validate(d).model_dump() for d in doc["departments"])


def _alias_map(db: Session, extra: list[DepartmentIn]) -> dict[str, str]:
    """Every accepted spelling (upper case) → canonical department code."""
    out: dict[str, str] = {}
    rows = [(d.code, d.aliases) for d in db.execute(select(PlanDepartment)).scalars()]
    rows += [(d["code"], d["aliases"]) for d in builtin_departments()]
    rows += [(d.code, d.aliases) for d in extra]
    for code, aliases in rows:
        out[code.upper()] = code
        for alias in aliases:
            out.setdefault(alias.upper(), code)
    return out


# -- loading and checking ---------------------------------------------------------------
def load_document(path: Path) -> tuple[dict, str]:
    """Parse a YAML or JSON file; returns (document, sha256 of the bytes)."""
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise PlanImportError([f"{path}: {exc.strerror or exc}"]) from None
    if len(raw) > MAX_FILE_BYTES:
        raise PlanImportError([f"{path}: " + gettext(N_("file is larger than 5 MB"))])
    digest = hashlib.sha256(raw).hexdigest()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise PlanImportError([f"{path}: " + gettext(N_("file is not UTF-8 text"))]) from None
    try:
        if Path(path).suffix.lower() == ".json":
            doc = json.loads(text)
        else:
            doc = yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise PlanImportError([f"{path}:{exc.lineno}:{exc.colno}: " + gettext(N_("not valid JSON")) + f" ({exc.msg})"]) \
            from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark else ""
        raise PlanImportError([f"{path}{where}: " + gettext(N_("not valid YAML")) +
                               f" ({getattr(exc, 'problem', None) or exc})"]) from None
    if not isinstance(doc, dict):
        raise PlanImportError([f"{path}: " + gettext(N_("the file must hold a mapping with strategy and pillars"))])
    return doc, digest


def validate_document(db: Session, doc: dict) -> PlanFile:
    """Check shape, values, uniqueness and department codes; raise PlanImportError listing every problem."""
    try:
        plan = PlanFile.model_validate(doc)
    except ValidationError as exc:
        raise PlanImportError(pydantic_errors(exc)) from None
    errors: list[str] = []
    known = _alias_map(db, plan.departments)
    s = plan.strategy
    if s.start_fiscal_year and s.end_fiscal_year and s.end_fiscal_year < s.start_fiscal_year:
        errors.append("strategy.end_fiscal_year: " + gettext(N_("is before start_fiscal_year")))
    pillar_codes, objective_numbers, task_numbers = set(), set(), set()
    for pi, p in enumerate(plan.pillars):
        where = f"pillars[{pi}]"
        if p.code in pillar_codes:
            errors.append(f"{where}.code: " + gettext(N_("duplicate pillar code '%(value)s'"), value=p.code))
        pillar_codes.add(p.code)
        for oi, o in enumerate(p.objectives):
            ow = f"{where}.objectives[{oi}]"
            if o.number in objective_numbers:
                errors.append(f"{ow}.number: " + gettext(N_("duplicate objective number '%(value)s'"), value=o.number))
            objective_numbers.add(o.number)
            for ti, t in enumerate(o.tasks):
                tw = f"{ow}.tasks[{ti}]"
                if t.number in task_numbers:
                    errors.append(f"{tw}.number: " + gettext(N_("duplicate task number '%(value)s'"), value=t.number))
                task_numbers.add(t.number)
                refs = set()
                for di, d in enumerate(t.deliverables):
                    dw = f"{tw}.deliverables[{di}]"
                    ref = d.ref or str(di + 1)
                    if ref in refs:
                        errors.append(f"{dw}.ref: " + gettext(N_("duplicate ref '%(value)s' in this task"), value=ref))
                    refs.add(ref)
                    for key in ("leads", "partners"):
                        for ci, code in enumerate(getattr(d, key)):
                            if not isinstance(code, str) or code.upper() not in known:
                                errors.append(f"{dw}.{key}[{ci}]: " +
                                              gettext(N_("unknown department '%(value)s'"), value=code))
    for ii, ind in enumerate(plan.indicators):
        if ind.objective is not None and ind.objective not in objective_numbers:
            errors.append(f"indicators[{ii}].objective: " +
                          gettext(N_("no objective '%(value)s' in this file"), value=ind.objective))
    if errors:
        raise PlanImportError(errors)
    return plan


# -- writing -------------------------------------------------------------------------------
@dataclass
class ImportResult:
    strategy: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    departments_changed: int = 0
    not_in_file: list[str] = field(default_factory=list)
    kept_approved: list[str] = field(default_factory=list)
    tasks: int = 0
    deliverables: int = 0
    sha256: str = ""

    def lines(self) -> list[str]:
        out = [f"strategy {self.strategy}: {self.tasks} tasks, {self.deliverables} deliverables; "
               f"{self.created} rows created, {self.updated} updated, {self.unchanged} unchanged; "
               f"{self.departments_changed} departments added or changed"]
        if self.not_in_file:
            out.append(f"kept {len(self.not_in_file)} rows that are not in the file: " + ", ".join(self.not_in_file[:20]))
        if self.kept_approved:
            out.append(f"kept the approved-update status of {len(self.kept_approved)} deliverables: "
                       + ", ".join(self.kept_approved[:20]))
        return out


class _Upsert:
    def __init__(self, db: Session, result: ImportResult):
        self.db, self.result = db, result

    def apply(self, obj, created: bool, **values) -> str:
        changed = False
        for key, value in values.items():
            if getattr(obj, key) != value:
                setattr(obj, key, value)
                changed = True
        if created:
            self.db.add(obj)
            self.result.created += 1
            outcome = "created"
        elif changed:
            self.result.updated += 1
            outcome = "updated"
        else:
            self.result.unchanged += 1
            outcome = "unchanged"
        self.db.flush()
        return outcome

    def one(self, model, **key):
        obj = self.db.execute(select(model).filter_by(**key)).scalar_one_or_none()
        return (obj, False) if obj is not None else (model(**key), True)


def _en(t: Text2 | None) -> str | None:
    return t.en if t else None


def _fr(t: Text2 | None) -> str | None:
    return (t.fr or "") if t else None


def _departments(db: Session, plan: PlanFile, result: ImportResult) -> None:
    rows = [DepartmentIn.model_validate(d) for d in builtin_departments()] + list(plan.departments)
    for d in rows:
        dept = db.get(PlanDepartment, d.code)
        values = {"name_en": d.name.en, "name_fr": d.name.fr or d.name.en, "aliases": list(d.aliases)}
        if dept is None:
            db.add(PlanDepartment(code=d.code, **values))
            result.departments_changed += 1
        elif any(getattr(dept, k) != v for k, v in values.items()):
            for k, v in values.items():
                setattr(dept, k, v)
            dept.updated_at = utcnow()
            result.departments_changed += 1
    db.flush()


def _import_status(db: Session, d: PlanDeliverable, item: DeliverableIn, plan: PlanFile, result: ImportResult,
                   label: str) -> None:
    fy = plan.status_fiscal_year
    if fy is None:
        has_records = db.execute(select(PlanDeliverableStatusRecord.id)
                                 .where(PlanDeliverableStatusRecord.deliverable_id == d.id).limit(1)).first()
        if not has_records:
            d.status, d.status_text, d.status_fiscal_year = item.status, item.status_text, None
        return
    rec = db.execute(select(PlanDeliverableStatusRecord).where(PlanDeliverableStatusRecord.deliverable_id == d.id,
                                                           PlanDeliverableStatusRecord.fiscal_year == fy)).scalar_one_or_none()
    if rec is not None and rec.source == StatusSource.progress.value:
        result.kept_approved.append(label)
    elif rec is None:
        db.add(PlanDeliverableStatusRecord(deliverable_id=d.id, fiscal_year=fy, status=item.status,
                                       status_text=item.status_text, source=StatusSource.imported.value))
    elif (rec.status, rec.status_text) != (item.status, item.status_text):
        rec.status, rec.status_text, rec.recorded_at = item.status, item.status_text, utcnow()
    db.flush()
    latest = db.execute(select(PlanDeliverableStatusRecord).where(PlanDeliverableStatusRecord.deliverable_id == d.id)
                        .order_by(PlanDeliverableStatusRecord.fiscal_year.desc()).limit(1)).scalar_one()
    d.status, d.status_text, d.status_fiscal_year = latest.status, latest.status_text, latest.fiscal_year


def write_plan(db: Session, *, actor: Actor, plan: PlanFile, sha256: str = "") -> ImportResult:
    """Upsert a validated plan in the caller's transaction (the caller commits or rolls back)."""
    known = _alias_map(db, plan.departments)
    s = plan.strategy
    result = ImportResult(strategy=s.code, sha256=sha256)
    _departments(db, plan, result)
    up = _Upsert(db, result)
    strategy, created = up.one(PlanStrategy, code=s.code)
    up.apply(strategy, created, kind=s.kind, title_en=s.title.en, title_fr=s.title.fr or "",
             start_fiscal_year=s.start_fiscal_year, end_fiscal_year=s.end_fiscal_year,
             source_en=_en(s.source), source_fr=_fr(s.source), published=s.published)
    seen: set[tuple[str, object]] = set()
    objectives_by_number: dict[str, PlanObjective] = {}
    for pi, p in enumerate(plan.pillars):
        pillar, created = up.one(PlanPillar, strategy_id=strategy.id, code=p.code)
        up.apply(pillar, created, position=p.order if p.order is not None else pi + 1, name_en=p.name.en,
                 name_fr=p.name.fr or "")
        seen.add(("pillar", pillar.id))
        for oi, o in enumerate(p.objectives):
            objective, created = up.one(PlanObjective, strategy_id=strategy.id, number=o.number)
            up.apply(objective, created, pillar_id=pillar.id, position=oi, text_en=o.text.en, text_fr=o.text.fr or "")
            objectives_by_number[o.number] = objective
            seen.add(("objective", objective.id))
            for ti, t in enumerate(o.tasks):
                task, created = up.one(PlanTask, strategy_id=strategy.id, number=t.number)
                up.apply(task, created, objective_id=objective.id, position=ti, text_en=t.text.en,
                         text_fr=t.text.fr or "")
                seen.add(("task", task.id))
                result.tasks += 1
                for di, item in enumerate(t.deliverables):
                    ref = item.ref or str(di + 1)
                    d, created = up.one(PlanDeliverable, task_id=task.id, ref=ref)
                    outcome = up.apply(d, created, strategy_id=strategy.id, position=di, text_en=item.text.en,
                             text_fr=item.text.fr or "", timeline=item.timeline, start_fiscal_year=item.start,
                             end_fiscal_year=item.end, lead_text=item.lead_text,
                             lead_departments=[known[c.upper()] for c in item.leads],
                             partner_departments=[known[c.upper()] for c in item.partners],
                             narrative_en=_en(item.narrative), narrative_fr=_fr(item.narrative),
                             note_en=_en(item.note), note_fr=_fr(item.note))
                    before = (d.status, d.status_text, d.status_fiscal_year)
                    _import_status(db, d, item, plan, result, f"{t.number}/{ref}")
                    if outcome == "unchanged" and before != (d.status, d.status_text, d.status_fiscal_year):
                        result.updated += 1
                        result.unchanged -= 1
                    seen.add(("deliverable", d.id))
                    result.deliverables += 1
    for ind in plan.indicators:
        indicator, created = up.one(PlanIndicator, strategy_id=strategy.id, code=ind.code)
        objective = objectives_by_number.get(ind.objective) if ind.objective else None
        up.apply(indicator, created, name_en=ind.name.en, name_fr=ind.name.fr or "", unit=ind.unit,
                 objective_id=objective.id if objective else None)
        for v in ind.values:
            value, created = up.one(PlanIndicatorValue, indicator_id=indicator.id, fiscal_year=v.fiscal_year)
            up.apply(value, created, target=v.target, actual=v.actual)
    _report_missing(db, strategy, seen, result)
    audit(db, actor, "import", "plan_strategy", strategy.id,
          detail={"code": strategy.code, "sha256": sha256, "created": result.created, "updated": result.updated,
                  "unchanged": result.unchanged, "departments": result.departments_changed,
                  "tasks": result.tasks, "deliverables": result.deliverables})
    return result


def _report_missing(db: Session, strategy: PlanStrategy, seen: set, result: ImportResult) -> None:
    for kind, model, label in (("pillar", PlanPillar, lambda r: f"pillar {r.code}"),
                               ("objective", PlanObjective, lambda r: f"objective {r.number}"),
                               ("task", PlanTask, lambda r: f"task {r.number}"),
                               ("deliverable", PlanDeliverable, lambda r: f"deliverable {r.task.number}/{r.ref}")):
        for row in db.execute(select(model).where(model.strategy_id == strategy.id)).scalars():
            if (kind, row.id) not in seen:
                result.not_in_file.append(label(row))


def import_file(db: Session, *, actor: Actor, path: Path, dry_run: bool = False) -> ImportResult:
    """Validate and import one file in one transaction; nothing is written if anything is wrong."""
    doc, digest = load_document(path)
    try:
        plan = validate_document(db, doc)
        result = write_plan(db, actor=actor, plan=plan, sha256=digest)
        if dry_run:
            db.rollback()
        else:
            db.commit()
        return result
    except BaseException:
        db.rollback()
        raise


def import_document(db: Session, *, actor: Actor, doc: dict, dry_run: bool = False) -> ImportResult:
    """Same as import_file for an already parsed document (tests, API)."""
    digest = hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()
    try:
        plan = validate_document(db, doc)
        result = write_plan(db, actor=actor, plan=plan, sha256=digest)
        db.rollback() if dry_run else db.commit()
        return result
    except BaseException:
        db.rollback()
        raise


def shipped_files() -> list[Path]:
    """The reference plans shipped with Harbour (not the department list)."""
    return sorted(p for p in DATA_DIR.glob("*.yaml") if p.name != "departments.yaml")
