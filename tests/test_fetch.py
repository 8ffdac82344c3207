"""papers-etl fetch: daily listings from a stub of the Hub's papers API on 127.0.0.1, never the internet.

The stub answers in the API's shape (field names from huggingface_hub's PaperInfo, which
parses them), and with errors, slow answers and rate limits. "Today" is fixed.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import logging
import socket
import threading

import huggingface_hub.utils._http as hub_http
import pytest
import sqlalchemy as sa
from conftest import PROJECT_ROOT
from huggingface_hub import HfApi
from huggingface_hub.hf_api import PaperInfo
from werkzeug import Response

import etl.fetch
from etl import db
from etl.cli import EXIT_FAILURE, EXIT_OK, EXIT_REJECTS, EXIT_USAGE, main
from etl.fetch import FetchOptions, days_to_fetch, fetch

TODAY = dt.date(2025, 3, 14)
TOKEN = "hf_testtokenNEVERprinted0123456789"
QUICK = ["--backoff", "0", "--retries", "2"]  # no waiting between retries


@pytest.fixture(scope="session")
def httpserver_listen_address():
    return ("127.0.0.1", 0)


@pytest.fixture
def hub(httpserver, monkeypatch, tmp_path):
    """The stub Hub: HF_ENDPOINT points at it (set after huggingface_hub was imported), no token anywhere,
    and any connection to another host than 127.0.0.1 fails loudly."""

    def local_only(host, *args, **kwargs):
        if host not in ("127.0.0.1", b"127.0.0.1"):
            raise OSError(f"a fetch test tried to reach {host!r}: tests never leave 127.0.0.1")
        return resolve(host, *args, **kwargs)

    resolve = socket.getaddrinfo
    monkeypatch.setattr(socket, "getaddrinfo", local_only)
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("/").rstrip("/"))
    monkeypatch.delenv("HF_TOKEN", raising=False)
    monkeypatch.delenv("HUGGING_FACE_HUB_TOKEN", raising=False)
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setattr(hub_http.constants, "HF_TOKEN_PATH", str(tmp_path / "no-stored-token"))
    monkeypatch.setattr(etl.fetch, "utc_today", lambda: TODAY)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # the stub's request log is not the command's output
    return httpserver


def entry(n: int, day: dt.date) -> dict:
    """One entry of a daily papers answer, with the fields huggingface_hub's PaperInfo reads."""
    paper_id = f"2503.{n:05d}"
    title = f"Paper {n} <b>\x1b[31mred</b>"
    summary = f"Abstract of paper {n}. Code: https://github.com/lab/repo{n}"
    return {
        "paper": {
            "id": paper_id,
            "authors": [
                {"_id": f"a{n}1", "name": "Ada Lovelace", "hidden": False, "user": {"_id": "u1", "user": "ada"}},
                {"_id": f"a{n}2", "name": "Alan Turing", "hidden": False},
            ],
            "publishedAt": f"{day.isoformat()}T09:00:00.000Z",
            "submittedOnDailyAt": f"{day.isoformat()}T10:00:00.000Z",
            "title": title,
            "summary": summary,
            "upvotes": 10 + n,
            "discussionId": f"d{n}",
            "githubRepo": f"https://github.com/lab/repo{n}",
            "githubStars": 100 * n,
            "projectPage": f"https://lab.example/{n}",
            "ai_summary": "A short summary.",
            "ai_keywords": ["diffusion"],
        },
        "publishedAt": f"{day.isoformat()}T09:00:00.000Z",
        "title": title,
        "summary": summary,
        "numComments": n % 3,
        "submittedBy": {"_id": "s1", "user": "akhaliq", "fullname": "AK", "type": "user"},
        "organization": {"_id": "o1", "name": "lab", "fullname": "The Lab"},
        "thumbnail": f"https://cdn.example/{paper_id}.png",
        "isAuthorParticipating": False,
    }


def answer(day: dt.date, count: int = 2) -> bytes:
    """A daily answer as the API sends it: compact JSON, non-ASCII as is."""
    return json.dumps([entry(n, day) for n in range(1, count + 1)], separators=(",", ":")).encode()


