"""PostgreSQL backups with the real ``pg_dump``, ``pg_restore`` and ``psql``.

The rules this module enforces:

* **Connection details come from HARBOUR_DATABASE_URL** and reach the tools through libpq's environment
  (PGHOST, PGUSER, PGPASSWORD, …): a password never appears on a command line, where other users could read it.
* **A dump holds every agency's rows.**  Agency-owned tables have ENABLE + FORCE ROW LEVEL SECURITY (migration
  0020); a table owner that is not a superuser would make a plain ``pg_dump`` fail, and ``--enable-row-security``
  alone would silently dump only the rows its policies show (none).  Every tool runs with
  ``harbour.all_agencies=on`` for its session (PGOPTIONS), the policies' cross-agency mode, and
  ``backup.create`` counts each table's rows in the dump against the database in the dump's own snapshot.
* **A restore is all or nothing.**  The dump is replayed as one transaction (``BEGIN`` … ``COMMIT`` sent only
  once ``pg_restore`` finished cleanly); any error rolls everything back and the target is as it was.
* **Grants survive a restore.**  Ownership and grants are not replayed from the dump (the restoring role becomes
  the owner); the privileges other roles held (the application role's) are recorded in the manifest and read
  from the target before it is replaced, then granted again: :func:`capture_grants`, :func:`reapply_grants`.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import subprocess
import tempfile
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from harbour.core.crypto import KeyFileError
from harbour.ops.manifest import CHUNK, BackupError

ALL_AGENCIES = "-c harbour.all_agencies=on"
QUERY_ENV = {"host": "PGHOST", "port": "PGPORT", "sslmode": "PGSSLMODE", "sslrootcert": "PGSSLROOTCERT",
             "sslcert": "PGSSLCERT", "sslkey": "PGSSLKEY", "sslcrl": "PGSSLCRL", "connect_timeout": "PGCONNECT_TIMEOUT",
             "application_name": "PGAPPNAME", "target_session_attrs": "PGTARGETSESSIONATTRS",
             "gssencmode": "PGGSSENCMODE", "channel_binding": "PGCHANNELBINDING", "passfile": "PGPASSFILE",
             "service": "PGSERVICE"}


def libpq_env(url: str, *, database: str | None = None) -> dict[str, str]:
    """The environment that makes libpq tools connect where ``url`` (a SQLAlchemy URL) points."""
    u = make_url(url)
    if u.get_backend_name() != "postgresql":
        raise BackupError("HARBOUR_DATABASE_URL is not a PostgreSQL URL")
    env = dict(os.environ)
    options = env.get("PGOPTIONS", "")
    for key, value in u.query.items():
        value = value[-1] if isinstance(value, tuple) else value
        if key == "options":
            options = f"{options} {value}".strip()
        elif key in QUERY_ENV:
            env[QUERY_ENV[key]] = value
        else:
            raise BackupError(f"HARBOUR_DATABASE_URL has a parameter ({key}) the PostgreSQL tools cannot be given; "
                              f"known: options, {', '.join(QUERY_ENV)}")
    for name, value in (("PGHOST", u.host), ("PGPORT", u.port), ("PGUSER", u.username), ("PGPASSWORD", u.password)):
        if value is not None:
            env[name] = str(value)
    env["PGDATABASE"] = database or u.database or ""
    env["PGOPTIONS"] = f"{options} {ALL_AGENCIES}".strip()
    env.setdefault("PGAPPNAME", "harbour-backup")
    return env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} not found: install the PostgreSQL client tools of your server's version "
                          f"(Debian: apt-get install postgresql-client)")
    return path


def _errors(stderr: str) -> str:
    """The error lines of a tool's output, without DETAIL/CONTEXT lines (they may quote row values)."""
    lines = [line.strip() for line in stderr.splitlines()
             if re.search(r"error|fatal|could not", line, re.I) and not re.search(r"\b(DETAIL|CONTEXT|detail):", line)]
    return "; ".join(line[:300] for line in lines[:4]) or stderr.strip()[-300:] or "no message"


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    result = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{what} failed: {_errors(result.stderr)}")


