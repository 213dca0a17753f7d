"""HSDS packages over the API: download as zip, upload a zip (validated, all-or-nothing, size-limited)."""

from __future__ import annotations

import io
import zipfile

from sqlalchemy import func, select

from harbour.directory.models import Organization
from tests.conftest import actor_of
from tests.directory.search_data import provider, shelter

URL = "/api/v1/directory/hsds"
ZIP = {"Content-Type": "application/zip"}


def _setup(db, make_user, token_for):
    sup = make_user("hotline_supervisor")
    provider(db, actor_of(sup), "Fictional Upload Shelter", "Thunder Bay", "ON", 48.4, -89.2, [shelter()])
    return token_for(sup, scopes=("directory:read", "directory:write"))


def _zip(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in files.items():
            zf.writestr(name, data)
    return buf.getvalue()


def test_download_then_upload_round_trip(client, db, make_user, token_for):
    h = _setup(db, make_user, token_for)
    r = client.get(URL, headers=h)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(r.content)).namelist()
    assert {"organization.csv", "service.csv", "datapackage.json", "hsds.json", "harbour_vetting.csv"} <= set(names)
    up = client.post(URL, content=r.content, headers={**h, **ZIP})
    assert up.status_code == 200, up.text
    assert up.json()["created"] == 0 and up.json()["unchanged"] > 0


def test_upload_refuses_bad_archives_and_changes_nothing(client, db, make_user, token_for):
    h = _setup(db, make_user, token_for)
    package = zipfile.ZipFile(io.BytesIO(client.get(URL, headers=h).content))
    files = {n: package.read(n) for n in package.namelist() if n != "hsds.json"}
    before = db.execute(select(func.count(Organization.id))).scalar_one()

    r = client.post(URL, content=b"not a zip at all", headers={**h, **ZIP})
    assert r.status_code == 422 and "zip" in r.json()["error"]["message"]

    r = client.post(URL, content=_zip({"../evil.csv": b"x"}), headers={**h, **ZIP})
    assert r.status_code == 422 and "unsafe" in r.json()["error"]["message"]

    bad = dict(files)
    bad["service.csv"] = files["service.csv"].replace(b",active,", b",sparkling,", 1)
    r = client.post(URL, content=_zip(bad), headers={**h, **ZIP})
    assert r.status_code == 422
    body = r.json()["error"]
    assert "nothing was imported" in body["message"] and any(f["field"].startswith("service:") for f in body["fields"])

    extra = dict(files)
    extra["organization.csv"] = files["organization.csv"] + b"not-a-uuid-but-ok,Fictional Second Org,,,,,,,\n"
    extra["service.csv"] = bad["service.csv"]
    r = client.post(URL, content=_zip(extra), headers={**h, **ZIP})
    assert r.status_code == 422
    assert db.execute(select(func.count(Organization.id))).scalar_one() == before  # all or nothing

    r = client.post(URL, content=_zip(files), headers={**h, "Content-Type": "text/csv"})
    assert r.status_code == 422


def test_upload_over_the_limit_is_413(settings, make_user, db, token_for):
    from fastapi.testclient import TestClient

    from harbour.app import create_app

    h = _setup(db, make_user, token_for)
    small = create_app(settings.model_copy(update={"max_upload_bytes": 10_000}))
    with TestClient(small) as c:
        r = c.post(URL, content=b"0" * 20_000, headers={**h, **ZIP})
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        r = c.post("/api/v1/hotline/contacts", content=b"{" + b" " * 2_000_000 + b"}",
                   headers={**h, "Content-Type": "application/json"})
        assert r.status_code == 413  # the ordinary limit still applies elsewhere
    small.state.engine.dispose()


def test_only_curators_move_packages(client, db, make_user, token_for):
    _setup(db, make_user, token_for)
    for role in ("hotline_advocate", "provider_staff", "admin"):
        h = token_for(make_user(role), scopes=("directory:read", "directory:write"))
        r = client.get(URL, headers=h)
        assert r.status_code == (200 if role == "admin" else 403), role
    h = token_for(make_user("researcher"), scopes=("directory:read", "directory:write"))
    assert client.get(URL, headers=h).status_code == 403
    assert client.post(URL, content=_zip({"a.csv": b"x"}), headers={**h, **ZIP}).status_code == 403
