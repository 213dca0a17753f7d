"""The same linkage model on Spark (a tiny local session) gives the same matches as on DuckDB."""

from __future__ import annotations

import shutil

import pytest
from tests.sharing.test_linkage import ROWS, _febrl_rows

from harbour.sharing import linkage

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark():
    if shutil.which("java") is None:
        pytest.skip("Java is not installed (Spark needs a JVM)")
    try:
        from pyspark.sql import SparkSession
        from splink.backends.spark import similarity_jar_location
    except ImportError as exc:
        pytest.skip(f"pyspark is not available: {exc}")
    session = (SparkSession.builder.master("local[1]").appName("harbour-linkage-test")
               .config("spark.ui.enabled", "false")
               .config("spark.driver.memory", "1g")
               .config("spark.sql.shuffle.partitions", "1")
               .config("spark.default.parallelism", "1")
               .config("spark.sql.adaptive.enabled", "false")
               .config("spark.jars", similarity_jar_location())
               .getOrCreate())
    session.sparkContext.setLogLevel("ERROR")
    session.sparkContext.setCheckpointDir("/tmp/harbour-spark-checkpoints")
    yield session
    session.stop()


def _keyed(matches):
    return {(m.key_a, m.key_b): m for m in matches}


def test_spark_and_duckdb_agree(spark):
    rows = _febrl_rows(40).to_dict("records") + ROWS
    duck = _keyed(linkage.predict(rows, backend="duckdb"))
    sp = _keyed(linkage.predict(rows, backend="spark", spark=spark))
    assert len(duck) >= 40
    assert sp.keys() == duck.keys()
    for key, m in duck.items():
        assert sp[key].match_weight == pytest.approx(m.match_weight, abs=0.01)
        assert sp[key].agreed == m.agreed


def test_spark_needs_a_session():
    with pytest.raises(ValueError, match="SparkSession"):
        linkage.predict(ROWS, backend="spark")