def serve(hub, day: dt.date, body: bytes | None = None, **respond) -> bytes:
    body = answer(day) if body is None else body
    hub.expect_request("/api/daily_papers", query_string={"limit": "100", "date": day.isoformat()}).respond_with_data(
        body, content_type="application/json", **respond
    )
    return body


def fetch_cli(runner, dest, *args):
    return runner.invoke(main, ["fetch", str(dest), *QUICK, *args])


def saved(dest, day: dt.date):
    return dest / "daily_papers" / f"{day.isoformat()}.json"


def leftovers(dest) -> list[str]:
    folder = dest / "daily_papers"
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".")) if folder.exists() else []


# --------------------------------------------------------------------------- the request and the file


def test_a_day_is_saved_byte_for_byte_and_the_request_is_the_librarys(runner, hub, tmp_path):
    day = dt.date(2025, 3, 12)
    body = serve(hub, day, answer(day).replace(b"Ada", "Adà".encode()))

    result = fetch_cli(runner, tmp_path / "out", "--date", "2025-03-12")

    assert result.exit_code == EXIT_OK, result.output
    assert saved(tmp_path / "out", day).read_bytes() == body
    assert leftovers(tmp_path / "out") == []
    ours = hub.log[-1][0]
    # The same request through huggingface_hub's own method hits the same stub.
    papers = list(HfApi(endpoint=hub.url_for("/").rstrip("/")).list_daily_papers(date="2025-03-12", limit=100))
    theirs = hub.log[-1][0]
    assert (ours.path, list(ours.args.items(multi=True))) == (theirs.path, list(theirs.args.items(multi=True)))
    assert [p.id for p in papers] == ["2503.00001", "2503.00002"]
    assert ours.headers["User-Agent"].startswith("papers-etl/")
    folder = tmp_path / "out" / "daily_papers"
    assert (
        result.stdout.strip() == f"fetch succeeded: 1 days fetched (2 papers), 0 already fetched, 0 failed; in {folder}"
    )


def test_the_stub_answers_in_the_shape_huggingface_hub_reads():
    paper = PaperInfo(**json.loads(answer(TODAY))[0])

    # PaperInfo reads these from a daily entry's paper object (githubRepo and githubStars it reads only at the
    # top level, as /api/papers/{id} answers; the stub has them in the paper object, as the daily answer does).
    assert (paper.id, paper.upvotes, paper.discussion_id, paper.summary[:19]) == (
        "2503.00001",
        11,
        "d1",
        "Abstract of paper 1",
    )
    assert [a.name for a in paper.authors] == ["Ada Lovelace", "Alan Turing"]
    assert paper.published_at == dt.datetime(2025, 3, 14, 9, tzinfo=dt.UTC)
    # ...and these from the entry itself.
    assert (paper.title, paper.comments, paper.submitted_by.username, paper.organization.name) == (
        "Paper 1 <b>\x1b[31mred</b>",
        1,
        "akhaliq",
        "lab",
    )


def test_hf_endpoint_is_read_at_run_time_not_at_import(hub, tmp_path, monkeypatch):
    day = dt.date(2025, 3, 10)
    serve(hub, day)
    # huggingface_hub froze the endpoint at import; the variable set since then is what counts.
    assert hub.url_for("/").rstrip("/") != hub_http.constants.ENDPOINT

    summary = fetch(tmp_path, [day], FetchOptions(backoff=0), today=TODAY)

    assert summary.status == "succeeded" and saved(tmp_path, day).exists()
    assert summary.endpoint == hub.url_for("/").rstrip("/")


