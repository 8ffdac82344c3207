"""Docs that cannot drift: one data dictionary (etl/dictionary.py) for docs/schema.md, the live database on
both engines, PostgreSQL's descriptions and the typed view descriptions."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT, _postgres_url

from etl import db, dictionary
from etl.schema import metadata
from etl.views import VIEWS

SCHEMA_DOC = PROJECT_ROOT / "docs" / "schema.md"


def test_docs_schema_md_is_generated_from_the_dictionary():
    assert SCHEMA_DOC.read_text(encoding="utf-8") == dictionary.markdown(), (
        "docs/schema.md is stale: run `python -m etl.dictionary > docs/schema.md`"
    )


def test_every_relation_and_column_has_a_description_a_type_and_an_example():
    for relation in dictionary.RELATIONS:
        assert relation.description.strip(), relation.name
        assert relation.kind in dictionary.PART_OF_KIND, relation.name
        names = [c.name for c in relation.columns]
        assert len(names) == len(set(names)), f"{relation.name}: a column is described twice"
        for column in relation.columns:
            assert column.type and column.meaning and column.example, f"{relation.name}.{column.name}"
            assert set(column.engines) <= set(dictionary.ENGINES), f"{relation.name}.{column.name}"


def test_the_dictionary_names_the_tables_and_views_of_the_code():
    described = {r.name: {c.name for c in r.columns} for r in dictionary.RELATIONS}
    for table in metadata.sorted_tables:
        assert {c.name for c in table.columns} <= described[table.name], table.name
    for name, view in VIEWS.items():
        assert [c.name for c in view.columns] == [c.name for c in dictionary.relation(name).columns], name


def test_the_dictionary_matches_the_live_database_on_each_engine(engine):
    assert dictionary.mismatches(engine) == []


def test_a_column_missing_from_the_dictionary_is_reported(engine):
    with engine.begin() as conn:
        conn.execute(sa.text("ALTER TABLE papers ADD COLUMN undescribed_note TEXT"))
        conn.execute(sa.text("CREATE VIEW undocumented AS SELECT paper_id FROM papers"))

    assert dictionary.mismatches(engine) == [
        "papers.undescribed_note is in the database but not in etl/dictionary.py: describe it there",
        "undocumented.paper_id is in the database but not in etl/dictionary.py: describe it there",
        "undocumented is in the database but not in etl/dictionary.py: describe it there",
    ]


@pytest.fixture
def pg_engine(request):
    engine = db.create_engine(_postgres_url(request))
    db.upgrade(engine)
    yield engine
    engine.dispose()


def test_postgresql_describes_every_table_view_and_column_as_the_dictionary_does(pg_engine):
    with pg_engine.connect() as conn:
        live = dictionary.live_comments(conn)

    expected = dictionary.expected_comments("postgresql")
    assert live == expected
    assert live[("papers", None)].startswith("One row per distinct paper")
    assert live[("paper_summary", "has_code")].endswith("Example: 1")


def test_apply_comments_writes_what_changed_and_downgrade_removes_them(pg_engine):
    with pg_engine.begin() as conn:
        conn.execute(sa.text("COMMENT ON COLUMN papers.title IS 'stale'"))
        count = dictionary.apply_comments(conn)
        assert count == len(dictionary.expected_comments("postgresql"))
        title = ("papers", "title")
        assert dictionary.live_comments(conn)[title] == dictionary.expected_comments()[title]

    db.downgrade(pg_engine, "0005")
    with pg_engine.connect() as conn:
        assert dictionary.live_comments(conn) == {}


def test_comments_are_sqlite_no_ops(tmp_path):
    engine = db.create_engine(f"sqlite:///{tmp_path / 'papers.db'}")
    db.upgrade(engine)
    with engine.begin() as conn:
        assert dictionary.apply_comments(conn) == 0
    engine.dispose()


def test_gitignore_covers_a_database_and_every_companion_file():
    import fnmatch

    patterns = (PROJECT_ROOT / ".gitignore").read_text(encoding="utf-8").split()
    for name in ("papers.db", "papers.db-wal", "papers.db-shm", "papers.db-journal", "papers.db.lock"):
        assert any(fnmatch.fnmatch(name, pattern) for pattern in patterns), name
