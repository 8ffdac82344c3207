"""Smoke test of the benchmark (bench/): it runs its real code path at 1e3 papers so that it cannot rot.

No figure is compared with a speed: only that every measurement ran and gave
positive figures, and that papers-etl loaded what the generator says is there.
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from bench import generate

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PAPERS = 1000
CLI = Path(sys.executable).parent / "papers-etl"


def _postgres_answers() -> bool:
    try:
        psycopg.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres", connect_timeout=3).close()
    except psycopg.Error:
        return False
    return True


def _digest(folder: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(folder.rglob("*.txt")):
        digest.update(path.relative_to(folder).as_posix().encode() + path.read_bytes())
    return digest.hexdigest()


def test_generator_is_deterministic_and_has_the_promised_mix(tmp_path: Path):
    first = generate.generate(tmp_path / "a", PAPERS, seed=7)
    second = generate.generate(tmp_path / "b", PAPERS, seed=7)
    other = generate.generate(tmp_path / "c", PAPERS, seed=8)
    assert first == second != other
    assert _digest(tmp_path / "a" / "captures") == _digest(tmp_path / "b" / "captures")
    assert _digest(tmp_path / "a" / "captures") != _digest(tmp_path / "c" / "captures")
    assert first["records"] == PAPERS == first["unique_papers"] + first["repeats"]
    assert 0.10 <= first["repeats"] / PAPERS <= 0.20
    assert first["variant_repeats"] > 0
    assert 0.15 <= first["github_repo_links"] / first["unique_papers"] <= 0.25
    assert all(count > 0 for count in first["layouts"].values())


def test_markup_variants_share_the_papers_etl_title_key():
    from etl.transform import title_key

    papers = [generate.paper_text(0, number) for number in range(400)]
    assert any(p.title != p.variant for p in papers)
    assert {"$", "ő"} <= set("".join(p.title for p in papers))
    for paper in papers:
        assert title_key(paper.variant) == title_key(paper.title) == generate.title_key(paper.title)


@pytest.fixture(scope="module")
def bench_result(tmp_path_factory) -> tuple[dict, bool]:
    """One run of bench/run.py at 1e3 papers, 1 repeat: its JSON, and whether PostgreSQL was in it."""
    workdir = tmp_path_factory.mktemp("bench")
    with_postgres = _postgres_answers()
    if not with_postgres and os.environ.get("PAPERS_ETL_REQUIRE_POSTGRES") == "1":
        pytest.fail("PAPERS_ETL_REQUIRE_POSTGRES=1 but no PostgreSQL server answers on 127.0.0.1:5432")
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "run.py"), "--papers", str(PAPERS), "--repeats", "1",
               "--workdir", str(workdir), "--json", str(workdir / "out.json")]  # fmt: skip
    if not with_postgres:
        command.append("--no-postgres")
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "papers-etl load" in done.stdout  # the table is printed
    return json.loads((workdir / "out.json").read_text()), with_postgres


def _expected_status(row: dict, with_postgres: bool, has_force: bool) -> str:
    if row["engine"] == "postgres" and not with_postgres:
        return "n/a"
    if "--force" in row["name"] and not has_force:
        return "n/a"
    module = {"sqlite-utils insert_all": "sqlite_utils", "dlt merge (sqlalchemy)": "dlt"}.get(row["name"])
    if module and importlib.util.find_spec(module) is None:
        return "not installed"
    return "ok"


def test_every_measurement_ran_with_positive_figures(bench_result):
    result, with_postgres = bench_result
    has_force = "--force" in subprocess.run([str(CLI), "load", "--help"], capture_output=True, text=True).stdout
    rows = result["rows"]
    assert {(r["name"], r["engine"]) for r in rows} == {
        (name, engine)
        for name in ("papers-etl load", "papers-etl re-run (skips)", "papers-etl --force re-run")
        for engine in ("sqlite", "postgres")
    } | {
        ("floor sqlite3 executemany", "sqlite"),
        ("sqlite-utils insert_all", "sqlite"),
        ("dlt merge (sqlalchemy)", "sqlite"),
        ("floor COPY", "postgres"),
    }
    for row in rows:
        assert row["status"] == _expected_status(row, with_postgres, has_force), row
        if row["status"] != "ok":
            continue
        assert len(row["samples"]) == result["repeats"] == 1
        for figure in ("seconds", "papers_per_s", "ratio_to_floor", "peak_rss_mb"):
            assert row[figure] > 0, (row["name"], row["engine"], figure)
        if "re-run" in row["name"]:
            assert row["ratio_to_first_load"] > 0


def test_papers_etl_loaded_what_the_generator_wrote(bench_result):
    result, with_postgres = bench_result
    truth = result["truth"]
    assert truth["records"] == PAPERS
    loads = [r for r in result["rows"] if r["name"] == "papers-etl load" and r["status"] == "ok"]
    assert {r["engine"] for r in loads} == ({"sqlite", "postgres"} if with_postgres else {"sqlite"})
    for row in loads:
        assert row["papers_loaded"] == truth["unique_papers"], row["engine"]
        assert row["listings_loaded"] == truth["records"], row["engine"]
        assert row["github_repo_links_loaded"] == truth["github_repo_links"], row["engine"]
