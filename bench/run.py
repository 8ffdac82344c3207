"""papers-etl against the database floor and the alternatives, on the same generated files.

    python bench/run.py --papers 100000 [--repeats 5] [--json results.json] [--daily-base 1000000]

Generates (or reuses) the captures with bench/generate.py, then runs every
measurement in its own process, interleaved (A B C … A B C …, the order turned
by one each repeat), each on a fresh database, and prints the median seconds,
papers/s (records loaded per second), the ratio to the floor of the same
engine and the peak RSS (largest over repeats). Everything goes to a JSON file.

The end state every way reaches is the same (issue #17): the papers, listings and
paper_links tables with their keys, and a full-text index over titles and abstracts.
The floor inserts the generator's already-parsed rows in one transaction and builds
the index in one statement at the end; sqlite-utils inserts them with insert_all and
builds the index with enable_fts; papers-etl reads the files.

The daily run: one 50-paper daily page (about 15% of its papers already stored)
loaded by ``papers-etl load`` into a database that already holds the papers of
``--daily-base`` records (a copy of one load made before the clock starts), and
into an empty (migrated) database; the ratio of the two is the growth target's.

The parse alone: ``papers-etl load --dry-run`` of the same files into an empty
(migrated) SQLite database reads, parses and validates every file as the load
does (in one process) and writes nothing. A load parses the same files in its
worker while its main process writes, so the parse alone is, near enough, the
least a load from the files can take on this machine; its ratio to the floor
says how much of the floor's multiple the parse already takes.

papers-etl runs through its CLI (``papers-etl load``), so this harness does not
depend on the library's internals; the floor and the alternatives load the
generator's already-parsed rows (bench/workers.py). PostgreSQL databases are
created and dropped on the server of ``--pg-url`` (default 127.0.0.1:5432, user
postgres); a password in that URL is never printed.
"""

from __future__ import annotations

import argparse
import compileall
import importlib.util
import itertools
import json
import os
import platform
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path

import generate
import psycopg
from sqlalchemy.engine import URL, make_url

BENCH = Path(__file__).resolve().parent
DEFAULT_PG_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
OK, NOT_AVAILABLE, NOT_INSTALLED, FAILED = "ok", "n/a", "not installed", "failed"
FLOORS = {"sqlite": "floor sqlite3 executemany", "postgres": "floor COPY"}
DAILY_EMPTY, DAILY_LOADED = "daily page into empty db", "daily page into loaded db"

