"""The progress report and the plan page as people read them (issue 13, console polish):

* the French report speaks French: no English status word ("Complete", "Ongoing") and no English timeline
  wording ("Start: Start 2014/15"), in the HTML and in the PDF;
* no table header of the PDF runs past its cell (checked on WeasyPrint's own layout);
* the plan page offers progress reports only for the years the plan covers, up to the year it ended.
"""

from __future__ import annotations

import io
import re

import pytest
from pypdf import PdfReader

from harbour.core.i18n import reset_language, set_language
from harbour.plan import importer, report, wording
from tests.display import visible_text
from tests.plan.conftest import ADMIN

pytestmark = pytest.mark.xdist_group("plan-report")

NAP = "NAP-2012-2016"  # 2012-2013 to 2015-2016
FY = "2013-2014"
ENGLISH = re.compile(r"\b(Complete|Completed|Ongoing|In [Pp]rogress|Not started|On track|Delayed|Start|End)\b")


def _annex(db) -> None:
    importer.import_file(db, actor=ADMIN, path=importer.DATA_DIR / "nap-2012-2016-annex-a-2013-2014.yaml")


def _chart_section(text: str, lang: str) -> str:
    """From the action items chart (section 4) to the end: every deliverable's timeline and status."""
    return text[text.index("4. Tableau des mesures" if lang == "fr" else "4. Action items chart"):]


def _th_overflow(html: str):
    """(header cells whose text runs past the cell, the laid-out document): WeasyPrint's layout of the report,
    which is what the PDF prints."""
    import weasyprint
    from weasyprint.formatting_structure import boxes
    from weasyprint.urls import URLFetcher

    document = weasyprint.HTML(string=html, base_url=".", url_fetcher=URLFetcher(allowed_protocols=("data",))).render()
    found = []
    for page in document.pages:
        for box in page._page_box.descendants():
            if isinstance(box, boxes.TableCellBox) and box.element_tag == "th":
                right = box.content_box_x() + box.width
                found += [f"{t.text!r} by {t.position_x + t.width - right:.1f}px" for t in box.descendants()
                          if isinstance(t, boxes.TextBox) and t.position_x + t.width > right + 0.5]
    return found, document


def test_french_report_has_no_english_status_or_timeline_words_and_its_headers_fit(db):
    _annex(db)
    data = report.collect(db, NAP, FY)
    html = report.render_html(data, "fr")
    chart = _chart_section(visible_text(html), "fr")
    assert not ENGLISH.findall(chart), sorted(set(ENGLISH.findall(chart)))
    assert "Tel que publié\u00a0: Terminé / En continu" in chart  # the printed "Complete Ongoing", in French
    assert "Début\u00a0: 2014-2015" in chart  # the printed "Start: Start 2014/15"
    assert "Chronologie" in chart and "Statut" in chart

    overflow, document = _th_overflow(html)
    assert not overflow, f"table headers run past their cells in the PDF: {overflow[:8]}"
    pdf = PdfReader(io.BytesIO(document.write_pdf()))
    pdf_text = " ".join(page.extract_text() for page in pdf.pages)
    words = ENGLISH.findall(_chart_section(re.sub(r"[ \t\r\n]+", " ", pdf_text), "fr"))
    assert not words, f"English words in the French PDF: {sorted(set(words))}"


def test_english_report_keeps_english_words(db):
    _annex(db)
    chart = _chart_section(visible_text(report.render_html(report.collect(db, NAP, FY), "en")), "en")
    assert "As published: Complete / Ongoing" in chart and "Start: 2014-2015" in chart
    assert "Start: Start" not in chart


@pytest.mark.parametrize("lang, timeline, status", [
    ("en", "Start: 2014-2015", "Complete / Complete / Complete"),
    ("fr", "Début\u00a0: 2014-2015", "Terminé / Terminé / Terminé"),
])
def test_printed_cells_read_in_the_page_language(lang, timeline, status):
    token = set_language(lang)
    try:
        assert wording.timeline_lines({"timeline": "Start: Start 2014/15"}) == [(timeline, None)]
        assert wording.timeline_lines({"timeline": "Start: 2011-12 2012/13"})[0][0].endswith("2011-2012, 2012-2013")
        assert wording.timeline_lines({"start_fiscal_year": "2013-2014", "timeline": "ignored"})[0][0].endswith(
            "2013-2014")
        assert wording.timeline_lines({}) == [("—", None)]
        assert wording.published_status({"status": "ongoing", "status_text": "Complete Complete Complete"}) == (
            status, None)
        assert wording.published_status({"status": "complete", "status_text": "Completed"}) is None  # says nothing new
        on_track = wording.published_status({"status": "on_track", "status_text": "On track for 2014/2015"})
        assert on_track == (("On track for 2014-2015" if lang == "en" else "En bonne voie pour 2014-2015"), None)
        # words Harbour cannot read stay as printed, marked as English on a French page
        odd = wording.published_status({"status": "ongoing", "status_text": "See annex"})
        assert odd == ("See annex", None if lang == "en" else "en")
    finally:
        reset_language(token)


def test_plan_page_offers_reports_only_for_the_plans_years(client, db, monkeypatch):
    from harbour.plan import reporting

    _annex(db)
    monkeypatch.setattr(reporting, "current_fiscal_year", lambda: "2026-2027")  # long after the plan ended
    page = client.get(f"/plan/{NAP}").text
    offered = set(re.findall(rf'href="/plan/{NAP}/report/(\d{{4}}-\d{{4}})"', page))
    assert offered == {"2012-2013", "2013-2014", "2014-2015", "2015-2016"}
    selectable = set(re.findall(r'<option value="(\d{4}-\d{4})"', page))
    assert selectable == offered
    assert client.get(f"/plan/{NAP}/report/2016-2017").status_code == 404
    assert client.get(f"/plan/{NAP}/report/2011-2012").status_code == 404
    # while a plan runs, only the years so far
    monkeypatch.setattr(reporting, "current_fiscal_year", lambda: "2013-2014")
    offered = set(re.findall(rf'href="/plan/{NAP}/report/(\d{{4}}-\d{{4}})"', client.get(f"/plan/{NAP}").text))
    assert offered == {"2012-2013", "2013-2014"}
