"""Open data on the public site (issue 13, journey 4): /statistics lists the published releases and serves
their files exactly as `harbour stats release` wrote them (SHA-256 checked on every download; a missing or
altered file is a clear 410, never a 500 and never other bytes), and no downloadable file shows a count from
1 to 9."""

from __future__ import annotations

import csv
import hashlib
import html
import io
import json
import re
import stat
import zipfile

import pytest
from sqlalchemy import func, select

from harbour.stats import package, published, service
from harbour.stats.choices import REGION_MEMBERS
from harbour.stats.models import Release
from tests.stats.conftest import ADMIN

LINK = re.compile(r'href="(/statistics/releases/[^"]+)"')


@pytest.fixture(autouse=True)
def _no_charts(monkeypatch):
    """The downloads section does not depend on the charts, and rendering a page's charts takes seconds per
    filter and language on a busy 2-core machine: these tests show the page without them (test_dashboards and
    the browser suite render the real charts)."""
    from harbour.stats import views

    monkeypatch.setattr(views, "figures_for", lambda data: [])


def generous(settings):
    return settings.model_copy(update={"stats_privacy_budget": 40.0})


def kept_folder(settings, rel):
    return published.folder(service.root(settings)) / rel.reference


def counts_in(name: str, content: bytes) -> list[int]:
    """Every count a file publishes: the `count` column of a CSV, every "count" of a JSON document, and the
    same inside a zip."""
    if name.endswith(".zip"):
        with zipfile.ZipFile(io.BytesIO(content)) as zf:
            return [n for member in zf.namelist() for n in counts_in(member, zf.read(member))]
    if name.endswith(".csv"):
        rows = list(csv.DictReader(io.StringIO(content.decode("utf-8"))))
        return [int(r["count"]) for r in rows if r.get("count")]
    if name.endswith(".json"):
        found: list[int] = []

        def walk(node) -> None:
            if isinstance(node, dict):
                for k, v in node.items():
                    if k == "count" and isinstance(v, int):
                        found.append(v)
                    walk(v)
            elif isinstance(node, list):
                for v in node:
                    walk(v)

        walk(json.loads(content))
        return found
    raise AssertionError(f"unexpected file type: {name}")


def test_a_release_keeps_its_files_with_checksums_and_copies_them_byte_for_byte(db, settings, small_store, tmp_path):
    rel = service.publish_release(db, settings, actor=ADMIN, out_dir=tmp_path / "out", mode="suppress")
    kept = kept_folder(settings, rel)
    archive = package.archive_name(rel.reference)
    assert sorted(p.name for p in kept.iterdir()) == sorted(rel.files) == sorted(rel.checksums)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o700  # kept like the rest of the store: the owner's only
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in kept.iterdir())
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(rel.files)
    assert {"data-dictionary.csv", "datapackage.json", "release.json", archive, "gender.csv"} <= set(rel.files)
    for name in rel.files:
        content = (tmp_path / "out" / name).read_bytes()
        assert content == (kept / name).read_bytes(), name
        assert rel.checksums[name] == {"sha256": hashlib.sha256(content).hexdigest(), "bytes": len(content)}
    with zipfile.ZipFile(kept / archive) as zf:  # the zip holds every other file, byte for byte
        assert sorted(zf.namelist()) == sorted(n for n in rel.files if n != archive)
        assert all(zf.read(n) == (kept / n).read_bytes() for n in zf.namelist())
    dictionary = list(csv.DictReader(io.StringIO((kept / "data-dictionary.csv").read_text(encoding="utf-8"))))
    gender = {r["code"]: (r["label_en"], r["label_fr"]) for r in dictionary if r["resource"] == "gender"}
    assert gender["woman"] == ("Woman or girl", "Femme ou fille") and gender[""][1].startswith("Genre")
    assert all(r["label_en"] and r["label_fr"] for r in dictionary)
    # without --out the release is still kept for the site
    again = service.publish_release(db, settings, actor=ADMIN, mode="suppress", year=2025)
    assert kept_folder(settings, again).is_dir() and again.checksums and again.years == [2025]