FIRST_LOAD = "papers-etl load"
PARSE_ONLY = "papers-etl --dry-run"
# Rows of the table, in order: (name, engine, what its ratio is taken against).
ROWS = [
    ("floor sqlite3 executemany", "sqlite", "floor sqlite3 executemany"),
    (FIRST_LOAD, "sqlite", "floor sqlite3 executemany"),
    (PARSE_ONLY, "sqlite", "floor sqlite3 executemany"),
    ("papers-etl re-run (skips)", "sqlite", "floor sqlite3 executemany"),
    ("papers-etl --force re-run", "sqlite", "floor sqlite3 executemany"),
    ("sqlite-utils insert_all", "sqlite", "floor sqlite3 executemany"),
    ("dlt merge (sqlalchemy)", "sqlite", "floor sqlite3 executemany"),
    (DAILY_EMPTY, "sqlite", DAILY_EMPTY),
    (DAILY_LOADED, "sqlite", DAILY_EMPTY),
    ("floor COPY", "postgres", "floor COPY"),
    (FIRST_LOAD, "postgres", "floor COPY"),
    ("papers-etl re-run (skips)", "postgres", "floor COPY"),
    ("papers-etl --force re-run", "postgres", "floor COPY"),
    (DAILY_EMPTY, "postgres", DAILY_EMPTY),
    (DAILY_LOADED, "postgres", DAILY_EMPTY),
]
RERUNS = ("papers-etl re-run (skips)", "papers-etl --force re-run")
DAILY_ROWS = (DAILY_EMPTY, DAILY_LOADED)
# The ratios the targets are stated in: (label, engine, measured, against).
KEY_RATIOS = [
    ("papers-etl load / floor", "sqlite", FIRST_LOAD, "floor sqlite3 executemany"),
    ("papers-etl load / sqlite-utils", "sqlite", FIRST_LOAD, "sqlite-utils insert_all"),
    ("papers-etl load / dlt", "sqlite", FIRST_LOAD, "dlt merge (sqlalchemy)"),
    ("sqlite-utils / floor", "sqlite", "sqlite-utils insert_all", "floor sqlite3 executemany"),
    ("--dry-run (parse only) / floor", "sqlite", PARSE_ONLY, "floor sqlite3 executemany"),
    ("papers-etl load / --dry-run", "sqlite", FIRST_LOAD, PARSE_ONLY),
    ("re-run / load", "sqlite", RERUNS[0], FIRST_LOAD),
    ("--force / load", "sqlite", RERUNS[1], FIRST_LOAD),
    ("daily page, loaded db / empty db", "sqlite", DAILY_LOADED, DAILY_EMPTY),
    ("papers-etl load / floor", "postgres", FIRST_LOAD, "floor COPY"),
    ("re-run / load", "postgres", RERUNS[0], FIRST_LOAD),
    ("--force / load", "postgres", RERUNS[1], FIRST_LOAD),
    ("daily page, loaded db / empty db", "postgres", DAILY_LOADED, DAILY_EMPTY),
]
ALTERNATIVE_MODULES = {"sqlite-utils insert_all": "sqlite_utils", "dlt merge (sqlalchemy)": "dlt"}


@dataclass
class Sample:
    seconds: float
    cpu_seconds: float  # the measured process's own CPU time (a PostgreSQL server's is not in it)
    peak_rss_mb: float
    load_average: float  # 1-minute load average when the measurement started


@dataclass
class Row:
    name: str
    engine: str
    status: str = OK
    samples: list[Sample] = field(default_factory=list)
    note: str = ""
    loaded: dict[str, int] = field(default_factory=dict)  # papers-etl first load: LOADED_COUNTS after it


@dataclass
class Child:
    """What one measured process gave."""

    returncode: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mb: float
    stdout: str
    stderr: str


def run_child(command: list[str], cwd: Path, env: dict[str, str] | None = None) -> Child:
    """Run a command through bench/measure.py (see there why) and collect its figures."""
    with tempfile.TemporaryDirectory() as folder:
        report, out, err = Path(folder) / "figures.json", Path(folder) / "out", Path(folder) / "err"
        launcher = [sys.executable, "-S", str(BENCH / "measure.py"), str(report), *command]
        with out.open("wb") as stdout, err.open("wb") as stderr:
            subprocess.run(launcher, cwd=cwd, stdout=stdout, stderr=stderr, env=env, check=True)
        figures = json.loads(report.read_text())
        return Child(
            figures["exit_code"],
            figures["wall_seconds"],
            figures["cpu_seconds"],
            figures["peak_rss_mb"],
            out.read_text(),
            err.read_text(),
        )


# --------------------------------------------------------------------------- databases


class Databases:
    """Fresh databases, one per measurement: SQLite files under a folder, PostgreSQL databases on a server."""

    def __init__(self, folder: Path, pg_url: str | None):
        self.folder = folder
        self.pg_admin = make_url(pg_url) if pg_url else None
        self.counter = itertools.count(1)
        folder.mkdir(parents=True, exist_ok=True)

    @contextmanager
    def sqlite(self) -> Iterator[Path]:
        path = self.folder / f"bench-{os.getpid()}-{next(self.counter)}.db"
        try:
            yield path
        finally:
            for leftover in self.folder.glob(path.stem + "*"):
                shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()

    @contextmanager
    def postgres(self, template: str | None = None) -> Iterator[URL]:
        """A new database; with ``template``, a copy of that database (PostgreSQL copies its files)."""
        name = f"papers_etl_bench_{os.getpid()}_{next(self.counter)}"
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        try:
            yield self.pg_admin.set(database=name, drivername="postgresql+psycopg")
        finally:
            with self._admin() as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def _admin(self):
        return psycopg.connect(libpq(self.pg_admin), autocommit=True)


