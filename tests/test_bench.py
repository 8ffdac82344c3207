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
import sqlalchemy as sa

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


def test_the_pages_shape_writes_daily_meta_pages_of_1000_records(tmp_path: Path):
    truth = generate.generate(tmp_path, 3000, seed=0, shape="pages")
    files = sorted((tmp_path / "captures").rglob("*.txt"))
    assert truth["files"] == len(files) == 3
    assert truth["layouts"] == {"daily_meta": 3}
    assert all("-daily_meta-" in path.name for path in files)
    assert truth["repeats"] > 0  # papers of the first page seen again on the next ones


def test_the_daily_page_repeats_papers_of_its_base_and_adds_new_ones(tmp_path: Path):
    base = generate.generate(tmp_path / "base", PAPERS, seed=0)
    page = generate.daily_page(tmp_path / "page", base)
    assert page == {"records": 50, "repeats_of_base": 8, "new_papers": 42}
    (path,) = (tmp_path / "page").iterdir()
    last_day = max(p.name[:10] for p in (tmp_path / "base" / "captures").rglob("20*.txt"))
    assert path.name[:10] > last_day  # the day after the base's last page
    assert generate.daily_page(tmp_path / "again", base) == page
    assert (tmp_path / "again" / path.name).read_bytes() == path.read_bytes()


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
    # mixed: many small files, so that papers repeat; the daily page goes into a database of the same 1e3 records
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "run.py"), "--papers", str(PAPERS), "--repeats", "1",
               "--shape", "mixed", "--daily-base", str(PAPERS), "--workdir", str(workdir),
               "--json", str(workdir / "out.json")]  # fmt: skip
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
        for name in (
            "papers-etl load",
            "papers-etl re-run (skips)",
            "papers-etl --force re-run",
            "daily page into empty db",
            "daily page into loaded db",
        )
        for engine in ("sqlite", "postgres")
    } | {
        ("floor sqlite3 executemany", "sqlite"),
        ("papers-etl --dry-run", "sqlite"),
        ("sqlite-utils insert_all", "sqlite"),
        ("dlt merge (sqlalchemy)", "sqlite"),
        ("floor COPY", "postgres"),
    }
    for row in rows:
        assert row["status"] == _expected_status(row, with_postgres, has_force), row
        if row["status"] != "ok":
            continue
        assert len(row["samples"]) == result["repeats"] == 1
        daily = row["name"].startswith("daily page")
        figures = (
            "seconds",
            "papers_per_s",
            "ratio_to_reference",
            "peak_rss_mb",
            *(() if daily else ("ratio_to_floor",)),
        )
        for figure in figures:
            assert row[figure] > 0, (row["name"], row["engine"], figure)
        if "re-run" in row["name"]:
            assert row["ratio_to_first_load"] > 0
        assert row["records"] == (50 if daily else PAPERS)
    assert result["machine"]["commit"]  # the code measured


def test_the_package_is_compiled_before_the_clock_starts(bench_result):
    result, _ = bench_result
    pipeline = PROJECT_ROOT / "etl" / "pipeline.py"
    assert result["machine"]["bytecode_compiled"] is True
    assert Path(importlib.util.cache_from_source(str(pipeline))).stat().st_mtime >= pipeline.stat().st_mtime


def test_the_key_ratios_are_those_of_the_rows(bench_result):
    result, with_postgres = bench_result
    seconds = {(r["name"], r["engine"]): r["seconds"] for r in result["rows"] if r["status"] == "ok"}
    ratios = {(r["ratio"], r["engine"]): r["value"] for r in result["key_ratios"]}
    engines = ("sqlite", "postgres") if with_postgres else ("sqlite",)
    for engine in engines:
        daily = ratios[("daily page, loaded db / empty db", engine)]
        expected = seconds[("daily page into loaded db", engine)] / seconds[("daily page into empty db", engine)]
        assert daily == pytest.approx(expected)
    floor = seconds[("papers-etl load", "sqlite")] / seconds[("floor sqlite3 executemany", "sqlite")]
    assert ratios[("papers-etl load / floor", "sqlite")] == pytest.approx(floor)
    parse_only = seconds[("papers-etl --dry-run", "sqlite")]
    assert ratios[("--dry-run (parse only) / floor", "sqlite")] == pytest.approx(
        parse_only / seconds[("floor sqlite3 executemany", "sqlite")]
    )
    assert ratios[("papers-etl load / --dry-run", "sqlite")] == pytest.approx(
        seconds[("papers-etl load", "sqlite")] / parse_only
    )


def test_the_daily_page_went_into_a_database_of_the_base_corpus(bench_result):
    result, _ = bench_result
    daily = result["daily_run"]
    assert daily["base_records"] == PAPERS
    assert daily["base_papers"] == result["truth"]["unique_papers"]
    assert daily["page"]["records"] == 50 and daily["page"]["repeats_of_base"] > 0
    assert all(seconds > 0 for seconds in daily["template_load_seconds"].values())


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


