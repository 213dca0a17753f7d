"""Key rotation reaches every agency's rows under row-level security (PostgreSQL).

In production Harbour connects as the application role (not superuser, no BYPASSRLS), and agency-owned tables
FORCE row-level security.  A rotation that read through the policies without the cross-agency mode saw none of
those rows, re-encrypted none of them, found none left under the old key, and retired it: every agency's
records would have been unreadable.  Now it reads and writes across agencies, and the result is checked as the
superuser, who sees every row."""

from __future__ import annotations

import shutil

from sqlalchemy import create_engine, text
from tests.sharing.test_rls import app_role, two_agencies  # noqa: F401 - fixtures

from harbour.core import crypto
from harbour.core.rotation import rotate_keys


def test_rotation_as_the_application_role_reaches_every_agencys_rows(app_role, two_agencies, settings,  # noqa: F811
                                                                   tmp_path):
    _name, engine = app_role
    keys = tmp_path / "keys.json"
    shutil.copy(settings.key_file, keys)
    keys.chmod(0o600)
    crypto.configure(keys)
    as_app = settings.model_copy(update={"database_url": engine.url.render_as_string(hide_password=False),
                                         "key_file": keys})
    try:
        result = rotate_keys(as_app, timeout=10)
        ring = crypto.load_keyring(keys)
        assert ring.key_ids == [result.new_key_id]
        admin = create_engine(settings.database_url)  # the superuser sees every agency's rows
        with admin.connect() as conn:
            names = conn.execute(text("SELECT given_name FROM sharing_person")).scalars().all()
            phones = conn.execute(text("SELECT phones FROM sharing_person")).scalars().all()
        admin.dispose()
        assert len(names) == len(phones) == 3
        assert sorted(ring.decrypt(v) for v in names) == ["Alexa", "Alexa", "Bea"]
        assert all(ring.decrypt(v) for v in phones)
        assert result.values >= len(names) + len(phones)
    finally:
        crypto.configure(settings.key_file)


def test_relink_runs_under_the_application_role(app_role, two_agencies, db, settings):  # noqa: F811
    """Found while trying the deployment as an operator would: `harbour demo` (and any relink) as a role that
    row-level security applies to failed with StaleDataError, because a nested cross-agency block turned the
    mode off for the rest of the outer one.  Relinking twice also covers retracting and reinstating."""
    from tests.sharing.conftest import make_agreement

    from harbour.core.db import make_sessionmaker
    from harbour.sharing import linking
    from harbour.sharing.models import Hit, Match

    _name, engine = app_role
    make_agreement(db, level="summary")
    factory = make_sessionmaker(engine)
    for _ in range(2):
        with factory() as app_db:
            result = linking.relink(app_db, actor=linking.SYSTEM)
            app_db.commit()
        assert result["records"] == 3 and result["cross_agency"] >= 1
    admin = create_engine(settings.database_url)
    with admin.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {Match.__tablename__}")).scalar_one() == result["matches"]
        assert conn.execute(text(f"SELECT count(*) FROM {Hit.__tablename__}")).scalar_one() >= 2
    admin.dispose()
