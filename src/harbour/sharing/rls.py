"""Row-level security plumbing: which agency a database transaction acts for.

PostgreSQL policies (migration 0020) read three transaction-local settings, always written with
``set_config(name, value, true)`` (the function form of ``SET LOCAL``) by server code:

* ``harbour.agency_id`` — the acting agency.  Stored on the SQLAlchemy session (``session.info``) by
  :func:`act_as` and re-applied at the start of every transaction on that session, so a commit in the
  middle of a request never leaves a transaction without it.
* ``harbour.granted_agencies`` — agencies whose records this transaction may *read*; only
  :func:`harbour.sharing.access.require` adds to it, after finding an agreement.  Cleared at commit.
* ``harbour.all_agencies`` — ``'on'`` only inside :func:`across_agencies`, used by the linkage service
  (matching every agency's records) and by statistics aggregates.  Never exposed to a request's caller.

With none of them set, the policies deny.  On SQLite these calls do nothing: the service layer applies
the same rules with explicit ``agency_id`` filters (which it does on PostgreSQL too — defence in depth).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event, text
from sqlalchemy.orm import Session

AGENCY_KEY = "harbour.agency_id"
ACROSS_KEY = "harbour.all_agencies"
GRANTED_KEY = "harbour.granted_agencies"


def _is_pg(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _apply(session: Session, name: str, value: str) -> None:
    session.execute(text("SELECT set_config(:name, :value, true)"), {"name": name, "value": value})


@event.listens_for(Session, "after_begin")
def _on_begin(session: Session, transaction, connection) -> None:  # pragma: no cover - exercised on PostgreSQL
    agency = session.info.get(AGENCY_KEY)
    if agency is None or connection.dialect.name != "postgresql":
        return
    connection.execute(text("SELECT set_config(:name, :value, true)"), {"name": AGENCY_KEY, "value": str(agency)})
    session.info.pop(GRANTED_KEY, None)


def act_as(session: Session, agency_id: int | None) -> None:
    """Bind this session's transactions to ``agency_id`` (None: no agency, so nothing agency-owned is visible)."""
    if agency_id is None:
        session.info.pop(AGENCY_KEY, None)
    else:
        session.info[AGENCY_KEY] = int(agency_id)
    if _is_pg(session):
        _apply(session, AGENCY_KEY, "" if agency_id is None else str(int(agency_id)))


def acting_agency(session: Session) -> int | None:
    return session.info.get(AGENCY_KEY)


def grant_read(session: Session, agency_id: int) -> None:
    """Let this transaction read ``agency_id``'s records.  Call only from the access gate."""
    granted = set(session.info.get(GRANTED_KEY, set()))
    if agency_id in granted and _is_pg(session):
        return
    granted.add(int(agency_id))
    session.info[GRANTED_KEY] = granted
    if _is_pg(session):
        _apply(session, GRANTED_KEY, ",".join(str(a) for a in sorted(granted)))


DEPTH_KEY = "harbour.across_depth"


@contextmanager
def across_agencies(session: Session) -> Iterator[Session]:
    """Server-side cross-agency work (linkage, statistics aggregates) within the current transaction.

    Re-entrant: a block inside another (``store_match`` inside ``relink``) leaves the mode on for the rest of
    the outer one; only the outermost block turns it off."""
    pg = _is_pg(session)
    depth = session.info.get(DEPTH_KEY, 0)
    session.info[DEPTH_KEY] = depth + 1
    if pg:
        _apply(session, ACROSS_KEY, "on")
    try:
        yield session
    finally:
        session.info[DEPTH_KEY] = depth
        if depth == 0 and pg and session.is_active and session.in_transaction():
            _apply(session, ACROSS_KEY, "off")


# -- the application's database role ----------------------------------------------------------------
# What the application role may do: DML on every table (only read the migration history), use every sequence.
# Set once by ``create_app_role`` (grants now, default privileges for tables made later) and re-applied by the
# migration environment after every upgrade or downgrade (``grant_app_roles``), so no migration can leave the
# running application without access to a table.
TABLE_PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE")
SEQUENCE_PRIVILEGES = ("USAGE", "SELECT")
READ_ONLY_TABLES = ("alembic_version",)  # the migration history is the administrator's business


