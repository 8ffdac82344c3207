"""The papers-etl command line, through click's CliRunner, on both engines."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import click
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT
from pages import GARDENS, WAVELETS, compact_page, daily_meta_page, daily_page

from etl import db
from etl.cli import EXIT_FAILURE, EXIT_LOCKED, EXIT_OK, EXIT_REJECTS, EXIT_USAGE, main

SUMMARY_RE = re.compile(
    r"^run (?P<run>\d+) (?P<status>\w+): (?P<files>\d+) files \((?P<loaded>\d+) loaded, (?P<skipped>\d+) already "
    r"loaded, (?P<refused>\d+) refused\); (?P<records>\d+) records, (?P<new>\d+) new papers, "
    r"(?P<duplicates>\d+) duplicates, (?P<rejects>\d+) rejects$"
)


def summary(output: str) -> dict[str, str]:
    match = SUMMARY_RE.match(output.strip().splitlines()[-1])
    assert match, output
    return match.groupdict()


def test_load_prints_a_summary_and_exits_0(runner, db_url, page_dir):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS, GARDENS]), "b.txt": compact_page([WAVELETS])})

    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_OK, result.output
    assert summary(result.output) == {
        "run": "1", "status": "succeeded", "files": "2", "loaded": "2", "skipped": "0", "refused": "0",
        "records": "3", "new": "2", "duplicates": "1", "rejects": "0",
    }  # fmt: skip


def test_rerun_skips_everything_and_still_exits_0(runner, db_url, page_dir):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS])})
    runner.invoke(main, ["load", "--db", db_url, str(folder)])

    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_OK
    assert summary(result.output)["skipped"] == "1" and summary(result.output)["new"] == "0"


def test_rejected_fields_exit_1(runner, db_url, page_dir):
    folder = page_dir({"m.txt": daily_meta_page("Jan 8", [(*WAVELETS, "  • 2 authors", "Feb 30, 2023")])})

    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_REJECTS
    assert summary(result.output)["rejects"] == "1"


def test_a_refused_file_is_named_on_stderr_and_exits_1(runner, db_url, page_dir):
    folder = page_dir({"good.txt": compact_page([WAVELETS]), "empty.txt": ""})

    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_REJECTS
    assert f"refused {folder / 'empty.txt'}: the file is empty" in result.stderr
    assert summary(result.stdout)["loaded"] == "1"


def test_a_missing_path_is_one_line_and_exits_3(runner, tmp_path):
    result = runner.invoke(main, ["load", "--db", f"sqlite:///{tmp_path / 'p.db'}", str(tmp_path / "nope")])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip() == f"Error: {tmp_path / 'nope'}: no such file, folder or matching glob; check the " \
        "path (quote globs so the shell keeps them)"  # fmt: skip


def test_globs_are_expanded(runner, db_url, page_dir):
    folder = page_dir({"2026-03-12.txt": compact_page([WAVELETS]), "2026-03-13.txt": compact_page([GARDENS]),
                       "notes.md": "not a capture"})  # fmt: skip

    result = runner.invoke(main, ["load", "--db", db_url, str(folder / "2026-*.txt")])

    assert result.exit_code == EXIT_OK, result.output
    assert summary(result.output)["files"] == "2"


def test_listed_on_option_must_be_a_date(runner, tmp_path):
    result = runner.invoke(main, ["load", "--listed-on", "12/03/2026", str(tmp_path)])
    assert result.exit_code == EXIT_USAGE
    assert "YYYY-MM-DD" in result.output or "%Y-%m-%d" in result.output


def test_database_url_from_the_environment(runner, tmp_path, page_dir, monkeypatch):
    monkeypatch.setenv(db.ENV_VAR, f"sqlite:///{tmp_path / 'env.db'}")
    result = runner.invoke(main, ["load", str(page_dir({"a.txt": compact_page([WAVELETS])}))])
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "env.db").exists()


def test_default_database_is_papers_db_in_the_working_directory(runner, page_dir, monkeypatch, tmp_path):
    monkeypatch.delenv(db.ENV_VAR, raising=False)
    folder = page_dir({"a.txt": compact_page([WAVELETS])})
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(main, ["load", str(folder)])
    assert result.exit_code == EXIT_OK, result.output
    assert (tmp_path / "papers.db").exists()


def test_unreachable_database_is_one_line_without_password(runner, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS])})

    result = runner.invoke(main, ["load", "--db", "postgresql://etl:hunter2@127.0.0.1:1/papers", str(folder)])

    assert result.exit_code == EXIT_FAILURE
    assert "hunter2" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert "etl:***@127.0.0.1:1/papers" in result.stderr


def test_db_upgrade_and_current(runner, db_url):
    if db_url.startswith("sqlite"):
        Path(db_url.removeprefix("sqlite:///")).touch()  # an empty database (a missing file is refused)
    before = runner.invoke(main, ["db", "current", "--db", db_url])
    assert before.exit_code == 0 and "none (empty database)" in before.output

    upgraded = runner.invoke(main, ["db", "upgrade", "--db", db_url])
    assert upgraded.exit_code == 0, upgraded.output
    assert f"revision {db.head_revision()}" in upgraded.output

    after = runner.invoke(main, ["db", "current", "--db", db_url])
    assert f"revision {db.head_revision()} (up to date)" in after.output


def test_runs_lists_recent_runs_and_show_lists_rejects(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": "random notes"})
    runner.invoke(main, ["load", "--db", db_url, str(folder)])
    runner.invoke(main, ["load", "--db", db_url, str(folder)])

    listed = runner.invoke(main, ["runs", "--table", "--db", db_url], env={"COLUMNS": "250"})
    assert listed.exit_code == 0, listed.output
    run_lines = [line for line in listed.output.splitlines() if re.match(r"^│ \d", line)]
    assert [line.split("│")[1].strip() for line in run_lines] == ["2", "1"]
    assert [line.split("│")[4].strip() for line in run_lines] == ["partial", "partial"]

    shown = runner.invoke(main, ["runs", "show", "1", "--json", "--db", db_url])
    assert shown.exit_code == 0, shown.output
    run = json.loads(shown.output)
    assert (run["run_id"], run["files_refused"], run["status"]) == (1, 1, "partial")
    assert [(r["level"], r["path"], r["line_no"]) for r in run["rejects"]] == [("file", str(folder / "b.txt"), 1)]
    assert run["rejects"][0]["reason"].startswith("unknown layout")

    missing = runner.invoke(main, ["runs", "show", "99", "--db", db_url])
    assert missing.exit_code == EXIT_FAILURE and "no run 99" in missing.output


def _commands(group: click.Group, prefix: str = "papers-etl"):
    for name, command in group.commands.items():
        yield f"{prefix} {name}", command
        if isinstance(command, click.Group):
            yield from _commands(command, f"{prefix} {name}")


ALL_COMMANDS = list(_commands(main))


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[name for name, _ in ALL_COMMANDS])
def test_every_command_has_help_and_is_in_the_readme(runner, name, command):
    assert command.help and command.help.strip(), f"{name} has no help text"
    result = runner.invoke(main, [*name.split()[1:], "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output
    assert f"`{name}" in (PROJECT_ROOT / "README.md").read_text(encoding="utf-8"), f"{name} is not in the README"


@pytest.mark.parametrize(("name", "command"), ALL_COMMANDS, ids=[name for name, _ in ALL_COMMANDS])
def test_every_option_of_every_command_is_in_the_readme(name, command):
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for param in command.params:
        for option in [*param.opts, *param.secondary_opts]:
            if option.startswith("--") and option != "--help":
                assert f"`{option}" in readme or f" {option}" in readme, f"{name} {option} is not in the README"


def test_the_readme_documents_every_exit_status():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    for status in (EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_FAILURE, EXIT_LOCKED):
        assert re.search(rf"^\| `?{status}`? \|", readme, re.MULTILINE), f"exit status {status} missing from README"


def test_an_internal_error_is_one_line_not_a_traceback(runner, tmp_path, monkeypatch):
    import etl.cli

    def broken(*args, **kwargs):
        raise KeyError("surprise")

    monkeypatch.setattr(etl.cli, "run_load", broken)
    result = runner.invoke(main, ["load", "--db", f"sqlite:///{tmp_path / 'p.db'}", str(tmp_path)])

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip() == (
        "Error: internal error (KeyError: 'surprise'); run again with -vv to see where, and report it"
    )


def test_the_readme_first_command_loads_the_examples_cleanly(runner, db_url):
    result = runner.invoke(main, ["load", "--db", db_url, str(PROJECT_ROOT / "examples")])

    assert result.exit_code == EXIT_OK, result.output
    loaded = summary(result.output)
    # 3 pages of 5 papers; 3 papers repeat across pages, one of them under a LaTeX variant of its title.
    assert (loaded["files"], loaded["loaded"], loaded["records"], loaded["new"]) == ("3", "3", "15", "12")
    assert (loaded["duplicates"], loaded["rejects"]) == ("3", "0")


def test_runs_on_a_new_database_says_so_and_creates_no_schema(runner, db_url):
    if db_url.startswith("sqlite"):
        Path(db_url.removeprefix("sqlite:///")).touch()  # an empty database (a missing file is refused)
    result = runner.invoke(main, ["runs", "--table", "--db", db_url])

    assert result.exit_code == 0, result.output
    assert "no runs yet" in result.output
    engine = db.create_engine(db_url)
    assert db.current_revision(engine) is None
    engine.dispose()


def test_rebuild_rederives_papers_from_listings(runner, db_url, page_dir):
    folder = page_dir({"2026-03-12.txt": daily_page("Mar 12", [WAVELETS, GARDENS])})
    assert runner.invoke(main, ["load", "--db", db_url, str(folder)]).exit_code == EXIT_OK

    result = runner.invoke(main, ["rebuild", "--db", db_url])

    assert result.exit_code == EXIT_OK, result.output
    assert result.output.strip() == "rebuilt 2 papers from 2 listings (0 papers changed)"


# --------------------------------------------------------------------------- operator output (issue 4)


def test_json_prints_one_machine_readable_summary(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS]), "b.txt": "plain notes"})

    result = runner.invoke(main, ["load", "--json", "--db", db_url, str(folder)])

    assert result.exit_code == EXIT_REJECTS
    report = json.loads(result.stdout)
    assert (report["run_id"], report["status"], report["exit_status"], report["dry_run"]) == (1, "partial", 1, False)
    assert (report["files_seen"], report["files_loaded"], report["files_refused"], report["papers_inserted"]) == (
        2, 1, 1, 2,
    )  # fmt: skip
    assert [(f["path"], f["status"]) for f in report["files"]] == [
        (str(folder / "a.txt"), "loaded"),
        (str(folder / "b.txt"), "refused"),
    ]
    assert report["files"][1]["message"].startswith(f"{folder / 'b.txt'}:1: unknown layout")


def test_json_reports_a_failure_too(runner, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS])})

    result = runner.invoke(main, ["load", "--json", "--db", "postgresql://etl:hunter2@127.0.0.1:1/p", str(folder)])

    assert result.exit_code == EXIT_FAILURE
    report = json.loads(result.stdout)
    assert (report["status"], report["exit_status"]) == ("failed", EXIT_FAILURE)
    assert "etl:***@127.0.0.1:1/p" in report["message"] and "hunter2" not in result.output


def test_quiet_prints_nothing_but_errors(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS])})
    page_dir({"b.txt": compact_page([GARDENS])})

    loaded = runner.invoke(main, ["-q", "load", "--db", db_url, str(folder)], env={"TTY_COMPATIBLE": "1"})
    failed = runner.invoke(main, ["-q", "load", "--db", db_url, str(folder / "missing.txt")])

    assert (loaded.exit_code, loaded.stdout, loaded.stderr) == (EXIT_OK, "", "")
    assert failed.exit_code == EXIT_FAILURE and "missing.txt: no such file" in failed.stderr


def test_quiet_names_a_run_with_rejects_in_one_line_and_runs_show_last_shows_it(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": ""})
    runner.invoke(main, ["load", "--db", db_url, str(folder / "a.txt")])

    loaded = runner.invoke(main, ["-q", "load", "--db", db_url, str(folder)])

    assert (loaded.exit_code, loaded.stdout) == (EXIT_REJECTS, "")
    assert loaded.stderr == (
        "run 2 finished with rejects: 1 files refused, 0 records or fields rejected; see `papers-etl runs show 2`\n"
    )
    last = runner.invoke(main, ["runs", "show", "last", "--json", "--db", db_url])
    shown = json.loads(last.output)
    assert last.exit_code == EXIT_OK and (shown["run_id"], shown["status"]) == (2, "partial")
    assert [(r["level"], r["path"]) for r in shown["rejects"]] == [("file", str(folder / "b.txt"))]
    assert shown["rejects"][0]["reason"].startswith("the file is empty")


def test_verbose_logs_each_file_and_debug_logs_sql(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": ""})

    verbose = runner.invoke(main, ["-v", "load", "--db", db_url, str(folder)])
    page_dir({"c.txt": compact_page([GARDENS])})
    debug = runner.invoke(main, ["-vv", "load", "--db", db_url, str(folder)])

    assert f"INFO etl.pipeline: {folder / 'a.txt'}: loaded (1 records)" in verbose.stderr
    assert f"INFO etl.pipeline: {folder / 'b.txt'}: refused (0 records): {folder / 'b.txt'}: the file is" in (
        verbose.stderr
    )
    assert "INSERT INTO papers" not in verbose.stderr
    assert "INSERT INTO source_files" in debug.stderr  # Core statements are logged as SQL
    assert "writing 1 rows into papers" in debug.stderr  # bulk writes (COPY / executemany) by table


def test_parse_process_option_chooses_where_files_are_parsed(runner, db_url, page_dir):
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": compact_page([GARDENS])})

    here = runner.invoke(main, ["-vv", "load", "--no-parse-process", "--db", db_url, str(folder / "a.txt")])
    worker = runner.invoke(main, ["-vv", "load", "--parse-process", "--db", db_url, str(folder / "b.txt")])

    assert here.exit_code == worker.exit_code == EXIT_OK, (here.output, worker.output)
    assert "parsing in a second process" not in here.stderr
    assert "parsing in a second process (pid " in worker.stderr
    assert "1 records, 1 new papers" in here.output and "1 records, 1 new papers" in worker.output


def test_a_terminal_gets_a_progress_bar_of_bytes_records_and_time_left(runner, db_url, page_dir):
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS, GARDENS]), "b.txt": compact_page([WAVELETS])})
    total = sum(path.stat().st_size for path in folder.iterdir())

    on_terminal = runner.invoke(main, ["load", "--db", db_url, str(folder)], env={"TTY_COMPATIBLE": "1"})
    off_terminal = runner.invoke(main, ["load", "--force", "--db", db_url, str(folder)])

    assert on_terminal.exit_code == EXIT_OK, on_terminal.output
    assert f"{total}/{total} bytes" in on_terminal.stderr and "· 3 records ·" in on_terminal.stderr
    assert re.search(r"\d+:\d\d:\d\d|-:--:--", on_terminal.stderr)  # the time left
    assert summary(on_terminal.stdout)["loaded"] == "2"
    assert off_terminal.stderr == ""


def test_exit_statuses_are_distinct():
    statuses = [EXIT_OK, EXIT_REJECTS, EXIT_USAGE, EXIT_FAILURE, EXIT_LOCKED]
    assert len(set(statuses)) == len(statuses)


# --------------------------------------------------------------------------- bad configuration (issue 4)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "<unparseable database URL> is not a database URL"),
        ("mysql://etl:hunter2@db/papers", "etl:***@db/papers: only SQLite and PostgreSQL are supported"),
        ("postgresql://etl:hunter2@127.0.0.1:1/papers", "etl:***@127.0.0.1:1/papers: connection"),
        ("sqlite:////no/such/folder/papers.db", "folder /no/such/folder does not exist"),
    ],
)
def test_a_bad_url_or_a_server_down_is_one_line_and_exits_3(runner, page_dir, url, expected):
    result = runner.invoke(main, ["load", "--db", url, str(page_dir({"a.txt": compact_page([WAVELETS])}))])

    assert result.exit_code == EXIT_FAILURE
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.output
    assert expected in result.stderr and "hunter2" not in result.output


@pytest.mark.parametrize("wrong", ["user", "database"])
def test_a_wrong_postgres_user_or_database_is_one_line_without_password(runner, page_dir, wrong):
    # The test server trusts every local user, so a wrong password cannot be produced here; a wrong
    # role or database name fails at the same place (connecting) through the same message path.
    user, name = ("nobody_here", "postgres") if wrong == "user" else ("postgres", "no_such_database_here")
    url = f"postgresql://{user}:hunter2@127.0.0.1:5432/{name}"

    result = runner.invoke(main, ["load", "--db", url, str(page_dir({"a.txt": compact_page([WAVELETS])}))])

    assert result.exit_code == EXIT_FAILURE
    assert len(result.stderr.strip().splitlines()) == 1 and "hunter2" not in result.output
    assert f"{user}:***@127.0.0.1:5432/{name}" in result.stderr and "does not exist" in result.stderr


def test_a_password_is_never_printed_logged_or_stored(runner, db_url, page_dir):
    if not db_url.startswith("postgresql"):
        return  # a SQLite URL has no password
    with_password = db_url.replace("postgres@", "postgres:s3cret-pw@")
    folder = page_dir({"a.txt": compact_page([WAVELETS]), "b.txt": "notes"})

    result = runner.invoke(main, ["-vv", "load", "--db", with_password, str(folder)])
    shown = runner.invoke(main, ["runs", "show", "1", "--db", with_password])

    assert result.exit_code == EXIT_REJECTS, result.output
    assert "s3cret-pw" not in result.output + shown.output


def test_a_database_at_a_newer_revision_is_refused(runner, db_url, page_dir):
    engine = db.create_engine(db_url)
    db.upgrade(engine)
    with engine.begin() as conn:
        conn.execute(sa.text("UPDATE alembic_version SET version_num = 'ffffffffffff'"))
    engine.dispose()

    result = runner.invoke(main, ["load", "--db", db_url, str(page_dir({"a.txt": compact_page([WAVELETS])}))])

    assert result.exit_code == EXIT_FAILURE
    assert "is at schema revision ffffffffffff, unknown to this papers-etl (newer?); upgrade papers-etl" in (
        result.stderr
    )


def test_a_database_at_an_older_revision_is_refused(runner, db_url, page_dir, monkeypatch):
    engine = db.create_engine(db_url)
    db.upgrade(engine)
    engine.dispose()
    monkeypatch.setattr(db, "head_revision", lambda: "a_later_revision")  # as if papers-etl had been upgraded

    result = runner.invoke(main, ["load", "--db", db_url, str(page_dir({"a.txt": compact_page([WAVELETS])}))])

    assert result.exit_code == EXIT_FAILURE
    assert "this papers-etl needs a_later_revision; run `papers-etl db upgrade` first" in result.stderr


def test_db_upgrade_validates_the_revision(runner, db_url):
    unknown = runner.invoke(main, ["db", "upgrade", "--revision", "9999", "--db", db_url])
    assert unknown.exit_code == EXIT_USAGE
    assert unknown.stderr == f"Error: unknown revision '9999'; give head or one of {', '.join(db.revision_order())}\n"

    assert runner.invoke(main, ["db", "upgrade", "--db", db_url]).exit_code == EXIT_OK
    head = db.head_revision()
    again = runner.invoke(main, ["db", "upgrade", "--revision", head, "--db", db_url])
    assert again.exit_code == EXIT_OK and f"already at revision {head}; nothing to do" in again.output

    down = runner.invoke(main, ["db", "upgrade", "--revision", "0003", "--db", db_url])
    assert down.exit_code == EXIT_FAILURE
    assert f"is at revision {head}, after 0003: `db upgrade` only moves forward" in down.stderr
    assert "alembic downgrade 0003" in down.stderr


@pytest.mark.parametrize("parse_process", [False, True])
def test_the_progress_bar_counts_bytes_across_files_and_moves_within_a_file(tmp_path, page_dir, parse_process):
    import io

    from pages import write_big_daily_page
    from rich.console import Console

    from etl import cli
    from etl.pipeline import run_load

    folder = page_dir({"a.txt": compact_page([WAVELETS, GARDENS]), "c.txt": "not a page"})
    big = folder / "b-2026-03-12.txt"
    write_big_daily_page(big, 2)
    sizes = {path.name: path.stat().st_size for path in folder.iterdir()}
    screen = io.StringIO()
    bar = cli._ProgressBar(Console(file=screen, force_terminal=True, width=120))
    seen: list[float] = []
    read = bar.records_read
    bar.records_read = lambda count, size=0: (read(count, size), seen.append(bar.bar.tasks[0].completed))
    engine = db.create_engine(f"sqlite:///{tmp_path / 'papers.db'}")

    with bar.bar:
        run_load(engine, [folder], parse_process=parse_process, progress=bar)
    engine.dispose()

    task = bar.bar.tasks[0]
    assert task.total == task.completed == sum(sizes.values())
    inside_big = [c for c in seen if sizes["a.txt"] < c < sizes["a.txt"] + sizes["b-2026-03-12.txt"]]
    assert len(inside_big) >= 3, "the bar should move while the big file loads, not only when it is done"
    assert task.fields["records"] > 1000
    assert "refused" in screen.getvalue()


def test_starting_a_command_imports_neither_the_http_client_nor_rich_nor_the_markdown_or_yaml_parser():
    """A scheduled load starts many times a day: what only fetch, a terminal or a Markdown page needs is
    imported when it is needed (a re-run of loaded files is mostly the interpreter's start)."""
    heavy = ("huggingface_hub", "httpx2", "rich", "markdown_it", "yaml")
    probe = f"import sys, etl.cli; print(','.join(m for m in {heavy!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""


def test_a_rerun_of_loaded_files_imports_no_parser_transform_or_planner(runner, db_url, page_dir):
    """A scheduled re-run that finds every file loaded is mostly the interpreter's start: what
    parsing, transforming and planning papers need is imported at the first file to parse."""
    folder = page_dir({"a.txt": daily_page("Mar 12", [WAVELETS, GARDENS])})
    assert runner.invoke(main, ["load", "--db", db_url, str(folder)]).exit_code == EXIT_OK
    heavy = ("etl.transform", "etl.dedup", "etl.load.files", "etl.load.plan", "multiprocessing", "pylatexenc",
             "rapidfuzz", "dateutil", "lxml")  # fmt: skip
    probe = (
        "import sys\nfrom etl.cli import main\n"
        f"try:\n    main(['-q', 'load', '--db', {db_url!r}, {str(folder)!r}])\n"
        "except SystemExit as exit:\n    print(exit.code)\n"
        f"print(','.join(m for m in {heavy!r} if m in sys.modules))"
    )

    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)

    assert done.stdout.split("\n")[:2] == ["0", ""], done.stdout + done.stderr
    newest = json.loads(runner.invoke(main, ["runs", "--db", db_url, "--json", "--limit", "1"]).output)[0]
    assert (newest["run_id"], newest["status"], newest["files_skipped"]) == (2, "succeeded", 1)