def libpq(url: URL) -> str:
    """A libpq connection string from a SQLAlchemy URL (it may hold a password: never print it)."""
    parts = {"host": url.host, "port": url.port, "user": url.username, "password": url.password, "dbname": url.database}
    return " ".join(f"{key}={value}" for key, value in parts.items() if value is not None)


def pg_reachable(url: str) -> str | None:
    """None when the server answers, else why not (password-free)."""
    try:
        psycopg.connect(libpq(make_url(url)), connect_timeout=3).close()
    except psycopg.Error as exc:
        return f"{make_url(url).render_as_string(hide_password=True)}: {str(exc).splitlines()[0]}"
    return None


LOADED_COUNTS = {
    "papers_loaded": "SELECT COUNT(*) FROM papers",
    "listings_loaded": "SELECT COUNT(*) FROM listings",
    "github_repo_links_loaded": "SELECT COUNT(*) FROM paper_links WHERE kind = 'github_repo'",
}


def loaded_counts(target: Path | URL) -> dict[str, int]:
    """What a load left in the database, to compare with the generator's truth."""
    if isinstance(target, Path):
        with sqlite3.connect(target) as conn:
            return {name: conn.execute(sql).fetchone()[0] for name, sql in LOADED_COUNTS.items()}
    with psycopg.connect(libpq(target)) as conn:
        return {name: conn.execute(sql).fetchone()[0] for name, sql in LOADED_COUNTS.items()}


# --------------------------------------------------------------------------- measurements


