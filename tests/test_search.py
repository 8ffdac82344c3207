"""Full-text search on both engines: ranking, stemming, staying in step with papers, the CLI, Datasette."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3

import analyst_pages as ap
import pytest
import sqlalchemy as sa
from pages import daily_page

from etl import load
from etl.cli import EXIT_FAILURE, main
from etl.pipeline import run_load
from etl.schema import papers
from etl.search import SearchError, search


def titles(matches) -> list[str]:
    return [m.title for m in matches]


def test_title_matches_rank_before_abstract_matches(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    # A has both words in its title, D only in its abstract; no other paper has both.
    assert titles(search(engine, "diffusion distillation")) == [ap.A[0], ap.D[0]]


def test_words_are_stemmed_and_every_word_must_match(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    assert set(titles(search(engine, "distilled diffusing"))) == {ap.A[0], ap.D[0]}
    assert titles(search(engine, "tabular experts")) == [ap.B[0]]
    assert search(engine, "tabular weather") == []


def test_a_match_has_its_rank_date_and_repository(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    (match,) = search(engine, "sparse mixtures", limit=1)

    assert (match.rank, match.title, match.published_on, match.repo) == (
        1, ap.B[0], dt.date(2026, 2, 28), "tab-lab/sparsemix"
    )  # fmt: skip


def test_limit_caps_the_matches(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    assert len(search(engine, "diffusion", limit=1)) == 1
    assert len(search(engine, "diffusion", limit=10)) == 2


def test_search_operators_and_punctuation_are_plain_words(engine, page_dir):
    ap.load_pages(engine, page_dir(ap.PAGES))

    assert titles(search(engine, '"diffusion*" -distillation:(')) == [ap.A[0], ap.D[0]]
    with pytest.raises(SearchError, match="at least one word"):
        search(engine, "()*")


def _numbered_papers(count: int, topic: str) -> list[tuple[str, str]]:
    words = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india", "juliet"]

    def name(n: int) -> str:  # a word per paper: digits spelled out, so the tokenizer keeps it whole
        return "".join(words[int(d)] for d in str(n))

    return [(f"{topic} Study {name(n)}", f"We examine {topic.lower()} case {name(n)} in depth.") for n in range(count)]


def test_search_matches_every_paper_of_large_loads(engine, page_dir):
    # More papers per file than one multi-row INSERT holds (load.STATEMENT_ROWS), in two runs; an update.
    glaciers = _numbered_papers(load.STATEMENT_ROWS + 203, "Glacier")
    folder = page_dir({"a.txt": daily_page("Mar 12", glaciers)})
    run_load(engine, [folder])
    # An earlier listing of a Glacier paper, in capitals: its text wins, so the stored paper is updated.
    title, abstract = glaciers[5]
    (folder / "b.txt").write_text(daily_page("Mar 11", [*_numbered_papers(700, "Dune"), (title.upper(), abstract)]))
    run_load(engine, [folder])

    assert titles(search(engine, "glacier bravoalphaalphaalpha")) == ["Glacier Study bravoalphaalphaalpha"]
    assert titles(search(engine, "glacier foxtrot")) == ["GLACIER STUDY FOXTROT"]
    assert len(search(engine, "glacier", limit=5000)) == load.STATEMENT_ROWS + 203
    assert len(search(engine, "dune", limit=5000)) == 700
    if engine.dialect.name == "sqlite":  # FTS5 checks its index against the papers table
        with engine.begin() as conn:
            conn.execute(sa.text("INSERT INTO papers_fts (papers_fts) VALUES ('integrity-check')"))


def _paper(title: str, abstract: str) -> dict:
    now = dt.datetime.now(dt.UTC)
    return {"title": title, "title_key": title.lower(), "abstract": abstract, "created_at": now, "updated_at": now}


def test_search_stays_in_step_with_inserts_updates_deletes_and_rebuilds(engine):
    with engine.begin() as conn:
        conn.execute(papers.insert(), [_paper("Quantum Origami", "Folding qubits."), _paper("Plain Title", "Nothing.")])
    assert titles(search(engine, "origami")) == ["Quantum Origami"]

    with engine.begin() as conn:
        conn.execute(papers.update().where(papers.c.title == "Quantum Origami").values(title="Quantum Kirigami"))
    assert search(engine, "origami") == []
    assert titles(search(engine, "kirigami")) == ["Quantum Kirigami"]

    with engine.begin() as conn:  # a rebuild: every paper deleted, then inserted again
        rows = [dict(r._mapping) for r in conn.execute(sa.select(papers))]
        conn.execute(papers.delete())
        assert search_in(conn, "kirigami") == 0
        conn.execute(papers.insert(), rows)
    assert titles(search(engine, "kirigami folding")) == ["Quantum Kirigami"]

    with engine.begin() as conn:
        conn.execute(papers.delete().where(papers.c.title == "Quantum Kirigami"))
    assert search(engine, "kirigami") == []
    assert titles(search(engine, "plain")) == ["Plain Title"]


def search_in(conn, word: str) -> int:
    """Matches seen from inside an open transaction (the search objects are transactional too)."""
    if conn.dialect.name == "sqlite":
        return conn.execute(sa.text("SELECT count(*) FROM papers_fts WHERE papers_fts MATCH :w"), {"w": word}).scalar()
    query = "SELECT count(*) FROM papers WHERE search_vector @@ plainto_tsquery('english', :w)"
    return conn.execute(sa.text(query), {"w": word}).scalar()


# --------------------------------------------------------------------------- command line


def test_search_command_prints_title_date_and_repository(runner, db_url, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])

    args = ["search", "--db", db_url, "--table", "diffusion distillation"]
    result = runner.invoke(main, args, env={"COLUMNS": "160"})

    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if line.startswith("│")]
    assert [[cell.strip() for cell in line.split("│")[1:-1]][:1] + [cell.strip() for cell in line.split("│")[3:-1]]
            for line in lines] == [
        ["1", ap.A[0], "2026-02-27", "fastgen/four-steps"],
        ["2", ap.D[0], "2026-03-01", "fastgen/four-steps"],
    ]  # fmt: skip


def test_search_json_and_limit(runner, db_url, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])

    result = runner.invoke(main, ["search", "--db", db_url, "--json", "--limit", "1", "audio codebooks"])

    assert result.exit_code == 0, result.output
    (match,) = json.loads(result.output)
    assert isinstance(match.pop("paper_id"), int)
    assert match == {"rank": 1, "title": ap.F[0], "published_on": None, "repo": "sound-ai/no-codebook"}


def test_search_with_nothing_to_match_says_so(runner, db_url, page_dir):
    runner.invoke(main, ["load", "--db", db_url, str(page_dir(ap.PAGES))])

    none = runner.invoke(main, ["search", "--db", db_url, "--table", "zebra"])
    empty = runner.invoke(main, ["search", "--db", db_url, "()*"])

    assert none.exit_code == 0 and "no paper matches 'zebra'" in none.output
    assert empty.exit_code == EXIT_FAILURE and empty.stderr.count("\n") == 1 and "at least one word" in empty.stderr


# --------------------------------------------------------------------------- Datasette


def test_datasette_detects_the_search_table_and_searches_with_it(tmp_path, page_dir):
    from datasette.app import Datasette
    from datasette.utils import detect_fts

    from etl import db

    path = tmp_path / "papers.db"
    engine = db.create_engine(f"sqlite:///{path}")
    ap.load_pages(engine, page_dir(ap.PAGES))
    engine.dispose()

    with sqlite3.connect(path) as conn:
        assert detect_fts(conn, "papers") == "papers_fts"

    async def table_search() -> dict:
        response = await Datasette([str(path)]).client.get("/papers/papers.json?_search=distillation&_shape=objects")
        return response.json()

    found = asyncio.run(table_search())
    assert sorted(row["title"] for row in found["rows"]) == sorted([ap.A[0], ap.D[0]])
