"""Differential privacy for releases: OpenDP's discrete Laplace mechanism on counts, and the budget ledger.

Parameters (documented for users in the README and in each release's datapackage.json):

* **Unit of privacy**: one situation (hotline case) for the situation tables; one record (contact,
  referral, unmet need, offence on an occurrence) for the event tables.
* **Mechanism**: ``opendp.measurements.make_laplace`` on the vector of a table's leaf cells (year x province
  or unknown x category) over integers, i.e. the discrete Laplace (two-sided geometric) mechanism; its scale
  is found with ``opendp.binary_search_param`` so that the table's L1 sensitivity maps to its epsilon.
  Sensitivity is 1 for total and exclusive tables and the number of flags for flag tables (one situation
  may carry every flag).  Margins (all years, regions, Canada, a table's total) are sums of the noisy leaves
  (post-processing: no extra privacy cost), negative counts are clamped to zero.
* **Composition**: a release's epsilon is split evenly between its tables (sequential composition), with a
  share for synthetic microdata when asked.  Years are disjoint partitions of the data (a situation belongs to
  the year of its first contact), so the ledger charges each data year the release's epsilon (parallel
  composition across years).
* **Budget**: ``HARBOUR_STATS_PRIVACY_BUDGET`` (default 4.0) per data year, for the life of the data.  A
  release that would take any year beyond it is refused (409) before anything is computed or written; every
  spend is a ledger row (``stats_privacy_spend``) written with its release and an audit entry, in one
  transaction.
"""

from __future__ import annotations

import math

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harbour.core.errors import Conflict, ValidationFailed
from harbour.core.i18n import N_
from harbour.stats.models import PrivacySpend


def check_epsilon(epsilon: float | None, budget: float) -> float:
    if epsilon is None or not isinstance(epsilon, int | float) or not math.isfinite(epsilon) or epsilon <= 0:
        raise ValidationFailed(N_("Epsilon must be a number greater than 0."),
                               fields={"epsilon": N_("Give a positive number, e.g. 1.0.")})
    if epsilon > budget:
        raise ValidationFailed(N_("Epsilon %(epsilon)s is larger than the whole privacy budget of a year "
                                  "(%(budget)s)."), epsilon=epsilon, budget=budget,
                               fields={"epsilon": N_("Too large for the configured budget.")})
    return float(epsilon)


def spent(db: Session, years: list[int] | None = None) -> dict[int, float]:
    q = select(PrivacySpend.data_year, func.sum(PrivacySpend.epsilon)).group_by(PrivacySpend.data_year)
    if years:
        q = q.where(PrivacySpend.data_year.in_(years))
    return {int(y): float(e) for y, e in db.execute(q)}


def ledger(db: Session, years: list[int], budget: float) -> list[dict]:
    used = spent(db, years)
    return [{"year": y, "budget": budget, "spent": round(used.get(y, 0.0), 6),
             "remaining": round(max(0.0, budget - used.get(y, 0.0)), 6)} for y in sorted(years)]


def ensure_budget(db: Session, years: list[int], epsilon: float, budget: float) -> None:
    """Refuse (409) a release that would take any data year beyond the budget."""
    used = spent(db, years)
    over = [y for y in sorted(years) if used.get(y, 0.0) + epsilon > budget + 1e-9]
    if over:
        y = over[0]
        raise Conflict(N_("Privacy budget exceeded for %(year)s: %(spent)s of %(budget)s already spent, "
                          "%(epsilon)s more asked. Nothing was released."),
                       year=y, spent=round(used.get(y, 0.0), 6), budget=budget, epsilon=epsilon,
                       fields={"epsilon": N_("Not enough privacy budget left.")})


def record_spend(db: Session, release_id: int, years: list[int], epsilon: float, mechanism: str) -> None:
    for y in years:
        db.add(PrivacySpend(release_id=release_id, data_year=y, epsilon=epsilon, mechanism=mechanism))


def laplace(counts: list[int], *, sensitivity: int, epsilon: float) -> tuple[list[int], float]:
    """(noisy counts, scale): OpenDP discrete Laplace on an integer vector with L1 sensitivity."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=int)), dp.l1_distance(T=int)
    scale = dp.binary_search_param(lambda s: dp.m.make_laplace(*space, scale=s), d_in=int(sensitivity),
                                   d_out=float(epsilon))
    if not counts:
        return [], scale
    meas = dp.m.make_laplace(*space, scale=scale)
    return [max(0, int(v)) for v in meas([int(c) for c in counts])], scale
