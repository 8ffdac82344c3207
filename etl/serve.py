"""``papers-etl serve``: Datasette over the SQLite database, with the data dictionary and a dashboard.

Everything Datasette shows is made here from what papers-etl already has: the
descriptions from ``etl.dictionary``, the canned queries from ``sql/examples``
(their ``:name`` parameters become form fields), and the dashboard charts
(datasette-dashboards, Vega-Lite) from ``CHARTS``: a chart is one entry there.
Datasette and its plugins are the optional extra ``serve``
(``pip install 'papers-etl[serve]'``); nothing here is imported by a load.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from . import dictionary
from .db import PROJECT_ROOT
from .errors import ConfigError

HOST = "127.0.0.1"  # loopback only: the data is not meant for the network
DASHBOARD = "papers"
# Tables that are Datasette noise: Alembic's bookkeeping (FTS5's shadow tables Datasette hides by itself).
HIDDEN_TABLES = ("alembic_version",)
FACETS = {
    "paper_summary": ["has_code", "author_count"],
    "paper_links": ["kind"],
    "source_files": ["layout", "listed_on_source"],
    "etl_runs": ["status"],
    "rejects": ["level"],
}
# Deduplication keys and digests: machinery, not data. Hidden from a table's page (``?_nocol=``, which the
# page's column menu can undo); the JSON and CSV still have them.
HIDDEN_COLUMNS = {
    "papers": ("title_key",),
    "listings": ("title_key", "abstract_key"),
    "source_files": ("parse_digest",),
}
# Views with a paper_id: Datasette links it to the paper's row (it only knows foreign keys of tables).
PAPER_ID_LINKS = ("paper_summary",)


@dataclass(frozen=True)
class Chart:
    """One dashboard chart: a query (optional date filters in [[ ]]) and a Vega-Lite mark with x and y."""

    title: str
    sql: str
    mark: str
    x: str
    y: str
    x_type: str = "temporal"
    y_type: str = "quantitative"
    y_format: str | None = None  # d3 format of the y axis ("%" for a share)
    color: str | None = None  # a column that splits the marks into series (one line per paper)

    def vega_lite(self) -> dict:
        y = {"field": self.y, "type": self.y_type, "title": self.y}
        if self.y_format:
            y["axis"] = {"format": self.y_format}
        if self.y_type == "nominal":
            y["sort"] = "-x"  # longest bar first
        encoding = {"x": {"field": self.x, "type": self.x_type, "title": self.x}, "y": y}
        if self.color:
            encoding["color"] = {"field": self.color, "type": "nominal", "title": self.color}
        return {"mark": {"type": self.mark, "tooltip": True}, "encoding": encoding}


def _between(column: str) -> str:
    """The dashboard's date-range filter on ``column``; each bound is dropped when left empty."""
    return f"[[ AND {column} >= :date_start ]] [[ AND {column} <= :date_end ]]"


# The dashboard, one entry per chart.
CHARTS: dict[str, Chart] = {
    "new-papers-per-day": Chart(
        "New papers per listing day",
        f"SELECT listed_on, new_papers FROM listing_days WHERE 1 = 1 {_between('listed_on')} ORDER BY listed_on",
        "bar",
        "listed_on",
        "new_papers",
    ),
    "new-papers-per-month": Chart(
        "New papers per listing month",
        "SELECT month, papers_first_listed FROM listing_months WHERE month IS NOT NULL "
        f"{_between('month')} ORDER BY month",
        "bar",
        "month",
        "papers_first_listed",
    ),
    "code-share-per-month": Chart(
        "Share of the papers listed each month that link code on GitHub",
        f"SELECT month, code_share FROM listing_months WHERE month IS NOT NULL {_between('month')} ORDER BY month",
        "line",
        "month",
        "code_share",
        y_format="%",
    ),
    "most-linked-repositories": Chart(
        "Most linked GitHub repositories",
        "SELECT repo, papers FROM github_repositories WHERE 1 = 1 "
        f"{_between('last_listed_on')} ORDER BY papers DESC, repo LIMIT 15",
        "bar",
        "papers",
        "repo",
        x_type="quantitative",
        y_type="nominal",
    ),
    "author-count-distribution": Chart(
        "Papers by number of authors",
        "SELECT author_count, papers FROM author_count_distribution WHERE author_count IS NOT NULL "
        "ORDER BY author_count",
        "bar",
        "author_count",
        "papers",
        x_type="ordinal",
    ),
    "upvotes-over-time": Chart(
        "Upvotes over time of the most upvoted papers",
        "SELECT listed_on, title, upvotes FROM paper_upvotes WHERE paper_id IN (SELECT paper_id FROM paper_summary"
        " WHERE max_upvotes IS NOT NULL ORDER BY max_upvotes DESC, paper_id LIMIT 8) "
        f"{_between('listed_on')} ORDER BY listed_on",
        "line",
        "listed_on",
        "upvotes",
        color="title",
    ),
}