def test_a_week_is_fetched_day_by_day_and_a_month_stops_at_today(hub, tmp_path):
    assert days_to_fetch(tmp_path, week="2025-W11", today=TODAY) == [dt.date(2025, 3, 10) + dt.timedelta(n)
                                                                     for n in range(5)]  # fmt: skip
    assert days_to_fetch(tmp_path, month="2025-02", today=TODAY)[::27] == [dt.date(2025, 2, 1), dt.date(2025, 2, 28)]
    assert len(days_to_fetch(tmp_path, month="2025-03", today=TODAY)) == 14
    assert days_to_fetch(tmp_path, start="2025-03-12", today=TODAY) == [dt.date(2025, 3, d) for d in (12, 13, 14)]


def test_without_a_date_it_fetches_yesterday_and_today_then_catches_up_from_the_latest_day(runner, hub, tmp_path):
    dest = tmp_path / "out"
    assert days_to_fetch(dest, today=TODAY) == [dt.date(2025, 3, 13), TODAY]
    (dest / "daily_papers").mkdir(parents=True)
    saved(dest, dt.date(2025, 3, 9)).write_bytes(b"[]")
    assert days_to_fetch(dest, today=TODAY) == [dt.date(2025, 3, d) for d in range(9, 15)]

    for d in range(9, 15):
        serve(hub, dt.date(2025, 3, d), b"[]")
    result = fetch_cli(runner, dest, "--json")

    got = json.loads(result.stdout)
    assert result.exit_code == EXIT_OK, result.output
    assert (got["fetched"], got["skipped"], got["failed"]) == (5, 1, 0)
    assert [d["day"] for d in got["days"] if d["status"] == "skipped"] == ["2025-03-09"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--date", "2025-02-30"], "'2025-02-30' is not a date"),
        (["--week", "2025-W54"], "is not an ISO week"),
        (["--month", "2025-13"], "is not a month"),
        (["--date", "2025-03-12", "--week", "2025-W11"], "choose one of --date, --week"),
        (["--to", "2025-03-12"], "--to needs --from"),
        (["--from", "2025-03-12", "--to", "2025-03-01"], "ends (2025-03-01) before it starts"),
        (["--date", "2025-03-15"], "is after today (2025-03-14, UTC)"),
    ],
)
def test_bad_dates_are_usage_errors_in_one_line(runner, hub, tmp_path, args, message):
    result = fetch_cli(runner, tmp_path / "out", *args)

    assert result.exit_code == EXIT_USAGE
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert hub.log == []


# --------------------------------------------------------------------------- incremental


def test_a_saved_day_is_skipped_recent_days_and_refresh_fetch_again(runner, hub, tmp_path):
    old = dt.date(2025, 3, 10)
    for d in range(10, 14):
        serve(hub, dt.date(2025, 3, d))
    dest = tmp_path / "out"
    assert fetch_cli(runner, dest, "--from", "2025-03-10", "--to", "2025-03-13").exit_code == EXIT_OK
    requests = len(hub.log)
    assert requests == 4

    again = fetch_cli(runner, dest, "--from", "2025-03-10", "--to", "2025-03-13", "--json")

    got = json.loads(again.stdout)
    # 03-13 is yesterday: its listing may still change, so it is fetched again; 03-10..12 are skipped.
    assert [d["day"] for d in got["days"] if d["status"] == "fetched"] == ["2025-03-13"]
    assert got["skipped"] == 3 and len(hub.log) == requests + 1
    assert got["days"][0]["paths"] == [str(saved(dest, old))]

    refreshed = fetch_cli(runner, dest, "--date", "2025-03-10", "--refresh")
    assert refreshed.exit_code == EXIT_OK and len(hub.log) == requests + 2


def test_a_refreshed_day_replaces_its_file_with_the_new_answer(hub, tmp_path):
    day = dt.date(2025, 3, 13)
    hub.expect_oneshot_request("/api/daily_papers").respond_with_data(answer(day, 1))
    newer = serve(hub, day, answer(day, 3))

    fetch(tmp_path, [day], FetchOptions(backoff=0), today=TODAY)
    assert json.loads(saved(tmp_path, day).read_bytes())[0]["paper"]["id"] == "2503.00001"
    summary = fetch(tmp_path, [day], FetchOptions(backoff=0), today=TODAY)

    assert saved(tmp_path, day).read_bytes() == newer
    assert summary.fetched[0].papers == 3