def tool_version(name: str) -> str:
    return subprocess.run([_tool(name), "--version"], capture_output=True, text=True).stdout.strip()


def dump(url: str, dest: Path, *, snapshot: str | None = None) -> None:
    """``pg_dump`` in custom format (compressed; ``pg_restore`` reads it), every agency's rows included."""
    cmd = [_tool("pg_dump"), "--format=custom", "--enable-row-security", "--no-password", f"--file={dest}"]
    if snapshot:
        cmd.append(f"--snapshot={snapshot}")
    _run(cmd, libpq_env(url), "pg_dump")


def tables_in(dump_path: Path) -> list[str]:
    """The tables a dump defines (its table of contents)."""
    out = subprocess.run([_tool("pg_restore"), "--list", str(dump_path)], capture_output=True, text=True)
    if out.returncode != 0:
        raise BackupError(f"pg_restore could not read the dump: {_errors(out.stderr)}")
    return [m[1] for m in re.finditer(r"^\d+; \d+ \d+ TABLE \S+ (\S+) ", out.stdout, re.M)]


# -- reading a dump's rows -----------------------------------------------------------------------------------
_COPY = re.compile(rb'^COPY (?:"?[^ ."]+"?\.)?"?([^ "(]+)"? \((.*)\) FROM stdin;$')
_ESCAPES = {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\"}


def _field(raw: bytes) -> str | None:
    if raw == b"\\N":
        return None
    value = raw.decode("utf-8")
    if "\\" not in value:
        return value
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m[1], m[1]), value)


def _row(line: bytes, index: dict[str, int], names: list[str]) -> dict[str, str | None]:
    fields = line.rstrip(b"\n").split(b"\t")
    return {name: _field(fields[index[name]]) for name in names if name in index}


@dataclass
class Scan:
    """Row counts per table, and for the tables asked about a sample of rows (first and last non-null values of
    each wanted column, and rows matching a wanted value)."""

    counts: dict[str, int] = field(default_factory=dict)
    rows: dict[str, list[dict[str, str | None]]] = field(default_factory=dict)
    decrypted: int = 0
    failed: dict[str, int] = field(default_factory=dict)


def scan(dump_path: Path, *, tables: list[str] | None = None, sample: dict[str, list[str]] | None = None,
         keep: dict[str, list[str]] | None = None, find: dict[str, tuple[str, str]] | None = None,
         decrypt: dict[str, list[str]] | None = None, ring=None, per_column: int = 2) -> Scan:
    """Stream the dump's data (``pg_restore --data-only``) once: count every table's rows and sample some.

    ``sample``: table → columns whose first and last ``per_column`` non-null values to keep; ``keep``: table →
    the columns each kept row carries; ``find``: table → (column, value) of rows to keep whatever their place;
    ``decrypt``: table → encrypted columns whose every value ``ring`` must decrypt (failures counted)."""
    sample, keep, find, decrypt = sample or {}, keep or {}, find or {}, decrypt or {}
    cmd = [_tool("pg_restore"), "--data-only", "--file=-", str(dump_path)]
    for name in tables or []:
        cmd.append(f"--table={name}")
    result = Scan()
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err)
        table, index, wanted, heads, tails, found, match_at, secret = None, {}, [], {}, {}, [], None, []
        try:
            for line in proc.stdout:
                if table is None:
                    copy = _COPY.match(line.rstrip(b"\n"))
                    if copy:
                        table = copy[1].decode()
                        index = {c.strip().strip('"'): i for i, c in enumerate(copy[2].decode().split(","))}
                        result.counts[table] = 0
                        wanted = [(c, index[c]) for c in sample.get(table, []) if c in index]
                        heads = {c: [] for c, _ in wanted}
                        tails = {c: deque(maxlen=per_column) for c, _ in wanted}
                        found = []
                        secret = [(f"{table}.{c}", index[c]) for c in decrypt.get(table, []) if c in index]
                        match_at = (index[find[table][0]], find[table][1].encode()) \
                            if table in find and find[table][0] in index else None
                    continue
                if line == b"\\.\n":
                    if wanted or match_at:
                        lines = dict.fromkeys([*found, *(x for v in heads.values() for x in v),
                                               *(x for v in tails.values() for x in v)])
                        names = keep.get(table) or list(index)
                        result.rows[table] = [_row(x, index, names) for x in lines]
                    table = None
                    continue
                result.counts[table] += 1
                if not wanted and not secret and match_at is None:
                    continue
                fields = line.rstrip(b"\n").split(b"\t")
                for where, i in secret:
                    if fields[i] != b"\\N":
                        result.decrypted += 1
                        try:
                            ring.decrypt(fields[i].decode("ascii"))
                        except (KeyFileError, UnicodeDecodeError):
                            result.failed[where] = result.failed.get(where, 0) + 1
                for col, i in wanted:
                    if fields[i] != b"\\N":
                        (heads[col].append(line) if len(heads[col]) < per_column else tails[col].append(line))
                if match_at is not None and fields[match_at[0]] == match_at[1]:
                    found.append(line)
        finally:
            proc.stdout.close()
            code = proc.wait()
        if code != 0:
            err.seek(0)
            raise BackupError(f"pg_restore could not read the dump: {_errors(err.read().decode(errors='replace'))}")
    return result


