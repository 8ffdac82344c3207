"""Loading through etl.pipeline.run_load, checked with SQL, on both engines."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import os
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import DATA, rows, scalar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pages import (
    GARDENS,
    LANTERN,
    ORBITS,
    ORBITS_PLAIN,
    WAVELETS,
    compact_page,
    daily_meta_page,
    daily_page,
    markdown_page,
)

from etl import db, dedup, load
from etl.errors import DatabaseError, NoInputError
from etl.extract import fingerprint_file
from etl.parsing import parse_events
from etl.pipeline import rebuild, run_load

CONTENT_TABLES = ("papers", "paper_links", "source_files", "listings")


def snapshot(engine) -> dict[str, list[tuple]]:
    """Content tables, ordered, without run ids and load timestamps."""
    return {
        "papers": rows(engine, "SELECT paper_id, title, title_key, abstract, published_on, author_count, created_at,"
                               " updated_at FROM papers ORDER BY paper_id"),
        "paper_links": rows(engine, "SELECT paper_id, url, kind, repo FROM paper_links ORDER BY paper_id, url"),
        "source_files": rows(engine, "SELECT source_file_id, path, sha256, size_bytes, layout, listed_on,"
                                     " listed_on_source, record_count FROM source_files ORDER BY source_file_id"),
        "listings": rows(engine, "SELECT * FROM listings ORDER BY source_file_id, position"),
    }  # fmt: skip


def test_a_page_loads_papers_links_listings_and_its_source_file(engine, page_dir):
    folder = page_dir({"2026-03-12-daily.txt": daily_page("Mar 12", [WAVELETS, GARDENS, ORBITS])})

    summary = run_load(engine, [folder])

    assert summary.status == "succeeded"
    assert summary.counts["papers_inserted"] == 3
    assert rows(engine, "SELECT title, published_on, author_count FROM papers ORDER BY paper_id") == [
        (WAVELETS[0], None, None),
        (GARDENS[0], None, None),
        (ORBITS_PLAIN[0], None, None),  # LaTeX markup turned into text
    ]
    assert rows(engine, "SELECT url, kind, repo FROM paper_links ORDER BY url") == [
        ("https://gardens.github.io/site", "github_pages", None),
        ("https://github.com/Example-Lab/WaveTok", "github_repo", "example-lab/wavetok"),
        ("https://github.com/orbit-ml/se3-orbits/tree/main/src", "github_repo", "orbit-ml/se3-orbits"),
    ]
    assert rows(engine, "SELECT layout, listed_on, listed_on_source, record_count, size_bytes FROM source_files") == [
        ("daily", dt.date(2026, 3, 12), "file_name", 3, (folder / "2026-03-12-daily.txt").stat().st_size)
    ]
    assert rows(engine, "SELECT position, line_no, raw_title FROM listings ORDER BY position") == [
        (1, 11, WAVELETS[0]),
        (2, 15, GARDENS[0]),
        (3, 19, ORBITS[0]),
    ]


def test_raw_text_is_kept_exactly_as_captured(engine, page_dir):
    messy_title = "  Spaced   Title\twith Tabs  "
    messy_abstract = "An abstract  with  double spaces and a trailing space "
    folder = page_dir({"p.txt": compact_page([(messy_title.strip(), messy_abstract), WAVELETS])})

    run_load(engine, [folder])

    assert rows(engine, "SELECT raw_title, raw_abstract FROM listings WHERE position = 1") == [
        ("Spaced   Title\twith Tabs", messy_abstract)
    ]
    assert scalar(engine, "SELECT title FROM papers WHERE paper_id = 1") == "Spaced Title with Tabs"
    assert scalar(engine, "SELECT abstract FROM papers WHERE paper_id = 1") == messy_abstract.strip().replace("  ", " ")


def test_the_same_paper_in_two_files_and_twice_in_one_is_one_paper(engine, page_dir):
    folder = page_dir(
        {
            "a.txt": daily_page("Mar 12", [WAVELETS, ORBITS, WAVELETS]),
            "b.txt": compact_page([ORBITS_PLAIN, GARDENS]),
        }
    )

    summary = run_load(engine, [folder])

    assert scalar(engine, "SELECT count(*) FROM papers") == 3
    assert scalar(engine, "SELECT count(*) FROM listings") == 5
    assert summary.duplicates == 2
    orbit_sightings = rows(
        engine,
        "SELECT l.raw_title FROM listings l JOIN papers p USING (paper_id)"
        " WHERE p.title_key = :key ORDER BY l.source_file_id",
        key="orbitequivarianceinse3transformers",
    )
    assert orbit_sightings == [(ORBITS[0],), (ORBITS_PLAIN[0],)]
    assert scalar(engine, "SELECT count(*) FROM paper_links WHERE repo = 'example-lab/wavetok'") == 1


def test_loading_the_same_files_again_changes_nothing(engine, page_dir):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS, ORBITS]), "b.txt": compact_page([GARDENS, LANTERN])})
    run_load(engine, [folder])
    before = snapshot(engine)

    again = run_load(engine, [folder])

    assert again.counts["files_skipped"] == 2 and again.counts["files_loaded"] == 0
    assert snapshot(engine) == before


def test_a_copy_of_a_loaded_file_under_another_name_is_skipped(engine, page_dir):
    page = daily_page("Mar 12", [WAVELETS])
    folder = page_dir({"a.txt": page, "copy/a-again.txt": page})

    summary = run_load(engine, [folder])

    assert [f.status for f in summary.files] == ["loaded", "skipped"]
    assert scalar(engine, "SELECT count(*) FROM listings") == 1


def test_a_later_sighting_fills_missing_date_and_author_count(engine, page_dir):
    first = page_dir({"1.txt": compact_page([GARDENS, WAVELETS])})
    run_load(engine, [first / "1.txt"])
    meta = daily_meta_page("Jan 8", [(*GARDENS, "  • 3 authors", "Jun 7, 2023 4")])
    second = page_dir({"2.txt": meta})

    summary = run_load(engine, [second / "2.txt"])

    assert summary.counts["papers_updated"] == 1 and summary.counts["papers_inserted"] == 0
    assert rows(engine, "SELECT published_on, author_count FROM papers WHERE title = :t", t=GARDENS[0]) == [
        (dt.date(2023, 6, 7), 3)
    ]
    created, updated = rows(engine, "SELECT created_at, updated_at FROM papers WHERE title = :t", t=GARDENS[0])[0]
    assert updated > created
    assert rows(engine, "SELECT raw_meta FROM listings l JOIN source_files s USING (source_file_id) "
                        "WHERE s.layout = 'daily_meta'") == [("  • 3 authors\nJun 7, 2023 4",)]  # fmt: skip


def test_a_bad_field_loads_the_record_with_that_field_null_and_a_reject(engine, page_dir):
    meta = daily_meta_page(
        "Jan 8",
        [(*WAVELETS, "  • many authors", "Feb 30, 2023"), (*GARDENS, "  • 1 author", "Jul 1, 2024")],
    )
    folder = page_dir({"meta.txt": meta})

    summary = run_load(engine, [folder])

    assert summary.status == "partial"
    assert summary.counts["fields_rejected"] == 2 and summary.counts["records_rejected"] == 0
    assert rows(engine, "SELECT title, published_on, author_count FROM papers ORDER BY paper_id") == [
        (WAVELETS[0], None, None),
        (GARDENS[0], dt.date(2024, 7, 1), 1),
    ]
    found = rows(engine, "SELECT run_id, path, line_no, level, excerpt FROM rejects ORDER BY line_no")
    path = str(folder / "meta.txt")
    assert found == [
        (summary.run_id, path, 17, "field", "• many authors"),
        (summary.run_id, path, 19, "field", "Feb 30, 2023"),
    ]


def test_a_truncated_last_record_is_rejected_and_the_rest_loads(engine, page_dir):
    page = daily_page("Mar 12", [WAVELETS, GARDENS]) + "\n\nA Title Whose Abstract Never Came"
    folder = page_dir({"cut.txt": page})

    summary = run_load(engine, [folder])

    assert summary.counts["records_rejected"] == 1
    assert scalar(engine, "SELECT count(*) FROM papers") == 2
    assert rows(engine, "SELECT level, line_no, excerpt FROM rejects") == [
        ("record", 19, "A Title Whose Abstract Never Came")
    ]


def test_a_refused_file_does_not_stop_the_others(engine, page_dir):
    folder = page_dir(
        {
            "a-good.txt": daily_page("Mar 12", [WAVELETS]),
            "b-notes.txt": "Meeting notes\nnothing to see here\n",
            "c-latin1.txt": "new\n\nSubscribe\n\nMar 12\n\nCaf\xe9 Title\n\nAbstract.".encode("latin-1"),
            "d-good.txt": compact_page([GARDENS]),
        }
    )

    summary = run_load(engine, [folder])

    assert [f.status for f in summary.files] == ["loaded", "refused", "refused", "loaded"]
    assert summary.counts["files_refused"] == 2
    assert scalar(engine, "SELECT count(*) FROM papers") == 2
    refusals = rows(engine, "SELECT path, level, line_no, reason FROM rejects ORDER BY path")
    assert [(p.rsplit("/", 1)[-1], level) for p, level, _, _ in refusals] == [
        ("b-notes.txt", "file"),
        ("c-latin1.txt", "file"),
    ]
    assert "unknown layout" in refusals[0][3]
    assert refusals[1][2] == 7 and "offset 27" in refusals[1][3]


def test_a_file_that_fails_mid_load_leaves_nothing_behind(engine, page_dir, monkeypatch):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS]), "b.txt": compact_page([GARDENS, LANTERN])})
    for writer_class in (load.writer.SqliteWriter, load.writer.PostgresWriter):

        def fail_on_listings(self, table, rows_, real_append=writer_class.append):
            if table.name == "listings" and any(r["raw_title"] == LANTERN[0] for r in rows_):
                raise sa.exc.OperationalError("INSERT", {}, Exception("disk I/O error"))
            real_append(self, table, rows_)

        monkeypatch.setattr(writer_class, "append", fail_on_listings)

    with pytest.raises(DatabaseError, match="disk I/O error"):
        run_load(engine, [folder])

    assert rows(engine, "SELECT title FROM papers") == [(WAVELETS[0],)]
    assert rows(engine, "SELECT path FROM source_files") == [(str(folder / "a.txt"),)]
    assert rows(engine, "SELECT status, files_loaded, message FROM etl_runs")[0][:2] == ("failed", 1)


def test_bulk_writes_store_dates_and_timestamps_as_core_does_repeated_or_not(engine):
    """The bulk writer converts each distinct date or timestamp once per write; what it stores is still
    what a Core insert stores, row by row, for the same values (equal instants in two zones included)."""
    from etl.schema import etl_runs

    utc, plus_two = dt.UTC, dt.timezone(dt.timedelta(hours=2))
    noon = dt.datetime(2026, 3, 12, 12, 0, tzinfo=utc)
    values = [noon, noon, noon.astimezone(plus_two), noon + dt.timedelta(microseconds=1), None, noon]
    rows_ = [{"run_id": n + 1, "started_at": noon, "finished_at": value, "status": "succeeded"}
             for n, value in enumerate(values)]  # fmt: skip
    with engine.begin() as conn:
        load.writer.bulk_writer(conn).append(etl_runs, rows_)
        conn.execute(etl_runs.insert(), [{**row, "run_id": row["run_id"] + 100} for row in rows_])
        stored = conn.execute(
            sa.select(etl_runs.c.run_id, sa.cast(etl_runs.c.finished_at, sa.Text)).order_by(etl_runs.c.run_id)
        ).all()

    by_writer, by_core = stored[: len(values)], stored[len(values) :]
    assert [text for _, text in by_writer] == [text for _, text in by_core]


def _run_row(run_id: int) -> dict:
    return {"run_id": run_id, "started_at": dt.datetime(2026, 3, 12, tzinfo=dt.UTC), "status": "succeeded"}


def _reject_rows(run_id: int, first: int, count: int, reason: str) -> list[dict]:
    return [{"run_id": run_id, "path": f"page{n}.txt", "line_no": n, "level": "record", "reason": f"{reason} {n}"}
            for n in range(first, first + count)]  # fmt: skip


@pytest.mark.parametrize("sizes", [(1, 15, 16, 17, 40), (33, 700, load.STATEMENT_ROWS + 1)], ids=["few", "many"])
def test_bulk_writes_of_any_size_store_the_rows_given_in_their_order_and_no_other(engine, sizes):
    """Appends and keyed updates of many sizes (on SQLite a statement is padded up to one of a few sizes
    with rows it drops): the table then holds exactly the rows given, ids assigned in their order."""
    from etl.schema import etl_runs, rejects

    expected, first = [], 1
    with engine.begin() as conn:
        writer = load.writer.bulk_writer(conn)
        writer.append(etl_runs, [_run_row(1)])
        for size in sizes:
            writer.append(rejects, _reject_rows(1, first, size, "given"))
            expected += [(n, f"given {n}") for n in range(first, first + size)]
            first += size
        changed = range(2, first, 3)[: max(sizes)]
        writer.update(rejects, ("reject_id",), [{"reject_id": n, "reason": f"changed {n}"} for n in changed])
    expected = [(n, f"changed {n}" if n in changed else reason) for n, reason in expected]

    assert rows(engine, "SELECT line_no, reason FROM rejects ORDER BY reject_id") == expected
    assert rows(engine, "SELECT min(reject_id), max(reject_id) FROM rejects") == [(1, len(expected))]


def test_sqlite_bulk_writes_prepare_a_few_statements_whatever_the_number_of_rows(tmp_path):
    """SQLite's driver keeps its last 128 prepared statements, each a few MB when it writes 2,000 rows:
    writes of 1 to 120 rows use a few statements (one per power of two from 16), not one per row count."""
    from etl.schema import etl_runs, rejects

    engine = db.create_engine(f"sqlite:///{tmp_path / 'papers.db'}")
    db.upgrade(engine)
    statements: list[str] = []
    with engine.begin() as conn:
        conn.connection.driver_connection.set_trace_callback(statements.append)
        writer = load.writer.bulk_writer(conn)
        writer.append(etl_runs, [_run_row(1)])
        for size in range(1, 121):
            writer.append(rejects, _reject_rows(1, 1000 * size, size, "given"))
        conn.connection.driver_connection.set_trace_callback(None)
    written = scalar(engine, "SELECT count(*) FROM rejects")
    engine.dispose()

    # The trace shows each statement with its values in place of its parameters: count its rows.
    rows_per_statement = {sql.count("), (") + 1 for sql in statements if "INSERT INTO rejects" in sql}
    assert len(rows_per_statement) <= 4
    assert written == sum(range(1, 121))


REFUSE_LANTERN = {
    # A real failure inside the driver's own bulk write (COPY on PostgreSQL, executemany on SQLite).
    "sqlite": [
        """CREATE TRIGGER refuse_lantern BEFORE INSERT ON listings WHEN NEW.raw_title = '{title}'
           BEGIN SELECT RAISE(ABORT, 'no space left for this row'); END"""
    ],
    "postgresql": [
        """CREATE FUNCTION refuse_lantern() RETURNS trigger LANGUAGE plpgsql AS $$
           BEGIN IF NEW.raw_title = '{title}' THEN RAISE EXCEPTION 'no space left for this row';
           END IF; RETURN NEW; END $$""",
        "CREATE TRIGGER refuse_lantern BEFORE INSERT ON listings FOR EACH ROW EXECUTE FUNCTION refuse_lantern()",
    ],
}


@pytest.mark.parametrize("commit_seconds", [0, 3600], ids=["commit-per-file", "one-commit-group"])
def test_a_driver_error_in_a_bulk_write_is_one_line_and_keeps_the_files_before(
    engine, page_dir, monkeypatch, commit_seconds
):
    # One commit group: the failure itself commits the file written before it.
    monkeypatch.setattr(load.session, "COMMIT_SECONDS", {"sqlite": commit_seconds, "postgresql": commit_seconds})
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS]), "b.txt": compact_page([GARDENS, LANTERN])})
    with engine.begin() as conn:
        for statement in REFUSE_LANTERN[engine.dialect.name]:
            conn.exec_driver_sql(statement.replace("{title}", LANTERN[0]))

    with pytest.raises(DatabaseError, match="no space left for this row") as raised:
        run_load(engine, [folder])

    assert "\n" not in str(raised.value) and "Traceback" not in str(raised.value)
    assert rows(engine, "SELECT title FROM papers") == [(WAVELETS[0],)]
    assert rows(engine, "SELECT status, files_loaded FROM etl_runs") == [("failed", 1)]


def test_files_are_committed_together_and_counted_once_committed(engine, page_dir, monkeypatch):
    monkeypatch.setattr(load.session, "COMMIT_SECONDS", {"sqlite": 3600, "postgresql": 3600})
    commits = []
    real_commit = load.RunWriter._commit
    monkeypatch.setattr(load.RunWriter, "_commit", lambda self: commits.append(1) or real_commit(self))
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": "not a page", "c.txt": compact_page([GARDENS])})

    summary = run_load(engine, [folder])

    assert len(commits) == 1  # the three files (one refused, with its reject) in one transaction
    assert [f.status for f in summary.files] == ["loaded", "refused", "loaded"]
    assert rows(engine, "SELECT files_loaded, files_refused FROM etl_runs") == [(2, 1)]
    assert scalar(engine, "SELECT count(*) FROM rejects WHERE level = 'file'") == 1


def test_the_tables_a_load_grows_are_analyzed_as_they_double(engine, page_dir, monkeypatch):
    monkeypatch.setattr(load.session, "ANALYZE_MIN_ROWS", 2)
    folder = page_dir({f"{n}.txt": compact_page([(f"Paper Number {n}", WAVELETS[1])]) for n in range(10)})

    run_load(engine, [folder])

    if engine.dialect.name == "postgresql":  # autovacuum may be off, or behind a backfill: the load analyzes
        # Analyzed after 2, 4 and 8 listings (not after 10): the table's row count is as of the last time.
        assert scalar(engine, "SELECT reltuples::integer FROM pg_class WHERE relname = 'listings'") == 8
    else:  # SQLite's planner needs no statistics for these lookups: none are gathered
        assert scalar(engine, "SELECT count(*) FROM sqlite_master WHERE name = 'sqlite_stat1'") == 0


def test_every_run_is_recorded_with_its_counts(engine, page_dir):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS, GARDENS, WAVELETS]), "b.txt": "not a page"})

    summary = run_load(engine, [folder])

    run = rows(
        engine,
        "SELECT status, files_seen, files_loaded, files_skipped, files_refused, records_read, papers_inserted,"
        " papers_updated, records_rejected, fields_rejected, finished_at IS NOT NULL FROM etl_runs"
        " WHERE run_id = :id",
        id=summary.run_id,
    )
    assert run == [("partial", 2, 1, 0, 1, 3, 2, 0, 0, 0, True)]


@pytest.mark.parametrize(
    ("file_name", "option", "expected", "source"),
    [
        ("capture.txt", dt.date(2025, 1, 2), dt.date(2025, 1, 2), "option"),
        ("hf-2026-03-10.txt", dt.date(2025, 1, 2), dt.date(2025, 1, 2), "option"),
        ("hf-2026-03-10.txt", None, dt.date(2026, 3, 10), "file_name"),
        ("hf_20260310.txt", None, dt.date(2026, 3, 10), "file_name"),
        ("capture.txt", None, dt.date(2025, 12, 30), "header"),
    ],
)
def test_listing_date_rules_are_recorded(engine, page_dir, file_name, option, expected, source):
    folder = page_dir({file_name: daily_page("Dec 30", [WAVELETS])})
    mtime = dt.datetime(2026, 1, 5, 12, 0).timestamp()
    os.utime(folder / file_name, (mtime, mtime))

    run_load(engine, [folder], listed_on=option)

    assert rows(engine, "SELECT listed_on, listed_on_source FROM source_files") == [(expected, source)]


def test_a_compact_page_without_a_date_anywhere_has_no_listing_date(engine, page_dir):
    run_load(engine, [page_dir({"search.txt": compact_page([WAVELETS])})])

    assert rows(engine, "SELECT listed_on, listed_on_source FROM source_files") == [(None, None)]


def test_a_path_that_matches_nothing_writes_nothing(engine, tmp_path):
    with pytest.raises(NoInputError, match="no-such-folder"):
        run_load(engine, [tmp_path / "no-such-folder"])

    assert scalar(engine, "SELECT count(*) FROM etl_runs") == 0


def test_load_brings_an_empty_database_to_head(empty_engine, page_dir):
    run_load(empty_engine, [page_dir({"a.txt": compact_page([WAVELETS])})])

    assert scalar(empty_engine, "SELECT count(*) FROM papers") == 1


def test_an_unexpected_parser_failure_refuses_that_file_only(engine, page_dir, monkeypatch):
    import etl.transform

    real_transform = etl.transform.transform_record

    def explode_on_gardens(record, *args):
        if record.raw_title == GARDENS[0]:
            raise RuntimeError("parser bug")
        return real_transform(record, *args)

    monkeypatch.setattr(etl.transform, "transform_record", explode_on_gardens)
    folder = page_dir({"a.txt": compact_page([GARDENS]), "b.txt": compact_page([WAVELETS])})

    summary = run_load(engine, [folder], parse_process=False)  # the patched parser runs in this process

    assert [f.status for f in summary.files] == ["refused", "loaded"]
    assert "unexpected parser failure (RuntimeError: parser bug)" in summary.files[0].message
    assert rows(engine, "SELECT title FROM papers") == [(WAVELETS[0],)]


@pytest.mark.parametrize("parse_process", [False, True])
def test_a_file_is_recorded_as_the_end_of_its_parse_says(engine, parse_process):
    path = DATA / "daily_meta_bad_fields.txt"
    *_, end = parse_events(fingerprint_file(path), None)

    run_load(engine, [path], parse_process=parse_process)

    assert rows(engine, "SELECT record_count, parse_digest FROM source_files") == [(end.tally.records, end.digest)]
    assert rows(engine, "SELECT level, line_no, reason, excerpt FROM rejects ORDER BY reject_id") == [
        (p.level, p.line_no, p.reason, p.excerpt) for p in end.problems
    ]
    assert end.tally.records == 3 and len(end.problems) == 3


def test_a_run_stopped_by_an_unexpected_error_is_marked_failed(engine, page_dir, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": compact_page([GARDENS])})
    monkeypatch.setattr(load, "load_file", interrupted)

    with pytest.raises(KeyboardInterrupt):
        run_load(engine, [folder])

    assert rows(engine, "SELECT status, message, finished_at IS NOT NULL FROM etl_runs") == [
        ("failed", "stopped by KeyboardInterrupt", True)
    ]


# --------------------------------------------------------------------------- deduplication across files and runs

SPEECH = (
    "We route tokens by acoustic context in sparse mixtures of experts for speech recognition and halve the compute"
    " needed to reach the same word error rate on three public benchmarks; code: https://github.com/speech-lab/moe."
)
GRAPHS = (
    "A survey of graph neural networks for molecule property prediction that covers message passing, equivariant"
    " layers and pre-training, with a benchmark of twenty models on eight data sets (github.com/mol/gnn-bench/)."
)
WORLD = (
    "World models trained on video predict the consequences of actions; we scale them to ten thousand hours of"
    " driving footage and show planning gains on closed-loop benchmarks. Project page: https://wm.github.io/."
)
GENERIC_A = "Scaling laws for protein language models: loss falls as a power law of compute across five orders of size."
GENERIC_B = "Scaling laws for retrieval: index size and recall trade off predictably across ten corpora we release."
DEDUP_PAGES = {
    "2026-03-01-daily.txt": daily_page(
        "Mar 1", [("Sparse Experts for $\\mathcal{O}(1)$ Speech", SPEECH), ("Scaling Laws", GENERIC_A)]
    ),
    "2026-03-02-daily.txt": daily_meta_page(
        "Mar 2",
        [
            ("Sparse experts for O(1) speech", SPEECH, "  • 3 authors", "Jun 7, 2023"),
            ("Graph Networks for Molecules", GRAPHS, "  • 5 authors", "Jan 2, 2024"),
            ("Scaling Laws", GENERIC_B, "  • 2 authors", "Feb 1, 2024"),
        ],
    ),
    "search.txt": compact_page([("Graph Networks for Molecules: A Survey", GRAPHS), ("World Models at Scale", WORLD)]),
    "2026-03-03-daily.txt": daily_meta_page(
        "Mar 3",
        [
            ("Sparse Experts for O(1) Speech", SPEECH, "  • 4 authors", "Jun 7, 2023"),
            ("World Models at Scale", WORLD.replace("github.io/", "github.io"), "  • 9 authors", "May 5, 2025"),
        ],
    ),
    "2026-03-04-daily.txt": daily_page(
        "Mar 4", [("World-Models at Scale", WORLD), ("Sparse Experts for O(1) Speech", SPEECH)]
    ),
}


def reset(engine) -> None:
    with engine.begin() as conn:
        for table in ("rejects", "listings", "paper_links", "papers", "source_files", "etl_runs"):
            conn.execute(sa.text(f"DELETE FROM {table}"))


def papers_ids_aside(engine) -> list[tuple]:
    """Each paper's row, links and listings (file name, position), without ids or timestamps."""
    papers_rows = rows(
        engine, "SELECT paper_id, title, title_key, abstract, published_on, author_count, arxiv_id FROM papers"
    )
    links = rows(engine, "SELECT paper_id, url, kind, repo, found_in FROM paper_links")
    listed = rows(
        engine,
        "SELECT l.paper_id, s.path, l.position FROM listings l JOIN source_files s USING (source_file_id)",
    )
    result = []
    for paper_id, *fields in papers_rows:
        paper_links = sorted(link[1:] for link in links if link[0] == paper_id)
        sightings = sorted((os.path.basename(path), position) for pid, path, position in listed if pid == paper_id)
        result.append((*fields, tuple(paper_links), tuple(sightings)))
    return sorted(result, key=repr)


