"""Run and inspect Alembic migrations: ``harbour db upgrade | downgrade | current | history | check`` and tests.

The rule this module enforces: **a schema change never destroys data silently.**  Before a downgrade,
:func:`plan_downgrade` works out what it would drop (the tables and columns the database has now that the
target revision lacks, read from a scratch SQLite database taken through the same, shared history) and counts
what they hold; ``harbour db downgrade`` refuses while any of it holds data unless the operator confirms with
``--yes``.  Rows the migrations write themselves (the audit chain's genesis head) and tables Harbour fills
again on its own (:data:`REBUILT`) do not count.  Counts only: no value is ever read or shown.

Every failure the operator can cause (an unknown revision, an unreachable database, a database migrated by a
newer release, a database not at head for the drift check) is a :class:`MigrationError` with a one-line
message saying what to do.  Nothing here needs the key ring: it reads the schema and counts rows.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import Script, ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import MetaData, column, create_engine, func, inspect, select, table, text
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from harbour.core.config import REPO_ROOT
from harbour.core.db import ensure_sqlite_dir, sqlite_path

# Tables whose rows Harbour writes again by itself after an upgrade: dropping them loses nothing.
REBUILT = {
    "key_check": "sealed again by the next `harbour db upgrade`",
    "key_worker": "each running process reports its keys again",
    "rate_limit": "rate-limit counters of the last minutes",
}
VERSION_TABLE = "alembic_version"


class MigrationError(RuntimeError):
    """A migration command cannot go ahead; the message (one line) says why and what to do."""


def alembic_config(url: str) -> Config:
    cfg = Config(str(REPO_ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(REPO_ROOT / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def upgrade(url: str, revision: str = "head") -> None:
    ensure_sqlite_dir(url)
    command.upgrade(alembic_config(url), revision)


def downgrade(url: str, revision: str) -> None:
    """Alembic's downgrade, unguarded (tests and :func:`plan_downgrade`'s caller, after the plan)."""
    command.downgrade(alembic_config(url), revision)


def scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(alembic_config("sqlite://"))


def safe_url(url: str) -> str:
    """The URL for messages: never the password."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(an invalid HARBOUR_DATABASE_URL)"


def first_line(exc: BaseException) -> str:
    """An error's first line (a driver's DETAIL lines can quote row values; they are left out)."""
    source = exc.orig if isinstance(exc, DBAPIError) and exc.orig is not None else exc
    lines = str(source).strip().splitlines()
    return f"{type(source).__name__}: {lines[0] if lines else ''}".rstrip(": ")


def connect(url: str, *, create: bool = False) -> Engine:
    """An engine on ``url`` once the database has answered; MigrationError if it does not.  A SQLite file must
    exist unless ``create`` (a read-only command never leaves an empty file behind)."""
    path = sqlite_path(url)
    if path is not None:
        if create:
            try:
                ensure_sqlite_dir(url)
            except OSError as exc:
                raise MigrationError(f"cannot create the SQLite database {path}: {exc.strerror}") from None
        elif not path.exists():
            raise MigrationError(f"no database at {path} (HARBOUR_DATABASE_URL); `harbour db upgrade` creates it")
    try:
        engine = create_engine(url, poolclass=NullPool)
    except (ArgumentError, SQLAlchemyError, ImportError) as exc:
        raise MigrationError(f"HARBOUR_DATABASE_URL is not a usable database URL: {first_line(exc)}") from None
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        engine.dispose()
        raise MigrationError(f"cannot reach the database {safe_url(url)}: {first_line(exc)}") from None
    return engine


def current_revision(conn: Connection) -> str | None:
    return MigrationContext.configure(conn).get_current_revision()


def _known(script: ScriptDirectory, revision: str | None) -> Script | None:
    if revision is None:
        return None
    try:
        return script.get_revision(revision)
    except CommandError:
        raise MigrationError(f"the database is at revision {revision}, which this release of Harbour does not know: "
                             f"a newer release migrated it. Run that release, or restore a backup taken before "
                             f"its upgrade") from None


def _resolve(script: ScriptDirectory, revision: str) -> Script:
    try:
        found = script.get_revision(revision)
    except CommandError:
        found = None
    if found is None:
        raise MigrationError(f"unknown revision {revision!r}: `harbour db history` lists them")
    return found


def _doc(rev: Script) -> str:
    return " ".join((rev.doc or "").split())


