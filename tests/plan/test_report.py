"""The Annual Report on Progress: every task of the Annex A in English and French, approved information only,
HTML and PDF that open, charts as SVG and PNG, the command line, the public routes and their access rules,
and the plan demo that feeds the review queue.

PDFs are slow to lay out (a few seconds each), so they are rendered by the command-line test only; the
report module caches by content, so the routes' PDF (same data) and the other backend reuse them when
these tests share a worker (one xdist group).
"""

from __future__ import annotations

import csv
import io
import re
import struct
import xml.etree.ElementTree as ET
from html import unescape

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from harbour.core.audit import verify
from harbour.core.models import AuditEntry
from harbour.plan import importer, report, service
from harbour.plan.demo import load_plan_demo, plan_demo_logins
from harbour.plan.models import PlanProgressEntry, PlanStrategy, PlanTask
from harbour.plan.schemas import ProgressCreate, ReviewBody
from tests.conftest import actor_of
from tests.plan.conftest import ADMIN, CODE, plan_doc

pytestmark = pytest.mark.xdist_group("plan-report")

NAP = "NAP-2012-2016"
FY = "2013-2014"
ANNEX = importer.DATA_DIR / "nap-2012-2016-annex-a-2013-2014.yaml"
TASK_HEAD = re.compile(r'<tr class="task-head"><th scope="rowgroup" colspan="5"><span class="task-no">([\d.]+)</span>')
ROW = re.compile(r'<td class="task-no">([\d.]+)</td>')


def annex(db) -> set[str]:
    """Import the shipped Annex A; returns its task numbers as stored."""
    importer.import_file(db, actor=ADMIN, path=ANNEX)
    strategy = db.execute(select(PlanStrategy).where(PlanStrategy.code == NAP)).scalar_one()
    return set(db.execute(select(PlanTask.number).where(PlanTask.strategy_id == strategy.id)).scalars())


def no_external_requests(html: str) -> None:
    assert "<link" not in html and "@import" not in html and "<script" not in html
    assert not re.search(r'\ssrc="(?!data:)', html)
    assert not re.search(r"url\(", html)


# -- content -----------------------------------------------------------------------------------------
def test_report_lists_every_task_of_annex_a_in_english_and_french(db):
    tasks = annex(db)
    assert len(tasks) == 18
    data = report.collect(db, NAP, FY)
    en, fr = report.render_html(data, "en"), report.render_html(data, "fr")
    grouped = data.chart
    task_en = grouped["pillars"][0]["objectives"][0]["tasks"][0]
    pillar = grouped["pillars"][1]
    for html, lang in ((en, "en"), (fr, "fr")):
        assert f'<html lang="{lang}">' in html
        assert set(TASK_HEAD.findall(html)) == tasks  # every task number, with its text
        assert len(ROW.findall(html[html.index('id="chart"'):html.index('id="flags"')])) == 95  # every deliverable
        no_external_requests(html)
        assert html.count('src="data:image/svg+xml;base64,') == 3
    # French texts in French, English in English
    assert pillar["name_fr"] in fr and pillar["name_en"] not in fr
    assert pillar["name_en"] in en and pillar["name_fr"] not in en
    en, fr = unescape(en), unescape(fr)
    assert task_en["text_fr"] in fr and task_en["text_en"] not in fr
    assert grouped["pillars"][0]["objectives"][0]["text_fr"] in fr
    assert "Plan d'action national de lutte contre la traite de personnes" in fr
    assert "Prévention" in fr and "Annual Report on Progress" in en
    assert "1 April 2013 to 31 March 2014" in en
    # every deliverable is counted once in the summary and the first year of reporting is 2013-2014
    assert data.summary["total"] == 95 and data.changes["counts"]["first_reported"] == 95
    assert "What changed since 2012-2013" in en