def test_sightings_across_files_become_one_paper_by_the_documented_rule(engine, page_dir):
    summary = run_load(engine, [page_dir(DEDUP_PAGES)])

    assert summary.counts["records_read"] == 11
    assert summary.counts["papers_inserted"] == 5  # speech, graphs, two "Scaling Laws", world models
    assert sorted(rows(engine, "SELECT title, published_on, author_count FROM papers"), key=repr) == [
        ("Graph Networks for Molecules", dt.date(2024, 1, 2), 5),  # same abstract, the title with a subtitle joins
        ("Scaling Laws", None, None),  # a generic title: two unrelated papers
        ("Scaling Laws", dt.date(2024, 2, 1), 2),
        ("Sparse Experts for O(1) Speech", dt.date(2023, 6, 7), 4),  # LaTeX title of Mar 1; 3 vs 4 authors: larger
        ("World Models at Scale", dt.date(2025, 5, 5), 9),
    ]
    assert sorted(rows(engine, "SELECT DISTINCT repo FROM paper_links WHERE repo IS NOT NULL")) == [
        ("mol/gnn-bench",),
        ("speech-lab/moe",),
    ]


def test_disagreeing_sightings_are_field_rejects(engine, dedup_folder):
    summary = run_load(engine, [dedup_folder])

    assert (summary.status, summary.counts["fields_rejected"]) == ("partial", 1)
    # The Mar 3 page (loaded after Mar 2) brings the second author count.
    assert rows(
        engine, "SELECT s.path, r.level, r.line_no, r.reason FROM rejects r JOIN source_files s USING (path)"
    ) == [
        (
            str(dedup_folder / "2026-03-03-daily.txt"),
            "field",
            13,
            "author count 4 disagrees with 3 given by another sighting of the same paper;"
            " kept 4 (the value most sightings give, on a tie the largest)",
        )
    ]


