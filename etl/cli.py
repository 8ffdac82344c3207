"""papers-etl command line: thin commands over the etl library.

Exit status of ``papers-etl load`` (also in the README), one per outcome a scheduler must tell apart:
0 the run succeeded: every file loaded or was already loaded, nothing rejected;
1 the run finished, but something was rejected: a file refused, or records or fields
  (see ``papers-etl runs show``); running it again will not help, fixing the input will;
2 usage error (bad option or argument);
3 failure: the run could not start or stopped (a path matched nothing, the database
  URL, server, password or schema revision, a database error). Files loaded before
  the failure stay loaded; fix the cause and run the same command again;
4 lock not acquired: another load holds this database, or another program its SQLite
  write lock (after ``--wait`` seconds); nothing was written.
Every command also exits 130 on Ctrl-C and 141, quietly, when the reader of its
standard output went away (``| head -1``).

``papers-etl fetch`` uses the same family: 0 every day fetched or skipped; 1 some days
failed (the others were saved); 2 usage error; 3 the run stopped (token refused,
endpoint unreachable, folder not writable).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import io
import itertools
import json
import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click
from click.core import ParameterSource
from sqlalchemy.engine import Engine

from . import access, db, export, fetch, load, output, query, search
from .errors import DateRangeError, EtlError, LockNotAcquired
from .extract import DEFAULT_INCLUDE, Selection
from .pipeline import FileResult, RunSummary, check_load, rebuild, run_load
from .pipeline import Progress as LoadProgress
from .terminal import printable

if TYPE_CHECKING:
    from rich.console import Console

# rich is imported only where a bar or a table is drawn: a scheduled run off a terminal never needs it,
# and its import is a tenth of the start of every command.

EXIT_OK = 0
EXIT_REJECTS = 1
EXIT_USAGE = 2
EXIT_FAILURE = 3
EXIT_LOCKED = 4
EXIT_INTERRUPTED = 130  # Ctrl-C (128 + SIGINT), as shells report it
EXIT_BROKEN_PIPE = 141  # the reader of standard output went away (128 + SIGPIPE)
MIN_BUSY_SECONDS = 1.0  # a load waits at least this long for another program's SQLite write lock
QUIET = "papers_etl.quiet"  # click context meta key set by -q


class EtlFailure(click.ClickException):
    """An EtlError shown as one line on stderr, with the failure exit status."""

    exit_code = EXIT_FAILURE

    def format_message(self) -> str:
        return printable(db.redact(self.message))


class LockFailure(EtlFailure):
    """Another load holds the database: its own exit status, so schedulers can retry later."""

    exit_code = EXIT_LOCKED


class Interrupted(EtlFailure):
    """Stopped by Ctrl-C."""

    exit_code = EXIT_INTERRUPTED


def reports_errors(command):
    """Turn EtlError into a one-line message and exit status 3, never a traceback."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            try:
                return command(*args, **kwargs)
            finally:
                sys.stdout.flush()  # here, where a closed pipe can be told apart, not at exit
        except BrokenPipeError:
            _quiet_broken_pipe()
        except LockNotAcquired as exc:
            raise LockFailure(str(exc)) from None
        except query.QueryCancelled as exc:
            raise Interrupted(str(exc)) from None
        except KeyboardInterrupt:
            raise Interrupted("interrupted (Ctrl-C)") from None
        except EtlError as exc:
            raise EtlFailure(str(exc)) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort, SystemExit):
            raise
        except Exception as exc:
            logging.getLogger("etl").debug("internal error", exc_info=True)
            raise EtlFailure(
                f"internal error ({type(exc).__name__}: {exc}); run again with -vv to see where, and report it"
            ) from None

    return wrapper


def _quiet_broken_pipe() -> None:
    """The reader of standard output went away (``papers-etl export papers | head -1``): stop
    quietly, as Unix tools do, with the status a shell shows for them (128 + SIGPIPE)."""
    with contextlib.suppress(OSError, ValueError, io.UnsupportedOperation):
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # no second error at exit
    sys.exit(EXIT_BROKEN_PIPE)


db_option = click.option(
    "--db",
    "db_url",
    envvar=db.ENV_VAR,
    show_envvar=True,
    metavar="URL",
    help=f"Database URL (default {db.DEFAULT_URL}); PostgreSQL: postgresql+psycopg://user@host/dbname.",
)


