"""Untrusted text never reaches the terminal raw, credentials are never printed or stored (issue 15)."""

from __future__ import annotations

import csv
import io
import json

import pytest
import sqlalchemy as sa
from conftest import _postgres_url
from pages import GARDENS, compact_page
from test_reliability import fill_the_disk, many_pages

from etl import db
from etl.cli import EXIT_FAILURE, EXIT_OK, EXIT_REJECTS, main
from etl.errors import ConfigError
from etl.terminal import printable

ESCAPES = "\x1b]0;owned\x07\x1b[2J\x9b31m\u202e\x7f"
SHOWN = "\\x1b]0;owned\\x07\\x1b[2J\\x9b31m\\u202e\\x7f"


# --------------------------------------------------------------------------- printable


def test_printable_escapes_terminal_controls_and_keeps_text():
    assert printable(f"Rényi ∑ 😀 {ESCAPES} end") == f"Rényi ∑ 😀 {SHOWN} end"
    assert printable("a\tb\nc") == "a\tb\nc"
    assert printable("a\nb\r", one_line=True) == "a\\x0ab\\x0d"
    assert printable("caf\udce9.txt") == "caf\\xe9.txt"  # a file name byte that is not UTF-8


def test_printable_leaves_no_control_character_whatever_the_input():
    every = "".join(map(chr, range(0x250))) + "\u2028\u2066\u2069"
    shown = printable(every, one_line=True)
    assert not [
        c for c in shown.replace("\t", "") if (ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or c in "\u2028\u2066\u2069")
    ]


# --------------------------------------------------------------------------- untrusted text in every output

TITLE = f"Evil {ESCAPES} Title About Gardens"


@pytest.fixture
def hostile_db(runner, db_url, page_dir):
    folder = page_dir(
        {
            "a.txt": compact_page([(TITLE, "An abstract about gardens and escape sequences.")])
            + f"\nCut {ESCAPES} Short",
            f"name{ESCAPES}.txt": "",
        }
    )
    result = runner.invoke(main, ["load", "--db", db_url, str(folder)])
    assert result.exit_code == EXIT_REJECTS, result.output
    assert "\x1b" not in result.output and "\x9b" not in result.output
    assert f"refused {folder}/name{SHOWN}.txt: the file is empty" in result.stderr
    return db_url


@pytest.mark.parametrize(
    "command",
    [
        ["search", "gardens", "--table"],  # the human-readable format (the default on a terminal)
        ["query", "SELECT raw_title, raw_abstract FROM listings", "--table"],  # the raw text keeps the controls
        ["runs", "show", "1", "--table"],
        ["runs", "--table"],
        ["-v", "load", "--dry-run", "{folder}"],
    ],
    ids=" ".join,
)
def test_human_readable_outputs_escape_terminal_sequences(runner, hostile_db, command, page_dir):
    folder = page_dir({})
    arguments = [arg.format(folder=folder) for arg in command]
    result = runner.invoke(main, [*arguments, "--db", hostile_db], env={"COLUMNS": "1000"})  # no wrapped cells

    assert result.exit_code in (EXIT_OK, EXIT_REJECTS), result.output
    for control in ("\x1b", "\x07", "\x9b", "\u202e", "\x7f"):
        assert control not in result.output
    if command[0] == "search":  # titles lost their control characters when normalised
        assert "Evil" in result.stdout
    if command[0] == "query":
        assert "Evil" in result.stdout and "\\x1b" in result.stdout
    if command[:2] == ["runs", "show"]:
        assert f"Cut {SHOWN} Short" in result.stdout  # the excerpt of the truncated record


def test_json_and_csv_outputs_stay_exact(runner, hostile_db):
    # Normalised titles lose control characters (issue 12); the raw text keeps them, byte for byte.
    clean = " ".join(TITLE.translate({c: None for c in [*range(0, 32), *range(0x7F, 0xA0)]}).split())
    found = runner.invoke(main, ["search", "gardens", "--json", "--db", hostile_db])
    assert json.loads(found.stdout)[0]["title"] == clean

    queried = runner.invoke(main, ["query", "--csv", "SELECT raw_title FROM listings", "--db", hostile_db])
    assert list(csv.reader(io.StringIO(queried.stdout))) == [["raw_title"], [TITLE]]

    exported = runner.invoke(main, ["export", "listings", "--format", "jsonl", "--db", hostile_db])
    assert json.loads(exported.stdout.splitlines()[0])["raw_title"] == TITLE


def test_rich_markup_in_a_title_is_shown_as_text(runner, db_url, page_dir):
    title = "Gardens [bold red]of[/] [link=http://x]Markup[/link]"
    folder = page_dir({"a.txt": compact_page([(title, GARDENS[1])])})
    runner.invoke(main, ["load", "--db", db_url, str(folder)])

    result = runner.invoke(main, ["query", "SELECT title FROM papers", "--db", db_url])

    assert result.exit_code == EXIT_OK and "[bold red]of[/]" in result.stdout


# --------------------------------------------------------------------------- credentials


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://etl:hunter22@db/papers", "postgresql://etl:***@db/papers"),
        ("postgresql://etl@db/papers?password=hunter22", "postgresql://etl@db/papers?password=***"),
        (
            "postgresql://etl@db/papers?sslmode=require&sslpassword=hunter22&application_name=etl",
            "postgresql://etl@db/papers?sslmode=require&sslpassword=***&application_name=etl",
        ),
        ("postgresql://etl:hun@ter22@db/papers", "postgresql://etl:***@db/papers"),
        ("sqlite:////srv/a@b:c/papers.db", "sqlite:////srv/a@b:c/papers.db"),
    ],
)
def test_safe_url_masks_every_credential_form(url, shown):
    assert db.safe_url(url) == shown


def test_an_unencoded_at_in_a_password_is_refused_with_how_to_encode_it():
    with pytest.raises(ConfigError) as info:
        db.normalise_url("postgresql://etl:hun@ter22@db/papers")
    message = str(info.value)
    assert "ter22" not in message and "hun" not in message
    assert "@ as %40" in message and "urllib.parse.quote" in message


def test_a_password_in_the_query_is_neither_printed_nor_logged(runner, page_dir):
    url = "postgresql://etl@127.0.0.1:1/papers?password=hunter22&sslpassword=keypass99"
    result = runner.invoke(main, ["-vv", "load", "--db", url, str(page_dir({"a.txt": compact_page([GARDENS])}))])

    assert result.exit_code == EXIT_FAILURE
    assert "hunter22" not in result.output and "keypass99" not in result.output
    assert "password=***" in result.stderr


def test_a_credential_is_never_stored_in_the_run_record(runner, request, page_dir, engine_of):
    db_url = _postgres_url(request)  # PostgreSQL only: SQLite URLs carry no credentials
    user_part, _, rest = db_url.partition("@")
    secret_url = f"{user_part.split(':', 2)[0]}:{user_part.split(':', 2)[1]}:Userinfo5ecret@{rest}"
    secret_url += "?password=Query5ecret"  # the server trusts local users: the passwords are not checked
    engine = engine_of(secret_url)
    db.upgrade(engine)
    fill_the_disk(engine, after_files=1)

    result = runner.invoke(main, ["load", "--db", secret_url, str(many_pages(page_dir, 3))])

    assert result.exit_code == EXIT_FAILURE
    with engine.connect() as conn:
        messages = " ".join(conn.execute(sa.text("SELECT message FROM etl_runs")).scalars())
    assert "the disk is full" in messages
    for secret in ("Userinfo5ecret", "Query5ecret"):
        assert secret not in messages and secret not in result.output