@pytest.fixture
def dedup_folder(page_dir):
    return page_dir(DEDUP_PAGES)


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(sorted(DEDUP_PAGES)), cuts=st.sets(st.integers(1, len(DEDUP_PAGES) - 1)))
def test_papers_do_not_depend_on_file_order_or_runs(engine, dedup_folder, order, cuts):
    reset(engine)
    run_load(engine, [dedup_folder])
    expected = papers_ids_aside(engine)

    reset(engine)
    bounds = [0, *sorted(cuts), len(order)]
    for start, end in itertools.pairwise(bounds):
        run_load(engine, [dedup_folder / name for name in order[start:end]])
    assert papers_ids_aside(engine) == expected

    run_load(engine, [dedup_folder])  # idempotent: every file is skipped
    rebuild(engine)  # and a rebuild re-derives the same rows
    assert papers_ids_aside(engine) == expected


HARMFUL = (
    "We argue that leaderboard benchmarks reward overfitting to their test sets, and propose rotating held-out"
    " splits; twelve popular models lose their ranking when evaluated on fresh splits of the same tasks."
)
# Markdown pages with arXiv ids beside the text pages: a revised title under one id (World Models), one
# title and abstract under two ids (Benchmarks Considered Harmful), an id for papers the text pages
# also show without one (Speech, Scaling Laws A).
DEDUP_PAGES_WITH_IDS = DEDUP_PAGES | {
    "2026-03-05-daily.md": markdown_page(
        "Mar 5",
        [
            ("Sparse Experts for O(1) Speech", SPEECH, "2403.00011", 12, 4, "Jun 7, 2023"),
            ("World Models at Scale, Revisited", WORLD, "2403.00012", None, 9, "May 5, 2025"),
            ("Benchmarks Considered Harmful", HARMFUL, "2403.00013", 3, 2, "Mar 1"),
        ],
    ),
    "2026-03-06-daily.md": markdown_page(
        "Mar 6",
        [
            ("World Models at Scale", WORLD, "2403.00012", 40, 9, "May 5, 2025"),
            ("Benchmarks Considered Harmful", HARMFUL, "2403.00014", 1, 2, "Mar 2"),
            ("Scaling Laws", GENERIC_A, "2403.00015", 7, 3, "Feb 3, 2024"),
        ],
    ),
    # Without an id, it matches both "Benchmarks Considered Harmful" papers: it joins one, the same one
    # whatever the order and the runs the files are loaded in.
    "2026-03-07-daily.txt": daily_page("Mar 7", [("Benchmarks considered harmful", HARMFUL)]),
}