class Bench:
    def __init__(self, args: argparse.Namespace, data: Path, truth: dict):
        self.args, self.data, self.truth = args, data, truth
        self.captures, self.rows_pickle = data / "captures", data / "rows.pickle"
        self.cli = cli_path()
        self.has_force = (
            "--force" in subprocess.run([self.cli, "load", "--help"], capture_output=True, text=True).stdout
        )
        self.postgres_problem = "disabled by --engine sqlite" if args.engine == "sqlite" else pg_reachable(args.pg_url)
        self.sqlite_off = "disabled by --engine postgres" if args.engine == "postgres" else None
        self.dbs = Databases(data / "dbs", None if self.postgres_problem else args.pg_url)
        self.rows = {(name, engine): Row(name, engine) for name, engine, _ in ROWS}
        self.mismatches: list[str] = []  # a load that did not give the generator's truth
        self.daily: dict = {}  # the daily run: its page, base corpus and template databases (prepare_daily)
        self._mark_unavailable()

    def _mark_unavailable(self) -> None:
        if not self.has_force:
            for engine in ("sqlite", "postgres"):
                self.rows[("papers-etl --force re-run", engine)].status = NOT_AVAILABLE
                self.rows[("papers-etl --force re-run", engine)].note = "papers-etl load has no --force option"
        for name, module in ALTERNATIVE_MODULES.items():
            if importlib.util.find_spec(module) is None:
                row = self.rows[(name, "sqlite")]
                row.status, row.note = NOT_INSTALLED, f"pip install -e '.[bench]' ({module} missing)"
        if self.postgres_problem:
            for (_, engine), row in self.rows.items():
                if engine == "postgres":
                    row.status, row.note = NOT_AVAILABLE, self.postgres_problem
        for (name, engine), row in self.rows.items():
            if row.status != OK:
                continue
            if engine == "sqlite" and self.sqlite_off:
                row.status, row.note = NOT_AVAILABLE, self.sqlite_off
            elif self.args.no_daily and name in DAILY_ROWS:
                row.status, row.note = NOT_AVAILABLE, "disabled by --no-daily"
            elif self.args.daily_only and name not in DAILY_ROWS:
                row.status, row.note = NOT_AVAILABLE, "disabled by --daily-only"

    def measurements(self) -> list[Callable[[], None]]:
        """One callable per fresh-database scenario that has something to measure."""
        scenarios = [
            (("floor sqlite3 executemany", "sqlite"), self.floor_sqlite),
            ((FIRST_LOAD, "sqlite"), self.etl_sqlite),
            ((PARSE_ONLY, "sqlite"), self.parse_only_sqlite),
            (("sqlite-utils insert_all", "sqlite"), self.sqlite_utils),
            (("dlt merge (sqlalchemy)", "sqlite"), self.dlt),
            ((DAILY_EMPTY, "sqlite"), self.daily_empty_sqlite),
            ((DAILY_LOADED, "sqlite"), self.daily_loaded_sqlite),
            (("floor COPY", "postgres"), self.floor_postgres),
            ((FIRST_LOAD, "postgres"), self.etl_postgres),
            ((DAILY_EMPTY, "postgres"), self.daily_empty_postgres),
            ((DAILY_LOADED, "postgres"), self.daily_loaded_postgres),
        ]
        return [method for key, method in scenarios if self.rows[key].status == OK]

    # The daily run's preparation: the base corpus, the page, and one loaded database per engine.

    @contextmanager
    def prepared_daily(self) -> Iterator[None]:
        """Load the base corpus once per engine (not timed) into template databases; drop them at the end."""
        if self.args.no_daily:
            yield
            return
        base_size = self.args.daily_base
        if base_size == self.args.papers:
            base, base_captures = self.truth, self.captures
        else:
            folder = self.args.workdir / f"daily-base-{base_size}"
            base = prepare_data(folder, base_size, self.args.seed, self.args.shape)
            base_captures = folder / "captures"
        page_dir = self.data / f"daily-page-{base_size}"
        shutil.rmtree(page_dir, ignore_errors=True)
        page = generate.daily_page(page_dir, base)
        self.daily = {"base_records": base["records"], "base_papers": base["unique_papers"], "page": page,
                      "page_dir": page_dir, "template_load_seconds": {}}  # fmt: skip
        template_pg = f"papers_etl_bench_{os.getpid()}_daily_base"
        self.daily["sqlite_template"] = self.data / "dbs" / f"daily-base-{os.getpid()}.db"
        try:
            if not self.sqlite_off:
                self._load_template(f"sqlite:///{self.daily['sqlite_template']}", base_captures, "sqlite")
            if not self.postgres_problem:
                with self.dbs._admin() as conn:
                    conn.execute(f'CREATE DATABASE "{template_pg}"')
                self.daily["postgres_template"] = template_pg
                url = self.dbs.pg_admin.set(database=template_pg, drivername="postgresql+psycopg")
                self._load_template(url.render_as_string(hide_password=False), base_captures, "postgres")
            yield
        finally:
            for leftover in self.daily["sqlite_template"].parent.glob(self.daily["sqlite_template"].name + "*"):
                leftover.unlink()
            if "postgres_template" in self.daily:
                with self.dbs._admin() as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{template_pg}" WITH (FORCE)')

    def _load_template(self, url: str, captures: Path, engine: str) -> None:
        print(f"daily run: loading the base corpus ({self.args.daily_base} records) into {engine}", flush=True)
        env = {**os.environ, "PAPERS_ETL_DATABASE_URL": url}
        child = run_child([self.cli, "load", str(captures)], cwd=self.data, env=env)
        if child.returncode not in (0, 1):
            raise SystemExit(f"daily run: loading the base corpus failed: {child.stderr.strip()[-300:]}")
        self.daily["template_load_seconds"][engine] = child.wall_seconds

    def run(self) -> None:
        scenarios = self.measurements()
        for repeat in range(self.args.repeats):
            turn = repeat % len(scenarios)
            for scenario in scenarios[turn:] + scenarios[:turn]:
                scenario()
            print(f"repeat {repeat + 1}/{self.args.repeats} done (load average {os.getloadavg()[0]:.2f})", flush=True)

    # Each scenario: a fresh database, then one or more samples.

    def floor_sqlite(self) -> None:
        with self.dbs.sqlite() as path:
            self._upgrade(f"sqlite:///{path}")
            self._worker("floor-sqlite", str(path), ("floor sqlite3 executemany", "sqlite"))

    def floor_postgres(self) -> None:
        with self.dbs.postgres() as url:
            self._upgrade(url.render_as_string(hide_password=False))
            self._worker("floor-postgres", libpq(url), ("floor COPY", "postgres"))

    def sqlite_utils(self) -> None:
        with self.dbs.sqlite() as path:
            self._upgrade(f"sqlite:///{path}")
            self._worker("sqlite-utils", str(path), ("sqlite-utils insert_all", "sqlite"))

    def dlt(self) -> None:
        with self.dbs.sqlite() as path:
            self._worker("dlt", str(path), ("dlt merge (sqlalchemy)", "sqlite"))

    def etl_sqlite(self) -> None:
        with self.dbs.sqlite() as path:
            self._etl_scenario(f"sqlite:///{path}", path, "sqlite")

    def parse_only_sqlite(self) -> None:
        with self.dbs.sqlite() as path:
            self._upgrade(f"sqlite:///{path}")
            self._etl(f"sqlite:///{path}", (PARSE_ONLY, "sqlite"), "--dry-run")

    def etl_postgres(self) -> None:
        with self.dbs.postgres() as url:
            self._etl_scenario(url.render_as_string(hide_password=False), url, "postgres")

    def daily_empty_sqlite(self) -> None:
        with self.dbs.sqlite() as path:
            self._upgrade(f"sqlite:///{path}")
            self._daily(f"sqlite:///{path}", path, (DAILY_EMPTY, "sqlite"), stored=0)

    def daily_loaded_sqlite(self) -> None:
        with self.dbs.sqlite() as path:
            with sqlite3.connect(self.daily["sqlite_template"]) as source, sqlite3.connect(path) as copy:
                source.backup(copy)
            self._daily(f"sqlite:///{path}", path, (DAILY_LOADED, "sqlite"), stored=self.daily["base_papers"])

    def daily_empty_postgres(self) -> None:
        with self.dbs.postgres() as url:
            self._upgrade(url.render_as_string(hide_password=False))
            self._daily(url.render_as_string(hide_password=False), url, (DAILY_EMPTY, "postgres"), stored=0)

    def daily_loaded_postgres(self) -> None:
        with self.dbs.postgres(template=self.daily["postgres_template"]) as url:
            key, stored = (DAILY_LOADED, "postgres"), self.daily["base_papers"]
            self._daily(url.render_as_string(hide_password=False), url, key, stored=stored)

    def _daily(self, url: str, target: Path | URL, key: tuple[str, str], stored: int) -> None:
        """Load the daily page; check that its new papers (all 50 into an empty db) were added."""
        page = self.daily["page"]
        before = loaded_counts(target) if stored else dict.fromkeys(LOADED_COUNTS, 0)
        self._etl(url, key, captures=self.daily["page_dir"])
        after = loaded_counts(target)
        expected = stored + (page["new_papers"] if stored else page["records"])
        added = after["listings_loaded"] - before["listings_loaded"]
        if after["papers_loaded"] != expected or added != page["records"]:
            message = (f"{key[0]} ({key[1]}): papers {after['papers_loaded']} (expected {expected}), "
                       f"listings added {added} (expected {page['records']})")  # fmt: skip
            self.mismatches.append(message)
            self.rows[key].note = message

    def _etl_scenario(self, url: str, target: Path | URL, engine: str) -> None:
        """First load, then the same files again (all skipped), then --force when papers-etl has it."""
        self._etl(url, (FIRST_LOAD, engine))
        self._check_against_truth(loaded_counts(target), engine)
        self._etl(url, (RERUNS[0], engine))
        if self.has_force:
            self._etl(url, (RERUNS[1], engine), "--force")

    def _check_against_truth(self, loaded: dict[str, int], engine: str) -> None:
        row = self.rows[(FIRST_LOAD, engine)]
        row.loaded = loaded
        expected = {
            "papers_loaded": self.truth["unique_papers"],
            "listings_loaded": self.truth["records"],
            "github_repo_links_loaded": self.truth["github_repo_links"],
        }
        wrong = [
            f"{name} {loaded[name]} (expected {value})" for name, value in expected.items() if loaded[name] != value
        ]
        if wrong:
            self.mismatches.append(f"papers-etl load ({engine}): {', '.join(wrong)}")
            row.note = "; ".join(wrong)

    def _etl(self, url: str, key: tuple[str, str], *options: str, captures: Path | None = None) -> None:
        load_average = os.getloadavg()[0]
        # The URL goes in the environment, not on the command line (it may hold a password).
        env = {**os.environ, "PAPERS_ETL_DATABASE_URL": url}
        child = run_child([self.cli, "load", *options, str(captures or self.captures)], cwd=self.data, env=env)
        if child.returncode not in (0, 1):  # 1: loaded with rejects (the generator writes none)
            self._fail(key, f"papers-etl exited {child.returncode}: {child.stderr.strip()[-300:]}")
            return
        self.rows[key].samples.append(Sample(child.wall_seconds, child.cpu_seconds, child.peak_rss_mb, load_average))

    def _worker(self, kind: str, target: str, key: tuple[str, str]) -> None:
        load_average = os.getloadavg()[0]
        child = run_child([sys.executable, str(BENCH / "workers.py"), kind, str(self.rows_pickle), target], self.data)
        if child.returncode != 0:
            self._fail(key, f"{kind} exited {child.returncode}: {child.stderr.strip()[-300:]}")
            return
        timed = json.loads(child.stdout.strip().splitlines()[-1])
        self.rows[key].samples.append(Sample(timed["seconds"], timed["cpu_seconds"], child.peak_rss_mb, load_average))

    def _upgrade(self, url: str) -> None:
        env = {**os.environ, "PAPERS_ETL_DATABASE_URL": url}
        child = run_child([self.cli, "db", "upgrade"], cwd=self.data, env=env)
        if child.returncode != 0:
            raise SystemExit(f"papers-etl db upgrade failed: {child.stderr.strip()}")

    def _fail(self, key: tuple[str, str], message: str) -> None:
        row = self.rows[key]
        row.status, row.note = FAILED, message
        print(f"FAILED {key[0]} ({key[1]}): {message}", file=sys.stderr)