@contextmanager
def _engine(db_url: str | None, **options) -> Iterator[Engine]:
    """An engine for the command (``options`` as in ``db.create_engine``), disposed of when the command ends."""
    engine = db.create_engine(db_url, **options)
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
    logging.basicConfig(level=level, stream=sys.stderr, force=True)
    for handler in logging.getLogger().handlers:
        handler.setFormatter(_SafeFormatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger("sqlalchemy.engine").setLevel(logging.INFO if verbose >= 2 and not quiet else logging.WARNING)
    ctx.meta[QUIET] = quiet


class _SafeFormatter(logging.Formatter):
    """Log lines carry file names, titles and URLs: credentials masked, control characters escaped."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(db.redact(super().format(record)))


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
    "--include",
    "include",
    multiple=True,
    metavar="PATTERN",
    help="Take only files matching this glob in folders and globs (repeatable; case-insensitive; "
    f"default: {' '.join(DEFAULT_INCLUDE)}). Files named on the command line are always read.",
)
@click.option(
    "--exclude",
    "exclude",
    multiple=True,
    metavar="PATTERN",
    help="Leave out files matching this glob in folders and globs (repeatable).",
)
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
    include: tuple[str, ...],
    exclude: tuple[str, ...],
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
    selection = Selection(include=include or DEFAULT_INCLUDE, exclude=exclude)
    try:
        # A dry run reads an existing database read-only (and never creates one); a load waits for another
        # program's SQLite write lock as long as for another load (--wait, at least a second).
        options = {"read_only": True} if dry_run and db.database_exists(db_url) else {}
        if not dry_run:
            options["busy_seconds"] = max(wait_seconds, MIN_BUSY_SECONDS)
        with _engine(db_url, **options) as engine, _progress(quiet or as_json) as progress:
            if dry_run:
                summary = check_load(engine, paths, day, force=force, progress=progress, selection=selection)
            else:
                summary = run_load(
                    engine,
                    paths,
                    day,
                    force=force,
                    wait_seconds=wait_seconds,
                    progress=progress,
                    parse_process=parse_process,
                    selection=selection,
                )
    except EtlError as exc:
        if as_json:
            status = "locked" if isinstance(exc, LockNotAcquired) else "failed"
            exit_status = EXIT_LOCKED if isinstance(exc, LockNotAcquired) else EXIT_FAILURE
            click.echo(json.dumps({"status": status, "exit_status": exit_status, "message": db.redact(str(exc))}))
        raise
    exit_status = EXIT_REJECTS if summary.status == "partial" else EXIT_OK
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "exit_status": exit_status}, default=str))
    elif not quiet:
        if summary.dry_run:
            for line in dry_run_lines(summary):
                click.echo(line)
        click.echo(summary_line(summary))
    elif exit_status == EXIT_REJECTS:  # -q prints errors only, and a scheduler's mail needs this one
        click.echo(rejects_line(summary), err=True)
    sys.exit(exit_status)


def rejects_line(summary: RunSummary) -> str:
    """The one line ``load -q`` prints when something was rejected."""
    refused = summary.counts["files_refused"]
    return (
        f"run {summary.run_id} finished with rejects: {refused} files refused, {summary.rejects} records or fields "
        f"rejected; see `papers-etl runs show {summary.run_id}`"
    )


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
            click.echo(f"refused {printable(result.message, one_line=True)}", err=True)


class _ProgressBar(_RefusalLines):
    """On a terminal: a bar over the bytes of all the files, the time left, and the records read (on stderr).

    Within a file, the bar moves by the text of the records parsed (a little short of the bytes: blank lines
    and banners are not counted), and jumps to the file's end when it is done, so a run of a few large files
    moves too.
    """

    def __init__(self, console: Console):
        from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeRemainingColumn

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
        self.bar.update(self.task, description=printable(path.name, one_line=True)[-40:])

    def records_read(self, count: int, size: int = 0) -> None:
        self.records += count
        self.file_bytes += size
        self.bar.update(self.task, records=self.records, completed=self.done_bytes + self.file_bytes)

    def file_done(self, result: FileResult) -> None:
        if result.status == "refused":
            self.console.print(
                f"refused {printable(result.message or '', one_line=True)}", markup=False, highlight=False
            )
        self.done_bytes += self.sizes.get(result.path, self.file_bytes)
        self.bar.update(self.task, completed=self.done_bytes)


def _size(path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # vanished: it will be refused at its turn
        return 0


def _stderr_console() -> Console:
    from rich.console import Console

    return Console(stderr=True)


@contextmanager
def _progress(quiet: bool) -> Iterator[LoadProgress]:
    console = None if quiet else _stderr_console()
    if console is None or not console.is_terminal:
        yield _RefusalLines(quiet)
        return
    progress = _ProgressBar(console)
    with progress.bar:
        yield progress


def summary_line(summary: RunSummary) -> str:
    c = summary.counts
    ignored = f"; {summary.ignored} files left out by --include/--exclude" if summary.ignored else ""
    if summary.dry_run:
        return (
            f"dry run, nothing written: {c['files_seen']} files ({c['files_loaded']} to load, "
            f"{c['files_skipped']} already loaded, {c['files_refused']} refused); {c['records_read']} records, "
            f"about {c['papers_inserted']} new papers, {summary.duplicates} duplicates, {summary.rejects} rejects"
            f"{ignored}"
        )
    unchanged = f", of which {summary.unchanged} unchanged" if summary.unchanged else ""
    return (
        f"run {summary.run_id} {summary.status}: {c['files_seen']} files "
        f"({c['files_loaded']} loaded{unchanged}, {c['files_skipped']} already loaded, {c['files_refused']} refused); "
        f"{c['records_read']} records, {c['papers_inserted']} new papers, {summary.duplicates} duplicates, "
        f"{summary.rejects} rejects{ignored}"
    )


@main.command("fetch")
@click.argument("dest_dir", metavar="DEST_DIR", type=click.Path(file_okay=False, path_type=Path))
@click.option("--date", "date", metavar="YYYY-MM-DD", help="Fetch this day's listing.")
@click.option("--from", "start", metavar="YYYY-MM-DD", help="Fetch every day from this one (to --to, or today).")
@click.option("--to", "end", metavar="YYYY-MM-DD", help="Last day of --from (default: today, UTC).")
@click.option("--week", metavar="YYYY-Www", help="Fetch the days of this ISO week, e.g. 2025-W11.")
@click.option("--month", metavar="YYYY-MM", help="Fetch the days of this month, e.g. 2025-03.")
@click.option("--refresh", is_flag=True, help="Fetch days already saved again (today and yesterday always are).")
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=fetch.FetchOptions.timeout,
    show_default=True,
    metavar="SECONDS",
    help="How long to wait for each answer before retrying.",
)
@click.option(
    "--retries",
    type=click.IntRange(min=0),
    default=fetch.FetchOptions.retries,
    show_default=True,
    help="Retries of a request answered 408, 429 or 5xx, timed out or cut off.",
)
@click.option(
    "--backoff",
    type=click.FloatRange(min=0),
    default=fetch.FetchOptions.backoff,
    show_default=True,
    metavar="SECONDS",
    help="First wait between retries, doubled after each (up to a minute); Retry-After is honoured instead.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object on stdout.")
@click.pass_context
@reports_errors
def fetch_command(
    ctx: click.Context,
    dest_dir: Path,
    date: str | None,
    start: str | None,
    end: str | None,
    week: str | None,
    month: str | None,
    refresh: bool,
    timeout: float,
    retries: int,
    backoff: float,
    as_json: bool,
) -> None:
    """Fetch the Hub's daily papers listings into DEST_DIR/daily_papers/YYYY-MM-DD.json.

    Through huggingface_hub: HF_ENDPOINT and HF_TOKEN (or the stored token) apply.
    Without a date option: from the latest day already saved (or yesterday) to
    today, UTC. Days already saved are skipped, except today and yesterday.
    Exit status: 0 every day fetched or skipped; 1 some days failed; 2 usage
    error; 3 the run stopped (token refused, endpoint unreachable, folder not
    writable).
    """
    quiet = ctx.meta.get(QUIET, False)
    today = fetch.utc_today()
    try:
        days = fetch.days_to_fetch(dest_dir, date=date, start=start, end=end, week=week, month=month, today=today)
    except DateRangeError as exc:
        raise UsageFailure(str(exc)) from None
    options = fetch.FetchOptions(refresh=refresh, timeout=timeout, retries=retries, backoff=backoff)
    _hub_logging()
    with _fetch_progress(quiet or as_json) as progress:
        summary = fetch.fetch(dest_dir, days, options, progress, today=today)
    exit_status = {"succeeded": EXIT_OK, "partial": EXIT_REJECTS}.get(summary.status, EXIT_FAILURE)
    if as_json:
        click.echo(json.dumps({**summary.as_dict(), "exit_status": exit_status}))
    elif not quiet:
        click.echo(fetch_summary_line(summary))
    if summary.message:
        raise EtlFailure(summary.message)
    sys.exit(exit_status)


def fetch_summary_line(summary: fetch.FetchSummary) -> str:
    papers = sum(d.papers or 0 for d in summary.fetched)
    return (
        f"fetch {summary.status}: {len(summary.fetched)} days fetched ({papers} papers), "
        f"{len(summary.skipped)} already fetched, {len(summary.failed)} failed; in {summary.folder}"
    )


def _hub_logging() -> None:
    """huggingface_hub logs its retries ("Retrying in 2s") and the server's X-HF-Warning headers through a
    handler of its own, on the stderr of the moment it was imported. Give it ours instead: the current stderr,
    our format, the level of -q and -v, and every message with control characters escaped (a header is server
    text, and must not reach the terminal raw)."""
    hub_logger = logging.getLogger("huggingface_hub")
    for handler in list(hub_logger.handlers):
        hub_logger.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_escape_record)
    hub_logger.addHandler(handler)
    hub_logger.setLevel(logging.getLogger().getEffectiveLevel())
    hub_logger.propagate = False


def _escape_record(record: logging.LogRecord) -> bool:
    record.msg, record.args = fetch.printable(record.getMessage()), None
    return True


class _FailedDayLines(fetch.Progress):
    """Off a terminal: name each failed day on stderr, one line each."""

    def __init__(self, quiet: bool):
        self.quiet = quiet

    def day_done(self, result: fetch.DayResult) -> None:
        if result.status == fetch.FAILED and not self.quiet:
            click.echo(f"failed {result.day}: {result.reason}", err=True)


class _FetchBar(_FailedDayLines):
    """On a terminal: a bar over the days (on stderr)."""

    def __init__(self, console: Console):
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        super().__init__(quiet=False)
        self.console = console
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("days · {task.fields[papers]} papers"),
            TimeElapsedColumn(),
            console=console,
            transient=True,
        )
        self.task = self.bar.add_task("fetching", total=None, papers=0)
        self.papers = 0

    def start(self, days) -> None:
        self.bar.update(self.task, total=len(days))

    def day_started(self, day) -> None:
        self.bar.update(self.task, description=day.isoformat())

    def day_done(self, result: fetch.DayResult) -> None:
        if result.status == fetch.FAILED:
            self.console.print(f"failed {result.day}: {result.reason}", markup=False, highlight=False)
        self.papers += result.papers or 0
        self.bar.update(self.task, papers=self.papers)
        self.bar.advance(self.task)


@contextmanager
def _fetch_progress(quiet: bool) -> Iterator[fetch.Progress]:
    console = None if quiet else _stderr_console()
    if console is None or not console.is_terminal:
        yield _FailedDayLines(quiet)
        return
    progress = _FetchBar(console)
    with progress.bar:
        yield progress


@main.command("rebuild")
@db_option
@reports_errors
def rebuild_command(db_url: str | None) -> None:
    """Re-derive papers and paper_links from the raw text kept in listings.

    Run it after upgrading papers-etl when the parsing or deduplication rules
    changed: the result is what a fresh load of the same files gives. One
    transaction; paper_ids are kept where a paper still exists.
    """
    with _engine(db_url, must_exist=True) as engine:
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
    order = db.revision_order()  # oldest first
    if revision != "head" and revision not in order:
        raise UsageFailure(f"unknown revision {revision!r}; give head or one of {', '.join(order)}")
    target = order[-1] if revision == "head" else revision
    with _engine(db_url) as engine:
        current = db.current_revision(engine)
        where = db.safe_url(engine.url)
        if current == target:
            click.echo(f"{where} is already at revision {current}; nothing to do")
            return
        if current in order and order.index(current) > order.index(target):
            raise EtlFailure(
                f"{where} is at revision {current}, after {target}: `db upgrade` only moves forward. "
                f"To go back (it may drop data), run `alembic downgrade {target}` in a checkout"
            )
        db.upgrade(engine, target)
        click.echo(f"{where} is at revision {db.current_revision(engine)}")


@db_group.command("current")
@db_option
@reports_errors
def db_current(db_url: str | None) -> None:
    """Show the database's schema revision and whether it is the latest."""
    with _engine(db_url, read_only=True) as engine:
        current, head = db.current_revision(engine), db.head_revision()
    state = "up to date" if current == head else f"latest is {head}; run `papers-etl db upgrade`"
    click.echo(f"{db.safe_url(engine.url)}: revision {current or 'none (empty database)'} ({state})")


@main.group("runs", invoke_without_command=True)
@click.option(
    "--limit", default=20, show_default=True, type=click.IntRange(min=1), help="How many recent runs to list."
)
@output.format_options()
@db_option
@click.pass_context
@reports_errors
def runs_group(ctx: click.Context, limit: int, fmt: str, db_url: str | None) -> None:
    """List recent load runs with their counts (newest first)."""
    if ctx.invoked_subcommand is not None:
        return
    with _engine(db_url, read_only=True) as engine, db.database_errors(engine.url):
        rows = load.recent_runs(engine, limit) if _has_schema(engine) else []
    if not rows and fmt == "table":
        click.echo(f"no runs yet in {db.safe_url(engine.url)}; `papers-etl load PATH...` records one")
        return
    output.write(RUN_COLUMNS, (tuple(getattr(r, c) for c in RUN_COLUMNS) for r in rows), fmt)


RUN_COLUMNS = ("run_id", "started_at", "finished_at", "status", *load.RUN_COUNT_COLUMNS, "message")
REJECT_COLUMNS = ("reject_id", "run_id", "level", "path", "line_no", "reason", "excerpt")


@runs_group.command("show")
@click.argument("run_id", metavar="RUN_ID|last")
@output.format_options()
@db_option
@click.pass_context
@reports_errors
def runs_show(ctx: click.Context, run_id: str, fmt: str, db_url: str | None) -> None:
    """Show one run (or the last one), its counts and every reject it recorded.

    As a table: the run, then its rejects. --json: one object, the run's columns and "rejects" (an array);
    --csv, --tsv, --nl: the rejects, one row each.
    """
    if run_id != "last" and not run_id.isdigit():
        raise UsageFailure(f"{run_id!r} is not a run id; give a number (`papers-etl runs` lists them) or last")
    with _engine(_group_db_url(ctx, db_url), read_only=True) as engine, db.database_errors(engine.url):
        if not _has_schema(engine):
            run, found = None, []
        else:
            wanted = load.last_run_id(engine) if run_id == "last" else int(run_id)
            run, found = load.run_with_rejects(engine, wanted) if wanted is not None else (None, [])
    if run is None:
        what = "no run yet" if run_id == "last" else f"no run {run_id}"
        raise EtlFailure(f"{what} in {db.safe_url(engine.url)}; `papers-etl runs` lists the runs")
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


def _group_db_url(ctx: click.Context, db_url: str | None) -> str | None:
    """The database of a subcommand whose group takes --db too (``runs --db B show 1``): the one
    given on the command line, wherever it stands; two different ones are refused."""
    given = [
        (url, context)
        for url, context in ((db_url, ctx), (ctx.parent.params.get("db_url"), ctx.parent))
        if context.get_parameter_source("db_url") == ParameterSource.COMMANDLINE
    ]
    if len({url for url, _ in given}) > 1:
        raise UsageFailure("--db is given twice, with two different databases; give it once")
    return given[0][0] if given else db_url


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
    with _engine(db_url, read_only=True) as engine, db.database_errors(engine.url):
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
    with _engine(db_url, read_only=True) as engine, db.database_errors(engine.url):
        if not _has_schema(engine):
            raise EtlFailure(f"no tables yet in {db.safe_url(engine.url)}; `papers-etl load PATH...` creates them")
        if output_path is None:
            count = export.export(engine, name, fmt, sys.stdout)
        else:
            with export.atomic_output(output_path) as out:
                count = export.export(engine, name, fmt, out)
    if output_path:
        click.echo(printable(f"wrote {count} rows of {name} to {output_path}", one_line=True), err=True)


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
@click.option(
    "--timeout",
    type=click.FloatRange(min=0),
    default=query.DEFAULT_TIMEOUT_SECONDS,
    show_default=True,
    metavar="SECONDS",
    help="Stop the statement after this long (0: no limit). Ctrl-C cancels it too.",
)
@db_option
@reports_errors
def query_command(
    sql: str | None,
    sql_file,
    params: tuple[tuple[str, str], ...],
    fmt: str,
    max_rows: int,
    timeout: float,
    db_url: str | None,
) -> None:
    """Run one read-only SQL statement (SELECT ...) and print the result; statements that write are refused.

    SQL is the statement, or '-' to read it from standard input (or give --file). Named parameters
    (:name) take their values from -p name value, always bound, never pasted into the SQL.
    """
    statement = _statement(sql, sql_file)
    with query.run_query(db_url, statement, dict(params), timeout) as result:
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
            '(README: "Dashboards on PostgreSQL")'
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