@pytest.fixture
def folder_with_ids(page_dir):
    return page_dir(DEDUP_PAGES_WITH_IDS)


def test_arxiv_ids_decide_identity_across_text_and_markdown_pages(engine, folder_with_ids):
    run_load(engine, [folder_with_ids])

    assert rows(engine, "SELECT title, arxiv_id FROM papers ORDER BY title, COALESCE(arxiv_id, '')") == [
        ("Benchmarks Considered Harmful", "2403.00013"),  # one title and abstract under two ids: two papers
        ("Benchmarks Considered Harmful", "2403.00014"),
        ("Graph Networks for Molecules", None),
        ("Scaling Laws", None),  # GENERIC_B: no page gives it an id
        ("Scaling Laws", "2403.00015"),  # GENERIC_A: the text sightings join the id's paper
        ("Sparse Experts for O(1) Speech", "2403.00011"),  # the text sightings join it
        ("World Models at Scale", "2403.00012"),  # the revised title is the same id, so the same paper
    ]
    world = "SELECT count(*) FROM listings l JOIN papers p USING (paper_id) WHERE p.arxiv_id = '2403.00012'"
    assert scalar(engine, world) == 5  # three text sightings and two Markdown cards
    upvotes = rows(
        engine,
        "SELECT s.path, l.position, l.upvotes FROM listings l JOIN source_files s USING (source_file_id)"
        " WHERE l.arxiv_id IS NOT NULL ORDER BY s.path, l.position",
    )
    assert [(Path(path).name, position, up) for path, position, up in upvotes] == [
        ("2026-03-05-daily.md", 1, 12),
        ("2026-03-05-daily.md", 2, None),
        ("2026-03-05-daily.md", 3, 3),
        ("2026-03-06-daily.md", 1, 40),
        ("2026-03-06-daily.md", 2, 1),
        ("2026-03-06-daily.md", 3, 7),
    ]