def create_app_role(admin_url: str, name: str, password: str | None) -> list[str]:
    """Create (or tighten) a login role for the application: not superuser, no BYPASSRLS, not the owner of
    any table, with DML on every table and use of every sequence in the public schema, today and for every
    table created later (default privileges of the administrator, re-applied by each migration).  Run with
    an administrator's URL (the role that owns the tables, e.g. the one that runs migrations)."""
    import re

    from sqlalchemy import create_engine

    if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", name):
        raise ValueError("role names are lower-case letters, digits and underscores")
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    done = []
    try:
        with engine.connect() as conn:
            if conn.dialect.name != "postgresql":
                raise ValueError("application roles exist on PostgreSQL only")
            if conn.execute(text("SELECT current_user")).scalar_one() == name:
                raise ValueError("run this as the administrator (the tables' owner), not as the application role")
            exists = conn.execute(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}).first()
            verb = "ALTER" if exists else "CREATE"
            conn.execute(text(f'{verb} ROLE "{name}" LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE '
                              f'NOREPLICATION INHERIT'))
            done.append(f"{verb.lower()}d role {name}")
            if password:
                conn.execute(text(f"ALTER ROLE \"{name}\" PASSWORD {_quote(conn, password)}"))
                done.append("password set")
            owned = conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = :n"), {"n": name}).scalar_one()
            if owned:
                raise ValueError("this role owns tables; choose another name for the application role")
            db = conn.execute(text("SELECT current_database()")).scalar_one()
            conn.execute(text(f'GRANT CONNECT ON DATABASE "{db}" TO "{name}"'))
            conn.execute(text(f'GRANT USAGE ON SCHEMA public TO "{name}"'))
            tables = ", ".join(TABLE_PRIVILEGES)
            sequences = ", ".join(SEQUENCE_PRIVILEGES)
            for admin in _administrators(conn):
                quoted = _ident(conn, admin)
                conn.execute(text(f'ALTER DEFAULT PRIVILEGES FOR ROLE {quoted} IN SCHEMA public '
                                  f'GRANT {tables} ON TABLES TO "{name}"'))
                conn.execute(text(f'ALTER DEFAULT PRIVILEGES FOR ROLE {quoted} IN SCHEMA public '
                                  f'GRANT {sequences} ON SEQUENCES TO "{name}"'))
                done.append(f"tables and sequences {admin} creates later: granted to {name} (default privileges)")
            count = _grant(conn, name)
            done.append(f"granted DML on every table of the public schema ({count} tables; the migration "
                        f"history read-only)")
    finally:
        engine.dispose()
    return done


def _administrators(conn) -> list[str]:
    """The roles that create Harbour's tables, as far as the connected role may speak for them: itself and
    every owner of a table or sequence in the public schema it is a member of (a superuser: all of them)."""
    owners = conn.execute(text(
        "SELECT DISTINCT r.rolname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "JOIN pg_roles r ON r.oid = c.relowner WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') "
        "AND pg_has_role(current_user, c.relowner, 'MEMBER')")).scalars().all()
    return sorted({conn.execute(text("SELECT current_user")).scalar_one(), *owners})


def app_roles(conn) -> list[str]:
    """The roles holding Harbour's default privileges: grantees of DML on future tables in the public schema
    (set by :func:`create_app_role`), other than the role that set them."""
    wanted = ", ".join(f"'{p}'" for p in TABLE_PRIVILEGES)
    return conn.execute(text(f"""
        SELECT g.rolname FROM pg_default_acl d
        JOIN pg_namespace n ON n.oid = d.defaclnamespace AND n.nspname = 'public'
        CROSS JOIN LATERAL aclexplode(d.defaclacl) AS a
        JOIN pg_roles g ON g.oid = a.grantee
        WHERE d.defaclobjtype = 'r' AND a.grantee <> d.defaclrole AND a.privilege_type IN ({wanted})
        GROUP BY g.rolname HAVING count(DISTINCT a.privilege_type) = {len(TABLE_PRIVILEGES)}
        ORDER BY g.rolname""")).scalars().all()


def grant_app_roles(conn) -> list[str]:
    """Re-apply the application role's grants to every table and sequence of the public schema that the
    connected role may grant on (it owns them, or is a member of their owner), for every role holding
    Harbour's default privileges.  The migration environment calls this after each migration run, inside
    its transaction; tables another administrator created are covered too.  Returns the roles granted."""
    roles = app_roles(conn)
    for role in roles:
        _grant(conn, role)
    return roles


def _grant(conn, role: str) -> int:
    """Grant ``role`` DML on every table the connected role may grant on (read-only on the migration
    history) and use of every such sequence; returns the number of tables."""
    grantable = conn.execute(text(
        "SELECT c.relkind, quote_ident(c.relname), c.relname FROM pg_class c "
        "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'S') "
        "AND pg_has_role(current_user, c.relowner, 'MEMBER') ORDER BY c.relname")).all()
    tables = [q for kind, q, raw in grantable if kind in ("r", "p") and raw not in READ_ONLY_TABLES]
    read_only = [q for kind, q, raw in grantable if kind in ("r", "p") and raw in READ_ONLY_TABLES]
    sequences = [q for kind, q, _raw in grantable if kind == "S"]
    role = _ident(conn, role)
    if tables:
        conn.execute(text(f'GRANT {", ".join(TABLE_PRIVILEGES)} ON TABLE {", ".join(tables)} TO {role}'))
    if read_only:
        conn.execute(text(f'GRANT SELECT ON TABLE {", ".join(read_only)} TO {role}'))
        conn.execute(text(f'REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON TABLE {", ".join(read_only)} FROM {role}'))
    if sequences:
        conn.execute(text(f'GRANT {", ".join(SEQUENCE_PRIVILEGES)} ON SEQUENCE {", ".join(sequences)} TO {role}'))
    return len(tables) + len(read_only)


def _ident(conn, name: str) -> str:
    return conn.execute(text("SELECT quote_ident(:v)"), {"v": name}).scalar_one()


def _quote(conn, value: str) -> str:
    return conn.execute(text("SELECT quote_literal(:v)"), {"v": value}).scalar_one()


def role_facts(conn, name: str) -> dict:
    """What a test (or an operator) checks about the application role."""
    row = conn.execute(text("SELECT rolsuper, rolbypassrls FROM pg_roles WHERE rolname = :n"), {"n": name}).one()
    owned = conn.execute(text("SELECT count(*) FROM pg_tables WHERE tableowner = :n"), {"n": name}).scalar_one()
    return {"superuser": bool(row[0]), "bypassrls": bool(row[1]), "owns_tables": int(owned)}