def cli_path() -> str:
    """The papers-etl script beside this Python, else on PATH."""
    beside = Path(sys.executable).parent / "papers-etl"
    found = str(beside) if beside.exists() else shutil.which("papers-etl")
    if not found:
        raise SystemExit("papers-etl is not installed: pip install -e '.[bench]'")
    return found


# --------------------------------------------------------------------------- results


def medians(bench: Bench) -> dict[tuple[str, str], float]:
    return {key: statistics.median(s.seconds for s in row.samples) for key, row in bench.rows.items() if row.samples}


def summarise(bench: Bench) -> list[dict]:
    """Medians, papers/s, ratios to the floor (to the empty database for the daily page) and to the
    first load, peak RSS."""
    median = medians(bench)
    table = []
    for name, engine, reference in ROWS:
        row = bench.rows[(name, engine)]
        entry = {"name": name, "engine": engine, "status": row.status, "note": row.note}
        if row.status == OK and row.samples:
            seconds = median[(name, engine)]
            papers = bench.daily["page"]["records"] if name in DAILY_ROWS else bench.truth["records"]
            entry |= {
                "seconds": seconds,
                "records": papers,
                "papers_per_s": papers / seconds,
                "reference": reference,
                "ratio_to_reference": seconds / median[(reference, engine)] if (reference, engine) in median else None,
                "ratio_to_floor": (
                    seconds / median[(FLOORS[engine], engine)]
                    if name not in DAILY_ROWS and (FLOORS[engine], engine) in median
                    else None
                ),
                "ratio_to_first_load": (
                    seconds / median[(FIRST_LOAD, engine)]
                    if name in RERUNS and (FIRST_LOAD, engine) in median
                    else None
                ),
                "cpu_seconds": statistics.median(s.cpu_seconds for s in row.samples),
                "peak_rss_mb": max(s.peak_rss_mb for s in row.samples),
                "load_average": statistics.median(s.load_average for s in row.samples),
                "samples": [asdict(s) for s in row.samples],
            }
        elif row.status == OK:
            entry["status"], entry["note"] = FAILED, "no sample"
        entry |= row.loaded
        table.append(entry)
    return table


