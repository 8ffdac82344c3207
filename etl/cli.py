"""papers-etl command line: thin commands over the etl library.

Exit status of ``papers-etl load`` (also in the README), one per outcome a scheduler must tell apart:
0 the run succeeded: every file loaded or was already loaded, nothing rejected;
1 the run finished, but something was rejected: a file refused, or records or fields
  (see ``papers-etl runs show``); running it again will not help, fixing the input will;
2 usage error (bad option or argument);
3 failure: the run could not start or stopped (a path matched nothing, the database
  URL, server, password or schema revision, a database error). Files loaded before
  the failure stay loaded; fix the cause and run the same command again;
4 lock not acquired: another load holds this database (after ``--wait`` seconds).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import itertools
import json
import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.engine import Engine

from . import access, db, export, load, output, query, search
from .errors import EtlError, LockNotAcquired
from .pipeline import FileResult, RunSummary, check_load, rebuild, run_load
from .pipeline import Progress as LoadProgress
from .terminal import printable

EXIT_OK = 0
EXIT_REJECTS = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
EXIT_LOCKED = 4
QUIET = "papers_etl.quiet"  # click context meta key set by -q


class EtlFailure(click.ClickException):
    """An EtlError shown as one line on stderr, with the failure exit status."""

    exit_code = EXIT_FAILURE

    def format_message(self) -> str:
        return self.message


class LockFailure(EtlFailure):
    """Another load holds the database: its own exit status, so schedulers can retry later."""

    exit_code = EXIT_LOCKED


def reports_errors(command):
    """Turn EtlError into a one-line message and exit status 3, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except LockNotAcquired as exc:
            raise LockFailure(str(exc)) from None
        except EtlError as exc:
            raise EtlFailure(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:
            logging.getLogger("etl").info("internal error", exc_info=True)
            raise EtlFailure(
                f"internal error ({type(exc).__name__}: {exc}); run again with -v to see where, and report it"
            ) from None

    return wrapper


db_option = click.option(
    "--db",
    "db_url",
    envvar=db.ENV_VAR,
    show_envvar=True,
    metavar="URL",
    help=f"Database URL (default {db.DEFAULT_URL}); PostgreSQL: postgresql+psycopg://user@host/dbname.",
)


@contextmanager
def _engine(db_url: str | None) -> Iterator[Engine]:
    """An engine for the command, disposed of when the command ends."""
    engine = db.create_engine(db_url)
    try:
        yield engine
    finally:
        engine.dispose()


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="papers-etl")
@click.option("-v", "--verbose", count=True, help="Log each file (-v), or debug details and SQL too (-vv).")
@click.option("-q", "--quiet", is_flag=True, help="Print errors only: no summary, progress or refused-file lines.")
@click.pass_context
def main(ctx: click.Context, verbose: int, quiet: bool) -> None:
    """Turn Hugging Face papers listing captures into a relational database."""
    level = logging.ERROR if quiet else logging.WARNING - 10 * min(verbose, 2)
    # force: each invocation logs to the current stderr (tests invoke main many times in one process).
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO if verbose >= 2 and not quiet else logging.WARNING)
    ctx.meta[QUIET] = quiet


@main.command("load")
@click.argument("paths", nargs=-1, required=True, metavar="PATH...")
@db_option
@click.option(
    "--listed-on",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="YYYY-MM-DD",
    help="Listing date of every page in this run (overrides file names and page headers).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Reload files already loaded, replacing their earlier load (no duplicates); "
    "a file that parses exactly as before is left as it is.",
)
@click.option("--dry-run", is_flag=True, help="Read, parse and validate everything; write nothing to the database.")
@click.option(
    "--wait",
    "wait_seconds",
    type=click.FloatRange(min=0),
    default=0,
    show_default=True,
    metavar="SECONDS",
    help="If another load is running on the database, wait up to this long for it (then exit 4).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as one JSON object on stdout.")