def test_a_full_page_is_followed_by_the_next_pages_each_saved_raw(hub, tmp_path, monkeypatch):
    monkeypatch.setattr(etl.fetch, "PAGE_SIZE", 2)
    day = dt.date(2025, 3, 11)
    pages = [answer(day, 2), answer(day, 2).replace(b"2503.", b"2504."), answer(day, 1).replace(b"2503.", b"2505.")]
    for n, body in enumerate(pages):
        params = {"limit": "2", "date": "2025-03-11", **({"p": str(n)} if n else {})}
        hub.expect_request("/api/daily_papers", query_string=params).respond_with_data(body)
    stale = saved(tmp_path, day).with_name("2025-03-11.p5.json")
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"[]")

    summary = fetch(tmp_path, [day], FetchOptions(backoff=0), today=TODAY)

    folder = tmp_path / "daily_papers"
    assert sorted(p.name for p in folder.iterdir()) == ["2025-03-11.json", "2025-03-11.p1.json", "2025-03-11.p2.json"]
    assert [(folder / n).read_bytes() for n in ("2025-03-11.json", "2025-03-11.p1.json", "2025-03-11.p2.json")] == pages
    assert summary.fetched[0].papers == 5


# --------------------------------------------------------------------------- errors, retries, exit statuses


def test_5xx_is_retried_then_the_day_is_saved(runner, hub, tmp_path):
    day = dt.date(2025, 3, 12)
    for status in (500, 503):
        hub.expect_oneshot_request("/api/daily_papers").respond_with_data("busy", status=status)
    body = serve(hub, day)

    result = fetch_cli(runner, tmp_path, "--date", "2025-03-12")

    assert result.exit_code == EXIT_OK, result.output
    assert saved(tmp_path, day).read_bytes() == body and len(hub.log) == 3