def key_ratios(bench: Bench) -> list[dict]:
    """The ratios of the targets, from the medians of this one (interleaved) run."""
    median, found = medians(bench), []
    for label, engine, measured, against in KEY_RATIOS:
        if (measured, engine) in median and (against, engine) in median:
            found.append({"ratio": label, "engine": engine, "value": median[(measured, engine)] /
                          median[(against, engine)]})  # fmt: skip
    return found


def format_table(table: list[dict]) -> str:
    header = (
        f"{'measurement':<28} {'engine':<8} {'seconds':>9} {'CPU s':>8} {'papers/s':>10} {'× ref':>8} {'× load':>7} "
    )
    header += f"{'peak RSS MB':>11} {'load avg':>8}"
    lines = [header, "-" * len(header)]
    for e in table:
        if "seconds" not in e:
            lines.append(f"{e['name']:<28} {e['engine']:<8} {e['status']:>9}  {e['note']}")
            continue
        ratio = f"{e['ratio_to_reference']:.2f}" if e["ratio_to_reference"] is not None else "-"
        vs_load = f"{e['ratio_to_first_load']:.3f}" if e["ratio_to_first_load"] is not None else ""
        lines.append(
            f"{e['name']:<28} {e['engine']:<8} {e['seconds']:>9.3f} {e['cpu_seconds']:>8.3f} "
            f"{e['papers_per_s']:>10.0f} {ratio:>8} {vs_load:>7} {e['peak_rss_mb']:>11.0f} {e['load_average']:>8.2f}"
        )
    return "\n".join(lines)


