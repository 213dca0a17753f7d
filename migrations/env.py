"""Alembic environment: the URL comes from Harbour's settings (or the caller's config).

On PostgreSQL, once migrations have run (upgrade or downgrade, in the same transaction), the application
role's grants are re-applied to every table and sequence (``harbour.sharing.rls.grant_app_roles``): every role
holding Harbour's default privileges keeps DML on every table, including tables created by another
administrator, whose default privileges do not name it.  Nothing is granted when no migration ran.
"""

from alembic import context
from sqlalchemy import engine_from_config, pool

from harbour.core.config import get_settings
from harbour.models_registry import metadata

config = context.config
url = config.get_main_option("sqlalchemy.url") or get_settings().database_url
config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
target_metadata = metadata


def run_migrations_offline() -> None:
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def _migrate(connection) -> None:
    applied: list[str] = []
    context.configure(connection=connection, target_metadata=target_metadata, render_as_batch=True,
                      on_version_apply=lambda *, step, **_: applied.append(step.up_revision_id or "base"))
    with context.begin_transaction():
        context.run_migrations()
        if applied and connection.dialect.name == "postgresql":
            from harbour.sharing.rls import grant_app_roles

            grant_app_roles(connection)


def run_migrations_online() -> None:
    connectable = config.attributes.get("connection")
    if connectable is not None:
        _migrate(connectable)
        return
    engine = engine_from_config(config.get_section(config.config_ini_section, {}), prefix="sqlalchemy.",
                                poolclass=pool.NullPool)
    with engine.connect() as connection:
        _migrate(connection)


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