@click.option(
    "--parse-process/--no-parse-process",
    default=None,
    help="Parse the next files in a second process while this one writes "
    "(default: when the machine has more than one core).",
)
@click.pass_context
@reports_errors
def load_command(
    ctx: click.Context,
    paths: tuple[str, ...],
    db_url: str | None,
    listed_on: dt.datetime | None,
    force: bool,
    dry_run: bool,
    wait_seconds: float,
    as_json: bool,
    parse_process: bool | None,
) -> None:
    """Load capture files, folders (walked recursively) or globs.

    Files already loaded (same sha256) are skipped, so re-running changes
    nothing. Exit status: 0 all loaded; 1 finished with a refused file or
    rejected records or fields; 2 usage error; 3 failure (database, URL,
    path); 4 another load holds the database.
    """
    quiet = ctx.meta.get(QUIET, False)
    day = listed_on.date() if listed_on else None
    try:
        with _engine(db_url) as engine, _progress(quiet or as_json) as progress:
            if dry_run:
                summary = check_load(engine, paths, day, force=force, progress=progress)
            else:
                summary = run_load(
                    engine,
                    paths,
                    day,
                    force=force,
                    wait_seconds=wait_seconds,
                    progress=progress,
                    parse_process=parse_process,
                )
    except EtlError as exc:
        if as_json:
            status = "locked" if isinstance(exc, LockNotAcquired) else "failed"
            exit_status = EXIT_LOCKED if isinstance(exc, LockNotAcquired) else EXIT_FAILURE
            click.echo(json.dumps({"status": status, "exit_status": exit_status, "message": str(exc)}))
        raise
    exit_status = EXIT_REJECTS if summary.status == "partial" else EXIT_OK
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "exit_status": exit_status}, default=str))
    elif not quiet:
        if summary.dry_run:
            for line in dry_run_lines(summary):
                click.echo(line)
        click.echo(summary_line(summary))
    sys.exit(exit_status)


def dry_run_lines(summary: RunSummary) -> Iterator[str]:
    """One line per file a dry run would load: its layout, listing date (and the rule that gave it),
    records and new papers."""
    for f in summary.files:
        if f.status != "loaded":
            continue
        listed = f"listed on {f.listed_on} ({f.listed_on_source})" if f.listed_on else "no listing date"
        yield printable(
            f"would load {f.path}: {f.layout}, {listed}, {f.records} records, about {f.papers_inserted} new papers"
        )


