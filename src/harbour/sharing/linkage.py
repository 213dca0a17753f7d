"""Probabilistic person linkage across agencies with Splink (DuckDB by default, Spark for national scale).

Public interface (used by the sharing service, the CLI and the benchmark):

* :func:`train` — unsupervised training: u by random sampling, m by expectation maximisation over a few
  blocking rules, the prior from near-certain rules; returns a versioned :class:`LinkageModel`.
* :func:`predict` — scored pairs above a probability threshold, each a :class:`Match` that carries its
  match weight, probability and the fields that agreed.
* :func:`cluster` — entities: connected components of the matches, with stable entity ids.
* :func:`link_csv` — the offline ``harbour link csv`` command.

Records are keyed by ``(agency, record_id)``; record ids are unique only within an agency.
"""

from __future__ import annotations

import csv
import hashlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from harbour.core.i18n import _
from harbour.sharing.linkage_model import (
    TRAINING_BLOCKS,
    LinkageModel,
    default_model,
    deterministic_rules,
    new_version,
    settings_creator,
    settings_for,
)
from harbour.sharing.normalise import CANONICAL_COLUMNS, BadDate, prepare

__all__ = ["CANONICAL_COLUMNS", "LinkageModel", "Match", "LinkageInputError", "default_model", "train", "predict",
           "cluster", "link_csv", "link_frame", "entity_id_for", "read_canonical_csv", "prepare_rows"]

log = logging.getLogger(__name__)
UID_SEP = "|"
#: below this many records, value frequencies say little (three Tremblays among five records are not evidence
#: that Tremblay is common), so term-frequency adjustments are switched off
TF_MIN_RECORDS = 1000