def test_charts_are_readable_svg_and_png(db):
    annex(db)
    data = report.collect(db, NAP, FY)
    figs = report.figures(data, "fr")
    assert [f.key for f in figs] == ["status", "pillars", "departments"]
    for fig in figs:
        root = ET.fromstring(fig.svg)
        assert root.tag.endswith("svg") and float(root.get("width")) > 300
        texts = " ".join(t.text or "" for t in root.iter() if t.tag.endswith("text"))
        assert fig.title in texts  # the title is in the image itself
        png = fig.png()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = struct.unpack(">II", png[16:24])
        assert width > 600 and height > 200
    status = " ".join(t.text or "" for t in ET.fromstring(figs[0].svg).iter() if t.tag.endswith("text"))
    assert "Terminé" in status and "En continu" in status  # status names, in French
    assert re.search(r"\b25 \(26\u00a0%\)", status)  # counts written on the chart, no tooltip needed
    pillars = " ".join(t.text or "" for t in ET.fromstring(figs[1].svg).iter() if t.tag.endswith("text"))
    assert "Prévention" in pillars and "Prevention" not in pillars


def _update(db, user, deliverable, fy, text, *, status=None, submit=True):
    body = ProgressCreate(fiscal_year=fy, narrative_en=text, proposed_status=status, submit=submit)
    return service.create_progress(db, actor=actor_of(user), deliverable_id=deliverable, data=body)


def test_report_shows_approved_information_only(db, world):
    waiting = _update(db, world.rcmp, world.d_rcmp, "2014-2015", "Fictional-marker-waiting", status="complete")
    approved = _update(db, world.rcmp, world.d_rcmp, "2014-2015", "Fictional-marker-approved", status="delayed")
    returned = _update(db, world.cbsa, world.d_cbsa, "2014-2015", "Fictional-marker-returned", status="complete")
    _update(db, world.cbsa, world.d_cbsa, "2014-2015", "Fictional-marker-draft", submit=False)
    coordinator = actor_of(world.coordinator)
    service.review_progress(db, actor=coordinator, entry_id=approved.id, data=ReviewBody(decision="approve"))
    service.review_progress(db, actor=coordinator, entry_id=returned.id,
                            data=ReviewBody(decision="reject", note="Fictional-note-for-the-department"))
    assert waiting.state == "submitted"
    html = report.render_html(report.collect(db, CODE, "2014-2015"), "en")
    assert "Fictional-marker-approved" in html
    for hidden in ("Fictional-marker-waiting", "Fictional-marker-returned", "Fictional-marker-draft",
                   "Fictional-note-for-the-department", "Fictional RCMP lead", world.rcmp.username):
        assert hidden not in html
    changed = html[html.index('id="changes"'):]
    assert re.search(r'<span class="value">1</span>Status changes', changed) and "Fictional RCMP toolkit" in changed
    assert '<span class="chip st-ongoing">Ongoing</span></td><td><span class="chip st-delayed">Delayed</span>' in changed
    # flags: the fund that ended in 2014-2015 is overdue a year later
    later = report.collect(db, CODE, "2015-2016")
    flagged = {row["deliverable"]["text_en"]: row["flags"] for row in later.flags}
    assert "overdue" in flagged["Fictional overdue fund"] and "Fictional finished guide" not in flagged
    flags_html = report.render_html(later, "en")
    section = flags_html[flags_html.index('id="flags"'):flags_html.index('id="changes"')]
    assert "Fictional overdue fund" in section and '<span class="flag">Overdue</span>' in section


# -- command line (renders the PDFs) ------------------------------------------------------------------------
@pytest.fixture
def cli(app, monkeypatch):
    import harbour.cli

    monkeypatch.setattr(harbour.cli, "_sessionmaker", lambda: app.state.sessionmaker)
    runner = CliRunner()
    return lambda *args: runner.invoke(harbour.cli.app, list(args))


