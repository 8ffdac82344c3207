"""sql/examples/: every query is documented, runs read-only on both engines and gives the same rows on each."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import analyst_pages as ap
import pytest
from conftest import PROJECT_ROOT

from etl import query

EXAMPLES = PROJECT_ROOT / "sql" / "examples"
ENGINE_DIALECT = {"sqlite": "sqlite", "postgres": "postgresql"}


def example_names() -> list[str]:
    return sorted({path.name.split(".")[0] for path in EXAMPLES.glob("*.sql")})


def example_file(name: str, dialect: str) -> Path:
    specific = EXAMPLES / f"{name}.{dialect}.sql"
    return specific if specific.exists() else EXAMPLES / f"{name}.sql"


@pytest.fixture
def loaded(request, tmp_path, page_dir):
    yield from ap.loaded_engines(request, tmp_path, page_dir)


# Values for the examples' named parameters (papers-etl query -p NAME VALUE; canned queries of papers-etl serve).
PARAMETERS = {"terms": "diffusion distillation", "from": "2026-03-03", "to": "2026-03-31"}


def run(engine, sql: str) -> tuple[list[str], list[tuple]]:
    params = {name: PARAMETERS[name] for name in query.parameter_names(sql)}
    with query.run_query(engine.url.render_as_string(hide_password=False), sql, params) as result:
        return result.columns, [tuple(_comparable(v) for v in row) for row in result.rows]


def _comparable(value):
    """SQLite has no DATE type: a date comes back as ISO text there, as a date on PostgreSQL."""
    return value.isoformat() if isinstance(value, dt.date) else value


def test_there_are_at_least_ten_examples_each_answering_a_stated_question():
    names = example_names()
    assert len(names) >= 10
    for path in EXAMPLES.glob("*.sql"):
        assert path.read_text(encoding="utf-8").startswith("-- Question: "), path.name
    for path in EXAMPLES.glob("*.*.sql"):
        assert path.name.split(".")[1] in ENGINE_DIALECT.values(), path.name
        for dialect in ENGINE_DIALECT.values():
            assert example_file(path.name.split(".")[0], dialect).exists(), (path.name, dialect)


@pytest.mark.parametrize("name", example_names())
def test_example_gives_the_same_rows_and_types_on_both_engines(loaded, name):
    results = {
        engine_name: run(engine, example_file(name, ENGINE_DIALECT[engine_name]).read_text(encoding="utf-8"))
        for engine_name, engine in loaded.items()
    }

    (columns, rows), (pg_columns, pg_rows) = results["sqlite"], results["postgres"]
    assert rows, f"{name} returns nothing on the test pages: the comparison would prove nothing"
    assert columns == pg_columns
    assert rows == pg_rows
    for row, pg_row in zip(rows, pg_rows, strict=True):
        assert [type(v) for v in row] == [type(v) for v in pg_row], row


def test_the_search_example_finds_the_papers_about_diffusion_distillation(loaded):
    for engine_name, engine in loaded.items():
        sql = example_file("05_search_titles_and_abstracts", ENGINE_DIALECT[engine_name]).read_text(encoding="utf-8")
        _, rows = run(engine, sql)
        assert [row[1] for row in rows] == [ap.A[0], ap.D[0]], engine_name