def machine(pg_url: str | None) -> dict:
    info = {
        "nproc": os.cpu_count(),
        "cpu": _cpu_model(),
        "ram_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "postgres": None,
        "load_average_at_start": os.getloadavg(),
    }
    if pg_url:
        with psycopg.connect(libpq(make_url(pg_url))) as conn:
            info["postgres"] = conn.execute("SHOW server_version").fetchone()[0]
    return info


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def prepare_data(folder: Path, papers: int, seed: int, shape: str) -> dict:
    """Reuse generated files when they match (--papers, --seed, --shape), else generate them afresh."""
    truth_path = folder / "truth.json"
    if truth_path.exists() and (folder / "rows.pickle").exists():
        truth = json.loads(truth_path.read_text())
        if (truth["papers"], truth["seed"], truth.get("shape", "mixed")) == (papers, seed, shape):
            return truth
    if folder.exists():
        shutil.rmtree(folder)
    print(f"generating {papers} papers ({shape}) into {folder}", flush=True)
    return generate.generate(folder, papers, seed, shape)


def compiled_package() -> dict:
    """Compile papers-etl's bytecode before the clock starts, as ``pip install`` of the package
    does. Every run starts Python twice (the load and its parse worker): without the .pyc
    files (a source checkout, with PYTHONDONTWRITEBYTECODE set as on the machine of
    docs/performance.md) both compile the whole package from source at each start."""
    spec = importlib.util.find_spec("etl")
    if spec is None or not spec.submodule_search_locations:
        return {"bytecode_compiled": False}
    folder = Path(next(iter(spec.submodule_search_locations)))
    return {"bytecode_compiled": compileall.compile_dir(folder, quiet=1, force=False)}


