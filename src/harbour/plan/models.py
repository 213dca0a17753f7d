"""Plan tables: strategy → pillar → objective → task → deliverable, departments, indicators, progress.

Identity for re-imports is the strategy code plus numbers: pillars by code, objectives and
tasks by number (unique within their strategy), deliverables by ``ref`` within their task.
``strategy_id`` is repeated on objectives, tasks and deliverables so those keys are plain
unique constraints and the chart is one query per level.

A deliverable's public status is its latest row in ``plan_deliverable_status`` (one row per
fiscal year, written by an import of a published chart or by an approved progress update).
Draft, submitted and returned updates never touch the deliverable.

Department leads are users linked to a department in ``plan_department_member`` (chosen over
``User.organization``, which is free text shared by other domains): an administrator grants the
link, it is audited, and one person may speak for more than one department.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.db import Base, JSONList, UTCDateTime, utcnow
from harbour.core.models import User


class PlanDepartment(Base):
    __tablename__ = "plan_department"

    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    name_en: Mapped[str] = mapped_column(String(200))
    name_fr: Mapped[str] = mapped_column(String(200))
    aliases: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class PlanDepartmentMember(Base):
    """A user who speaks for a department (a "department lead")."""

    __tablename__ = "plan_department_member"
    __table_args__ = (UniqueConstraint("user_id", "department_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("plan_department.code"), index=True)
    added_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], lazy="joined")


class PlanStrategy(Base):
    __tablename__ = "plan_strategy"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    title_en: Mapped[str] = mapped_column(String(300))
    title_fr: Mapped[str] = mapped_column(String(300))
    start_fiscal_year: Mapped[str | None] = mapped_column(String(9))
    end_fiscal_year: Mapped[str | None] = mapped_column(String(9))
    source_en: Mapped[str | None] = mapped_column(Text)
    source_fr: Mapped[str | None] = mapped_column(Text)
    published: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    pillars: Mapped[list[PlanPillar]] = relationship(back_populates="strategy", order_by="PlanPillar.position")


class PlanPillar(Base):
    __tablename__ = "plan_pillar"
    __table_args__ = (UniqueConstraint("strategy_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("plan_strategy.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(40))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name_en: Mapped[str] = mapped_column(String(300))
    name_fr: Mapped[str] = mapped_column(String(300))

    strategy: Mapped[PlanStrategy] = relationship(back_populates="pillars")
    objectives: Mapped[list[PlanObjective]] = relationship(back_populates="pillar", order_by="PlanObjective.position")


class PlanObjective(Base):
    __tablename__ = "plan_objective"
    __table_args__ = (UniqueConstraint("strategy_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("plan_strategy.id", ondelete="CASCADE"), index=True)
    pillar_id: Mapped[int] = mapped_column(ForeignKey("plan_pillar.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_en: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str] = mapped_column(Text)

    pillar: Mapped[PlanPillar] = relationship(back_populates="objectives")
    tasks: Mapped[list[PlanTask]] = relationship(back_populates="objective", order_by="PlanTask.position")


class PlanTask(Base):
    __tablename__ = "plan_task"
    __table_args__ = (UniqueConstraint("strategy_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("plan_strategy.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int] = mapped_column(ForeignKey("plan_objective.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_en: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str] = mapped_column(Text)

    objective: Mapped[PlanObjective] = relationship(back_populates="tasks")
    deliverables: Mapped[list[PlanDeliverable]] = relationship(back_populates="task", order_by="PlanDeliverable.position")


class PlanDeliverable(Base):
    __tablename__ = "plan_deliverable"
    __table_args__ = (UniqueConstraint("task_id", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("plan_strategy.id", ondelete="CASCADE"), index=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("plan_task.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(Integer, default=0)
    text_en: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str] = mapped_column(Text)
    timeline: Mapped[str | None] = mapped_column(String(200))
    start_fiscal_year: Mapped[str | None] = mapped_column(String(9))
    end_fiscal_year: Mapped[str | None] = mapped_column(String(9), index=True)
    status: Mapped[str] = mapped_column(String(20), default="not_started", index=True)
    status_text: Mapped[str | None] = mapped_column(String(200))
    status_fiscal_year: Mapped[str | None] = mapped_column(String(9))
    lead_departments: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    partner_departments: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    lead_text: Mapped[str | None] = mapped_column(String(200))
    narrative_en: Mapped[str | None] = mapped_column(Text)
    narrative_fr: Mapped[str | None] = mapped_column(Text)
    note_en: Mapped[str | None] = mapped_column(Text)
    note_fr: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    task: Mapped[PlanTask] = relationship(back_populates="deliverables")
    statuses: Mapped[list[PlanDeliverableStatusRecord]] = relationship(
        back_populates="deliverable", order_by="PlanDeliverableStatusRecord.fiscal_year")

    @property
    def departments(self) -> set[str]:
        return set(self.lead_departments) | set(self.partner_departments)


class PlanDeliverableStatusRecord(Base):
    """The status a deliverable had in one fiscal year (published chart or approved update)."""

    __tablename__ = "plan_deliverable_status"
    __table_args__ = (UniqueConstraint("deliverable_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("plan_deliverable.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[str] = mapped_column(String(9))
    status: Mapped[str] = mapped_column(String(20))
    status_text: Mapped[str | None] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(20))
    progress_entry_id: Mapped[int | None] = mapped_column(ForeignKey("plan_progress_entry.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    deliverable: Mapped[PlanDeliverable] = relationship(back_populates="statuses")


class PlanIndicator(Base):
    __tablename__ = "plan_indicator"
    __table_args__ = (UniqueConstraint("strategy_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(ForeignKey("plan_strategy.id", ondelete="CASCADE"), index=True)
    objective_id: Mapped[int | None] = mapped_column(ForeignKey("plan_objective.id", ondelete="SET NULL"))
    code: Mapped[str] = mapped_column(String(40))
    name_en: Mapped[str] = mapped_column(String(300))
    name_fr: Mapped[str] = mapped_column(String(300))
    unit: Mapped[str | None] = mapped_column(String(40))

    values: Mapped[list[PlanIndicatorValue]] = relationship(back_populates="indicator",
                                                        order_by="PlanIndicatorValue.fiscal_year")


class PlanIndicatorValue(Base):
    __tablename__ = "plan_indicator_value"
    __table_args__ = (UniqueConstraint("indicator_id", "fiscal_year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("plan_indicator.id", ondelete="CASCADE"), index=True)
    fiscal_year: Mapped[str] = mapped_column(String(9))
    target: Mapped[float | None] = mapped_column(Float)
    actual: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    indicator: Mapped[PlanIndicator] = relationship(back_populates="values")


class PlanProgressEntry(Base):
    """A dated progress update on one deliverable, written by a department lead, reviewed by the coordinator."""

    __tablename__ = "plan_progress_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    deliverable_id: Mapped[int] = mapped_column(ForeignKey("plan_deliverable.id", ondelete="CASCADE"), index=True)
    department_code: Mapped[str] = mapped_column(ForeignKey("plan_department.code"), index=True)
    fiscal_year: Mapped[str] = mapped_column(String(9), index=True)
    entry_date: Mapped[date] = mapped_column(Date)
    narrative_en: Mapped[str | None] = mapped_column(Text)
    narrative_fr: Mapped[str | None] = mapped_column(Text)
    evidence_links: Mapped[list[str]] = mapped_column(JSONList(), default=list)
    proposed_status: Mapped[str | None] = mapped_column(String(20))
    state: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reviewer_note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    deliverable: Mapped[PlanDeliverable] = relationship()
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="joined")
    reviewer: Mapped[User | None] = relationship(foreign_keys=[reviewer_id], lazy="joined")

    __mapper_args__ = {"version_id_col": version}
