"""The analyst views: expected rows, the same rows and types on both engines, no drift from sql/views/."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import analyst_pages as ap
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT

from etl import db
from etl.views import VIEWS, view_metadata

SQL_VIEWS = PROJECT_ROOT / "sql" / "views"
DIALECTS = ("sqlite", "postgresql")


@pytest.fixture
def loaded(request, tmp_path, page_dir):
    yield from ap.loaded_engines(request, tmp_path, page_dir, ap.PAGES | ap.UPVOTE_PAGES)


def view_rows(engine, name: str) -> list[tuple]:
    """Every row of a view, read through its typed description, in a fixed order (NULLs last)."""
    view = VIEWS[name]
    order = [c.asc().nulls_last() for c in view.primary_key.columns]
    with engine.connect() as conn:
        return [tuple(row) for row in conn.execute(sa.select(view).order_by(*order))]


def test_paper_summary_has_one_row_per_paper_with_its_repository_and_listings(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    columns = [c.name for c in VIEWS["paper_summary"].columns]
    rows = [dict(zip(columns, row, strict=True)) for row in view_rows(engine, "paper_summary")]
    card_columns = ("arxiv_id", "hf_url", "authors", "latest_upvotes", "max_upvotes")
    by_title = {
        row["title"]: tuple(v for c, v in row.items() if c not in ("paper_id", "title", *card_columns)) for row in rows
    }

    assert by_title == {
        ap.TITLES[letter]: (ap.ABSTRACTS[letter], *expected) for letter, expected in ap.PAPER_SUMMARY.items()
    }
    assert {row[c] for row in rows for c in card_columns} == {None}  # plain-text pages: no id, names or upvotes


def test_paper_summary_and_paper_upvotes_give_ids_and_upvotes_over_time(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.UPVOTE_PAGES), ap.UPVOTE_PAGES)

    columns = [c.name for c in VIEWS["paper_summary"].columns]
    rows = [dict(zip(columns, row, strict=True)) for row in view_rows(engine, "paper_summary")]
    found = {r["arxiv_id"]: (r["hf_url"], r["latest_upvotes"], r["max_upvotes"], r["times_listed"]) for r in rows}
    assert found == ap.UPVOTE_SUMMARY
    assert view_rows(engine, "paper_upvotes") == ap.PAPER_UPVOTES


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("monthly_publications", ap.MONTHLY_PUBLICATIONS),
        ("github_repositories", ap.GITHUB_REPOSITORIES),
        ("listing_days", ap.LISTING_DAYS),
        ("listing_months", ap.LISTING_MONTHS),
        ("author_count_distribution", ap.AUTHOR_COUNT_DISTRIBUTION),
    ],
)
def test_aggregate_views_give_the_expected_rows(engine, page_dir, name, expected):
    ap.load_pages(engine, page_dir(ap.PAGES))

    assert view_rows(engine, name) == expected


def test_every_view_gives_the_same_rows_and_types_on_both_engines(loaded):
    for name in VIEWS:
        sqlite_rows, postgres_rows = view_rows(loaded["sqlite"], name), view_rows(loaded["postgres"], name)
        assert sqlite_rows, f"{name} is empty: the comparison would prove nothing"
        assert sqlite_rows == postgres_rows, name
        for sqlite_row, postgres_row in zip(sqlite_rows, postgres_rows, strict=True):
            assert [type(v) for v in sqlite_row] == [type(v) for v in postgres_row], (name, sqlite_row)


def test_views_are_empty_but_usable_on_an_empty_database(engine):
    for name in VIEWS:
        assert view_rows(engine, name) == [], name


def test_the_typed_descriptions_name_the_live_views_and_their_columns(engine):
    inspector = sa.inspect(engine)
    assert set(inspector.get_view_names()) == set(VIEWS)
    for name, view in VIEWS.items():
        assert [c["name"] for c in inspector.get_columns(name)] == [c.name for c in view.columns], name


def test_view_descriptions_are_not_in_the_alembic_metadata():
    from etl.schema import metadata

    assert not set(view_metadata.tables) & set(metadata.tables)


def test_downgrade_removes_the_views_and_upgrade_brings_them_back(engine):
    db.downgrade(engine, "0001")
    assert sa.inspect(engine).get_view_names() == []

    db.upgrade(engine)
    assert set(sa.inspect(engine).get_view_names()) == set(VIEWS)


# --------------------------------------------------------------------------- sql/views/ and the migration


def migration_view_sql() -> dict[tuple[str, str], str]:
    """{(view, dialect): SQL} as the latest migration that defines each view creates it."""
    versions = db.migrations_dir() / "versions"
    found: dict[tuple[str, str], str] = {}
    for path in sorted(versions.glob("*.py")):  # revision files sort in date order
        module = _load_module(path)
        for name in getattr(module, "VIEWS", {}):
            for dialect in DIALECTS:
                found[(name, dialect)] = module.view_sql(name, dialect)
    return found


def _load_module(path: Path):
    spec = importlib.util.spec_from_file_location(f"migration_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sql_file_for(name: str, dialect: str) -> Path:
    specific = SQL_VIEWS / f"{name}.{dialect}.sql"
    return specific if specific.exists() else SQL_VIEWS / f"{name}.sql"


def test_sql_views_files_and_the_migration_cannot_drift():
    in_migrations = migration_view_sql()
    assert {name for name, _ in in_migrations} == set(VIEWS)
    for (name, dialect), sql in in_migrations.items():
        assert sql_file_for(name, dialect).read_text(encoding="utf-8").strip() == sql.strip(), (name, dialect)


def test_every_sql_views_file_belongs_to_a_view():
    names = {path.name.split(".")[0] for path in SQL_VIEWS.glob("*.sql")}
    assert names == set(VIEWS)
    for path in SQL_VIEWS.glob("*.*.sql"):
        assert path.name.split(".")[1] in DIALECTS, path.name


def test_on_the_real_captures_no_paper_drops_out_of_the_monthly_views(engine, seeds):
    from etl.pipeline import run_load

    run_load(engine, [seeds])
    with engine.connect() as conn:
        papers = conn.execute(sa.text("SELECT COUNT(*) FROM papers")).scalar_one()
        by_publication = conn.execute(sa.text("SELECT SUM(papers) FROM monthly_publications")).scalar_one()
        by_listing = conn.execute(sa.text("SELECT SUM(papers_first_listed) FROM listing_months")).scalar_one()
        undated = conn.execute(sa.text("SELECT papers FROM monthly_publications WHERE month IS NULL")).scalar_one()

    assert papers > 100
    assert by_publication == by_listing == papers
    assert 0 < undated < papers