def test_statistics_lists_releases_and_serves_exactly_their_files_with_no_count_from_1_to_9(
        client, db, settings, small_store, tmp_path):
    rich = generous(settings)
    suppress = service.publish_release(db, rich, actor=ADMIN, out_dir=tmp_path / "s", mode="suppress")
    dp = service.publish_release(db, rich, actor=ADMIN, out_dir=tmp_path / "d", mode="dp", epsilon=16.0)
    assert (tmp_path / "d" / package.SYNTHETIC).is_file(), json.loads(
        (tmp_path / "d" / "datapackage.json").read_text())["harbour"]["parameters"].get("synthetic")
    page = client.get("/statistics?lang=en")
    assert page.status_code == 200
    section = page.text[page.text.index('id="open-data"'):]
    for rel in (suppress, dp):
        assert rel.reference in section
    assert "Small-cell suppression" in section and "Differential privacy (epsilon 16)" in section
    assert "2024, 2025" in section and "Canada: every province, territory and region" in section
    assert re.search(r"Download everything \(ZIP, [0-9.]+ kB\)", section)
    assert re.search(r"Synthetic microdata \(CSV, [0-9.]+ kB\)", section)
    assert section.index(dp.reference) < section.index(suppress.reference)  # newest first

    links = LINK.findall(section)
    out_of = {suppress.reference: tmp_path / "s", dp.reference: tmp_path / "d"}
    served: dict[str, bytes] = {}
    for href in links:
        got = client.get(href)
        assert got.status_code == 200, href
        reference, _, rest = href.removeprefix("/statistics/releases/").partition("/")
        if href.endswith(".zip") and not rest:
            reference = reference.removesuffix(".zip")
            rest = package.archive_name(reference)
        assert got.content == (out_of[reference] / rest).read_bytes(), href
        assert "attachment" in got.headers["content-disposition"]
        served[href] = got.content
    every_file = {f"/statistics/releases/{r.reference}/{n}" for r in (suppress, dp) for n in r.files
                  if not n.endswith(".zip")} | {f"/statistics/releases/{r.reference}.zip" for r in (suppress, dp)}
    assert set(served) == every_file  # every file offered, nothing else
    assert served[f"/statistics/releases/{dp.reference}.zip"][:2] == b"PK"

    small = {href: [n for n in counts_in(href, content) if 1 <= n <= 9] for href, content in served.items()}
    assert not {h: s for h, s in small.items() if s}, "a downloadable file shows a count from 1 to 9"
    assert sum(len(counts_in(h, c)) for h, c in served.items()) > 1000  # the scan read real counts
    dp_gender = served[f"/statistics/releases/{dp.reference}/gender.csv"].decode()
    assert ",x\n" in dp_gender and ",dp\n" in dp_gender  # noisy counts from 1 to 9 were withheld, the rest noisy

    fr = client.get("/statistics?lang=fr").text
    fr_section = fr[fr.index('id="open-data"'):]
    assert "Données ouvertes à télécharger" in fr_section and "Tout télécharger (ZIP," in fr_section
    assert "\u00a0ko)" in fr_section and "Confidentialité différentielle (epsilon 16)" in fr_section


