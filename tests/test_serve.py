"""papers-etl serve: Datasette metadata made from the dictionary and the examples, and a real browser
(headless Chromium, the distribution's package) on the index, a table, a canned query and the dashboard."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import analyst_pages as ap
import pytest
from conftest import PROJECT_ROOT

from etl import dictionary, serve
from etl.cli import EXIT_USAGE, main
from etl.pipeline import run_load

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "browser"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip


def test_metadata_describes_every_table_view_and_column_from_the_dictionary():
    tables = serve.metadata("papers")["databases"]["papers"]["tables"]

    for relation in dictionary.relations("sqlite"):
        assert tables[relation.name]["description"] == dictionary.plain(relation.description)
        assert set(tables[relation.name]["columns"]) == {c.name for c in relation.columns}
    assert tables["alembic_version"] == {"hidden": True}
    assert tables["paper_summary"]["columns"]["has_code"].startswith("1 when the paper links")


def test_every_example_is_a_canned_query_with_its_named_parameters():
    queries = serve.canned_queries("sqlite")

    examples = {p.name.split(".")[0] for p in (PROJECT_ROOT / "sql" / "examples").glob("*.sql")}
    assert len(queries) == len(examples)
    assert ":terms" in queries["search_titles_and_abstracts"]["sql"]
    assert ":from" in queries["papers_first_seen_in_a_date_range"]["sql"]
    assert "MATCH" in queries["search_titles_and_abstracts"]["sql"]  # the SQLite variant
    assert all(q["title"] and not q["title"].startswith("--") for q in queries.values())


def test_a_chart_is_one_entry_and_every_chart_is_on_the_dashboard():
    charts = serve.dashboard("papers")["charts"]

    assert list(charts) == list(serve.CHARTS)
    assert all(c["library"] == "vega-lite" and c["db"] == "papers" for c in charts.values())


def test_serve_refuses_postgresql_and_a_missing_file(runner, tmp_path):
    pg = runner.invoke(main, ["serve", "--db", "postgresql://u@127.0.0.1/x"])
    missing = runner.invoke(main, ["serve", "--db", f"sqlite:///{tmp_path / 'none.db'}"])

    assert pg.exit_code == EXIT_USAGE and "BI tool" in pg.stderr
    assert missing.exit_code != 0 and "no database file" in missing.stderr and not (tmp_path / "none.db").exists()


# --------------------------------------------------------------------------- a real browser


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + 60  # start-up only: not an assertion on speed
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"papers-etl serve exited: {process.stderr.read()}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.2)
    pytest.fail("papers-etl serve did not listen within a minute")


@pytest.fixture
def served(tmp_path, page_dir):
    """papers-etl serve on a free loopback port over a database loaded with the analyst pages."""
    from etl import db

    engine = db.create_engine(f"sqlite:///{tmp_path / 'papers.db'}")
    run_load(engine, [page_dir(ap.PAGES)])
    engine.dispose()
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "etl.cli", "serve", "--port", str(port), "--db", f"sqlite:///{tmp_path / 'papers.db'}"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        cwd=PROJECT_ROOT,
    )
    try:
        _wait_for_port(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture
def browser(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is absent: apt-get install chromium (.ci/run installs it)")
    playwright_api = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[test]' installs playwright")
    profile = tmp_path / "chromium-profile"
    with playwright_api.sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile), executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield context
        context.close()


def _open(context, url: str):
    """The page at ``url`` with the browser errors it raised; a screenshot in test-artifacts/browser/."""
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    response = page.goto(url, wait_until="networkidle")
    return page, response, errors


def _screenshot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _no_error_shown(page) -> None:
    assert page.locator(".message-error").count() == 0, page.locator(".message-error").all_inner_texts()
    assert "Traceback" not in page.content()


def test_a_real_browser_sees_the_index_a_table_a_canned_query_and_the_dashboard(served, browser):
    pages = {
        "index": f"{served}/",
        "table": f"{served}/papers/paper_summary",
        "canned-query": f"{served}/papers/papers_first_seen_in_a_date_range?from=2026-03-03&to=2026-03-31",
        "dashboard": f"{served}/-/dashboards/{serve.DASHBOARD}",
    }
    seen = {}
    for name, url in pages.items():
        page, response, errors = _open(browser, url)
        if name == "dashboard":  # every chart drew its SVG or canvas (vega-embed runs after the page loads)
            for slug in serve.CHARTS:
                page.wait_for_selector(f"#chart-{slug} svg, #chart-{slug} canvas", timeout=30_000)
        _screenshot(page, name)
        assert response.status == 200, (name, response.status)
        _no_error_shown(page)
        assert errors == [], (name, errors)
        seen[name] = page

    assert "paper_summary" in seen["index"].content() and "alembic_version" not in seen["index"].content()
    assert seen["table"].locator('a[href$="/papers/papers/1"]').count() >= 1  # paper_id links to the paper
    assert "One row per paper" in seen["table"].content()  # the dictionary's description
    canned = seen["canned-query"].content()
    assert ap.D[0] in canned and ap.C[0] not in canned  # D first listed on 03-03; C on 03-02
    for slug in serve.CHARTS:
        assert seen["dashboard"].locator(f"#chart-{slug} svg, #chart-{slug} canvas").count() >= 1, slug
    assert os.listdir(ARTIFACTS)


def test_the_dashboard_date_filter_narrows_the_charts(served, browser):
    one_day = "date_start=2026-03-03&date_end=2026-03-03"
    page, response, errors = _open(browser, f"{served}/-/dashboards/{serve.DASHBOARD}?{one_day}")
    page.wait_for_selector("#chart-new-papers-per-day svg, #chart-new-papers-per-day canvas", timeout=30_000)
    _screenshot(page, "dashboard-filtered")

    assert response.status == 200 and errors == []
    assert page.locator("#date_start").input_value() == "2026-03-03"
    # One listing day is left: one bar in the per-day chart.
    assert page.locator("#chart-new-papers-per-day path[aria-roledescription='bar']").count() == 1


def test_key_columns_are_hidden_from_table_pages_but_not_from_the_data(served, browser):
    page, response, errors = _open(browser, f"{served}/papers/listings")
    _screenshot(page, "listings")

    assert response.status == 200 and errors == []
    assert "_nocol=abstract_key" in page.url and "_nocol=title_key" in page.url
    headers = page.locator("table.rows-and-columns th").all_inner_texts()
    assert any("raw_title" in h for h in headers)
    assert not any("abstract_key" in h or "title_key" in h for h in headers)
    data = page.request.get(f"{served}/papers/listings.json?_shape=array&_size=1").json()
    assert {"title_key", "abstract_key"} <= set(data[0])
