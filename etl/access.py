"""Read-only access for BI tools (PostgreSQL roles).

``grant_readonly`` gives an existing role exactly what a dashboard needs: USAGE
on the schema, SELECT on every table and view in it, and SELECT on the tables and
views created later by the user running the grant (ALTER DEFAULT PRIVILEGES), so a
later migration does not lock the dashboard out. Nothing else: no INSERT, UPDATE,
DELETE, TRUNCATE, CREATE. It changes privileges only, never data.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .db import database_errors, safe_url
from .errors import EtlError


class AccessError(EtlError):
    """The grant cannot be made as asked."""


def grant_statements(schema: str, role: str, quote) -> list[str]:
    """The GRANT statements for ``role`` on ``schema`` (``quote`` quotes an identifier)."""
    schema, role = quote(schema), quote(role)
    return [
        f"GRANT USAGE ON SCHEMA {schema} TO {role}",
        f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}",
        f"ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO {role}",
    ]


def grant_readonly(engine: Engine, role: str) -> tuple[str, list[str]]:
    """Give ``role`` read-only access to the current schema; return the schema and the statements run."""
    if engine.dialect.name != "postgresql":
        raise AccessError(
            f"{safe_url(engine.url)}: grant-readonly is for PostgreSQL; SQLite has no roles, so give a BI "
            "tool a read-only copy of the file or open it with ?mode=ro"
        )
    with database_errors(engine.url), engine.begin() as conn:
        if conn.execute(sa.text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}).first() is None:
            raise AccessError(
                f"role {role!r} does not exist in {safe_url(engine.url)}; create it first, for example "
                f"CREATE ROLE {role} LOGIN PASSWORD '…'"
            )
        schema = conn.execute(sa.text("SELECT current_schema()")).scalar_one()
        statements = grant_statements(schema, role, conn.dialect.identifier_preparer.quote)
        for statement in statements:
            conn.exec_driver_sql(statement)
    return schema, statements