class LinkageInputError(ValueError):
    """Input the linker cannot use; ``problems`` lists reasons (row numbers, never values)."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or []


@dataclass(frozen=True)
class Match:
    key_a: tuple[str, str]  # (agency code, record_id)
    key_b: tuple[str, str]
    match_weight: float
    match_probability: float
    agreed: tuple[str, ...]  # comparison fields that agreed exactly or fuzzily


# ---------------------------------------------------------------------------------------------- input
def _frame(rows: Any) -> pd.DataFrame:
    frame = rows if isinstance(rows, pd.DataFrame) else pd.DataFrame(list(rows), columns=None)
    if frame.empty:
        return pd.DataFrame(columns=CANONICAL_COLUMNS)
    missing = [c for c in ("record_id", "agency") if c not in frame.columns]
    if missing:
        raise LinkageInputError(_("rows need the column(s): %(columns)s", columns=", ".join(missing)))
    return frame


def _prepared(rows: Any, *, strict_dates: bool = False) -> pd.DataFrame:
    frame = _frame(rows)
    prepared = prepare(frame, strict_dates=strict_dates)
    blank = prepared["agency"].isna() | prepared["record_id"].isna()
    if blank.any():
        raise LinkageInputError(_("every row needs a record_id and an agency"),
                                [_("row %(n)s: record_id or agency is blank", n=i + 1) for i in blank[blank].index[:100]])
    dup = prepared["uid"].duplicated(keep=False)
    if dup.any():
        raise LinkageInputError(_("record_id must be unique within an agency"),
                                [_("row %(n)s: the same agency and record_id appear more than once", n=i + 1)
                                 for i in dup[dup].index[:100]])
    return prepared


def prepare_rows(rows: Any, *, strict_dates: bool = False) -> pd.DataFrame:
    """Validated, normalised comparison columns (pass to ``train``/``link_frame`` to normalise only once)."""
    return _prepared(rows, strict_dates=strict_dates)


# ---------------------------------------------------------------------------------------------- backends
def _duckdb_api(memory_limit: str | None = None):
    import duckdb
    from splink import DuckDBAPI

    con = duckdb.connect(":memory:")
    con.execute("SET enable_progress_bar = false")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(connection=con)


def _db_api(backend: str, spark):
    if backend == "duckdb":
        return _duckdb_api()
    if backend == "spark":
        if spark is None:
            raise ValueError("backend='spark' needs a SparkSession (spark=...)")
        from splink import SparkAPI

        return SparkAPI(spark_session=spark, num_partitions_on_repartition=max(1, spark.sparkContext.defaultParallelism))
    raise ValueError(f"unknown backend {backend!r} (use 'duckdb' or 'spark')")


def _linker(prepared: pd.DataFrame, settings, db_api):
    from splink import Linker

    logging.getLogger("splink").setLevel(logging.ERROR)  # no "u values not fully trained" noise on stderr
    table = db_api.register(prepared, table_name="harbour_persons")
    return Linker(table, settings, log_level=None)


# ---------------------------------------------------------------------------------------------- training
def train(rows: Any, *, seed: int = 42, max_u_pairs: float = 1e6, max_em_pairs: float = 2e6,
          prepared: pd.DataFrame | None = None, memory_limit: str | None = None) -> LinkageModel:
    """Train a model without labels: u by random sampling, m by EM, prior from deterministic rules."""
    if prepared is None:
        prepared = _prepared(rows)
    if len(prepared) < 50:
        raise LinkageInputError(_("training needs at least 50 records"))
    linker = _linker(prepared, settings_creator(), _duckdb_api(memory_limit))
    t0 = time.monotonic()
    linker.training.estimate_probability_two_random_records_match(deterministic_rules(), recall=0.8)
    log.info("prior %.3g: %.1fs", linker._settings_obj._probability_two_random_records_match, time.monotonic() - t0)
    t0 = time.monotonic()
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    log.info("u sampling: %.1fs", time.monotonic() - t0)
    n = len(prepared)
    from splink import block_on

    sessions = 0
    for columns in TRAINING_BLOCKS:
        # a rule that pairs (almost) no records teaches nothing, e.g. phones when the data has none
        if prepared.dropna(subset=list(columns)).duplicated(subset=list(columns)).sum() < 20:
            continue
        kwargs = {"max_pairs": max_em_pairs} if n > 20_000 else {}
        t0 = time.monotonic()
        linker.training.estimate_parameters_using_expectation_maximisation(
            block_on(*columns), estimate_without_term_frequencies=True, **kwargs)
        log.info("EM on %s: %.1fs", columns, time.monotonic() - t0)
        sessions += 1
    if not sessions:
        raise LinkageInputError(_("training found no candidate pairs; the records share no names or dates"))
    settings = linker.misc.save_model_to_json()
    settings["sql_dialect"] = "duckdb"
    return LinkageModel(version=new_version(settings), settings=settings, trained_on=n)


# ---------------------------------------------------------------------------------------------- prediction
def _settings(model: LinkageModel, dialect: str, records: int) -> dict:
    settings = settings_for(model, dialect)
    if records < TF_MIN_RECORDS:
        for comparison in settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                for key in ("tf_adjustment_column", "tf_adjustment_weight", "tf_minimum_u_value"):
                    level.pop(key, None)
    return settings


def _split(uid: str) -> tuple[str, str]:
    agency, _, record_id = uid.partition(UID_SEP)
    return agency, record_id


def _predict_table(linker, threshold: float):
    return linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")


def _matches_from(df: pd.DataFrame, names: list[str]) -> list[Match]:
    out: list[Match] = []
    # a field "agreed" when its comparison level carries positive evidence (exact, fuzzy, nickname, swapped...)
    weights = df[[f"mw_{n}" for n in names]].to_numpy()
    for i, (uid_l, uid_r, weight, prob) in enumerate(
            zip(df["uid_l"], df["uid_r"], df["match_weight"], df["match_probability"], strict=True)):
        agreed = tuple(name for name, w in zip(names, weights[i], strict=True) if w > 0)
        a, b = sorted((_split(uid_l), _split(uid_r)))
        out.append(Match(a, b, round(float(weight), 4), float(prob), agreed))
    out.sort(key=lambda m: (m.key_a, m.key_b))
    return out


def predict(rows: Any, model: LinkageModel | None = None, *, threshold: float = 0.95, backend: str = "duckdb",
            spark=None) -> list[Match]:
    """Every pair of records (within and across agencies) whose match probability is at least ``threshold``."""
    model = model or default_model()
    prepared = _prepared(rows)
    if len(prepared) < 2:
        return []
    settings = _settings(model, "spark" if backend == "spark" else "duckdb", len(prepared))
    linker = _linker(prepared, settings, _db_api(backend, spark))
    table = _predict_table(linker, threshold)
    names = model.comparison_names
    df = table.as_pandas_dataframe()
    return _matches_from(df, names)


# ---------------------------------------------------------------------------------------------- clustering
def entity_id_for(representative_uid: str) -> str:
    """Stable entity id: a digest of the cluster's smallest (agency|record_id) key, never the key itself."""
    return "ENT-" + hashlib.sha256(representative_uid.encode("utf-8")).hexdigest()[:16].upper()