# -- restoring -------------------------------------------------------------------------------------------
LOCK_TIMEOUT = b"SET LOCAL lock_timeout = '60s';\n"


def restore(url: str, dump_path: Path, *, prelude: str = "") -> None:
    """Replay the dump into the database of ``url`` as one transaction (objects it defines are dropped and
    recreated; ``prelude`` runs first in the same transaction).  On any error nothing changes."""
    env = libpq_env(url)
    with tempfile.TemporaryFile() as err_restore, tempfile.TemporaryFile() as err_psql:
        reader = subprocess.Popen([_tool("pg_restore"), "--no-owner", "--no-acl", "--clean", "--if-exists",
                                   "--file=-", str(dump_path)], stdout=subprocess.PIPE, stderr=err_restore, env=env)
        writer = subprocess.Popen([_tool("psql"), "-X", "-q", "--no-password", "-v", "ON_ERROR_STOP=1",
                                   "-o", "/dev/null", "-f", "-"], stdin=subprocess.PIPE,
                                  stdout=subprocess.DEVNULL, stderr=err_psql, env=env)
        broken = False
        try:
            writer.stdin.write(b"BEGIN;\n" + LOCK_TIMEOUT + prelude.encode() + b"\n")
            for line in reader.stdout:  # the script's header: keep our lock timeout (a live Harbour's locks)
                if not line.startswith(b"SET lock_timeout"):
                    writer.stdin.write(line)
                if line.startswith(b"SET row_security"):  # the header's last SET
                    break
            shutil.copyfileobj(reader.stdout, writer.stdin, CHUNK)
        except BrokenPipeError:
            broken = True  # psql stopped on an error: its transaction is rolled back
        finally:
            reader.stdout.close()
            read_ok = reader.wait() == 0
        try:
            if not broken:
                # COMMIT only after the whole dump was read cleanly: a dump cut short must not commit half
                writer.stdin.write(b"COMMIT;\n" if read_ok else b"ROLLBACK;\n")
            writer.stdin.close()
        except BrokenPipeError:
            pass
        wrote_ok = writer.wait() == 0
        if not wrote_ok or broken:  # first: a failing psql also makes pg_restore's output pipe break
            err_psql.seek(0)
            problem = _errors(err_psql.read().decode(errors="replace"))
            hint = " (is Harbour still running against it? stop it first)" if "lock timeout" in problem else ""
            raise BackupError(f"the restore failed and was rolled back (nothing was changed){hint}: {problem}")
        if not read_ok:
            err_restore.seek(0)
            raise BackupError(f"pg_restore could not read the dump (nothing was changed): "
                              f"{_errors(err_restore.read().decode(errors='replace'))}")


def public_tables(conn: Connection) -> list[str]:
    return list(conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).scalars())


def quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@contextlib.contextmanager
def scratch_database(url: str) -> Iterator[str]:
    """A temporary empty database on the server of ``url`` (dropped afterwards); yields its URL."""
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"harbour_verify_{os.getpid()}_{secrets.token_hex(3)}"
    try:
        with engine.connect() as conn:
            role, may = conn.execute(text("SELECT current_user, rolcreatedb OR rolsuper FROM pg_roles "
                                          "WHERE rolname = current_user")).one()
            if not may:
                raise BackupError(
                    f"verify restores the backup into a temporary database, and the role {role} may not create "
                    f"databases: as an administrator run `ALTER ROLE {quote(role)} CREATEDB;`, or run verify with "
                    f"HARBOUR_DATABASE_URL naming a role that may (e.g. the postgres superuser)")
            conn.execute(text(f"CREATE DATABASE {quote(name)} TEMPLATE template0"))
        try:
            yield make_url(url).set(database=name).render_as_string(hide_password=False)
        finally:
            with engine.connect() as conn:
                conn.execute(text(f"DROP DATABASE IF EXISTS {quote(name)} WITH (FORCE)"))
    finally:
        engine.dispose()


# -- grants -------------------------------------------------------------------------------------------------
_DEFAULT_ON = {"r": "TABLES", "S": "SEQUENCES", "f": "FUNCTIONS", "T": "TYPES", "n": "SCHEMAS"}


def capture_grants(conn: Connection) -> dict:
    """Privileges roles other than the owner hold on this database, its public schema and its objects, and the
    default privileges set for future objects."""
    owner = conn.execute(text("SELECT tableowner FROM pg_tables WHERE schemaname = 'public' GROUP BY 1 "
                              "ORDER BY count(*) DESC LIMIT 1")).scalar()
    roles: dict[str, dict] = {}

    def role(name: str) -> dict:
        return roles.setdefault(name, {"database": [], "schema": [], "tables": {}, "sequences": {}})

    for relname, kind, priv, grantee in conn.execute(text(
            "SELECT c.relname, c.relkind, a.privilege_type, g.rolname FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace CROSS JOIN LATERAL aclexplode(c.relacl) a "
            "JOIN pg_roles g ON g.oid = a.grantee WHERE n.nspname = 'public' "
            "AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND a.grantee <> c.relowner ORDER BY 1, 3")):
        role(grantee)["sequences" if kind == "S" else "tables"].setdefault(relname, []).append(priv)
    for priv, grantee in conn.execute(text(
            "SELECT a.privilege_type, g.rolname FROM pg_namespace n CROSS JOIN LATERAL aclexplode(n.nspacl) a "
            "JOIN pg_roles g ON g.oid = a.grantee WHERE n.nspname = 'public' AND a.grantee <> n.nspowner "
            "ORDER BY 1")):
        role(grantee)["schema"].append(priv)
    for priv, grantee in conn.execute(text(
            "SELECT a.privilege_type, g.rolname FROM pg_database d CROSS JOIN LATERAL aclexplode(d.datacl) a "
            "JOIN pg_roles g ON g.oid = a.grantee WHERE d.datname = current_database() AND a.grantee <> d.datdba "
            "ORDER BY 1")):
        role(grantee)["database"].append(priv)
    defaults = [{"for_role": r[0], "schema": r[1], "on": _DEFAULT_ON.get(r[2], r[2]), "grantee": r[4],
                 "privileges": sorted(r[3].split(","))}
                for r in conn.execute(text(
                    "SELECT f.rolname, n.nspname, d.defaclobjtype, string_agg(a.privilege_type, ','), g.rolname "
                    "FROM pg_default_acl d JOIN pg_roles f ON f.oid = d.defaclrole "
                    "LEFT JOIN pg_namespace n ON n.oid = d.defaclnamespace "
                    "CROSS JOIN LATERAL aclexplode(d.defaclacl) a JOIN pg_roles g ON g.oid = a.grantee "
                    "WHERE a.grantee <> d.defaclrole GROUP BY 1, 2, 3, 5 ORDER BY 1, 2, 3, 5"))]
    return {"owner": owner, "roles": roles, "defaults": defaults}