class _RefusalLines(LoadProgress):
    """Off a terminal: name each refused file on stderr, one line each."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def file_done(self, result: FileResult) -> None:
        if result.status == "refused" and not self.quiet:
            click.echo(printable(f"refused {result.message}"), err=True)


class _ProgressBar(_RefusalLines):
    """On a terminal: a bar over the bytes of all the files, the time left, and the records read (on stderr).

    Within a file, the bar moves by the text of the records parsed (a little short of the bytes: blank lines
    and banners are not counted), and jumps to the file's end when it is done, so a run of a few large files
    moves too.
    """

    def __init__(self, console: Console):
        super().__init__(quiet=False)
        self.console = console
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            DownloadColumn(),
            TextColumn("· {task.fields[records]} records ·"),
            TimeRemainingColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("loading", total=None, records=0)
        self.records = 0
        self.sizes: dict[str, int] = {}
        self.done_bytes = 0  # the files finished
        self.file_bytes = 0  # read of the current file

    def start(self, files) -> None:
        self.sizes = {str(path): _size(path) for path in files}
        self.bar.update(self.task, total=sum(self.sizes.values()))

    def file_started(self, path) -> None:
        self.file_bytes = 0
        self.bar.update(self.task, description=printable(path.name[-40:]))

    def records_read(self, count: int, size: int = 0) -> None:
        self.records += count
        self.file_bytes += size
        self.bar.update(self.task, records=self.records, completed=self.done_bytes + self.file_bytes)

    def file_done(self, result: FileResult) -> None:
        if result.status == "refused":
            self.console.print(f"refused {printable(result.message or '')}", markup=False, highlight=False)
        self.done_bytes += self.sizes.get(result.path, self.file_bytes)
        self.bar.update(self.task, completed=self.done_bytes)


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # vanished: it will be refused at its turn
        return 0


@contextmanager
def _progress(quiet: bool) -> Iterator[LoadProgress]:
    console = Console(stderr=True)
    if quiet or not console.is_terminal:
        yield _RefusalLines(quiet)
        return
    progress = _ProgressBar(console)
    with progress.bar:
        yield progress


def summary_line(summary: RunSummary) -> str:
    c = summary.counts
    if summary.dry_run:
        return (
            f"dry run, nothing written: {c['files_seen']} files ({c['files_loaded']} to load, "
            f"{c['files_skipped']} already loaded, {c['files_refused']} refused); {c['records_read']} records, "
            f"about {c['papers_inserted']} new papers, {summary.duplicates} duplicates, {summary.rejects} rejects"
        )
    unchanged = f", of which {summary.unchanged} unchanged" if summary.unchanged else ""
    return (
        f"run {summary.run_id} {summary.status}: {c['files_seen']} files "
        f"({c['files_loaded']} loaded{unchanged}, {c['files_skipped']} already loaded, {c['files_refused']} refused); "
        f"{c['records_read']} records, {c['papers_inserted']} new papers, {summary.duplicates} duplicates, "
        f"{summary.rejects} rejects"
    )


@main.command("rebuild")
@db_option
@reports_errors
def rebuild_command(db_url: str | None) -> None:
    """Re-derive papers and paper_links from the raw text kept in listings.

    Run it after upgrading papers-etl when the parsing or deduplication rules
    changed: the result is what a fresh load of the same files gives. One
    transaction; paper_ids are kept where a paper still exists.
    """
    with _engine(db_url) as engine:
        counts = rebuild(engine)
    click.echo(
        f"rebuilt {counts.papers} papers from {counts.listings} listings ({counts.papers_changed} papers changed)"
    )


@main.group("db")
def db_group() -> None:
    """Manage the database schema (Alembic migrations)."""


@db_group.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@db_option
@reports_errors
def db_upgrade(revision: str, db_url: str | None) -> None:
    """Bring the database schema to the latest (or given) revision."""
    with _engine(db_url) as engine:
        db.upgrade(engine, revision)
        click.echo(f"{db.safe_url(engine.url)} is at revision {db.current_revision(engine)}")


@db_group.command("current")
@db_option
@reports_errors
def db_current(db_url: str | None) -> None:
    """Show the database's schema revision and whether it is the latest."""
    with _engine(db_url) as engine:
        current, head = db.current_revision(engine), db.head_revision()
    state = "up to date" if current == head else f"latest is {head}; run `papers-etl db upgrade`"
    click.echo(f"{db.safe_url(engine.url)}: revision {current or 'none (empty database)'} ({state})")