# -- where the database stands ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Status:
    current: str | None
    head: str
    pending: tuple[Script, ...]  # not applied yet, oldest first

    @property
    def at_head(self) -> bool:
        return self.current == self.head

    def lines(self) -> list[str]:
        now = f"revision {self.current}" if self.current else "no revision (an empty database)"
        if self.at_head:
            return [f"database: {now} (head): up to date"]
        count = len(self.pending)
        out = [f"database: {now}; behind head {self.head} by {count} revision{'s' * (count != 1)}:"]
        out += [f"  {rev.revision}  {_doc(rev)}" for rev in self.pending]
        out.append("back up (`harbour backup create`), then run `harbour db upgrade`")
        return out


def status(url: str, *, engine: Engine | None = None) -> Status:
    """Where the database stands (``engine``: an engine already open on it, reused)."""
    script = scripts()
    own = engine is None
    engine = engine if engine is not None else connect(url)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
    finally:
        if own:
            engine.dispose()
    _known(script, current)
    head = script.get_current_head()
    pending = tuple(reversed(list(script.iterate_revisions(head, current or "base"))))
    return Status(current, head, pending)


def history_lines(url: str) -> list[str]:
    """The migration history, newest first; the database's revision marked ``<- current``."""
    current = status(url).current
    script = scripts()
    head = script.get_current_head()
    out = []
    for rev in script.walk_revisions():
        marks = [m for m, on in (("head", rev.revision == head), ("current", rev.revision == current)) if on]
        out.append(f"{'*' if rev.revision == current else ' '} {rev.revision}  {_doc(rev)}"
                   + (f"  ({', '.join(marks)})" if marks else ""))
    if current is None:
        out.append("  (the database has no revision yet: `harbour db upgrade`)")
    return out


def check_upgrade_target(revision: str) -> None:
    """Refuse an upgrade target that names no revision, before anything is touched."""
    if re.fullmatch(r"\+\d+", revision) or revision in ("head", "heads"):
        return
    _resolve(scripts(), revision)


# -- models vs migrations -------------------------------------------------------------------------------------------
def _models() -> MetaData:
    from harbour.models_registry import metadata

    return metadata


def drift(url: str) -> list[str]:
    """What autogenerate would put in a new migration (models vs the database at head): [] when nothing."""
    state = status(url)
    if not state.at_head:
        raise MigrationError(f"the database is at {state.current or 'no revision'}, not at head {state.head}: "
                             f"upgrade it first (`harbour db upgrade`), or point HARBOUR_DATABASE_URL at a scratch "
                             f"database")
    engine = connect(url)
    try:
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": True, "render_as_batch": True})
            diffs = compare_metadata(context, _models())
    finally:
        engine.dispose()
    flat = [d for item in diffs for d in (item if isinstance(item, list) else [item])]
    return [describe(d) for d in flat]


def describe(diff: tuple) -> str:
    """One autogenerate difference in words (``in the models`` = a migration is missing)."""
    kind = diff[0]
    where = {"add": "in the models, not in the migrations", "remove": "in the database, not in the models"}
    verb = kind.split("_", 1)[0]
    if kind in ("add_table", "remove_table"):
        return f"table {diff[1].name}: {where[verb]}"
    if kind in ("add_column", "remove_column"):
        return f"column {diff[2]}.{diff[3].name} ({diff[3].type}): {where[verb]}"
    if kind in ("add_index", "remove_index"):
        index = diff[1]
        return f"index {index.name} on {index.table.name}: {where[verb]}"
    if kind in ("add_constraint", "remove_constraint", "add_fk", "remove_fk"):
        constraint = diff[1]
        return f"constraint {constraint.name} on {constraint.table.name}: {where[verb]}"
    if kind.startswith("modify_") and len(diff) >= 7:
        _kind, _schema, table_name, column_name, _info, old, new = diff[:7]
        return (f"column {table_name}.{column_name}: {kind[len('modify_'):]} {old} in the database, "
                f"{new} in the models")
    return " ".join(str(part) for part in diff)


# -- what a downgrade would drop ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Loss:
    kind: str  # "table" or "column"
    name: str  # table, or table.column
    count: int  # rows (beyond the migrations' own), or non-null values

    @property
    def rebuilt(self) -> bool:
        return self.kind == "table" and self.name in REBUILT

    def line(self) -> str:
        unit = "row" if self.kind == "table" else "value"
        note = f" (not kept: {REBUILT[self.name]})" if self.rebuilt else ""
        return f"  {self.kind} {self.name}: {self.count} {unit}{'s' * (self.count != 1)}{note}"