def test_a_paper_on_a_text_page_and_a_markdown_page_has_the_union_of_what_both_say(engine, page_dir):
    text = daily_page("Mar 1", [("Sparse Experts for O(1) Speech", SPEECH)])
    card = markdown_page("Mar 5", [("Sparse experts for O(1) speech", SPEECH, "2403.00011", 12, 4, "Jun 7, 2023")])
    run_load(engine, [page_dir({"2026-03-01-daily.txt": text, "2026-03-05-daily.md": card})])

    assert rows(engine, "SELECT title, arxiv_id, author_count, published_on FROM papers") == [
        ("Sparse Experts for O(1) Speech", "2403.00011", 4, dt.date(2023, 6, 7))  # title: the earlier sighting
    ]
    assert rows(engine, "SELECT repo, found_in FROM paper_links") == [("speech-lab/moe", "abstract")]


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(order=st.permutations(sorted(DEDUP_PAGES_WITH_IDS)), cuts=st.sets(st.integers(1, len(DEDUP_PAGES_WITH_IDS) - 1)))
def test_papers_with_ids_do_not_depend_on_file_order_or_runs(engine, folder_with_ids, order, cuts):
    reset(engine)
    run_load(engine, [folder_with_ids])
    expected = papers_ids_aside(engine)

    reset(engine)
    bounds = [0, *sorted(cuts), len(order)]
    for start, end in itertools.pairwise(bounds):
        run_load(engine, [folder_with_ids / name for name in order[start:end]])
    assert papers_ids_aside(engine) == expected

    rebuild(engine)
    assert papers_ids_aside(engine) == expected


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_a_sighting_without_an_id_between_two_ids_joins_the_same_paper_in_any_order_of_runs(engine, page_dir, order):
    pages = {
        "2026-03-05-daily.md": DEDUP_PAGES_WITH_IDS["2026-03-05-daily.md"],
        "2026-03-06-daily.md": DEDUP_PAGES_WITH_IDS["2026-03-06-daily.md"],
        "2026-03-07-daily.txt": DEDUP_PAGES_WITH_IDS["2026-03-07-daily.txt"],
    }
    folder = page_dir(pages)
    run_load(engine, [folder])
    expected = papers_ids_aside(engine)
    harmful = "SELECT p.arxiv_id FROM listings l JOIN papers p USING (paper_id) WHERE l.arxiv_id IS NULL"
    joined = rows(engine, harmful)
    assert joined in ([("2403.00013",)], [("2403.00014",)])  # one paper of the two, never a third

    reset(engine)
    for index in order:  # each file a run of its own
        run_load(engine, [folder / sorted(pages)[index]])

    assert papers_ids_aside(engine) == expected
    assert rows(engine, harmful) == joined
    assert scalar(engine, "SELECT count(*) FROM papers") == 5  # speech, world models, two harmful, scaling laws