@main.group("runs", invoke_without_command=True)
@click.option("--limit", default=20, show_default=True, help="How many recent runs to list.")
@output.format_options()
@db_option
@click.pass_context
@reports_errors
def runs_group(ctx: click.Context, limit: int, fmt: str, db_url: str | None) -> None:
    """List recent load runs with their counts (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    with _engine(db_url) as engine, db.database_errors(engine.url):
        rows = load.recent_runs(engine, limit) if _has_schema(engine) else []
    if not rows and fmt == "table":
        click.echo(f"no runs yet in {db.safe_url(engine.url)}; `papers-etl load PATH...` records one")
        return
    output.write(RUN_COLUMNS, (tuple(getattr(r, c) for c in RUN_COLUMNS) for r in rows), fmt)


RUN_COLUMNS = ("run_id", "started_at", "finished_at", "status", *load.RUN_COUNT_COLUMNS, "message")
REJECT_COLUMNS = ("reject_id", "run_id", "level", "path", "line_no", "reason", "excerpt")


@runs_group.command("show")
@click.argument("run_id", type=int)
@output.format_options()
@db_option
@reports_errors
def runs_show(run_id: int, fmt: str, db_url: str | None) -> None:
    """Show one run, its counts and every reject it recorded.

    As a table: the run, then its rejects. --json: one object, the run's columns and "rejects" (an array);
    --csv, --tsv, --nl: the rejects, one row each.
    """
    with _engine(db_url) as engine, db.database_errors(engine.url):
        run, found = load.run_with_rejects(engine, run_id) if _has_schema(engine) else (None, [])
    if run is None:
        raise EtlFailure(f"no run {run_id}; `papers-etl runs` lists the runs")
    rejects = [tuple(getattr(r, c) for c in REJECT_COLUMNS) for r in found]
    if fmt == "json":
        record = {c: output.json_value(output.normalise(c, getattr(run, c))) for c in RUN_COLUMNS}
        record["rejects"] = [
            {c: output.json_value(v) for c, v in zip(REJECT_COLUMNS, row, strict=True)} for row in rejects
        ]
        click.echo(json.dumps(record, ensure_ascii=False, indent=2))
        return
    if fmt == "table":
        output.write(("column", "value"), ((c, getattr(run, c)) for c in RUN_COLUMNS), fmt)
        click.echo(f"rejects: {len(rejects)}")
        if not rejects:
            return
    output.write(REJECT_COLUMNS, rejects, fmt)


def _has_schema(engine) -> bool:
    """False for a database papers-etl has not created yet (read commands do not create it);
    SchemaRevisionError for one at another revision."""
    if db.current_revision(engine) is None:
        return False
    db.ensure_schema(engine)
    return True


# --------------------------------------------------------------------------- analyst commands


class UsageFailure(EtlFailure):
    """A usage error shown as one line, with the usage exit status."""

    exit_code = EXIT_USAGE


@main.command("search")
@click.argument("terms")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(min=1), help="How many matches.")
@output.format_options()
@db_option
@reports_errors
def search_command(terms: str, limit: int, fmt: str, db_url: str | None) -> None:
    """Full-text search of titles and abstracts: papers with every word, best first.

    Words are stemmed (distilled finds distillation) and punctuation is ignored.
    Prints each match's rank, paper_id, title, publication date and GitHub repository.
    """
    with _engine(db_url) as engine, db.database_errors(engine.url):
        matches = search.search(engine, terms, limit) if _has_schema(engine) else []
    if not matches and fmt == "table":
        click.echo(f"no paper matches {printable(repr(terms))}")
        return
    columns = [f.name for f in dataclasses.fields(search.Match)]
    output.write(columns, (dataclasses.astuple(m) for m in matches), fmt)


@main.command("export")
@click.argument("name")
@click.option(
    "--format",
    "legacy_format",
    type=click.Choice(["csv", "jsonl"]),
    help="Same as --csv or --nl (jsonl): kept for existing scripts.",
)
@output.format_options(default="csv")
@click.option(
    "--output", "-o", "output_path", type=click.Path(dir_okay=False), help="File to write (default: standard output)."
)
@db_option
@reports_errors
def export_command(name: str, legacy_format: str | None, fmt: str, output_path: str | None, db_url: str | None) -> None:
    """Export a table or view (papers, paper_summary, ...), streaming: CSV by default, or --tsv, --json,
    --nl, --table."""
    if legacy_format:
        fmt = {"csv": "csv", "jsonl": "nl"}[legacy_format]
    try:
        export.relation(name)
    except export.UnknownRelationError as exc:
        raise UsageFailure(str(exc)) from None
    with _engine(db_url) as engine, db.database_errors(engine.url):
        if not _has_schema(engine):
            raise EtlFailure(f"no tables yet in {db.safe_url(engine.url)}; `papers-etl load PATH...` creates them")
        if output_path is None:
            count = export.export(engine, name, fmt, sys.stdout)
        else:
            with export.atomic_output(output_path) as out:
                count = export.export(engine, name, fmt, out)
    if output_path:
        click.echo(f"wrote {count} rows of {name} to {output_path}", err=True)


@main.command("query")
@click.argument("sql", required=False)
@click.option(
    "--file",
    "-f",
    "sql_file",
    type=click.File("r", encoding="utf-8"),
    help="Read the statement from this file ('-': standard input) instead of the SQL argument.",
)
@click.option(
    "-p",
    "--param",
    "params",
    type=(str, str),
    multiple=True,
    metavar="NAME VALUE",
    help="Value of the named parameter :NAME in the statement (repeat for each).",
)
@output.format_options()
@click.option(
    "--max-rows",
    default=1000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Rows shown in a table (the other formats write them all).",
)
@db_option
@reports_errors
def query_command(
    sql: str | None, sql_file, params: tuple[tuple[str, str], ...], fmt: str, max_rows: int, db_url: str | None
) -> None:
    """Run one read-only SQL statement (SELECT ...) and print the result; statements that write are refused.

    SQL is the statement, or '-' to read it from standard input (or give --file). Named parameters
    (:name) take their values from -p name value, always bound, never pasted into the SQL.
    """
    statement = _statement(sql, sql_file)
    with query.run_query(db_url, statement, dict(params)) as result:
        if fmt != "table":
            output.write(result.columns, result.rows, fmt)
            return
        rows = list(itertools.islice(result.rows, max_rows + 1))
    output.write(result.columns, rows[:max_rows], fmt)
    more = " (more not shown: raise --max-rows or use --csv)" if len(rows) > max_rows else ""
    click.echo(f"{min(len(rows), max_rows)} rows{more}", err=True)


def _statement(sql: str | None, sql_file) -> str:
    if sql is not None and sql_file is not None:
        raise click.UsageError("give the statement as SQL or with --file, not both")
    if sql_file is not None:
        return sql_file.read()
    if sql is None:
        raise click.UsageError("give a statement: papers-etl query \"SELECT ...\", or '-' or --file FILE to read one")
    return sys.stdin.read() if sql == "-" else sql


@main.command("serve")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(1, 65535), help="Port on 127.0.0.1.")
@db_option
@reports_errors
def serve_command(port: int, db_url: str | None) -> None:
    """Open the SQLite database in Datasette on 127.0.0.1, read-only: every description of the data
    dictionary, the example queries as canned queries, and a dashboard (/-/dashboards/papers).

    Needs the serve extra: pip install 'papers-etl[serve]'. PostgreSQL: see the README for BI tools.
    """
    from . import serve

    url = db.normalise_url(db.resolve_url(db_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise UsageFailure(
            f"{db.safe_url(url)}: papers-etl serve opens a SQLite file; for PostgreSQL use a BI tool "
            "(README: \"Dashboards on PostgreSQL\")"
        )
    path = Path(url.database).expanduser()
    if not path.is_file():
        raise EtlFailure(f"no database file at {path}; `papers-etl load PATH...` creates one")
    with _engine(db_url) as engine, db.database_errors(engine.url):
        if not _has_schema(engine):
            raise EtlFailure(f"no tables yet in {path}; `papers-etl load PATH...` creates them")
    click.echo(f"serving {path} read-only at http://{serve.HOST}:{port}/ (dashboard: /-/dashboards/papers)", err=True)
    serve.serve(path, port)


@db_group.command("grant-readonly")
@click.argument("role")
@db_option
@reports_errors
def db_grant_readonly(role: str, db_url: str | None) -> None:
    """PostgreSQL: let an existing ROLE read every table and view (and future ones), and nothing else."""
    with _engine(db_url) as engine:
        schema, statements = access.grant_readonly(engine, role)
    for statement in statements:
        click.echo(statement)
    click.echo(f"{role} can read every table and view in schema {schema} of {db.safe_url(engine.url)}, and write none")


if __name__ == "__main__":  # pragma: no cover
    main()