@dataclass(frozen=True)
class DowngradePlan:
    current: str
    target: str | None  # None: base (nothing left)
    steps: tuple[str, ...]  # revisions undone, newest first
    losses: tuple[Loss, ...] = field(default=())

    @property
    def blocking(self) -> tuple[Loss, ...]:
        """What holds data the downgrade would destroy."""
        return tuple(loss for loss in self.losses if loss.count and not loss.rebuilt)

    @property
    def target_name(self) -> str:
        return self.target or "base"

    def lines(self) -> list[str]:
        if not self.steps:
            return [f"database already at revision {self.current}: nothing to downgrade"]
        out = [f"downgrading from {self.current} to {self.target_name} undoes {', '.join(self.steps)}"]
        if self.losses:
            out.append("and drops:")
            out += [loss.line() for loss in self.losses]
        return out


def plan_downgrade(url: str, revision: str) -> DowngradePlan:
    """What ``downgrade(url, revision)`` would undo and drop, with what the dropped parts hold.  Changes nothing."""
    script = scripts()
    engine = connect(url)
    try:
        with engine.connect() as conn:
            current = current_revision(conn)
        if current is None:
            raise MigrationError("the database has no revision: there is nothing to downgrade")
        _known(script, current)
        target = _downgrade_target(script, current, revision)
        steps = tuple(rev.revision for rev in script.iterate_revisions(current, target or "base")) \
            if target != current else ()
        if not steps:
            return DowngradePlan(current, target, ())
        before, after = _schemas(current, target)
        losses = []
        with engine.connect() as conn:  # one transaction, rolled back at the end
            if conn.dialect.name == "postgresql":  # count every agency's rows (row-level security)
                conn.execute(text("SELECT set_config('harbour.all_agencies', 'on', true)"))
            insp = inspect(conn)
            present = set(insp.get_table_names())
            for name in sorted((set(before) - set(after)) & present):
                seeded = before[name][1]
                losses.append(Loss("table", name, max(0, _count(conn, name) - seeded)))
            for name in sorted(set(before) & set(after) & present):
                existing = {c["name"] for c in insp.get_columns(name)}
                for col in sorted((before[name][0] - after[name][0]) & existing):
                    losses.append(Loss("column", f"{name}.{col}", _count(conn, name, col)))
    finally:
        engine.dispose()
    return DowngradePlan(current, target, steps, tuple(losses))


def _downgrade_target(script: ScriptDirectory, current: str, revision: str) -> str | None:
    """The revision a downgrade to ``revision`` ends at (None: base): an id, ``base`` or ``-N``."""
    below = [rev.revision for rev in script.iterate_revisions(current, "base")]  # current first
    if revision == "base":
        return None
    relative = re.fullmatch(r"-(\d+)", revision)
    if relative:
        steps = int(relative[1])
        if steps > len(below):
            raise MigrationError(f"the database is only {len(below)} revisions above base; `harbour db history` "
                                 f"lists them")
        return below[steps] if steps < len(below) else None
    target = _resolve(script, revision).revision
    if target not in below:
        raise MigrationError(f"revision {target} is not below the database's revision {current}: "
                             f"`harbour db upgrade {target}` moves forward")
    return target


Schema = dict[str, tuple[set[str], int]]  # table -> (columns, rows the migrations themselves wrote)


def _schemas(current: str, target: str | None) -> tuple[Schema, Schema]:
    """The schema at ``current`` and at ``target`` (None: base), read from a scratch SQLite database taken
    through the same history (shared by both backends)."""
    with tempfile.TemporaryDirectory(prefix="harbour-schema-") as tmp:
        url = f"sqlite:///{tmp}/scratch.db"
        after: Schema = {}
        if target:
            upgrade(url, target)
            after = _read_schema(url)
        upgrade(url, current)
        return _read_schema(url), after


def _read_schema(url: str) -> Schema:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            insp = inspect(conn)
            return {name: ({c["name"] for c in insp.get_columns(name)}, _count(conn, name))
                    for name in insp.get_table_names() if name != VERSION_TABLE}
    finally:
        engine.dispose()


def _count(conn: Connection, table_name: str, column_name: str | None = None) -> int:
    """Rows of a table, or its rows where ``column_name`` holds a value (never the values themselves)."""
    t = table(table_name, *([column(column_name)] if column_name else []))
    query = select(func.count()).select_from(t)
    if column_name:
        query = query.where(t.c[column_name].is_not(None))
    return int(conn.execute(query).scalar_one())