def measured_commit() -> dict:
    """The commit of the code measured, and whether the checkout had changes not committed."""

    def git(*command: str) -> str:
        done = subprocess.run(["git", *command], cwd=BENCH, capture_output=True, text=True)
        return done.stdout.strip() if done.returncode == 0 else ""

    return {"commit": git("rev-parse", "HEAD") or None, "uncommitted_changes": bool(git("status", "--porcelain"))}


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, required=True, help="records (paper sightings) in the generated files")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each measurement; the median is reported")
    parser.add_argument("--seed", type=int, default=0, help="generator seed")
    parser.add_argument(
        "--shape",
        choices=generate.SHAPES,
        default="pages",
        help="the generated files: pages "
        "(1,000-record daily_meta pages, issue #17) or mixed (three layouts, 20-60 per page)",
    )
    parser.add_argument(
        "--daily-base",
        type=int,
        default=100_000,
        help="records in the database the daily page is loaded into (1000000 for issue #17's target; default 100000)",
    )
    parser.add_argument("--no-daily", action="store_true", help="skip the daily-run measurement")
    parser.add_argument("--workdir", type=Path, help="where files and databases go (default: a temp folder per N)")
    parser.add_argument("--json", type=Path, help="results file (default: WORKDIR/results.json)")
    parser.add_argument("--pg-url", default=DEFAULT_PG_URL, help="PostgreSQL server (admin database) to use")
    parser.add_argument("--daily-only", action="store_true", help="measure the daily run only")
    parser.add_argument("--engine", choices=("both", "sqlite", "postgres"), default="both", help="engines to measure")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only (the same as --engine sqlite)")
    args = parser.parse_args(argv)
    if args.no_postgres:
        args.engine = "sqlite"
    if args.no_daily and args.daily_only:
        parser.error("--no-daily and --daily-only leave nothing to measure")
    args.workdir = args.workdir or Path(tempfile.gettempdir()) / f"papers-etl-bench-{args.papers}-{args.seed}"
    args.json = args.json or args.workdir / "results.json"
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    truth = prepare_data(args.workdir / "data", args.papers, args.seed, args.shape)
    bench = Bench(args, args.workdir / "data", truth)
    info = machine(None if bench.postgres_problem else args.pg_url) | measured_commit() | compiled_package()
    print(f"{truth['records']} records in {truth['files']} files, {truth['unique_papers']} unique papers; "
          f"{args.repeats} repeats; --force: {'yes' if bench.has_force else 'n/a'}", flush=True)  # fmt: skip
    started = time.perf_counter()
    with bench.prepared_daily():
        bench.run()
    table = summarise(bench)
    ratios = key_ratios(bench)
    info["load_average_at_end"] = os.getloadavg()
    daily = {k: v for k, v in bench.daily.items() if k not in ("page_dir", "sqlite_template", "postgres_template")}
    result = {"machine": info, "truth": truth, "repeats": args.repeats, "elapsed_s": time.perf_counter() - started,
              "daily_run": daily, "rows": table, "key_ratios": ratios}  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str) + "\n")
    print(format_table(table))
    for ratio in ratios:
        print(f"{ratio['ratio']} ({ratio['engine']}): {ratio['value']:.3f}")
    print(f"written to {args.json}")
    for mismatch in bench.mismatches:
        print(f"WRONG RESULT {mismatch}", file=sys.stderr)
    return 1 if bench.mismatches or any(e["status"] == FAILED for e in table) else 0


if __name__ == "__main__":
    sys.exit(main())