@pytest.mark.parametrize("forced", ["2026-03-05-daily.md", "2026-03-07-daily.txt", "2026-03-02-daily.txt"])
def test_a_forced_reload_among_ids_gives_what_loading_the_file_last_gives(engine, folder_with_ids, forced):
    # --force of a file whose listing date changed: its earlier sightings go, the papers they left
    # behind are planned again, and the result is that of loading the other files, then this one.
    others = [folder_with_ids / name for name in sorted(DEDUP_PAGES_WITH_IDS) if name != forced]
    run_load(engine, others)
    run_load(engine, [folder_with_ids / forced], listed_on=dt.date(2026, 2, 1))
    expected = papers_ids_aside(engine)

    reset(engine)
    run_load(engine, [folder_with_ids])
    summary = run_load(engine, [folder_with_ids / forced], listed_on=dt.date(2026, 2, 1), force=True)

    assert summary.counts["files_loaded"] == 1
    assert papers_ids_aside(engine) == expected
    rebuild(engine)
    assert papers_ids_aside(engine) == expected


def test_a_forced_reload_that_no_longer_bridges_two_papers_splits_them(engine, page_dir, monkeypatch):
    speech_words = SPEECH.split()
    folder = page_dir(
        {
            "a.txt": daily_page("Mar 1", [("Sparse Experts for Speech", SPEECH)]),
            # A truncation of the same abstract under a longer title: alone, not the same paper as a.txt's.
            "b.txt": daily_page("Mar 2", [("Sparse Experts for Speech: Extended", " ".join(speech_words[:24]))]),
            # b.txt's title over a.txt's abstract: the same paper as both, so all three are one.
            "f.txt": daily_page("Mar 3", [("Sparse Experts for Speech: Extended", SPEECH)]),
        }
    )
    run_load(engine, [folder])
    assert scalar(engine, "SELECT count(*) FROM papers") == 1

    # Rules under which f.txt's sighting no longer matches a.txt's (alike titles must now be equal), and a
    # digest that makes --force reload f.txt: the paper it bridged is planned again and splits.
    monkeypatch.setattr(dedup, "TITLE_SIMILARITY", 101)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE source_files SET parse_digest = NULL WHERE path LIKE '%f.txt'"))
    run_load(engine, [folder / "f.txt"], force=True, parse_process=False)

    split = "SELECT p.title, count(*) FROM papers p JOIN listings USING (paper_id) GROUP BY p.title ORDER BY p.title"
    assert rows(engine, split) == [("Sparse Experts for Speech", 1), ("Sparse Experts for Speech: Extended", 2)]
    expected = papers_ids_aside(engine)
    rebuild(engine)
    assert papers_ids_aside(engine) == expected


