"""Statistics API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class ReleaseRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    reference: str
    mode: str
    years: list[int]
    epsilon: float | None
    store_fingerprint: str
    standard_version: str
    cells_published: int
    cells_withheld: int
    files: list[str]
    geography: str
    checksums: dict | None  # file name -> {"sha256", "bytes"}; None: written before files were kept
    created_by: str
    created_at: datetime


class BudgetRow(BaseModel):
    year: int
    budget: float
    spent: float
    remaining: float


class TableOut(BaseModel):
    key: str
    source: str
    kind: str
    title: str
    total: int | None
    rows: list[dict]
    by_year: list[dict]
    by_geo: list[dict]


class DashboardOut(BaseModel):
    year: str
    province: str
    audience: str
    years: list[str]
    withheld_marker: str = "null"
    tables: list[TableOut]