def _entity_ids(uids: pd.Series, cluster_ids: pd.Series) -> pd.Series:
    frame = pd.DataFrame({"uid": uids.to_numpy(), "cluster": cluster_ids.to_numpy()})
    rep = frame.groupby("cluster")["uid"].transform("min")
    mapping = {u: entity_id_for(u) for u in rep.unique()}
    return rep.map(mapping)


def _connected_components(uids: list[str], edges: pd.DataFrame) -> pd.DataFrame:
    from splink.clustering import cluster_pairwise_predictions_at_threshold

    db_api = _duckdb_api()
    nodes = pd.DataFrame({"uid": uids})
    if edges.empty:
        return pd.DataFrame({"uid": uids, "cluster_id": uids})
    result = cluster_pairwise_predictions_at_threshold(nodes, edges[["uid_l", "uid_r"]].copy(), db_api=db_api,
                                                       node_id_column_name="uid")
    return result.as_pandas_dataframe()[["uid", "cluster_id"]]


def cluster(rows: Any, matches: list[Match], *, threshold: float = 0.95) -> dict[tuple[str, str], str]:
    """``(agency, record_id) -> entity_id`` for every row; matches at or above ``threshold`` join entities."""
    frame = _frame(rows)
    keys = [(str(a), str(r)) for a, r in zip(frame["agency"], frame["record_id"], strict=True)]
    uids = sorted({f"{a}{UID_SEP}{r}" for a, r in keys})
    known = set(uids)
    edges = pd.DataFrame(
        [(UID_SEP.join(m.key_a), UID_SEP.join(m.key_b)) for m in matches if m.match_probability >= threshold],
        columns=["uid_l", "uid_r"])
    edges = edges[edges["uid_l"].isin(known) & edges["uid_r"].isin(known)]
    clusters = _connected_components(uids, edges)
    entity = _entity_ids(clusters["uid"], clusters["cluster_id"])
    return {_split(u): e for u, e in zip(clusters["uid"], entity, strict=True)}


# ---------------------------------------------------------------------------------------------- whole files
@dataclass
class LinkResult:
    clusters: pd.DataFrame  # agency, record_id, entity_id
    pairs: int
    records: int
    pair_table: pd.DataFrame | None = None  # uid_l, uid_r, match_probability (when asked for)

    @property
    def entities(self) -> int:
        return int(self.clusters["entity_id"].nunique())