def dashboard(database: str) -> dict:
    return {
        "title": "Hugging Face papers",
        "description": "What the loaded listing pages show over time: new papers, code, repositories, authors. "
        "Dates filter by listing date (YYYY-MM-DD), both ends optional.",
        "settings": {"allow_fullscreen": True},
        "filters": {
            "date_start": {"name": "Listed from", "type": "date"},
            "date_end": {"name": "Listed until", "type": "date"},
        },
        "charts": {
            slug: {"title": c.title, "db": database, "query": c.sql, "library": "vega-lite", "display": c.vega_lite()}
            for slug, c in CHARTS.items()
        },
    }


# --------------------------------------------------------------------------- canned queries


def examples_dir() -> Path:
    """sql/examples of a source checkout, else the copy installed with the package."""
    checkout = PROJECT_ROOT / "sql" / "examples"
    return checkout if checkout.is_dir() else Path(str(resources.files("etl.sql"))) / "examples"


def canned_queries(dialect: str = "sqlite") -> dict[str, dict]:
    """Every example of sql/examples (the ``dialect`` variant where there are two), named by its file."""
    queries = {}
    for path in sorted(examples_dir().glob("*.sql")):
        stem, *variant = path.name.removesuffix(".sql").split(".")
        if variant and variant[0] != dialect:
            continue
        sql = path.read_text(encoding="utf-8")
        comments = [line[2:].strip() for line in sql.splitlines() if line.startswith("--")]
        question = comments[0].removeprefix("Question:").strip() if comments else stem
        name = re.sub(r"^\d+_", "", stem)
        queries[name] = {"sql": sql, "title": question, "description": " ".join(comments[1:])}
    return queries


# --------------------------------------------------------------------------- metadata


def metadata(database: str) -> dict:
    """Datasette metadata: title, description, every description of the dictionary, canned queries,
    facets, hidden tables and the dashboard."""
    tables: dict[str, dict] = {name: {"hidden": True} for name in HIDDEN_TABLES}
    for relation in dictionary.relations("sqlite"):
        entry = {
            "description": dictionary.plain(relation.description),
            "columns": {c.name: dictionary.column_comment(c) for c in relation.columns},
        }
        if relation.name in FACETS:
            entry["facets"] = FACETS[relation.name]
        if relation.name == "papers":
            entry["fts_table"], entry["fts_pk"] = "papers_fts", "paper_id"
        tables[relation.name] = entry
    return {
        "title": "papers-etl: Hugging Face papers",
        "description_html": (
            "Papers seen on captured Hugging Face listing pages, deduplicated. Start with the "
            f'<a href="/{database}/paper_summary">paper_summary</a> view (one row per paper), the '
            f'<a href="/-/dashboards/{DASHBOARD}">dashboard</a>, or the canned queries below. '
            "Every table, view and column is described; the full data dictionary is docs/schema.md."
        ),
        "databases": {database: {"tables": tables, "queries": canned_queries("sqlite")}},
        "plugins": {"datasette-dashboards": {DASHBOARD: dashboard(database)}},
    }


# --------------------------------------------------------------------------- Datasette plugin and server


def render_cell(value, column, table, database, datasette):
    """Datasette hook: a view's paper_id links to the paper's row."""
    if table in PAPER_ID_LINKS and column == "paper_id" and isinstance(value, int):
        from markupsafe import Markup, escape

        url = datasette.urls.row(database, "papers", str(value))
        return Markup(f'<a href="{escape(url)}">{value}</a>')
    return None


def asgi_wrapper(datasette):
    """Datasette hook: a table page opened without a column choice hides that table's HIDDEN_COLUMNS."""

    def wrap(app):
        async def hide_key_columns(scope, receive, send):
            redirect = _hidden_columns_url(scope) if scope["type"] == "http" else None
            if redirect is None:
                return await app(scope, receive, send)
            await send({"type": "http.response.start", "status": 302, "headers": [[b"location", redirect.encode()]]})
            await send({"type": "http.response.body", "body": b""})

        return hide_key_columns

    return wrap


def _hidden_columns_url(scope) -> str | None:
    parts = scope["path"].strip("/").split("/")
    query = scope.get("query_string", b"").decode("latin-1")
    if len(parts) != 2 or parts[1] not in HIDDEN_COLUMNS or "_col=" in query or "_nocol=" in query:
        return None
    hidden = "&".join(f"_nocol={column}" for column in HIDDEN_COLUMNS[parts[1]])
    return f"{scope['path']}?{query + '&' if query else ''}{hidden}"


def _register_plugin() -> None:
    from datasette import hookimpl
    from datasette.plugins import pm

    if pm.get_plugin("papers_etl") is None:
        module = sys.modules[__name__]
        hookimpl(render_cell)  # marks the functions as Datasette hook implementations
        hookimpl(asgi_wrapper)
        pm.register(module, name="papers_etl")


def app(path: Path):
    """The Datasette ASGI app over the SQLite file at ``path`` (read-only connections)."""
    try:
        from datasette.app import Datasette
    except ImportError:
        raise ConfigError("papers-etl serve needs Datasette: pip install 'papers-etl[serve]'") from None
    _register_plugin()
    # Datasette names the database after the file (papers.db: /papers).
    datasette = Datasette(files=[str(path)], metadata=metadata(path.stem), settings={"default_page_size": 50})
    return datasette.app()


def serve(path: Path, port: int) -> None:
    """Serve until interrupted, on 127.0.0.1 only."""
    import uvicorn

    uvicorn.run(app(path), host=HOST, port=port, log_level="warning")