# --------------------------------------------------------------------------- the floor's and sqlite-utils' end state


def _libpq(url: str) -> str:
    parts = sa.make_url(url)
    values = {"host": parts.host, "port": parts.port, "user": parts.username, "password": parts.password,
              "dbname": parts.database}  # fmt: skip
    return " ".join(f"{key}={value}" for key, value in values.items() if value is not None)


def _run_worker(kind: str, data: Path, target: str) -> None:
    command = [sys.executable, str(PROJECT_ROOT / "bench" / "workers.py"), kind, str(data / "rows.pickle"), target]
    done = subprocess.run(command, capture_output=True, text=True, cwd=PROJECT_ROOT / "bench", timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.strip().splitlines()[-1])["seconds"] > 0


@pytest.fixture(scope="module")
def small_corpus(tmp_path_factory) -> tuple[Path, dict]:
    folder = tmp_path_factory.mktemp("corpus")
    return folder, generate.generate(folder, 300, seed=3)


def _kinds(db_url: str) -> list[str]:
    if db_url.startswith("sqlite"):
        return ["floor-sqlite", *(["sqlite-utils"] if importlib.util.find_spec("sqlite_utils") else [])]
    return ["floor-postgres"]


def test_floor_and_sqlite_utils_reach_papers_etl_end_state(db_url, small_corpus, tmp_path):
    """The rows in papers-etl's tables, and a full-text index that finds what the text holds."""
    data, truth = small_corpus
    for kind in _kinds(db_url):
        url = db_url if kind != "sqlite-utils" else f"sqlite:///{tmp_path / 'utils.db'}"
        env = {**os.environ, "PAPERS_ETL_DATABASE_URL": url}
        subprocess.run([str(CLI), "db", "upgrade"], env=env, check=True, capture_output=True)
        _run_worker(kind, data, _libpq(url) if kind == "floor-postgres" else sa.make_url(url).database)
        engine = sa.create_engine(url)
        with engine.connect() as conn:
            assert conn.scalar(sa.text("SELECT COUNT(*) FROM papers")) == truth["unique_papers"]
            assert conn.scalar(sa.text("SELECT COUNT(*) FROM listings")) == truth["records"]
            assert conn.scalar(sa.text("SELECT COUNT(*) FROM paper_links")) == truth["paper_links"]
            holding = conn.scalar(sa.text(
                "SELECT COUNT(*) FROM papers WHERE lower(title || ' ' || abstract) LIKE '%diffusion%'"
            ))  # fmt: skip
            if kind == "floor-postgres":
                found = conn.scalar(sa.text(
                    "SELECT COUNT(*) FROM papers WHERE search_vector @@ to_tsquery('english', 'diffusion')"
                ))  # fmt: skip
                index = conn.scalar(sa.text(
                    "SELECT indexdef FROM pg_indexes WHERE tablename = 'papers' AND indexdef LIKE '%gin%'"
                ))  # fmt: skip
                assert "search_vector" in index
            else:
                found = conn.scalar(sa.text("SELECT COUNT(*) FROM papers_fts WHERE papers_fts MATCH 'diffusion'"))
                triggers = conn.scalar(sa.text("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger'"))
                assert triggers == 0  # built once after the load, not kept by row triggers
        engine.dispose()
        assert 0 < holding == found, kind


@pytest.mark.parametrize(
    ("options", "measured"),
    [
        (["--engine", "sqlite", "--daily-only"], {("daily page into empty db", "sqlite"),
                                                  ("daily page into loaded db", "sqlite")}),
        (["--engine", "postgres", "--no-daily"], {("floor COPY", "postgres"), ("papers-etl load", "postgres"),
                                                  ("papers-etl re-run (skips)", "postgres"),
                                                  ("papers-etl --force re-run", "postgres")}),
    ],
)  # fmt: skip
def test_engine_and_daily_options_choose_what_is_measured(monkeypatch, tmp_path, options, measured):
    if "postgres" in options and not _postgres_answers():
        pytest.skip("no PostgreSQL server answers on 127.0.0.1:5432")
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "bench"))
    from bench import run

    args = run.parse_args(["--papers", "10", "--workdir", str(tmp_path), *options])
    bench = run.Bench(args, tmp_path / "data", {})
    assert {key for key, row in bench.rows.items() if row.status == run.OK} == measured
    assert all(row.note for row in bench.rows.values() if row.status != run.OK)


def test_no_daily_and_daily_only_together_are_refused(monkeypatch, capsys):
    monkeypatch.syspath_prepend(str(PROJECT_ROOT / "bench"))
    from bench import run

    with pytest.raises(SystemExit):
        run.parse_args(["--papers", "10", "--no-daily", "--daily-only"])
    assert "leave nothing to measure" in capsys.readouterr().err
