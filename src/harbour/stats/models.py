"""Statistics tables: the log of published releases and the differential-privacy budget ledger."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Float, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from harbour.core.db import Base, UTCDateTime, utcnow


class Release(Base):
    """One open-data release (suppress or dp mode): what was published, from which store, by whom, and the
    checksum of every file the public site serves for it."""

    __tablename__ = "stats_release"

    id: Mapped[int] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40), unique=True)
    mode: Mapped[str] = mapped_column(String(10))
    years: Mapped[list] = mapped_column(JSON, default=list)
    epsilon: Mapped[float | None] = mapped_column(Float)
    store_fingerprint: Mapped[str] = mapped_column(String(64))
    standard_version: Mapped[str] = mapped_column(String(20))
    cells_published: Mapped[int] = mapped_column(Integer, default=0)
    cells_withheld: Mapped[int] = mapped_column(Integer, default=0)
    files: Mapped[list] = mapped_column(JSON, default=list)
    # the geography the release covers: * (Canada: every province, territory and region), a region or a province
    geography: Mapped[str] = mapped_column(String(7), default="*", server_default="*")
    # file name -> {"sha256", "bytes"} of the files kept for the public site (stats.service.releases_root);
    # None for releases written before files were kept (never offered for download)
    checksums: Mapped[dict | None] = mapped_column(JSON)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    created_by: Mapped[str] = mapped_column(String(120))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)

    spends: Mapped[list[PrivacySpend]] = relationship(back_populates="release", order_by="PrivacySpend.id")


class PrivacySpend(Base):
    """Privacy budget spent on one data year by one release (one row per year and mechanism)."""

    __tablename__ = "stats_privacy_spend"

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("stats_release.id"), index=True)
    data_year: Mapped[int] = mapped_column(Integer, index=True)
    epsilon: Mapped[float] = mapped_column(Float)
    mechanism: Mapped[str] = mapped_column(String(40))
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    release: Mapped[Release] = relationship(back_populates="spends")