def test_cli_writes_html_pdf_charts_and_csv(cli, db, tmp_path):
    from pypdf import PdfReader

    out = tmp_path / "out"

    tasks = annex(db)
    importer.import_file(db, actor=ADMIN, path=importer.DATA_DIR / "open-letter-recommendations.yaml")
    result = cli("plan", "report", "--fiscal-year", FY, "--out", str(out))  # default: both languages
    assert result.exit_code == 0, result.output
    stem = f"report-{NAP}-{FY}"
    expected = {f"{stem}-chart.csv", f"{stem}-figures.csv"}
    for lang in ("en", "fr"):
        expected |= {f"{stem}-{lang}.html", f"{stem}-{lang}.pdf"}
        expected |= {f"{stem}-{lang}-{key}.{ext}" for key in ("status", "pillars", "departments") for ext in ("svg", "png")}
    assert {p.name for p in out.iterdir()} == expected  # the open letter covers no fiscal year: not reported
    for lang, title in (("en", "Annual Report on Progress"), ("fr", "Plan d'action national")):
        html = (out / f"{stem}-{lang}.html").read_text(encoding="utf-8")
        assert set(TASK_HEAD.findall(html)) == tasks
        no_external_requests(html)
        pdf = (out / f"{stem}-{lang}.pdf").read_bytes()
        assert pdf.startswith(b"%PDF-")
        reader = PdfReader(io.BytesIO(pdf))
        assert len(reader.pages) >= 10
        assert title in reader.pages[0].extract_text()
        assert reader.metadata.title.startswith("National Action Plan" if lang == "en" else "Plan d")
        if lang == "fr":  # the whole text once (slow): every task number made it into the PDF
            text = " ".join(page.extract_text() for page in reader.pages)
            assert all(number in text for number in tasks) and "Protection et aide aux victimes" in text
        for key in ("status", "pillars", "departments"):
            assert ET.parse(out / f"{stem}-{lang}-{key}.svg").getroot().tag.endswith("svg")
            assert (out / f"{stem}-{lang}-{key}.png").read_bytes()[:4] == b"\x89PNG"
    rows = list(csv.DictReader((out / f"{stem}-chart.csv").open(encoding="utf-8")))
    assert len(rows) == 95 and {r["task"] for r in rows} == tasks and rows[0]["fiscal_year"] == FY
    figures = list(csv.DictReader((out / f"{stem}-figures.csv").open(encoding="utf-8")))
    assert sum(int(r["deliverables"]) for r in figures if r["figure"] == "status") == 95
    entry = db.execute(select(AuditEntry).where(AuditEntry.record_type == "plan_report")).scalars().all()[-1]
    assert entry.actor == "system:plan-report" and entry.actor_id is None and entry.record_id == NAP
    assert entry.detail["fiscal_year"] == FY and entry.detail["languages"] == ["en", "fr"]
    assert verify(db).ok
    again = cli("plan", "report", "--fiscal-year", FY, "--out", str(out / "fr"), "--strategy", NAP, "--lang", "fr")
    assert again.exit_code == 0 and len(list((out / "fr").iterdir())) == 10


def test_cli_refuses_bad_input_with_exit_2(cli, db, tmp_path):
    annex(db)
    for args, message in [
        (["--fiscal-year", "2013-14"], "must look like 2013-2014"),
        (["--fiscal-year", "2013-2015"], "two consecutive years"),
        (["--fiscal-year", FY, "--strategy", "NO-SUCH-PLAN"], "no plan or strategy has the code 'NO-SUCH-PLAN'"),
        (["--fiscal-year", FY, "--lang", "de"], "--lang must be en, fr or both"),
        (["--fiscal-year", "2030-2031"], "no published plan covers fiscal year 2030-2031"),
    ]:
        result = cli("plan", "report", "--out", str(tmp_path / "out"), *args)
        assert result.exit_code == 2, (args, result.output)
        assert message in result.output
    assert not (tmp_path / "out").exists()


