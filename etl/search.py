"""Full-text search over papers' titles and abstracts (read only).

The search objects are created by the analyst-layer migration:

- SQLite: ``papers_fts``, an external-content FTS5 table over ``papers`` (porter
  stemming, accents ignored), kept in step by triggers on ``papers``.
- PostgreSQL: ``papers.search_vector``, a stored generated ``tsvector`` (English
  stemming, title weighted above abstract) with the GIN index ``ix_papers_search_vector``.

Both match papers containing every word of the query, in the title or the abstract,
best match first. docs/schema.md shows the same queries for analysts.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from .errors import EtlError

SQLITE_TABLE = "papers_fts"
SQLITE_COLUMNS = ("title", "abstract")  # indexed from the papers columns of the same names
SQLITE_SHADOW_TABLES = tuple(f"{SQLITE_TABLE}_{suffix}" for suffix in ("data", "idx", "content", "docsize", "config"))
POSTGRES_COLUMN = "search_vector"
POSTGRES_INDEX = "ix_papers_search_vector"

# Title matches count ten times an abstract match (bm25 column weights; on PostgreSQL
# the title is weighted A and the abstract B in search_vector).
_SQLITE_QUERY = f"""
SELECT p.paper_id, p.title, p.published_on,
       (SELECT MIN(l.repo) FROM paper_links AS l WHERE l.paper_id = p.paper_id AND l.kind = 'github_repo') AS repo
FROM {SQLITE_TABLE} AS f
JOIN papers AS p ON p.paper_id = f.rowid
WHERE {SQLITE_TABLE} MATCH :query
ORDER BY bm25({SQLITE_TABLE}, 10.0, 1.0), p.paper_id
LIMIT :limit
"""

_POSTGRES_QUERY = f"""
SELECT p.paper_id, p.title, p.published_on,
       (SELECT MIN(l.repo COLLATE "C") FROM paper_links AS l
        WHERE l.paper_id = p.paper_id AND l.kind = 'github_repo') AS repo
FROM papers AS p, plainto_tsquery('english', :query) AS q
WHERE p.{POSTGRES_COLUMN} @@ q
ORDER BY ts_rank(p.{POSTGRES_COLUMN}, q) DESC, p.paper_id
LIMIT :limit
"""


class SearchError(EtlError):
    """A search that cannot run as asked."""


@dataclass(frozen=True)
class Match:
    rank: int
    paper_id: int
    title: str
    published_on: dt.date | None
    repo: str | None


def is_search_object(name: str | None, type_: str, table_name: str | None = None) -> bool:
    """True for the objects that implement search and are not in etl.schema.metadata
    (so that ``alembic check`` leaves them alone)."""
    if type_ == "table":
        return name == SQLITE_TABLE or name in SQLITE_SHADOW_TABLES
    if type_ == "column":
        return table_name == "papers" and name == POSTGRES_COLUMN
    if type_ == "index":
        return name == POSTGRES_INDEX
    return False


def query_words(terms: str) -> list[str]:
    """The words of a query; punctuation is ignored, as by both engines' tokenizers."""
    return re.findall(r"\w+", terms)


def search(engine: Engine, terms: str, limit: int = 10) -> list[Match]:
    """The best ``limit`` papers containing every word of ``terms``, best first."""
    words = query_words(terms)
    if not words:
        raise SearchError(f"nothing to search for in {terms!r}; give at least one word")
    if engine.dialect.name == "sqlite":
        # Each word quoted, so that FTS5 operators (AND, NEAR, -, *) in the input are plain words.
        sql, query = _SQLITE_QUERY, " ".join(f'"{word}"' for word in words)
    else:
        sql, query = _POSTGRES_QUERY, " ".join(words)
    statement = sa.text(sql).columns(
        sa.column("paper_id", sa.Integer),
        sa.column("title", sa.Text),
        sa.column("published_on", sa.Date),
        sa.column("repo", sa.Text),
    )
    with engine.connect() as conn:
        rows = conn.execute(statement, {"query": query, "limit": limit}).all()
    return [Match(rank, *row) for rank, row in enumerate(rows, start=1)]