def test_papers_do_not_depend_on_batch_size(engine, dedup_folder, monkeypatch):
    run_load(engine, [dedup_folder])
    expected = papers_ids_aside(engine)
    reset(engine)
    monkeypatch.setattr(load.files, "BATCH_RECORDS", 1)  # every sighting on its own, as if files were split finely

    run_load(engine, [dedup_folder])

    assert papers_ids_aside(engine) == expected


def test_rebuild_restores_what_a_fresh_load_gives(engine, dedup_folder):
    run_load(engine, [dedup_folder])
    expected = papers_ids_aside(engine)
    ids_before = rows(engine, "SELECT paper_id FROM papers ORDER BY paper_id")
    with engine.begin() as conn:  # as if the rules had changed since the load
        conn.execute(sa.text("UPDATE papers SET title = 'stale', author_count = NULL"))
        conn.execute(sa.text("DELETE FROM paper_links"))
        conn.execute(sa.text("UPDATE listings SET title_key = 'old', abstract_key = 'old'"))

    counts = rebuild(engine)

    assert (counts.listings, counts.papers, counts.papers_changed) == (11, 5, 5)
    assert papers_ids_aside(engine) == expected
    assert rows(engine, "SELECT paper_id FROM papers ORDER BY paper_id") == ids_before  # ids kept
    assert scalar(engine, "SELECT count(*) FROM listings WHERE title_key = 'old'") == 0


