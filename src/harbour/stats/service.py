"""Statistics business actions: build the store, dashboards for an audience, releases, the budget ledger.

Access: the public dashboard (disclosure-controlled numbers) is open to everyone; exact de-identified numbers
(the internal dashboard) only to ``INTERNAL_ROLES``; publishing a release (which may spend privacy budget) and
rebuilding the store only to ``RELEASE_ROLES`` (administrators) or the command line.  Every build and release
writes an audit entry in the same transaction as its records.
"""

from __future__ import annotations

import hashlib
import secrets
import shutil
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from harbour.core.audit import Actor
from harbour.core.audit import record as audit
from harbour.core.choices import Role
from harbour.core.config import Settings
from harbour.core.db import utcnow
from harbour.core.errors import NotFound, ValidationFailed
from harbour.core.i18n import N_
from harbour.core.security import ensure_role
from harbour.stats import dashboards, dp, published, release, standard, store, synth
from harbour.stats.choices import ALL, INTERNAL_ROLES, RELEASE_ROLES, Audience, ReleaseMode
from harbour.stats.models import Release

CLI_ACTOR = Actor(None, "system:stats-cli", Role.admin.value)


def root(settings: Settings) -> Path:
    """Where the store lives: ``HARBOUR_STATS_DIR`` when set; else beside an SQLite database file (the default
    database gives the default ``var/stats``); else one folder per database under ``var/stats``, so two
    databases never share (or overwrite) a store."""
    if "stats_dir" in settings.model_fields_set:
        return Path(settings.stats_dir)
    url = settings.database_url
    if url.startswith("sqlite:///") and ":memory:" not in url:
        return Path(url.removeprefix("sqlite:///").split("?")[0]).parent / "stats"
    return Path(settings.stats_dir) / hashlib.sha256(url.encode()).hexdigest()[:12]


def build_store(db: Session, settings: Settings, *, actor: Actor, full: bool = False,
                now: datetime | None = None) -> store.BuildResult:
    ensure_role(actor, RELEASE_ROLES, N_("Only administrators rebuild the statistics store."))
    result = store.build(db, root(settings), full=full, now=now)
    dashboards.universe(root(settings)).suppressed  # noqa: B018 - protect once now, not on the first page view
    if result.mode != "unchanged":
        audit(db, actor, "build", "stats_store", None, detail={"mode": result.mode, "rows": result.rows,
                                                                  "partitions": len(result.rewritten)})
        db.commit()
    return result


def ensure_store(db: Session, settings: Settings) -> None:
    """Build the store on first use (the web app and the report need one)."""
    if store.read_manifest(root(settings)) is None:
        build_store(db, settings, actor=CLI_ACTOR)


def can_rebuild(role: str | None) -> bool:
    """Who may rebuild the store and publish releases (the console shows the button to them only)."""
    return role in RELEASE_ROLES


def can_see_internal(role: str | None) -> bool:
    """Who may read the exact (internal) statistics (the console's menu shows the link to them only)."""
    return role in INTERNAL_ROLES


def check_audience(actor: Actor | None, audience: str) -> str:
    if audience not in Audience.codes():
        raise ValidationFailed(N_("Unknown audience."), fields={"audience": N_("Use public or internal.")})
    if audience == Audience.internal:
        if actor is None:
            raise NotFound()
        ensure_role(actor, INTERNAL_ROLES, N_("Exact statistics are for analysts, researchers and administrators."))
    return audience


def dashboard(settings: Settings, *, actor: Actor | None, year: str | int | None = None, geo: str | None = None,
              audience: str = Audience.public) -> dict:
    """Every table for one filter, for the audience (public numbers are disclosure-controlled)."""
    check_audience(actor, audience)
    u = dashboards.universe(root(settings))
    y, g = dashboards.check_filters(u, year, geo)
    data = dashboards.view(u, year=y, geo=g, public=audience == Audience.public)
    data["fingerprint"] = u.fingerprint
    data["audience"] = audience
    return data


def check_mode(mode: str | None) -> str:
    if mode not in ReleaseMode.codes():
        raise ValidationFailed(N_("Unknown release mode."), fields={"mode": N_("Use suppress or dp.")})
    return mode


def publish_release(db: Session, settings: Settings, *, actor: Actor, out_dir: Path | None = None,
                    mode: str = "suppress", year: int | None = None, province: str | None = None,
                    epsilon: float | None = None, with_synth: bool = True) -> Release:
    """Compute and write a release, keep its files for the public site (and copy them into ``out_dir`` when
    given), record it (with each file's SHA-256 and its privacy spend) with an audit entry; all or nothing."""
    ensure_role(actor, RELEASE_ROLES, N_("Only administrators publish statistics releases."))
    mode = check_mode(mode)
    u = dashboards.universe(root(settings))
    _y, geo = dashboards.check_filters(u, year, province)
    if not u.years:
        raise ValidationFailed(N_("The statistics store is empty: run harbour stats build first."))
    years = [int(year)] if year is not None else [int(y) for y in u.years]
    if mode == ReleaseMode.dp:
        epsilon = dp.check_epsilon(settings.stats_default_epsilon if epsilon is None else epsilon,
                                   settings.stats_privacy_budget)
        dp.ensure_budget(db, years, epsilon, settings.stats_privacy_budget)
        data = dp_data(settings, u, year, epsilon, with_synth, geo)
    else:
        if epsilon is not None:
            raise ValidationFailed(N_("Epsilon applies to dp mode only."), fields={"epsilon": N_("Leave it out.")})
        data = release.suppressed_release(u, year, geo)
    now = utcnow()
    reference = f"{mode}-{now:%Y%m%dT%H%M%S}-{secrets.token_hex(2)}".upper()
    kept, files, sums = published.keep(root(settings), data, reference, now.isoformat())
    try:
        if out_dir is not None:
            published.copy_out(kept, files, out_dir)
        rel = Release(reference=reference, mode=mode, years=years, epsilon=epsilon, store_fingerprint=u.fingerprint,
                      standard_version=standard.dictionary()["version"], cells_published=data.published,
                      cells_withheld=data.withheld, files=files, geography=geo, checksums=sums,
                      created_by_id=actor.id, created_by=actor.label, created_at=now)
        db.add(rel)
        db.flush()
        if mode == ReleaseMode.dp:
            dp.record_spend(db, rel.id, years, epsilon - data.synthetic_epsilon, "discrete_laplace_counts")
            if data.synthetic_epsilon:
                dp.record_spend(db, rel.id, years, data.synthetic_epsilon,
                                "pac_synth_aggregate_seeded" if data.synthetic is not None else "pac_synth_no_output")
        audit(db, actor, "publish", "stats_release", rel.id,
              detail={"mode": mode, "years": years, "geography": geo, "epsilon": epsilon,
                      "cells_published": data.published, "cells_withheld": data.withheld, "files": len(files)})
        db.commit()
    except BaseException:
        db.rollback()
        shutil.rmtree(kept, ignore_errors=True)  # no row, no files: the site never offers half a release
        raise
    return rel


