"""etl.formats.saved_html: saved Hugging Face papers pages, read from their components' data-props.

The pages under tests/data/html/ are hand-written in the shape of real papers pages
(a Svelte component ``data-target="DailyPapers"`` whose ``data-props`` hold the cards);
their cards are those of the API answers under tests/data/api/, so both must read alike.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import tracemalloc
from pathlib import Path

import pytest

from etl.errors import EncodingError, InputError, JsonInputError, LayoutError
from etl.formats.papers_api import ApiStream, detect_api_json, parse_api_json
from etl.formats.saved_html import SavedHtml, detect_saved_html, parse_saved_html
from etl.records import LEVEL_RECORD

HTML = Path(__file__).parent / "data" / "html"
API = Path(__file__).parent / "data" / "api"
DATA = Path(__file__).parent / "data"


def chunks_of(data: bytes, size: int = 4096):
    return (data[start : start + size] for start in range(0, len(data), size))


def page(name: str, size: int = 4096) -> tuple[SavedHtml, list]:
    saved = SavedHtml(chunks_of((HTML / name).read_bytes(), size))
    return saved, list(saved.entries())


def api_entries(name: str) -> list:
    return list(parse_api_json(chunks_of((API / name).read_bytes())))


def refusal(data: bytes) -> InputError:
    with pytest.raises(InputError) as caught:
        list(parse_saved_html(chunks_of(data)))
    assert "\n" not in str(caught.value), str(caught.value)
    return caught.value


def html_page(props: dict, *, head: str = "", title: str = "Daily Papers - Hugging Face") -> bytes:
    """A papers page as the site serves it: the cards' JSON HTML-escaped in data-props."""
    data = html.escape(json.dumps(props, ensure_ascii=False), quote=True)
    return (
        f"<!DOCTYPE html>\n<html>\n<head><meta charset='utf-8'>{head}<title>{title}</title></head>\n<body>\n"
        f'<div class="SVELTE_HYDRATER contents" data-target="DailyPapers" data-props="{data}">'
        "<section><h3>cards rendered here</h3></section></div>\n</body>\n</html>\n"
    ).encode()


# --------------------------------------------------------------------------- each page kind


def test_a_daily_page_reads_as_the_days_api_answer():
    saved, entries = page("daily_2025-03-14.html")

    assert entries == api_entries("daily_2025-03-14.json")
    assert len(entries) == 3
    assert saved.page_url == "https://huggingface.co/papers/date/2025-03-14"
    assert saved.title == "Daily Papers - Hugging Face"
    assert saved.page_key == "dailyPapers"
    assert saved.props == {
        "dateString": "2025-03-14", "periodType": "day", "prevDate": "2025-03-13", "nextDate": None,
        "lastDate": "2025-03-14",
    }  # fmt: skip
    assert saved.problems == []


def test_a_week_saved_by_a_browser_takes_its_url_from_the_saved_from_comment():
    saved, entries = page("week_2025-W11_saved.html")

    assert entries == api_entries("days_2025-03-14_15.json")
    assert [(e.position, e.arxiv_id, e.listed_at) for e in entries][-1] == (4, "2503.11111", dt.date(2025, 3, 15))
    assert saved.page_url == "https://huggingface.co/papers/week/2025-W11"
    assert saved.props == {"dateString": "2025-W11", "periodType": "week"}


def test_a_trending_page_has_its_cards_in_trending_order():
    saved, entries = page("trending.html")

    assert [(e.position, e.arxiv_id, e.upvotes) for e in entries] == [(1, "2503.08642", 7), (2, "2503.10101", 42)]
    assert saved.page_url == "https://huggingface.co/papers/trending"
    assert saved.title == "Trending Papers - Hugging Face"


def test_a_search_page_reads_its_search_results_as_the_search_answer():
    saved, entries = page("search_sparse.html")

    assert entries == api_entries("search_sparse.json")
    assert saved.page_key == "searchResults"
    assert saved.props == {"query": {"q": "sparse"}}
    assert saved.page_url == "https://huggingface.co/papers?q=sparse"


@pytest.mark.parametrize("size", [1, 5, 333, 1 << 20])
def test_the_chunk_size_does_not_change_the_cards(size):
    # Size 1 and 5 split the UTF-8 of "é" and "á" and the entities of data-props.
    assert page("daily_2025-03-14.html", size)[1] == page("daily_2025-03-14.html", 1 << 20)[1]