def test_run_counts_are_the_etl_runs_count_columns():
    from etl.schema import etl_runs

    count_columns = [c.name for c in etl_runs.columns if c.server_default is not None]
    assert [f.name for f in dataclasses.fields(load.RunCounts)] == count_columns
    assert tuple(count_columns) == load.RUN_COUNT_COLUMNS


def test_rebuild_frees_the_id_of_a_paper_without_listings_for_the_paper_whose_card_gives_it(engine, page_dir):
    card = markdown_page("Mar 5", [("Sparse Experts for O(1) Speech", SPEECH, "2403.00011", 12, 4, "Jun 7, 2023")])
    run_load(engine, [page_dir({"2026-03-05-daily.md": card})])
    with engine.begin() as conn:  # by hand: the id moved to a paper no listing keeps
        conn.execute(sa.text("UPDATE papers SET arxiv_id = NULL"))
        conn.execute(
            sa.text(
                "INSERT INTO papers (paper_id, title, title_key, abstract, arxiv_id, created_at, updated_at)"
                " VALUES (99, 'stray', 'stray', '', '2403.00011', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
            )
        )

    rebuild(engine)

    assert rows(engine, "SELECT title, arxiv_id FROM papers") == [("Sparse Experts for O(1) Speech", "2403.00011")]