def dp_data(settings: Settings, u: dashboards.Universe, year: int | None, epsilon: float,
            with_synth: bool, geo: str = ALL) -> release.ReleaseData:
    ints, _ = release.release_years(u, year)
    real = []
    if with_synth:
        provinces, unknown = release.synth_filter(geo)
        con = store.connect(root(settings))
        try:
            real = synth.real_records(con, ints, provinces, unknown=unknown)
        finally:
            con.close()
        with_synth = len(real) >= synth.MIN_RECORDS
    data = release.dp_release(u, year, epsilon, with_synth=with_synth, geo=geo)
    if real and not with_synth:
        data.parameters["synthetic"] = {"produced": False,
                                        "reason": f"fewer than {synth.MIN_RECORDS} situations in the release"}
    if with_synth:
        # The synthesiser's fit reads the real records, so its share of epsilon is spent once it has run, even
        # when it produces nothing publishable (its noisy model came back empty, or a column has no value in any
        # row).  Refusing the release and spending nothing would let an administrator re-run it until a fit
        # succeeds, each failure an unrecorded look at the data; so the counts go out, the release says no
        # synthetic data could be made, and the whole epsilon is recorded.
        data.synthetic_epsilon = epsilon * release.SYNTH_SHARE
        try:
            fake = synth.synthesise(real, epsilon=data.synthetic_epsilon)
        except ValueError as exc:
            data.parameters["synthetic"] = {
                "produced": False, "reason": f"the synthesiser's noisy model came back empty or incomplete ({exc})",
                "epsilon": round(data.synthetic_epsilon, 6),
                "note": "this share of epsilon is recorded as spent: the synthesiser ran on the real records"}
            return data
        data.synthetic, data.quality = fake, synth.quality(real, fake)
        data.parameters["synthetic"] = {"produced": True, "synthesiser": "pac-synth DpAggregateSeededSynthesizer",
                                        "epsilon": round(data.synthetic_epsilon, 6),
                                        "reporting_length": synth.REPORTING_LENGTH,
                                        "accuracy_mode": "balanced", "boolean_fields": "sparse (only yes counted)",
                                        "delta": "1 / (ln(n) * n), set by pac-synth",
                                        "records_epsilon_share": synth.RECORDS_EPSILON_SHARE,
                                        "records": len(fake)}
    return data


def list_releases(db: Session, *, actor: Actor) -> list[Release]:
    ensure_role(actor, INTERNAL_ROLES)
    return list(db.execute(select(Release).order_by(Release.created_at.desc(), Release.id.desc())).scalars())


def get_release(db: Session, *, actor: Actor, release_id: int) -> Release:
    ensure_role(actor, INTERNAL_ROLES)
    rel = db.get(Release, release_id)
    if rel is None:
        raise NotFound()
    return rel


def public_releases(db: Session, *, year: str = ALL, geo: str = ALL) -> list[Release]:
    """Releases the public site offers (their files were kept), newest first; for a dashboard filter, those
    whose years and geographies cover it.  Open to everyone: a release is published data."""
    rows = db.execute(select(Release).order_by(Release.created_at.desc(), Release.id.desc())).scalars()
    out = [r for r in rows if r.checksums]
    if year != ALL:
        out = [r for r in out if int(year) in r.years]
    if geo != ALL:
        out = [r for r in out if geo in release.geo_scope(r.geography)[0]]
    return out


def release_file(db: Session, settings: Settings, *, reference: str, name: str) -> bytes:
    """One kept file of a public release, verified against the SHA-256 recorded when it was published (404 for
    a release or file that was never published, 410 when the file is missing or altered)."""
    rel = db.execute(select(Release).where(Release.reference == reference)).scalar_one_or_none()
    if rel is None or not rel.checksums or name not in rel.checksums:
        raise NotFound(N_("There is no such file in the published releases."))
    return published.read(root(settings), rel.reference, name, rel.checksums[name])


def budget(db: Session, settings: Settings, *, actor: Actor) -> list[dict]:
    ensure_role(actor, INTERNAL_ROLES)
    years = [int(y) for y in dashboards.universe(root(settings)).years]
    return dp.ledger(db, sorted(set(years) | set(dp.spent(db))), settings.stats_privacy_budget)
