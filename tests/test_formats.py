"""Capture formats (etl.formats): detection, wrappers, the text layouts on real-world page shapes,
junk refused, and a format plugged in by a test.

The pages are hand-written under tests/data/formats; the real Markdown captures in
../shared/captures are loaded at the end (skipped with the reason where absent).
"""

from __future__ import annotations

import datetime as dt
import json
import textwrap
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from conftest import rows, scalar
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from etl import db, formats, load
from etl.errors import LayoutError
from etl.extract import parse_page
from etl.formats.banners import is_banner
from etl.formats.base import CaptureFormat, Numbered, PageHead
from etl.formats.wrapper import page_kind
from etl.load.rows import RECENT_PAPERS
from etl.pipeline import rebuild, run_load
from etl.records import LEVEL_FIELD, LEVEL_RECORD, Problem, RawRecord
from etl.transform import parse_comments, transform_record

DATA = Path(__file__).parent / "data" / "formats"


def page(name: str):
    return parse_page((DATA / name).read_text(encoding="utf-8"))


def titles(parsed) -> list[str]:
    return [record.raw_title for record in parsed.records]


# --------------------------------------------------------------------------- wrapped fields


def test_titles_and_abstracts_wrapped_over_lines_are_one_field_each():
    parsed = page("daily_wrapped.txt")
    assert parsed.layout == "daily"
    assert titles(parsed) == [
        "Lighthouse: Long-Horizon Planning with Sparse Landmarks",
        "Tide Tables: Forecasting Periodic Signals with Learned Harmonics",
        "A Short Title on One Line",
    ]
    assert [record.line_no for record in parsed.records] == [11, 18, 24]
    assert parsed.records[0].raw_abstract == (
        "We plan over sparse landmarks instead of dense waypoints, so that an agent "
        "can reach goals hundreds of steps away; code at https://github.com/lighthouse-lab/landmarks."
    )
    assert parsed.records[1].raw_abstract == (
        "Learned harmonics forecast periodic signals such as tides and traffic, "
        "beating seasonal baselines on nine datasets."
    )
    paper, problems = transform_record(parsed.records[0])
    assert problems == [] and [link.repo for link in paper.links] == ["lighthouse-lab/landmarks"]


WORDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzé", min_size=1, max_size=12)
PAPERS = st.lists(
    st.tuples(
        st.lists(WORDS, min_size=2, max_size=12).map(" ".join).map(str.capitalize),
        st.lists(WORDS, min_size=4, max_size=60).map(" ".join).map(lambda text: text.capitalize() + "."),
    ),
    min_size=1,
    max_size=6,
)


def _wrap(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width, break_long_words=False, break_on_hyphens=False)