def test_the_same_papers_as_a_json_answer_and_as_an_html_page_are_equal_entries():
    day = "2025-04-01"
    summary = "An abstract with markup-like text </div><script>alert({n})</script> & entities &amp; kept."
    answer = [
        {
            "paper": {
                "id": f"2504.0000{n}",
                "authors": [{"_id": f"a{n}", "name": "Zoë O'Neil", "hidden": False,
                             "user": {"_id": "u", "user": "zoe", "fullname": "Zoë"}},
                            {"_id": f"b{n}", "name": "李 明", "hidden": False}],
                "publishedAt": "2025-03-31T23:59:59.000Z",
                "submittedOnDailyAt": f"{day}T00:00:01.000Z",
                "title": f'Quotes "and" <tags> & </div> endings {n}',
                "summary": summary.format(n=n),
                "upvotes": n * 3,
                "githubRepo": f"https://github.com/o/r{n}" if n % 2 else None,
                "githubStars": n * 100 if n % 2 else None,
            },
            "publishedAt": f"{day}T00:00:01.000Z",
            "title": f'Quotes "and" <tags> & </div> endings {n}',
            "summary": summary.format(n=n),
            "numComments": n,
            "submittedBy": {"_id": "s", "user": "akhaliq", "fullname": "AK"},
            "organization": {"_id": "o", "name": "org-x", "fullname": "Org X"},
        }
        for n in range(1, 6)
    ]  # fmt: skip
    as_json = list(parse_api_json(chunks_of(json.dumps(answer).encode(), 100)))
    as_html = list(parse_saved_html(chunks_of(html_page({"dailyPapers": answer, "dateString": day}), 100)))

    assert len(as_json) == 5
    assert as_html == as_json
    assert as_html[0].title == 'Quotes "and" <tags> & </div> endings 1'
    assert as_html[0].authors == (("Zoë O'Neil", "zoe"), ("李 明", None))
    assert (as_html[1].github_url, as_html[0].github_url) == (None, "https://github.com/o/r1")


def test_problems_of_the_cards_are_those_of_the_api_parser():
    answer = json.loads((API / "missing_title_or_abstract.json").read_text(encoding="utf-8"))
    saved = SavedHtml(chunks_of(html_page({"dailyPapers": answer})))
    entries = list(saved.entries())

    stream = ApiStream(chunks_of((API / "missing_title_or_abstract.json").read_bytes()))
    assert entries == list(stream.entries())
    assert saved.problems == stream.problems
    assert [p.level for p in saved.problems] == [LEVEL_RECORD, LEVEL_RECORD]


def test_a_bom_is_skipped():
    data = b"\xef\xbb\xbf" + (HTML / "trending.html").read_bytes()
    assert list(parse_saved_html(chunks_of(data, 2))) == page("trending.html")[1]


# --------------------------------------------------------------------------- refusals


def test_a_page_whose_cards_were_rendered_without_their_data_is_refused_with_the_reason():
    error = refusal((HTML / "rendered_without_data.html").read_bytes())

    assert isinstance(error, LayoutError)
    assert "an HTML page without the papers' data: the page 'Daily Papers - Hugging Face' has no DailyPapers" in str(
        error
    )
    assert "(no data-props at all); save the page again (after it has fully loaded), or get the day with" in str(error)


def test_another_sites_page_is_refused_naming_the_components_seen():
    error = refusal((HTML / "other_site.html").read_bytes())
    assert isinstance(error, LayoutError)
    assert "the page 'Reading list — spring' has no DailyPapers component" in str(error)
    assert "(components seen: 'ReadingList')" in str(error)


def test_cut_cards_data_is_refused_as_json_cut_short():
    error = refusal((HTML / "cut_data.html").read_bytes())
    assert isinstance(error, JsonInputError)
    assert "the cards' data in the page's DailyPapers component: the JSON is cut short: it ends in entry 1" in str(
        error
    )


@pytest.mark.parametrize(
    ("data", "error_type", "message"),
    [
        (b"", LayoutError, "not an HTML page: no HTML element in it"),
        (b"Just words, no markup.", LayoutError, "an HTML page without the papers' data"),
        (b'<div data-target="DailyPapers" data-props=""></div>', LayoutError,
         "the page's DailyPapers component has empty data-props"),
        (b'<div data-target="DailyPapers" data-props="{&quot;sort&quot;:&quot;trending&quot;}"></div>',
         JsonInputError, "hold no card list (no dailyPapers or searchResults); keys seen: 'sort'"),
        (b'<div data-target="DailyPapers" data-props="[1, 2]"></div>', JsonInputError, "a list at the top level"),
        (b'<div data-target="DailyPapers" data-props="not json"></div>', JsonInputError, "not valid JSON"),
        (b"<html><title>Caf\xe9</title></html>", EncodingError, "not UTF-8 (byte 0xe9 at offset 16)"),
    ],
)  # fmt: skip
def test_bad_pages_are_refused_in_one_line(data, error_type, message):
    error = refusal(data)
    assert isinstance(error, error_type)
    assert message in str(error)