def link_frame(rows: Any, model: LinkageModel | None = None, *, threshold: float = 0.95,
               strict_dates: bool = False, keep_pairs: bool = False, memory_limit: str | None = None,
               prepared: pd.DataFrame | None = None) -> LinkResult:
    """Link a whole table inside DuckDB (predict then cluster, without Python objects per pair)."""
    model = model or default_model()
    if prepared is None:
        prepared = _prepared(rows, strict_dates=strict_dates)
    if len(prepared) < 2:
        clusters = pd.DataFrame({"agency": prepared["agency"], "record_id": prepared["record_id"],
                                 "entity_id": [entity_id_for(u) for u in prepared["uid"]]})
        return LinkResult(clusters, 0, len(prepared))
    linker = _linker(prepared, _settings(model, "duckdb", len(prepared)), _duckdb_api(memory_limit))
    table = _predict_table(linker, threshold)
    run = linker._db_api._execute_sql_against_backend
    pairs = int(run(f"select count(*) from {table.physical_name}").fetchall()[0][0])
    pair_table = run(f"select uid_l, uid_r, match_probability from {table.physical_name}").df() if keep_pairs \
        else None
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        table, threshold_match_probability=threshold)
    df = run(f"select uid, cluster_id from {clustered.physical_name}").df()
    entity = _entity_ids(df["uid"], df["cluster_id"])
    parts = df["uid"].str.split(UID_SEP, n=1, regex=False)
    clusters = pd.DataFrame({"agency": parts.str[0], "record_id": parts.str[1], "entity_id": entity.to_numpy()})
    return LinkResult(clusters, pairs, len(prepared), pair_table)


def read_canonical_csv(path: str | Path) -> pd.DataFrame:
    """Read a canonical person CSV (all text); raises :class:`LinkageInputError` with clear reasons."""
    path = Path(path)
    if not path.is_file():
        raise LinkageInputError(_("no such file: %(path)s", path=path))
    try:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            header = next(csv.reader(fh), None)
    except UnicodeDecodeError:
        raise LinkageInputError(_("%(path)s is not UTF-8 text", path=path)) from None
    if not header:
        raise LinkageInputError(_("%(path)s is empty (expected a header: %(header)s)", path=path,
                                  header=",".join(CANONICAL_COLUMNS)))
    header = [h.strip() for h in header]
    missing = [c for c in CANONICAL_COLUMNS if c not in header]
    if missing:
        raise LinkageInputError(_("%(path)s lacks column(s): %(missing)s (expected: %(header)s)", path=path,
                                  missing=", ".join(missing), header=",".join(CANONICAL_COLUMNS)))
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (pd.errors.ParserError, ValueError) as exc:
        raise LinkageInputError(_("%(path)s is not a well-formed CSV file (%(reason)s)", path=path,
                                  reason=str(exc).splitlines()[0])) from None
    frame.columns = [c.strip() for c in frame.columns]
    frame = frame[CANONICAL_COLUMNS].copy()
    for c in ("record_id", "agency"):
        frame[c] = frame[c].str.strip()
    return frame


def link_csv(input_path, out_path, *, model: LinkageModel | None = None, threshold: float = 0.95) -> dict:
    """Link a canonical person CSV and write ``record_id,entity_id,agency`` (one row per input row).

    ``record_id`` is unique only within an agency, so the agency is written as a third column.
    """
    frame = read_canonical_csv(input_path)
    try:
        result = link_frame(frame, model, threshold=threshold, strict_dates=True)
    except BadDate as exc:
        raise LinkageInputError(
            _("date_of_birth must be a real date written YYYY-MM-DD"),
            [_("line %(n)s: date_of_birth is not a valid YYYY-MM-DD date", n=p + 2) for p in exc.positions[:100]]) from None
    out = result.clusters[["record_id", "entity_id", "agency"]]
    order = pd.MultiIndex.from_frame(frame[["agency", "record_id"]])
    out = out.set_index(["agency", "record_id"]).reindex(order).reset_index()[["record_id", "entity_id", "agency"]]
    out.to_csv(out_path, index=False)
    return {"records": result.records, "pairs": result.pairs, "entities": result.entities,
            "cross_agency_entities": int(
                result.clusters.groupby("entity_id")["agency"].nunique().gt(1).sum())}


def build_default_model(records: int = 20_000, seed: int = 2026) -> LinkageModel:
    """Re-create the shipped model: trained without labels on the synthetic Canadian set (fixed seed).

    ``python -c "from harbour.sharing.linkage import build_default_model as b; print(b().to_json())"
    > src/harbour/sharing/data/person_model.json``
    """
    from harbour.sharing import synthetic

    return train(synthetic.generate(records, seed=seed).rows, seed=42)