def test_a_missing_or_altered_file_is_refused_clearly_and_never_served(client, db, settings, small_store):
    rel = service.publish_release(db, settings, actor=ADMIN, mode="suppress")
    kept = kept_folder(settings, rel)
    base = f"/statistics/releases/{rel.reference}"
    original = (kept / "gender.csv").read_bytes()
    assert client.get(f"{base}/gender.csv").content == original

    (kept / "gender.csv").write_bytes(original.replace(b",x\n", b",7\n", 1))  # same size, other bytes
    assert len((kept / "gender.csv").read_bytes()) == len(original)
    altered = client.get(f"{base}/gender.csv", headers={"Accept-Language": "en"})
    assert altered.status_code == 410 and "text/html" in altered.headers["content-type"]
    assert "no longer matches what was published" in altered.text and ",7\n" not in altered.text
    (kept / "gender.csv").write_bytes(original + b"2025,ON,woman,3,\n")  # appended
    assert client.get(f"{base}/gender.csv").status_code == 410

    (kept / "age.csv").unlink()
    missing = client.get(f"{base}/age.csv", headers={"Accept-Language": "fr"})
    assert missing.status_code == 410 and "n'est plus disponible" in html.unescape(missing.text)

    (kept / package.archive_name(rel.reference)).unlink()
    assert client.get(f"{base}.zip").status_code == 410
    assert client.get(f"{base}/situations.csv").status_code == 200  # the others are still what was published

    for href in (f"{base}/not-a-file.csv", f"{base}/..%2F..%2Fmanifest.json", f"{base}/%2E%2E",
                 "/statistics/releases/SUPPRESS-00000000T000000-0000.zip",
                 "/statistics/releases/SUPPRESS-00000000T000000-0000/gender.csv",
                 f"/statistics/releases/{rel.reference.lower()}/gender.csv", "/statistics/releases/" + "A" * 60 + ".zip"):
        got = client.get(href)
        assert got.status_code in (404, 422), (href, got.status_code)
        assert "text/html" in got.headers["content-type"]  # an error page, never a file

    # a release written before files were kept (no checksums) is neither listed nor served
    old = Release(reference="SUPPRESS-20250101T000000-0AB1", mode="suppress", years=[2025], epsilon=None,
                  store_fingerprint="x" * 64, standard_version="1.0", files=["gender.csv"], created_by="system:tests")
    db.add(old)
    db.commit()
    assert old.reference not in client.get("/statistics").text
    assert client.get(f"/statistics/releases/{old.reference}/gender.csv").status_code == 404


def test_a_release_for_one_year_and_region_holds_only_them_and_shows_under_that_filter(client, db, settings,
                                                                                      small_store, tmp_path):
    national = service.publish_release(db, settings, actor=ADMIN, mode="suppress")
    prairies = service.publish_release(db, settings, actor=ADMIN, out_dir=tmp_path / "p", mode="suppress",
                                       year=2025, province="pra")
    assert prairies.geography == "PRA" and prairies.years == [2025]
    rows = list(csv.DictReader((tmp_path / "p" / "gender.csv").open(encoding="utf-8")))
    assert {r["year"] for r in rows} == {"2025"}
    assert {r["geography"] for r in rows} == {"PRA", *REGION_MEMBERS["PRA"]}
    # a projection of the same protection as the national release
    national_rows = {(r["year"], r["geography"], r["category"]): r for r in csv.DictReader(io.StringIO(
        (kept_folder(settings, national) / "gender.csv").read_text(encoding="utf-8")))}
    assert all(national_rows[(r["year"], r["geography"], r["category"])] == r for r in rows)
    manitoba = service.publish_release(db, generous(settings), actor=ADMIN, mode="dp", epsilon=2.0,
                                       province="MB", with_synth=False)
    dp_rows = list(csv.DictReader(io.StringIO((kept_folder(settings, manitoba) / "age.csv").read_text("utf-8"))))
    assert {r["geography"] for r in dp_rows} == {"MB"} and {r["year"] for r in dp_rows} == {"2024", "2025", "*"}

    def listed(query: str) -> set[str]:
        text = client.get("/statistics" + query).text
        section = text[text.index('id="open-data"'):]
        return {r.reference for r in (national, prairies, manitoba) if r.reference in section}

    assert listed("") == {national.reference, prairies.reference, manitoba.reference}
    assert listed("?year=2025&province=PRA") == {national.reference, prairies.reference}
    assert listed("?year=2024&province=MB") == {national.reference, manitoba.reference}
    assert listed("?province=MB") == {national.reference, prairies.reference, manitoba.reference}
    assert listed("?province=ON") == {national.reference}
    assert "Prairie provinces" in client.get("/statistics?lang=en").text

    from harbour.core.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        service.publish_release(db, settings, actor=ADMIN, mode="suppress", province="XX")


def test_a_release_that_cannot_be_recorded_leaves_no_files_behind(db, settings, small_store, monkeypatch):
    from harbour.stats import service as stats_service

    def broken(*_args, **_kwargs):
        raise RuntimeError("the audit log is unavailable (test)")

    monkeypatch.setattr(stats_service, "audit", broken)
    with pytest.raises(RuntimeError):
        service.publish_release(db, settings, actor=ADMIN, mode="suppress")
    assert db.execute(select(func.count(Release.id))).scalar() == 0
    folder = published.folder(service.root(settings))
    assert not folder.exists() or list(folder.iterdir()) == []