def test_cards_data_in_another_component_is_read_when_no_dailypapers_component_has_any():
    answer = json.loads((API / "daily_2025-03-15.json").read_text(encoding="utf-8"))
    data = html.escape(json.dumps({"dailyPapers": answer}), quote=True)
    text = f'<html><body><div data-target="PapersFeed" data-props="{data}"></div></body></html>'.encode()

    saved = SavedHtml(chunks_of(text))
    assert list(saved.entries()) == api_entries("daily_2025-03-15.json")
    assert saved.component == "PapersFeed"


# --------------------------------------------------------------------------- memory


def test_a_big_page_keeps_one_copy_of_its_cards_data(tmp_path):
    summary = "We study a problem and report results that matter to many readers. " * 15
    answer = [
        {"paper": {"id": f"2503.{n:05d}", "title": f"Paper {n}", "summary": summary, "upvotes": n,
                   "authors": [{"_id": f"a{k}", "name": f"Author {k}"} for k in range(8)],
                   "submittedOnDailyAt": "2025-03-14T09:00:00.000Z"},
         "title": f"Paper {n}", "summary": summary, "numComments": 1}
        for n in range(6000)
    ]  # fmt: skip
    path = tmp_path / "month.html"
    props = {"dailyPapers": answer, "periodType": "month"}
    path.write_bytes(html_page(props))
    cards_data = len(json.dumps(props, ensure_ascii=False))  # the unescaped JSON: 1 byte a character here
    del answer, props
    size = path.stat().st_size

    def file_chunks():
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 16):
                yield chunk

    tracemalloc.start()
    try:
        saved = SavedHtml(file_chunks())
        count = sum(1 for _ in saved.entries())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size > 10_000_000
    assert count == 6000
    # One copy of the cards' JSON (what the page is mostly made of), never a second one, the page or a tree.
    assert peak < cards_data * 1.25, f"peak {peak} bytes for {cards_data} bytes of cards' data in a {size} byte page"


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "score"),
    [("daily_2025-03-14.html", 0.9), ("trending.html", 0.9), ("search_sparse.html", 0.9),
     ("week_2025-W11_saved.html", 0.9), ("rendered_without_data.html", 0.9), ("other_site.html", 0.3)],
)  # fmt: skip
def test_the_detector_knows_papers_pages_from_their_head(name, score):
    assert detect_saved_html((HTML / name).read_text(encoding="utf-8")[:4096]) == score


def test_a_head_that_reaches_the_cards_component_is_sure():
    text = html_page({"dailyPapers": []}).decode()
    assert detect_saved_html(text) == 1.0  # title (0.5) and the component itself (0.6) on an HTML page (0.3)


@pytest.mark.parametrize(
    "path",
    [API / "daily_2025-03-14.json", DATA / "daily_basic.txt", DATA / "not_a_papers_page.md"],
)
def test_the_detector_claims_no_other_input(path):
    assert detect_saved_html(path.read_text(encoding="utf-8")[:4096]) == 0.0


@pytest.mark.parametrize("name", ["daily_2025-03-14.html", "search_sparse.html", "other_site.html"])
def test_the_api_detector_does_not_claim_html_pages(name):
    assert detect_api_json((HTML / name).read_text(encoding="utf-8")[:4096]) == 0.0


SHARED = Path(__file__).parent.parent.parent / "shared"


def test_neither_detector_claims_a_real_text_or_markdown_capture():
    real = sorted((SHARED / "seeds").glob("*.txt")) + sorted((SHARED / "captures").glob("*.md"))
    if not real:
        pytest.skip(f"no real captures under {SHARED} (the seeds and captures are not in the repository)")
    for path in real:
        head = path.read_text(encoding="utf-8")[:8192]
        assert (detect_api_json(head), detect_saved_html(head)) == (0.0, 0.0), path.name


def test_data_props_in_single_quotes_read_alike():
    answer = json.loads((API / "daily_2025-03-15.json").read_text(encoding="utf-8"))
    data = json.dumps({"dailyPapers": answer}, ensure_ascii=False).replace("&", "&amp;").replace("'", "&#39;")
    text = f"<html><body><div data-target='DailyPapers' data-props='{data}'></div></body></html>".encode()

    assert list(parse_saved_html(chunks_of(text, 10))) == api_entries("daily_2025-03-15.json")