WIDTHS = st.lists(st.integers(min_value=12, max_value=90), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(papers=PAPERS, widths=WIDTHS, meta=st.booleans())
def test_wrapping_fields_at_any_width_gives_the_same_papers(papers, widths, meta):
    def page_text(width_of) -> str:
        blocks = ["new", "Get trending papers in your email inbox!", "Subscribe", "byAK and the research community"]
        blocks.append("Mar 12")
        for index, (title, abstract) in enumerate(papers):
            blocks.append("\n".join(_wrap(title, width_of(2 * index)) or [title]))
            blocks.append("\n".join(_wrap(abstract, width_of(2 * index + 1)) or [abstract]))
            if meta:
                blocks.append("  • 3 authors\n·\nJun 7, 2023")
        return "\n\n".join(blocks) + "\n"

    flat = parse_page(page_text(lambda _: 10_000))
    wrapped = parse_page(page_text(lambda i: widths[i % len(widths)]))
    assert [(r.raw_title, r.raw_abstract, r.raw_meta) for r in wrapped.records] == [
        (r.raw_title, r.raw_abstract, r.raw_meta) for r in flat.records
    ]
    assert [(r.raw_title, r.raw_abstract) for r in flat.records] == list(papers)
    assert wrapped.problems == flat.problems == []


# --------------------------------------------------------------------------- card metadata in plain text

JAN_3_2026 = dt.date(2026, 1, 3)


def test_every_author_form_date_form_and_comment_count_of_a_card():
    parsed = page("daily_meta_forms.txt")
    assert parsed.layout == "daily_meta" and parsed.problems == []
    results = [transform_record(record, JAN_3_2026) for record in parsed.records]
    assert all(problems == [] for _, problems in results)
    papers = [paper for paper, _ in results]
    assert [paper.author_count for paper in papers] == [13, 3, 671, 1, None, 12]
    assert [paper.published_on for paper in papers] == [
        dt.date(2025, 12, 30),  # "Dec 30" listed on Jan 3: last year
        dt.date(2026, 1, 2),
        dt.date(2024, 12, 28),  # "Published on Dec 28, 2024"
        dt.date(2025, 5, 25),
        dt.date(2025, 12, 31),
        dt.date(2026, 1, 1),
    ]
    assert [parse_comments(record) for record in parsed.records] == [None, 6, None, 2, 3, 4]
    last = parsed.records[-1]
    assert (last.raw_published, last.raw_comments, last.comments_line_no) == ("Jan 1", "4", 60)


def test_an_abstract_that_starts_with_a_bullet_is_an_abstract():
    fjord = page("daily_meta_forms.txt").records[1]
    assert fjord.raw_title == "Fjord Currents: Ocean Models at Ten Metres"
    assert fjord.raw_abstract.startswith("• Ocean models at ten-metre resolution")
    assert fjord.raw_authors == "- 3 authors"


def test_an_organisation_in_place_of_the_author_count_is_no_reject():
    seals = page("daily_meta_forms.txt").records[4]
    assert seals.raw_authors == "OCC"
    paper, problems = transform_record(seals, JAN_3_2026)
    assert paper.author_count is None and problems == []


@pytest.mark.parametrize(
    ("printed", "bound", "expected"),
    [
        ("May 29", dt.date(2026, 6, 1), dt.date(2026, 5, 29)),
        ("May 29", dt.date(2026, 5, 28), dt.date(2025, 5, 29)),
        ("Dec 31", dt.date(2026, 1, 1), dt.date(2025, 12, 31)),
        ("Feb 29", dt.date(2026, 3, 1), dt.date(2024, 2, 29)),
        ("Published on Oct 4, 2026", None, dt.date(2026, 10, 4)),
        ("Mar 13 [ 3]", dt.date(2026, 3, 20), dt.date(2026, 3, 13)),
    ],
)
def test_a_date_without_a_year_is_the_latest_not_after_the_bound(printed, bound, expected):
    record = RawRecord(1, 1, "A Paper Title", "An abstract of the paper.", raw_published=printed)
    paper, problems = transform_record(record, bound)
    assert (paper.published_on, problems) == (expected, [])


def test_a_date_without_a_year_and_nothing_to_bound_it_is_a_field_reject():
    record = RawRecord(1, 1, "A Paper Title", "An abstract of the paper.", raw_published="May 29", published_line_no=7)
    paper, problems = transform_record(record, None)
    assert paper.published_on is None
    assert [(p.level, p.line_no) for p in problems] == [(LEVEL_FIELD, 7)]
    assert "has no year" in problems[0].reason


# --------------------------------------------------------------------------- wrappers and page URLs


@pytest.mark.parametrize(
    ("name", "layout", "url", "kind", "captured", "listed_on", "first_line"),
    [
        (
            "wrapper_front_matter.md",
            "daily",
            "https://huggingface.co/papers/date/2025-03-12",
            "daily",
            dt.datetime(2025, 3, 13, 7, 45, tzinfo=dt.UTC),
            dt.date(2025, 3, 12),
            16,
        ),
        (
            "wrapper_source_facts.txt",
            "daily",
            "https://huggingface.co/papers/week/2025-W11",
            "weekly",
            dt.datetime(2025, 3, 14, tzinfo=dt.UTC),
            None,
            26,
        ),
        ("wrapper_bold_url.txt", "compact", "https://huggingface.co/papers/trending", "trending", None, None, 6),
        ("wrapper_anchors.txt", "daily", None, "unknown", None, None, 17),
    ],
)
def test_capture_wrappers_are_skipped_and_what_they_say_is_kept(
    name, layout, url, kind, captured, listed_on, first_line
):
    parsed = page(name)
    assert parsed.layout == layout
    assert titles(parsed) == [
        "Quartz Clocks for Distributed Databases",
        "Pebble Sort: Cache-Oblivious Sorting on Small Devices",
    ]
    assert parsed.records[0].line_no == first_line
    capture = parsed.capture
    assert (capture.page_url, capture.page_kind, capture.captured_at, capture.listed_on) == (
        url,
        kind,
        captured,
        listed_on,
    )


@pytest.mark.parametrize(
    ("url", "kind", "date"),
    [
        ("https://huggingface.co/papers", "daily", None),
        ("https://huggingface.co/papers?date=2025-03-12", "daily", dt.date(2025, 3, 12)),
        ("https://huggingface.co/papers/date/2025-03-12", "daily", dt.date(2025, 3, 12)),
        ("https://huggingface.co/papers/week/2025-W11", "weekly", None),
        ("https://huggingface.co/papers/month/2025-03", "monthly", None),
        ("https://huggingface.co/papers/trending", "trending", None),
        ("https://huggingface.co/papers?q=source%20citations", "search", None),
        ("https://huggingface.co/papers/2606.00683", "unknown", None),
        ("https://example.org/papers/date/2025-03-12", "unknown", None),
        (None, "unknown", None),
    ],
)
def test_the_page_url_gives_the_page_kind_and_a_dated_page_its_date(url, kind, date):
    assert page_kind(url) == (kind, date)


def test_a_capture_time_that_is_not_a_date_is_a_field_problem():
    text = (DATA / "wrapper_front_matter.md").read_text(encoding="utf-8").replace("2025-03-13T07:45:00Z", "yesterday")
    capture = parse_page(text).capture
    assert capture.captured_at is None
    assert [(p.level, p.line_no) for p in capture.problems] == [(LEVEL_FIELD, 3)]


# --------------------------------------------------------------------------- banners


@pytest.mark.parametrize(
    "line",
    [
        "byAK and the research community",
        "by AK and the research community",
        "by",
        "AK",
        "and the research community",
        "Daily",
        "Weekly",
        "Monthly",
        "Trending Papers",
        "Daily Papers",
        "# Daily Papers",
        "# Trending Papers",
        "[Subscribe](https://huggingface.co/login?next=%2Fpapers)",
        "## by [![](https://huggingface.co/front/assets/papers-by.png)AK](https://huggingface.co/akhaliq) and the "
        "research community",
        "- Daily",
        "[Trending Papers](https://huggingface.co/papers/trending)",
        "Get trending papers in your email inbox once a day!",
    ],
)
def test_banners_in_every_form_real_captures_show(line):
    assert is_banner(line)


@pytest.mark.parametrize("line", ["Daily Papers on Graphs", "A Weekly Digest of Tides", "Subscribed Users"])
def test_titles_that_merely_start_like_a_banner_are_not_banners(line):
    assert not is_banner(line)


@pytest.mark.parametrize(("name", "layout"), [("banner_forms.txt", "daily_meta"), ("banner_by_ak_spaced.txt", "daily")])
def test_pages_with_each_banner_form_read_their_papers(name, layout):
    parsed = page(name)
    assert (parsed.layout, parsed.header_date) == (layout, "Mar 12")
    assert titles(parsed) == [
        "Quartz Clocks for Distributed Databases",
        "Pebble Sort: Cache-Oblivious Sorting on Small Devices",
    ]


# --------------------------------------------------------------------------- control characters


def test_control_characters_leave_the_normalised_text_and_stay_in_the_raw_text():
    (record,) = page("control_characters.txt").records
    assert "\x1b" in record.raw_title and "\x07" in record.raw_title and "\x9b" in record.raw_abstract
    paper, problems = transform_record(record)
    assert problems == []
    assert paper.title == "Bell Curves and [31mRed[0m Herrings in Statistics"
    controls = [c for c in paper.title + paper.abstract if ord(c) < 32 or 0x7F <= ord(c) <= 0x9F]
    assert controls == []


# --------------------------------------------------------------------------- never a junk row


@pytest.mark.parametrize(
    ("title", "abstract", "why"),
    [
        ("https://huggingface.co/papers/2606.00683", "An abstract of the paper.", "the title is a URL"),
        ("101", "An abstract of the paper.", "the title is a number"),
        ("### [A Title](https://huggingface.co/papers/1)", "An abstract of the paper.", "Markdown heading"),
        ("[A Title](https://huggingface.co/papers/1)", "An abstract of the paper.", "link syntax"),
        ("• 13 authors", "An abstract of the paper.", "an author line"),
        ("May 29", "An abstract of the paper.", "the title is a date"),
        ("Jun 7, 2023 4", "An abstract of the paper.", "the title is a date"),
        ("A Title " * 60, "An abstract of the paper.", "longer than any paper title"),
        ("A Real Looking Title", "https://github.com/occ-ai/occ", "the abstract is a URL"),
        ("A Real Looking Title", "·", "too short for an abstract"),
        ("A Real Looking Title", "Log In", "too short for an abstract"),
    ],
)
def test_a_record_that_is_not_a_paper_is_a_record_reject(title, abstract, why):
    paper, problems = transform_record(RawRecord(3, 12, title, abstract))
    assert paper is None
    assert [(p.level, p.line_no) for p in problems] == [(LEVEL_RECORD, 12)]
    assert why in problems[0].reason and "not a paper" in problems[0].reason


def test_a_markdown_capture_is_read_card_by_card_never_as_text():
    parsed = page("markdown_cards.md")
    assert (parsed.layout, parsed.header_date, parsed.problems) == ("markdown", None, [])
    (record,) = parsed.records
    assert (record.raw_title, record.line_no) == ("Quartz Clocks for Distributed Databases", 11)
    assert (record.card.arxiv_id, record.card.upvotes) == ("2501.01234", 12)


# --------------------------------------------------------------------------- a format as a plug-in


def _toy_detect(head: PageHead) -> float:
    return 1.0 if head.lines and head.lines[0][1] == "%toy-papers" else 0.0


def _toy_split(lines: Iterator[Numbered], problems: list[Problem]) -> Iterator[RawRecord]:
    position = 0
    for line_no, line in lines:
        if "\t" in line:
            title, abstract = line.split("\t", 1)
            position += 1
            yield RawRecord(position, line_no, title, abstract)


TOY = CaptureFormat("toy_tsv", "Tab-separated title and abstract, one paper a line.", _toy_detect, _toy_split)


@pytest.fixture
def toy_format():
    formats.register(TOY)
    yield TOY
    formats.unregister(TOY.name)


def test_a_registered_format_loads_with_no_other_change(toy_format, engine, page_dir):
    folder = page_dir(
        {
            "toy.tsv.txt": "%toy-papers\nQuartz Clocks for Databases\tClocks bound commit wait in databases.\n"
            "Pebble Sort on Small Devices\tA sort for microcontrollers with no tuning.\n"
        }
    )
    summary = run_load(engine, [folder], parse_process=False)
    assert summary.status == "succeeded"
    assert rows(engine, "SELECT layout, record_count FROM source_files") == [("toy_tsv", 2)]
    assert rows(engine, "SELECT title FROM papers ORDER BY title") == [
        ("Pebble Sort on Small Devices",),
        ("Quartz Clocks for Databases",),
    ]
    described = scalar(engine, "SELECT description FROM capture_formats WHERE name = 'toy_tsv'")
    assert described == TOY.description


def test_two_formats_equally_sure_of_a_page_are_a_refusal_naming_both(toy_format):
    twin = CaptureFormat("toy_twin", "The same again.", _toy_detect, _toy_split)
    formats.register(twin)
    try:
        with pytest.raises(LayoutError, match=r"ambiguous layout.*('toy_tsv' and 'toy_twin'|'toy_twin' and 'toy_tsv')"):
            parse_page("%toy-papers\nA Title\tAn abstract of it.\n")
    finally:
        formats.unregister(twin.name)


def test_a_page_no_format_claims_is_refused_naming_its_first_line():
    with pytest.raises(LayoutError, match=r"unknown layout.*'Meeting notes'") as caught:
        parse_page("\n\nMeeting notes\nNothing about papers.\n")
    assert caught.value.line_no == 3


# --------------------------------------------------------------------------- loads, on both engines


def test_a_page_of_junk_is_refused_whole_and_loads_nothing(engine, page_dir):
    folder = page_dir({"junk.txt": (DATA / "junk_page.txt").read_text(encoding="utf-8")})
    summary = run_load(engine, [folder])
    assert summary.status == "partial"
    assert scalar(engine, "SELECT count(*) FROM papers") == 0
    assert scalar(engine, "SELECT count(*) FROM source_files") == 0
    ((level, line_no, reason),) = rows(engine, "SELECT level, line_no, reason FROM rejects")
    assert (level, line_no) == ("file", 11)
    assert "no record reads as a paper" in reason and "the title is a URL" in reason


def test_one_junk_record_is_a_record_reject_and_the_rest_loads(engine, page_dir):
    folder = page_dir({"page.txt": (DATA / "junk_one_record.txt").read_text(encoding="utf-8")})
    run_load(engine, [folder])
    assert scalar(engine, "SELECT count(*) FROM papers") == 2
    assert rows(engine, "SELECT level, line_no FROM rejects") == [("record", 15)]


def test_capture_facts_and_comments_are_stored(engine, page_dir):
    folder = page_dir(
        {
            "a.md": (DATA / "wrapper_front_matter.md").read_text(encoding="utf-8"),
            "b.txt": (DATA / "wrapper_source_facts.txt").read_text(encoding="utf-8"),
            "c.txt": (DATA / "daily_meta_forms.txt").read_text(encoding="utf-8"),
        }
    )
    run_load(engine, [folder], listed_on=None)
    found = rows(
        engine,
        "SELECT path, page_url, page_kind, listed_on, listed_on_source FROM source_files ORDER BY path",
    )
    assert [(Path(path).name, *rest) for path, *rest in found] == [
        ("a.md", "https://huggingface.co/papers/date/2025-03-12", "daily", dt.date(2025, 3, 12), "page_url"),
        ("b.txt", "https://huggingface.co/papers/week/2025-W11", "weekly", dt.date(2025, 3, 12), "header"),
        ("c.txt", None, "unknown", found[2][3], "header"),
    ]
    with engine.connect() as conn:
        captured = conn.execute(
            sa.select(sa.column("captured_at", sa.DateTime(timezone=True)))
            .select_from(sa.table("source_files"))
            .order_by(sa.column("path"))
        ).scalars()
        captured = [value.replace(tzinfo=None) if value else None for value in captured]
    assert captured == [dt.datetime(2025, 3, 13, 7, 45), dt.datetime(2025, 3, 14), None]
    comments = rows(
        engine,
        "SELECT l.comments FROM listings l JOIN source_files f USING (source_file_id)"
        " WHERE f.path LIKE '%c.txt' ORDER BY l.position",
    )
    assert comments == [(None,), (6,), (None,), (2,), (3,), (4,)]


def test_rebuild_reads_dates_without_a_year_as_the_load_did(engine, page_dir):
    folder = page_dir({"2026-01-03-daily.txt": (DATA / "daily_meta_forms.txt").read_text(encoding="utf-8")})
    run_load(engine, [folder])
    query = "SELECT title, published_on, author_count FROM papers ORDER BY title"
    loaded = rows(engine, query)
    assert (dt.date(2025, 12, 30)) in [published for _, published, _ in loaded]
    rebuild(engine)
    assert rows(engine, query) == loaded
    assert scalar(engine, "SELECT count(*) FROM rejects") == 0


def _api_answers(path: Path, days: int, per_day: int = 200) -> None:
    """Days of the papers API's answers one after the other, one compact answer a line (as `fetch` saves each)."""
    abstract = "We study sparse attention for long documents and release code and data. " * 12
    with path.open("w", encoding="utf-8") as out:
        for day in range(days):
            entries = [
                {
                    "paper": {
                        "id": f"25{day % 12 + 1:02d}.{day * per_day + n:05d}",
                        "title": f"Sparse Attention Study {day}-{n}",
                        "summary": f"{day} {n} {abstract}",
                        "authors": [{"name": "Ada Lovelace"}, {"name": "Alan Turing"}],
                        "upvotes": n,
                    }
                }
                for n in range(per_day)
            ]
            out.write(json.dumps(entries, separators=(",", ":")) + "\n")


def test_many_days_of_api_answers_in_one_file_load_in_flat_memory(tmp_path, monkeypatch):
    """Three times the days in one file: the load's peak memory stays about the same (it streams the file,
    entry by entry, batch by batch), instead of growing with the file. Batches of 500 sightings (not 5,000),
    and 500 sightings kept for reading back (not 10,000), so that both files span several of each at a test's
    size."""
    monkeypatch.setattr(load.files, "BATCH_RECORDS", 500)
    monkeypatch.setattr(RECENT_PAPERS, "size", 500)
    peaks = {}
    for days in (10, 30):
        RECENT_PAPERS.clear()
        folder = tmp_path / f"api-{days}"
        folder.mkdir()
        _api_answers(folder / "answers.json", days)
        engine = db.create_engine(f"sqlite:///{tmp_path / f'papers-{days}.db'}")
        db.upgrade(engine)
        tracemalloc.start()
        try:
            summary = run_load(engine, [folder], parse_process=False)
            _, peaks[days] = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
            engine.dispose()
        assert summary.counts["records_read"] == days * 200
    assert peaks[30] < 1.3 * peaks[10], peaks


def test_a_file_of_several_days_of_api_answers_keeps_each_cards_listing_date(engine, page_dir):
    """The file's name gives one date (the first); each entry's own listing date (submittedOnDailyAt) is
    what the views count by."""
    api = Path(__file__).parent / "data" / "api"
    folder = page_dir({"answers.json": (api / "days_2025-03-14_15.json").read_text(encoding="utf-8")})
    run_load(engine, [folder])

    per_card = rows(engine, "SELECT listed_on, count(*) FROM listings GROUP BY listed_on ORDER BY listed_on")
    days = rows(engine, "SELECT listed_on, papers_listed FROM listing_days ORDER BY listed_on")
    assert [day for day, _ in per_card] == [dt.date(2025, 3, 14), dt.date(2025, 3, 15)]
    assert days == per_card  # one card per paper and day here
    assert rows(engine, "SELECT listed_on FROM source_files") == [(None,)]  # no file-level date: it spans days