# -- web ------------------------------------------------------------------------------------------------
def test_report_page_and_pdf_download(client, db, login, make_user):
    tasks = annex(db)
    url = f"/plan/{NAP}/report/{FY}"
    page = client.get(url)
    assert page.status_code == 200 and 'id="quick-exit"' in page.text
    assert set(TASK_HEAD.findall(page.text)) == tasks
    assert f'href="{url}.pdf?lang=en"' in page.text and 'href="/plan/static/report.css"' in page.text
    assert "<style" not in page.text and ' style="' not in page.text  # the CSP allows neither
    assert "img-src 'self' data:" in page.headers["content-security-policy"]
    css = client.get("/plan/static/report.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css") and "@page" in css.text
    fr = client.get(url + "?lang=fr")
    assert '<html lang="fr">' in fr.text and "Protection et aide aux victimes" in fr.text
    assert "Protection and Assistance for Victims" not in fr.text
    pdf = client.get(url + ".pdf?lang=en")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert f'filename="report-{NAP}-{FY}-en.pdf"' in pdf.headers["content-disposition"]
    for bad, status in [(f"/plan/{NAP}/report/2013-14", 422), (f"/plan/{NAP}/report/2013-2015", 422),
                        (f"/plan/{NAP}/report/2040-2041", 404), (f"/plan/{NAP}/report/2040-2041.pdf", 404),
                        (f"/plan/NO-SUCH-PLAN/report/{FY}", 404), (f"/plan/NO-SUCH-PLAN/report/{FY}.pdf", 404)]:
        assert client.get(bad).status_code == status, bad


def test_unpublished_plan_report_is_for_the_coordinator_only(client, db, world, login, make_user):
    doc = plan_doc()
    doc["strategy"]["published"] = False
    importer.import_document(db, actor=ADMIN, doc=doc)
    url = f"/plan/{CODE}/report/2014-2015"
    assert client.get(url).status_code == 404 and client.get(url + ".pdf").status_code == 404
    assert login(world.rcmp).status_code == 303  # a department lead is not the coordinator
    assert client.get(url).status_code == 404
    client.cookies.clear()
    assert login(world.coordinator).status_code == 303
    page = client.get(url)
    assert page.status_code == 200 and "Fictional RCMP toolkit" in page.text
    client.cookies.clear()
    assert login(make_user("admin")).status_code == 303
    assert client.get(url).status_code == 200


# -- demo --------------------------------------------------------------------------------------------------
def test_plan_demo_links_leads_and_fills_the_review_queue(db, client, login):
    from harbour.core.models import User

    counts = load_plan_demo(db, seed=5)
    assert counts["plans"] == 2 and counts["plan deliverables"] == 114 and counts["plan leads"] == 2
    users = {u.username: u for u in db.execute(select(User).where(User.username.like("demo-%"))).scalars()}
    assert {"demo-coordinator", "demo-lead-ps", "demo-lead-rcmp"} <= set(users)
    assert service.departments_of(db, users["demo-lead-ps"].id) == {"PS"}
    assert service.departments_of(db, users["demo-lead-rcmp"].id) == {"RCMP"}
    assert service.is_coordinator(db, actor_of(users["demo-coordinator"]))
    assert users["demo-lead-ps"].display_name == "Demo PS Lead (fictional)"
    states = [e.state for e in db.execute(select(PlanProgressEntry)).scalars()]
    assert states.count("approved") == 1 and states.count("rejected") == 1 and states.count("submitted") >= 2
    queue = service.review_queue(db, actor=actor_of(users["demo-coordinator"]))
    assert len(queue) == states.count("submitted")
    changes = service.changes_since(db, NAP, "2014-2015")
    assert changes["counts"] == {"changed": 1, "first_reported": 0, "updates": 1}
    audit_rows = db.execute(select(AuditEntry.id)).scalars().all()
    assert load_plan_demo(db, seed=5) == {"plans": 0, "plan deliverables": 0, "plan leads": 0, "plan updates": 0}
    assert db.execute(select(AuditEntry.id)).scalars().all() == audit_rows  # idempotent: nothing written again
    assert verify(db).ok
    assert ("demo-lead-ps", "demo-lead-ps-pass", "plan_coordinator") in plan_demo_logins()
    assert login(users["demo-lead-rcmp"], password="demo-lead-rcmp-pass").status_code == 303
    html = report.render_html(report.collect(db, NAP, "2014-2015"), "fr")
    section = html[html.index('id="changes"'):]
    assert "Mise à jour de démonstration (fictive)" in section and "Demo update" not in section