def merge_grants(first: dict | None, second: dict | None) -> dict:
    out = {"owner": (first or {}).get("owner") or (second or {}).get("owner"), "roles": {}, "defaults": []}
    for source in (first, second):
        if not source:
            continue
        for name, held in source.get("roles", {}).items():
            mine = out["roles"].setdefault(name, {"database": [], "schema": [], "tables": {}, "sequences": {}})
            for scope in ("database", "schema"):
                mine[scope] = sorted(set(mine[scope]) | set(held.get(scope, [])))
            for scope in ("tables", "sequences"):
                for obj, privs in held.get(scope, {}).items():
                    mine[scope][obj] = sorted(set(mine[scope].get(obj, [])) | set(privs))
        for entry in source.get("defaults", []):
            if entry not in out["defaults"]:
                out["defaults"].append(entry)
    return out


def reapply_grants(url: str, grants: dict, *, previous_owners: set[str]) -> tuple[list[str], list[str]]:
    """Grant again what :func:`capture_grants` recorded, as the role of ``url`` (now the owner); returns (what
    was granted, what the operator must still do)."""
    done, todo = [], []
    roles = grants.get("roles", {})
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            me = conn.execute(text("SELECT current_user")).scalar_one()
            existing = set(conn.execute(text("SELECT rolname FROM pg_roles WHERE rolname = ANY(:n)"),
                                        {"n": [*roles, *(d["grantee"] for d in grants.get("defaults", []))]}).scalars())
            tables = set(public_tables(conn))
            sequences = set(conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
                            .scalars())
            database = conn.execute(text("SELECT current_database()")).scalar_one()

            def grant(sql: str) -> bool:
                try:
                    conn.execute(text(sql))
                    return True
                except DBAPIError:
                    todo.append(f"as an administrator, run: {sql};")
                    return False

            for name, held in sorted(roles.items()):
                if name == me:
                    continue
                if name not in existing:
                    todo.append(f"role {name} held privileges in the backed-up database but does not exist on this "
                                f"server: create it with `harbour db create-app-role {name}` (run with "
                                f"HARBOUR_DATABASE_URL naming this database as its owner)")
                    continue
                count = 0
                if held.get("database"):
                    count += grant(f"GRANT {', '.join(held['database'])} ON DATABASE {quote(database)} TO {quote(name)}")
                if held.get("schema"):
                    count += grant(f"GRANT {', '.join(held['schema'])} ON SCHEMA public TO {quote(name)}")
                for scope, present, kind in (("tables", tables, "TABLE"), ("sequences", sequences, "SEQUENCE")):
                    by_privs: dict[tuple, list[str]] = {}
                    for obj, privs in held.get(scope, {}).items():
                        if obj in present:
                            by_privs.setdefault(tuple(sorted(privs)), []).append(obj)
                    for privs, objs in sorted(by_privs.items()):
                        if grant(f"GRANT {', '.join(privs)} ON {kind} {', '.join(quote(o) for o in sorted(objs))} "
                                 f"TO {quote(name)}"):
                            count += len(objs)
                done.append(f"granted {name} its privileges again ({count} grants)")
            for entry in grants.get("defaults", []):
                if entry["grantee"] not in existing or entry["grantee"] == me:
                    continue
                if entry["for_role"] not in previous_owners:
                    todo.append(f"default privileges that role {entry['for_role']} set for {entry['grantee']} were not "
                                f"re-created (only the owner's are)")
                    continue
                where = f" IN SCHEMA {quote(entry['schema'])}" if entry.get("schema") else ""
                if grant(f"ALTER DEFAULT PRIVILEGES{where} GRANT {', '.join(entry['privileges'])} ON {entry['on']} "
                         f"TO {quote(entry['grantee'])}"):
                    done.append(f"default privileges on new {entry['on'].lower()} for {entry['grantee']} set again")
    finally:
        engine.dispose()
    return done, todo
