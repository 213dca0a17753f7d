"""The Splink person-linkage model: comparisons, blocking rules, saved model files.

The comparisons are built from Splink's comparison-level library, so the same model runs on DuckDB and on
Spark: a model is trained (and saved) in the DuckDB dialect, and :func:`settings_for` rebuilds the settings in
another dialect and copies the trained m/u probabilities across level by level.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any

import splink.comparison_level_library as cll
import splink.comparison_library as cl
from splink import SettingsCreator, block_on
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.blocking_rule_creator_utils import to_blocking_rule_creator

MODEL_FORMAT = "harbour-linkage-model/1"
BASE_DIALECT = "duckdb"


_JARO_WINKLER = {"duckdb": "jaro_winkler_similarity", "spark": "jaro_winkler"}


def _name_comparison(col: str, other: str, label: str, dialect: str) -> cl.CustomComparison:
    jw = _JARO_WINKLER[dialect]
    q = "`" if dialect == "spark" else '"'  # identifier quotes (a double-quoted name is a string in Spark SQL)
    levels = [
        cll.NullLevel(col),
        cll.ExactMatchLevel(col, term_frequency_adjustments=True),
    ]
    if col == "given":
        levels.append(cll.ExactMatchLevel("given_canon").configure(label_for_charts="nickname or variant"))
    levels += [
        cll.JaroWinklerLevel(col, 0.92),
        # given name and surname swapped (allowing a typo): compared with the other column of the other record
        cll.CustomLevel(f"{jw}({q}{col}_l{q}, {q}{other}_r{q}) >= 0.9",
                        label_for_charts=f"{label} ~ other name (swapped)"),
        cll.ExactMatchLevel(f"{col}_meta").configure(label_for_charts="same metaphone code"),
        cll.JaroWinklerLevel(col, 0.8),
        cll.ElseLevel(),
    ]
    return cl.CustomComparison(comparison_levels=levels, output_column_name=label)


def comparisons(dialect: str = BASE_DIALECT) -> list:
    """The model's comparisons; the output names are the field names reported in ``Match.agreed``."""
    return [
        _name_comparison("given", "surname", "given_name", dialect),
        _name_comparison("surname", "given", "surname", dialect),
        cl.CustomComparison(output_column_name="middle_name", comparison_levels=[
            cll.NullLevel("middle"),
            cll.ExactMatchLevel("middle"),
            cll.CustomLevel('substr("middle_l", 1, 1) = substr("middle_r", 1, 1)', label_for_charts="same initial",
                            base_dialect_str=BASE_DIALECT),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="date_of_birth", comparison_levels=[
            cll.NullLevel("dob"),
            cll.ExactMatchLevel("dob"),
            cll.CustomLevel('"dob_l" = "dob_swap_r"', label_for_charts="day and month transposed",
                            base_dialect_str=BASE_DIALECT),
            cll.DamerauLevenshteinLevel("dob", 1),
            cll.LevenshteinLevel("dob", 2),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="sex", comparison_levels=[
            cll.NullLevel("sex"), cll.ExactMatchLevel("sex"), cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="phone", comparison_levels=[
            cll.NullLevel("phone"),
            cll.ExactMatchLevel("phone", term_frequency_adjustments=True),
            cll.ExactMatchLevel("phone_local").configure(label_for_charts="same local number, other area code"),
            cll.DamerauLevenshteinLevel("phone", 1),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="email", comparison_levels=[
            cll.NullLevel("email"),
            cll.ExactMatchLevel("email"),
            cll.ExactMatchLevel("email_user").configure(label_for_charts="same user name, other domain"),
            cll.JaroWinklerLevel("email", 0.9),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="street_address", comparison_levels=[
            cll.NullLevel("street"),
            cll.ExactMatchLevel("street"),
            cll.JaroWinklerLevel("street", 0.9),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="city", comparison_levels=[
            cll.NullLevel("city"),
            cll.ExactMatchLevel("city", term_frequency_adjustments=True),
            cll.JaroWinklerLevel("city", 0.9),
            cll.ElseLevel(),
        ]),
        cl.CustomComparison(output_column_name="postal_code", comparison_levels=[
            cll.NullLevel("postal"),
            cll.ExactMatchLevel("postal"),
            cll.DamerauLevenshteinLevel("postal", 1),
            cll.ExactMatchLevel("postal_fsa").configure(label_for_charts="same forward sortation area"),
            cll.ElseLevel(),
        ]),
    ]


def prediction_blocking_rules() -> list[BlockingRuleCreator]:
    """Equi-join blocking rules (fast on DuckDB and Spark) that together catch the usual errors."""
    rules: list[Any] = [
        block_on("given_canon", "surname"),
        block_on("surname_meta", "dob"),
        block_on("given_meta", "dob"),
        block_on("phone"),
        block_on("email"),
        block_on("postal", "given_meta"),
        block_on("street", "surname_meta"),
        block_on("dob", "postal"),
        block_on("dob", "city"),
        block_on("postal", "surname_meta"),
        block_on("city", "given_meta", "surname_meta"),
        block_on("street", "city"),
        "l.given_meta = r.surname_meta and l.surname_meta = r.given_meta",
        "l.dob = r.dob_swap and l.surname_meta = r.surname_meta",
    ]
    return [to_blocking_rule_creator({"blocking_rule": r, "sql_dialect": BASE_DIALECT})
            if isinstance(r, str) else r for r in rules]


#: EM sessions (as column tuples): each comparison is estimated in at least one session not blocking on it.
TRAINING_BLOCKS: tuple[tuple[str, ...], ...] = (("dob",), ("given_canon", "surname"), ("phone",))


def deterministic_rules() -> list[BlockingRuleCreator]:
    """Near-certain matches, used to estimate the prior probability that two records match."""
    return [block_on("given", "surname", "dob"), block_on("phone", "given_canon"),
            block_on("email", "surname")]


def settings_creator(dialect: str = BASE_DIALECT) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="uid",
        comparisons=comparisons(dialect),
        blocking_rules_to_generate_predictions=prediction_blocking_rules(),
        retain_intermediate_calculation_columns=True,
        retain_matching_columns=False,
        additional_columns_to_retain=[],
    )


@lru_cache(maxsize=4)
def _fresh_settings_json(dialect: str) -> str:
    return json.dumps(settings_creator(dialect).create_settings_dict(dialect))


def settings_for(model: LinkageModel, dialect: str) -> dict:
    """The model's settings for ``dialect`` (``duckdb`` or ``spark``) with the trained parameters."""
    trained = copy.deepcopy(model.settings)
    if dialect == BASE_DIALECT:
        return trained
    fresh = json.loads(_fresh_settings_json(dialect))
    if len(fresh["comparisons"]) != len(trained["comparisons"]):
        raise ValueError("the model was trained with another comparison layout; retrain it")
    for f_comp, t_comp in zip(fresh["comparisons"], trained["comparisons"], strict=True):
        f_levels, t_levels = f_comp["comparison_levels"], t_comp["comparison_levels"]
        if len(f_levels) != len(t_levels):
            raise ValueError("the model was trained with another comparison layout; retrain it")
        for f_level, t_level in zip(f_levels, t_levels, strict=True):
            for key in ("m_probability", "u_probability", "tf_adjustment_column", "tf_adjustment_weight",
                        "tf_minimum_u_value", "is_null_level"):
                if key in t_level:
                    f_level[key] = t_level[key]
    fresh["probability_two_random_records_match"] = trained.get("probability_two_random_records_match")
    fresh["sql_dialect"] = dialect
    return fresh


@dataclass
class LinkageModel:
    """A trained, versioned Splink model (settings include the m/u probabilities)."""

    version: str
    settings: dict
    trained_on: int

    def to_json(self) -> str:
        return json.dumps({"format": MODEL_FORMAT, "version": self.version, "trained_on": self.trained_on,
                           "settings": self.settings}, indent=1, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> LinkageModel:
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"a linkage model must be JSON ({exc})") from None
        if not isinstance(data, dict) or data.get("format") != MODEL_FORMAT:
            raise ValueError(f"not a linkage model file (expected format {MODEL_FORMAT!r})")
        version, settings, trained_on = data.get("version"), data.get("settings"), data.get("trained_on")
        if not isinstance(version, str) or not isinstance(settings, dict) or not isinstance(trained_on, int):
            raise ValueError("a linkage model needs a version (text), settings (object) and trained_on (integer)")
        if not isinstance(settings.get("comparisons"), list) or settings.get("unique_id_column_name") != "uid":
            raise ValueError("the model's settings are not a Harbour person-linkage model")
        return cls(version=version, settings=settings, trained_on=trained_on)

    @property
    def comparison_names(self) -> list[str]:
        return [c["output_column_name"] for c in self.settings["comparisons"]]


def new_version(settings: dict) -> str:
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:6]
    return f"{now}-{digest}"


DEFAULT_MODEL_FILE = "person_model.json"


def default_model() -> LinkageModel:
    """The model shipped with Harbour, trained on the synthetic Canadian set (seed 2026)."""
    text = resources.files("harbour.sharing").joinpath("data", DEFAULT_MODEL_FILE).read_text(encoding="utf-8")
    return LinkageModel.from_json(text)