def test_429_waits_as_retry_after_says(hub, tmp_path, monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr(hub_http.time, "sleep", waits.append)
    day = dt.date(2025, 3, 12)
    hub.expect_oneshot_request("/api/daily_papers").respond_with_data("slow down", status=429,
                                                                      headers={"Retry-After": "7"})  # fmt: skip
    hub.expect_oneshot_request("/api/daily_papers").respond_with_data("oops", status=502)
    serve(hub, day)

    summary = fetch(tmp_path, [day], FetchOptions(backoff=0.25, retries=3), today=TODAY)

    assert summary.status == "succeeded"
    # Retry-After: 7 (huggingface_hub adds a second), then the exponential backoff's first step.
    assert waits == [8.0, 0.5]


def test_retries_are_bounded_and_a_failed_day_does_not_stop_the_others(runner, hub, tmp_path):
    bad, good = dt.date(2025, 3, 11), dt.date(2025, 3, 12)
    serve(hub, bad, b'{"error": "\\u001b[2Jboom\\u001b]0;owned\\u0007"}', status=500)
    serve(hub, good)

    result = fetch_cli(runner, tmp_path, "--from", "2025-03-11", "--to", "2025-03-12")

    assert result.exit_code == EXIT_REJECTS
    assert len([r for r, _ in hub.log if r.args["date"] == "2025-03-11"]) == 3  # 1 + --retries 2
    [line] = [line for line in result.stderr.splitlines() if line.startswith("failed ")]
    assert "[Retry 2/2]" in result.stderr  # huggingface_hub's retry log, through ours
    assert line.startswith("failed 2025-03-11: HTTP 500 after 2 retries from http://127.0.0.1:")
    assert "\x1b" not in result.output and "\x07" not in result.output and "boom" in line
    assert not saved(tmp_path, bad).exists() and saved(tmp_path, good).exists()
    assert "fetch partial: 1 days fetched (2 papers), 0 already fetched, 1 failed" in result.stdout


def test_a_404_fails_that_day_at_once(runner, hub, tmp_path):
    serve(hub, dt.date(2025, 3, 12), b"not here", status=404)

    result = fetch_cli(runner, tmp_path, "--date", "2025-03-12", "--json")

    got = json.loads(result.stdout)
    assert result.exit_code == EXIT_REJECTS and got["exit_status"] == EXIT_REJECTS
    assert got["status"] == "partial" and got["failed"] == 1 and len(hub.log) == 1
    assert got["days"][0]["reason"].startswith("HTTP 404 from ")


def test_a_slow_answer_times_out_and_fails_the_day(hub, tmp_path):
    release = threading.Event()

    def slow(request):
        release.wait(2)
        return Response(answer(TODAY), content_type="application/json")

    hub.expect_request("/api/daily_papers").respond_with_handler(slow)
    try:
        summary = fetch(tmp_path, [dt.date(2025, 3, 12)], FetchOptions(timeout=0.05, retries=0), today=TODAY)
    finally:
        release.set()

    assert summary.status == "partial"
    assert summary.failed[0].reason.startswith("no answer within 0.05 s from http://127.0.0.1:")
    assert list((tmp_path / "daily_papers").iterdir()) == []


@pytest.mark.parametrize(
    "body",
    [b'[{"paper": {"id": "2503.00001", "title": "cut', b"<html>Sign in</html>", b'{"error": "nope"}', b'[1, 2]',
     b"[" * 100_000],
    ids=["truncated", "html", "object", "wrong entries", "deep nesting"],
)  # fmt: skip
def test_an_answer_that_is_not_a_daily_list_is_not_saved_and_the_old_file_stays(hub, tmp_path, body):
    day = dt.date(2025, 3, 10)
    folder = tmp_path / "daily_papers"
    folder.mkdir()
    saved(tmp_path, day).write_bytes(b"[]")
    serve(hub, day, body)

    summary = fetch(tmp_path, [day], FetchOptions(refresh=True, backoff=0), today=TODAY)

    assert summary.status == "partial" and "nothing was saved" in summary.failed[0].reason
    assert saved(tmp_path, day).read_bytes() == b"[]" and leftovers(tmp_path) == []


def test_a_failed_write_leaves_no_partial_file(hub, tmp_path, monkeypatch):
    day = dt.date(2025, 3, 10)
    serve(hub, day)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(etl.fetch.os, "fsync", disk_full)
    summary = fetch(tmp_path, [day], FetchOptions(backoff=0), today=TODAY)

    assert summary.status == "failed" and "No space left on device" in summary.message
    assert list((tmp_path / "daily_papers").iterdir()) == []


@pytest.mark.parametrize("status", [401, 403])
def test_a_refused_token_stops_the_run_in_one_line_and_never_shows_the_token(runner, hub, tmp_path, monkeypatch,
                                                                              status):  # fmt: skip
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    hub.expect_request("/api/daily_papers", headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_json(
        {"error": "Invalid credentials in Authorization header"}, status=status
    )

    result = runner.invoke(main, ["-vv", "fetch", str(tmp_path), "--from", "2025-03-10", "--json", *QUICK])

    assert result.exit_code == EXIT_FAILURE
    assert len(hub.log) == 1  # not retried, and the next days are not tried
    error = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert error == [f"Error: HTTP {status} from {hub.url_for('/api/daily_papers')}?limit=100&date=2025-03-10: "
                     "the Hub refused the token; check HF_TOKEN (or `hf auth login`)"]  # fmt: skip
    got = json.loads(result.stdout)
    assert got["status"] == "failed" and got["exit_status"] == EXIT_FAILURE and got["days"] == []
    everything = result.output + "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert TOKEN not in everything


def test_the_token_is_sent_and_never_written(runner, hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    day = dt.date(2025, 3, 12)
    hub.expect_request("/api/daily_papers", headers={"Authorization": f"Bearer {TOKEN}"}).respond_with_data(answer(day))

    result = runner.invoke(main, ["-vv", "fetch", str(tmp_path), "--date", "2025-03-12", "--json"])

    assert result.exit_code == EXIT_OK, result.output
    everything = result.output + "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert TOKEN not in everything and "Ada Lovelace" in everything


def test_an_unreachable_endpoint_stops_the_run_with_status_3(runner, hub, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", "http://user:pw@127.0.0.1:9")  # discard port: nothing listens

    result = fetch_cli(runner, tmp_path, "--from", "2025-03-10")

    assert result.exit_code == EXIT_FAILURE
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: cannot reach http://127.0.0.1:9/api/daily_papers (ConnectError); check the network and HF_ENDPOINT"
    )


def test_hf_hub_offline_stops_the_run_with_status_3(runner, hub, tmp_path, monkeypatch):
    # huggingface_hub reads HF_HUB_OFFLINE once, at import (a command's process starts with it set).
    monkeypatch.setattr(hub_http.constants, "HF_HUB_OFFLINE", True)

    result = fetch_cli(runner, tmp_path, "--date", "2025-03-12")

    assert result.exit_code == EXIT_FAILURE and hub.log == []
    assert result.stderr.strip().splitlines()[-1] == (
        "Error: HF_HUB_OFFLINE is set: huggingface_hub makes no requests; unset it to fetch"
    )


def test_a_folder_that_cannot_be_created_stops_the_run_with_status_3(runner, hub, tmp_path):
    (tmp_path / "file").write_text("x")

    result = fetch_cli(runner, tmp_path / "file" / "out", "--date", "2025-03-12")

    assert result.exit_code == EXIT_FAILURE and hub.log == []
    assert result.stderr.strip().splitlines()[-1].startswith(f"Error: cannot create {tmp_path / 'file' / 'out'}")


def test_a_file_where_the_folder_should_be_is_a_usage_error(runner, hub, tmp_path):
    (tmp_path / "file").write_text("x")

    assert fetch_cli(runner, tmp_path / "file", "--date", "2025-03-12").exit_code == EXIT_USAGE


def test_quiet_prints_nothing_on_success(runner, hub, tmp_path):
    serve(hub, dt.date(2025, 3, 12))

    result = runner.invoke(main, ["-q", "fetch", str(tmp_path), "--date", "2025-03-12"])

    assert result.exit_code == EXIT_OK and result.output == ""


def test_every_fetch_option_is_in_the_readme():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    command = main.commands["fetch"]
    options = [opt for param in command.params for opt in getattr(param, "opts", []) if opt.startswith("--")]
    assert {"--date", "--from", "--to", "--week", "--month", "--refresh", "--timeout", "--json"} <= set(options)
    for option in options:
        if option != "--help":
            assert f"`{option}" in readme, f"fetch {option} is not in the README"


def test_on_a_terminal_a_progress_bar_of_days_goes_to_stderr(runner, hub, tmp_path, monkeypatch):
    monkeypatch.setenv("TTY_COMPATIBLE", "1")  # rich: treat stderr as a terminal
    serve(hub, dt.date(2025, 3, 11), b"gone", status=404)
    serve(hub, dt.date(2025, 3, 12))

    result = fetch_cli(runner, tmp_path, "--from", "2025-03-11", "--to", "2025-03-12")
    as_json = fetch_cli(runner, tmp_path, "--date", "2025-03-12", "--json")

    assert result.exit_code == EXIT_REJECTS
    assert "days · " in result.stderr and "papers" in result.stderr and "\x1b[" in result.stderr
    assert "failed 2025-03-11: HTTP 404 from " in result.stderr
    assert result.stdout.startswith("fetch partial: 1 days fetched (2 papers)")
    assert as_json.exit_code == EXIT_OK and "days · " not in as_json.stderr


def test_a_server_warning_header_reaches_stderr_escaped(runner, hub, tmp_path):
    day = dt.date(2025, 3, 12)
    # Latin-1 on the wire: \x9b is the one-byte form of the terminal's "control sequence introducer".
    serve(hub, day, headers={"X-HF-Warning": "papers-etl-test; mind \x9b2J the gap"})

    result = fetch_cli(runner, tmp_path, "--date", "2025-03-12")

    assert result.exit_code == EXIT_OK, result.output
    assert "WARNING huggingface_hub.utils._http: mind \\x9b2J the gap" in result.stderr
    assert "\x9b" not in result.output


# --------------------------------------------------------------------------- acceptance: every input, one set of papers
#
# Three papers, each in two to four kinds of capture:
# - the API's answer for 2025-03-14 (served by the stub, saved by `fetch`): P1, P2, P3, with names, stars, pages;
# - a saved HTML page of that day (its cards' data in data-props): P1, P2;
# - a plain-text daily page with card metadata: P1 (2 authors, as the API says) and P3 (4 authors: the API
#   names 3, so this count disagrees: a field reject);
# - a Markdown capture of a search page: P2 and P3, with their ids and upvotes.

ACCEPTANCE_DAY = dt.date(2025, 3, 14)
PAPERS = {
    "2503.30001": (
        "Quartz Clocks for Geo-Distributed Databases",
        "Loosely synchronised quartz clocks bound the commit wait of a geo-distributed database; we show how "
        "to keep the bound tight under clock drift. Code: https://github.com/quartz/qc",
        [("Ada Lovelace", "ada"), ("Alan Turing", None)],
        "https://github.com/quartz/qc",
    ),
    "2503.30002": (
        "Pebble Sort: Cache-Oblivious Sorting on Small Devices",
        "A cache-oblivious sort for microcontrollers that needs no tuning to the cache size and beats tuned "
        "merge sorts on six boards of very different memory hierarchies.",
        [("Grace Hopper", "grace")],
        "https://github.com/pebble/sort",
    ),
    "2503.30003": (
        "Tide Tables: Forecasting Periodic Signals with Learned Harmonics",
        "Learned harmonics forecast periodic signals such as tides and traffic, beating seasonal baselines on "
        "nine datasets while staying interpretable as a sum of named constituents.",
        [("Edsger Dijkstra", None), ("Barbara Liskov", "liskov"), ("Donald Knuth", None)],
        None,
    ),
}


def api_entry(arxiv_id: str, upvotes: int) -> dict:
    title, abstract, authors, github = PAPERS[arxiv_id]
    stamp = f"{ACCEPTANCE_DAY.isoformat()}T09:00:00.000Z"
    return {
        "paper": {
            "id": arxiv_id,
            "authors": [
                {"_id": f"{arxiv_id}-{i}", "name": name, "hidden": False, **({"user": {"user": user}} if user else {})}
                for i, (name, user) in enumerate(authors)
            ],
            "publishedAt": stamp,
            "submittedOnDailyAt": stamp,
            "title": title,
            "summary": abstract,
            "upvotes": upvotes,
            **({"githubRepo": github, "githubStars": 50} if github else {}),
            "projectPage": f"https://example.org/{arxiv_id}",
        },
        "publishedAt": stamp,
        "title": title,
        "summary": abstract,
        "numComments": 1,
        "submittedBy": {"user": "akhaliq", "fullname": "AK"},
    }


def saved_html_page(entries: list[dict]) -> str:
    props = html.escape(json.dumps({"dailyPapers": entries}), quote=True)
    return (
        '<!DOCTYPE html>\n<html>\n<head>\n<meta charset="utf-8">\n'
        f'<link rel="canonical" href="https://huggingface.co/papers/date/{ACCEPTANCE_DAY.isoformat()}">\n'
        "<title>Daily Papers - Hugging Face</title>\n</head>\n<body>\n"
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{props}"></div>\n'
        "</body>\n</html>\n"
    )


def test_the_same_papers_from_the_api_a_saved_page_text_and_markdown_are_one_set(runner, hub, db_url, tmp_path):
    from pages import daily_meta_page, markdown_page

    serve(hub, ACCEPTANCE_DAY, json.dumps([api_entry(i, 10 + n) for n, i in enumerate(PAPERS)]).encode())
    dest = tmp_path / "captures"
    assert fetch_cli(runner, dest, "--date", ACCEPTANCE_DAY.isoformat()).exit_code == 0
    (dest / "saved.html").write_text(saved_html_page([api_entry("2503.30001", 12), api_entry("2503.30002", 13)]))
    p1, p3 = PAPERS["2503.30001"], PAPERS["2503.30003"]
    (dest / "2025-03-14-daily.txt").write_text(
        daily_meta_page(
            "Mar 14", [(*p1[:2], "  • 2 authors", "Mar 14, 2025"), (*p3[:2], "  • 4 authors", "Mar 14, 2025")]
        )
    )
    (dest / "search.md").write_text(
        "---\nurl: https://huggingface.co/papers?q=clocks\nretrieved: 2025-03-16\n---\n"
        + markdown_page(
            "Mar 16",
            [
                (*PAPERS[i][:2], i, up, len(PAPERS[i][2]), "Mar 14, 2025")
                for i, up in (("2503.30002", 20), ("2503.30003", 30))
            ],
        )
    )

    result = runner.invoke(main, ["load", "--db", db_url, str(dest)])

    assert result.exit_code == 1, result.output  # the one field reject below
    engine = db.create_engine(db_url)
    try:
        with engine.connect() as conn:
            papers = conn.execute(sa.text("SELECT arxiv_id, title, author_count FROM papers ORDER BY arxiv_id")).all()
            authors = conn.execute(
                sa.text(
                    "SELECT p.arxiv_id, a.position, a.name, a.hf_user FROM paper_authors a"
                    " JOIN papers p USING (paper_id) ORDER BY p.arxiv_id, a.position"
                )
            ).all()
            links = conn.execute(
                sa.text(
                    "SELECT p.arxiv_id, k.url, k.found_in FROM paper_links k JOIN papers p USING (paper_id)"
                    " ORDER BY p.arxiv_id, k.url"
                )
            ).all()
            layouts = conn.execute(sa.text("SELECT layout, record_count FROM source_files ORDER BY layout")).all()
            named = conn.execute(sa.text("SELECT arxiv_id, authors FROM paper_summary ORDER BY arxiv_id")).all()
            rejects = conn.execute(sa.text("SELECT level, reason FROM rejects")).all()
    finally:
        engine.dispose()
    assert [tuple(p) for p in papers] == [(i, PAPERS[i][0], len(PAPERS[i][2])) for i in PAPERS]
    assert [tuple(n) for n in named] == [(i, ", ".join(name for name, _ in PAPERS[i][2])) for i in PAPERS]
    assert [tuple(a) for a in authors] == [
        (i, position, name, user) for i in PAPERS for position, (name, user) in enumerate(PAPERS[i][2], start=1)
    ]
    assert [tuple(k) for k in links] == [
        ("2503.30001", "https://example.org/2503.30001", "card"),
        ("2503.30001", "https://github.com/quartz/qc", "both"),  # the card's repository, also in the abstract
        ("2503.30002", "https://example.org/2503.30002", "card"),
        ("2503.30002", "https://github.com/pebble/sort", "card"),
        ("2503.30003", "https://example.org/2503.30003", "card"),
    ]
    assert sorted(tuple(row) for row in layouts) == [
        ("daily_meta", 2),
        ("markdown", 2),
        ("papers_api", 3),
        ("saved_html", 2),
    ]
    same_paper = "given by another sighting of the same paper; kept 3 (the number of authors a capture names)"
    engine = db.create_engine(db_url)
    try:
        tables = ("papers", "paper_authors", "paper_links")
        with engine.connect() as conn:
            before = {t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1, 2")).all() for t in tables}
        assert runner.invoke(main, ["rebuild", "--db", db_url]).exit_code == 0
        with engine.connect() as conn:
            assert {t: conn.execute(sa.text(f"SELECT * FROM {t} ORDER BY 1, 2")).all() for t in tables} == before
    finally:
        engine.dispose()
    # P3: the text page (loaded first, in file order) says 4; the API answer and the Markdown card, loaded after it,
    # each give 3 (the API names them): a reject for each of those two sightings.
    assert [tuple(r) for r in rejects] == [("field", f"author count 3 disagrees with 4 {same_paper}")] * 2
