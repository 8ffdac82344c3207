"""Alembic environment: target_metadata is etl.schema.metadata.

The URL is resolved as by the papers-etl command (``-x db=URL``, then
PAPERS_ETL_DATABASE_URL, then sqlite:///papers.db). When papers-etl runs a
migration itself it passes an open connection in ``config.attributes``.
"""

from logging.config import fileConfig

from alembic import context

from etl.db import create_engine, migration_connection, resolve_url
from etl.schema import metadata
from etl.search import is_search_object
from etl.views import VIEWS

config = context.config
if config.config_file_name is not None and not config.attributes.get("connection"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

target_metadata = metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    """Leave to their migration what etl.schema does not describe: the views and the search objects."""
    table_name = getattr(getattr(obj, "table", None), "name", None)
    is_view = type_ == "table" and name in VIEWS
    return not is_view and not is_search_object(name, type_, table_name)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        compare_server_default=True,
        include_object=include_object,
    )


def run_migrations_offline() -> None:
    url = context.get_x_argument(as_dictionary=True).get("db") or resolve_url(config.attributes.get("database_url"))
    context.configure(
        url=url,
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=url.startswith("sqlite"),
        dialect_opts={"paramstyle": "named"},
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    url = context.get_x_argument(as_dictionary=True).get("db") or config.attributes.get("database_url")
    engine = create_engine(str(url) if url else None)
    with migration_connection(engine) as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
