"""The annual data report: HTML and PDF with charts, every number disclosure-controlled; bad years refused."""

from __future__ import annotations

import csv

import pytest

from harbour.core.errors import ValidationFailed
from harbour.stats import report


@pytest.mark.slow
def test_annual_report_html_pdf_and_numbers(db, settings, built, tmp_path):
    year = int(report.dashboards.universe(settings.stats_dir).years[-2])
    paths = report.write_report(db, settings, year=year, out_dir=tmp_path, langs=("fr",))
    names = {p.name for p in paths}
    assert {f"statistics-report-{year}-fr.html", f"statistics-report-{year}-fr.pdf",
            f"statistics-report-{year}-fr-gender.svg", f"statistics-report-{year}-fr-gender.png",
            f"statistics-report-{year}-numbers.csv"} <= names
    assert (tmp_path / f"statistics-report-{year}-fr.pdf").read_bytes()[:5] == b"%PDF-"
    html = (tmp_path / f"statistics-report-{year}-fr.html").read_text()
    assert 'lang="fr"' in html and "data:image/svg+xml;base64," in html and "http://" not in html.replace(
        'http://www.w3.org', '')
    with open(tmp_path / f"statistics-report-{year}-numbers.csv", encoding="utf-8") as fh:
        counts = [int(r["count"]) for r in csv.DictReader(fh) if r["count"]]
    assert counts and not [n for n in counts if 1 <= n <= 9]


def test_report_for_a_year_without_data_is_refused(db, settings, built, tmp_path):
    with pytest.raises(ValidationFailed):
        report.write_report(db, settings, year=1990, out_dir=tmp_path / "none", langs=("en",))
    assert not (tmp_path / "none").exists()
