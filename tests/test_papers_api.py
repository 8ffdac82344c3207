"""etl.formats.papers_api: the papers API's JSON (daily, search, one paper), streamed.

The fixtures under tests/data/api/ are hand-written in the API's shape; a test
proves huggingface_hub's own PaperInfo reads them as this parser does.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import tracemalloc
from pathlib import Path

import pytest
from huggingface_hub.hf_api import PaperInfo

from etl.errors import EncodingError, InputError, JsonInputError
from etl.formats.papers_api import ApiEntry, ApiStream, detect_api_json, parse_api_json
from etl.records import LEVEL_FIELD, LEVEL_RECORD

API = Path(__file__).parent / "data" / "api"
DATA = Path(__file__).parent / "data"


def chunks_of(data: bytes, size: int = 4096):
    return (data[start : start + size] for start in range(0, len(data), size))


def file_chunks(path: Path, size: int = 64 * 1024):
    with path.open("rb") as handle:
        while chunk := handle.read(size):
            yield chunk


def read(name: str, size: int = 4096) -> tuple[list[ApiEntry], ApiStream]:
    stream = ApiStream(chunks_of((API / name).read_bytes(), size))
    return list(stream.entries()), stream


def refusal(data: bytes, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        list(ApiStream(chunks_of(data), **kwargs).entries())
    message = str(caught.value)
    assert "\n" not in message, message
    return caught.value


# --------------------------------------------------------------------------- shapes


def test_a_daily_answer_gives_every_field_of_each_entry():
    entries, stream = read("daily_2025-03-14.json")

    assert stream.problems == []
    assert [entry.position for entry in entries] == [1, 2, 3]
    first = entries[0]
    assert first == ApiEntry(
        position=1,
        line_no=None,
        arxiv_id="2503.10101",
        title="Sparse Lanterns: Routing Attention Through Learned Beacons",
        abstract=(
            "We introduce Sparse Lanterns, a routing scheme in which a small set of learned\n"
            "beacon tokens decides which keys each query attends to. On long-context benchmarks\n"
            "it matches dense attention at $O(n \\sqrt{n})$ cost. Code: https://github.com/lanterns-lab/sparse-lanterns"
        ),
        authors=(("Mireille Obuya", "mobuya"), ("Tomás Ibarra-Lindqvist", None), ("Yuki Hanamura", None)),
        published_at=dt.date(2025, 3, 13),
        listed_at=dt.date(2025, 3, 14),
        upvotes=42,
        comments=3,
        github_url="https://github.com/lanterns-lab/sparse-lanterns",
        github_stars=1320,
        project_page="https://lanterns-lab.example.org/sparse",
        organization="Lanterns Lab",
        organization_name="lanterns-lab",
        submitted_by="akhaliq",
        submitted_by_fullname="AK",
    )
    assert first.author_count == 3  # a hidden author is still an author


def test_zero_is_a_count_and_what_an_entry_lacks_is_none():
    entries, _ = read("daily_2025-03-14.json")
    second = entries[1]

    assert (second.upvotes, second.comments) == (0, 0)
    assert (second.github_url, second.github_stars, second.project_page) == (None, None, None)
    assert (second.organization, second.organization_name) == (None, None)
    assert (second.submitted_by, second.submitted_by_fullname) == ("praghu", "Priya R.")
    assert entries[2].authors == (("Hélène D'Aubigny", "hdaubigny"),)


@pytest.mark.parametrize("size", [1, 7, 100, 1 << 20])
def test_the_chunk_size_does_not_change_the_entries(size):
    whole, _ = read("daily_2025-03-14.json", 1 << 20)
    assert read("daily_2025-03-14.json", size)[0] == whole


def test_a_search_answer_is_a_list_of_entries_and_a_paper_never_listed_has_no_listing_date():
    entries, stream = read("search_sparse.json")

    assert [(e.arxiv_id, e.upvotes, e.comments, e.listed_at) for e in entries] == [
        ("2503.10101", 57, 5, dt.date(2025, 3, 14)),
        ("2411.02233", 12, 0, None),
    ]
    assert entries[1].published_at == dt.date(2024, 11, 4)
    assert entries[1].authors == (("Bartholomew Reyes", None), ("Ingrid Solberg", None))
    assert stream.page_key is None


def test_a_single_paper_object_is_one_entry():
    entries, _ = read("paper_2503.08642.json")

    assert len(entries) == 1
    paper = entries[0]
    assert (paper.position, paper.arxiv_id, paper.title) == (1, "2503.08642", "A Field Guide to Tokenizer Drift")
    # A paper object's publishedAt is the paper's date; submittedOnDailyAt its listing.
    assert (paper.published_at, paper.listed_at) == (dt.date(2025, 3, 11), dt.date(2025, 3, 14))
    assert (paper.upvotes, paper.comments, paper.github_stars) == (9, None, 61)
    assert paper.submitted_by == "hdaubigny"  # submittedOnDailyBy, as PaperInfo reads it


def test_several_answers_one_after_the_other_are_read_in_order():
    entries, _ = read("days_2025-03-14_15.json")

    assert [(e.position, e.arxiv_id, e.listed_at) for e in entries] == [
        (1, "2503.10101", dt.date(2025, 3, 14)),
        (2, "2503.09876", dt.date(2025, 3, 14)),
        (3, "2503.08642", dt.date(2025, 3, 14)),
        (4, "2503.11111", dt.date(2025, 3, 15)),
    ]


def test_entries_one_per_line_read_as_the_answer_does():
    raw = json.loads((API / "daily_2025-03-14.json").read_text(encoding="utf-8"))
    lines = "\n".join(json.dumps(item, ensure_ascii=False) for item in raw).encode()

    assert list(parse_api_json(chunks_of(lines))) == read("daily_2025-03-14.json")[0]


def test_a_utf8_bom_is_skipped():
    data = b"\xef\xbb\xbf" + (API / "daily_2025-03-14.json").read_bytes()
    assert list(parse_api_json(chunks_of(data, 2))) == read("daily_2025-03-14.json")[0]


def test_a_pages_data_props_saved_as_json_streams_its_cards_and_keeps_its_other_keys():
    raw = json.loads((API / "daily_2025-03-14.json").read_text(encoding="utf-8"))
    props = {"dateString": "2025-03-14", "dailyPapers": raw, "periodType": "day"}
    stream = ApiStream(chunks_of(json.dumps(props).encode()))

    assert list(stream.entries()) == read("daily_2025-03-14.json")[0]
    assert stream.props == {"dateString": "2025-03-14", "periodType": "day"}
    assert stream.page_key == "dailyPapers"


def test_a_second_card_list_in_a_pages_data_is_not_read_and_says_so():
    raw = json.loads((API / "daily_2025-03-14.json").read_text(encoding="utf-8"))
    props = {"searchResults": raw[:1], "dailyPapers": raw}
    stream = ApiStream(chunks_of(json.dumps(props).encode()))

    assert [entry.arxiv_id for entry in stream.entries()] == ["2503.10101"]
    assert [(p.level, p.reason) for p in stream.problems] == [
        (LEVEL_FIELD, "the page's data also hold a dailyPapers list (3 entries), not read: "
                      "the cards are those of its searchResults list"),
    ]  # fmt: skip


def test_an_empty_answer_is_no_entry_and_no_error():
    stream = ApiStream([b"[]"])
    assert list(stream.entries()) == []
    assert stream.problems == []


# --------------------------------------------------------------------------- huggingface_hub agrees


@pytest.mark.parametrize("name", ["daily_2025-03-14.json", "search_sparse.json", "paper_2503.08642.json",
                                  "daily_2025-03-15.json"])  # fmt: skip
def test_huggingface_hubs_paperinfo_reads_the_fixtures_as_this_parser_does(name):
    raw = json.loads((API / name).read_text(encoding="utf-8"))
    raw_entries = raw if isinstance(raw, list) else [raw]
    entries, _ = read(name)
    assert len(entries) == len(raw_entries)

    for item, entry in zip(raw_entries, entries, strict=True):
        info = PaperInfo(**copy.deepcopy(item))
        assert info.id == entry.arxiv_id
        assert (info.title, info.summary) == (entry.title, entry.abstract)
        assert [(a.name, a.user.username if a.user else None) for a in info.authors] == list(entry.authors)
        assert info.published_at.date() == entry.published_at
        # PaperInfo reads counts with ``or`` (0 becomes None) and defaults numComments to 0.
        assert info.upvotes == (entry.upvotes or None)
        assert info.comments == (entry.comments or 0)
        # Where PaperInfo finds a value (it reads these at the entry's top level only), it is ours.
        for theirs, ours in [
            (info.github_repo, entry.github_url),
            (info.github_stars, entry.github_stars),
            (info.project_page, entry.project_page),
            (info.organization.name if info.organization else None, entry.organization_name),
            (info.submitted_by.username if info.submitted_by else None, entry.submitted_by),
        ]:
            assert theirs in (None, ours)


# --------------------------------------------------------------------------- problems


def test_an_entry_without_its_title_or_abstract_is_a_record_problem_and_the_rest_is_read():
    entries, stream = read("missing_title_or_abstract.json")

    assert [(e.position, e.arxiv_id) for e in entries] == [(3, "2503.20003")]
    assert [(p.level, p.reason) for p in stream.problems] == [
        (LEVEL_RECORD, "entry 1 (2503.20001) has no abstract (summary): not a paper"),
        (LEVEL_RECORD, "entry 2 (2503.20002) has no title: not a paper"),
    ]
    assert stream.problems[0].excerpt == "A Paper Whose Abstract Was Lost"


def test_a_file_where_no_entry_is_a_paper_is_refused():
    error = refusal(b'[{"paper": {"id": "2503.20001", "title": "Only a title"}}]')
    assert isinstance(error, JsonInputError)
    assert "no entry reads as a paper (1 entries; the first: entry 1 (2503.20001) has no abstract" in str(error)


def test_fields_that_cannot_be_read_are_field_problems_and_the_entry_loads_without_them():
    entries, stream = read("bad_fields.json")

    assert len(entries) == 1
    entry = entries[0]
    assert (entry.title, entry.arxiv_id, entry.authors) == ("Fields That Cannot Be Read", None, (("Ada Okafor", None),))
    assert (entry.published_at, entry.listed_at, entry.upvotes, entry.comments) == (None, None, None, None)
    assert (entry.github_url, entry.github_stars, entry.organization, entry.submitted_by) == (None, None, None, None)
    assert all(p.level == LEVEL_FIELD for p in stream.problems)
    assert [p.reason for p in stream.problems] == [
        'entry 1: id "not-an-arxiv-id" is not an arXiv id',
        'entry 1: organization "Lanterns Lab" is not an object',
        'entry 1: submittedBy ["akhaliq"] is not an object',
        'entry 1: authors {"_id": "x"} is not an author with a name',
        'entry 1: authors "Grace Hopper" is not an author with a name',
        'entry 1: publishedAt "yesterday" is not an ISO date',
        'entry 1: submittedOnDailyAt "2025-02-30T10:00:00.000Z" is not an ISO date',
        'entry 1: upvotes "12" is not a count',
        "entry 1: numComments 2.5 is not a count",
        "entry 1: githubRepo 42 is not a string",
        "entry 1: githubStars -5 is not a count",
    ]


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("truncated.json", "the JSON is cut short: it ends in entry 1 at byte 81"),
        ("not_json.json", "not valid JSON: lexical error: invalid char in json text (an HTML page?"),
        ("error_answer.json", "entry 1 has no 'paper', 'id' or 'title' (keys: 'error'): not a papers API answer"),
        ("list_of_numbers.json", "entry 1 is a JSON number, not an object: not a papers API answer"),
        ("list_of_lists.json", "entry 1 is a JSON array, not an object"),
    ],
)
def test_bad_json_files_are_refused_in_one_line(name, message):
    error = refusal((API / name).read_bytes())
    assert isinstance(error, JsonInputError)
    assert message in str(error)
    assert str(error.at(API / name)).startswith(f"{API / name}: ")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "the file is empty"),
        (b" \n\t\n", "the file is empty"),
        (b'"2503.10101"', "a JSON string at the top level"),
        (b"[1] [2", "entry 1 is a JSON number"),
        (b'[{"paper": "2503.10101"}]', "entry 1: its 'paper' is a JSON string, not an object"),
        (
            b'[{"paper": {"id": "2503.1", "title": "T", "summary": "\xff\xfe"}}]',
            "bytes that are not UTF-8 inside a string",
        ),
        (b'[{"paper": {"id": "2503.1"}}] trailing words', "not valid JSON: lexical error"),
    ],
)
def test_bad_json_text_is_refused_in_one_line(data, message):
    error = refusal(data)
    assert isinstance(error, JsonInputError)
    assert message in str(error)


def test_a_utf16_file_is_an_encoding_error():
    data = (API / "daily_2025-03-15.json").read_text(encoding="utf-8").encode("utf-16")
    error = refusal(data)
    assert isinstance(error, EncodingError)
    assert "not UTF-8 (the file starts with a UTF-16 byte order mark)" in str(error)


def test_a_page_props_only_stream_refuses_a_list_and_an_object_without_cards():
    assert "a list at the top level" in str(refusal(b"[]", page_props_only=True))
    error = refusal(b'{"query": {"q": "x"}, "sort": "trending"}', page_props_only=True)
    assert "hold no card list (no dailyPapers or searchResults); keys seen: 'query', 'sort'" in str(error)


def test_entries_before_a_cut_are_yielded_before_the_error():
    # Streaming: the loader must keep a file's entries apart until the file ends well.
    raw = json.loads((API / "daily_2025-03-14.json").read_text(encoding="utf-8"))
    data = json.dumps(raw).encode()[:-200]
    seen = []
    with pytest.raises(JsonInputError, match="cut short: it ends in entry 3"):
        seen.extend(entry.arxiv_id for entry in parse_api_json(chunks_of(data)))
    assert seen == ["2503.10101", "2503.09876"]


def test_a_huge_entry_is_refused_before_it_is_built():
    def endless_summary():
        yield b'[{"paper": {"id": "2503.10101", "title": "T", "summary": "'
        block = b"a" * (1 << 20)
        for _ in range(20):  # 20 MB of one string
            yield block
        yield b'"}}]'

    tracemalloc.start()
    try:
        with pytest.raises(
            JsonInputError, match=r"one JSON value larger than 4 MB \(at byte [\d,]+, after 0 complete entries\)"
        ):
            list(parse_api_json(endless_summary()))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20, f"peak {peak} bytes"


def test_the_entry_size_limit_is_a_parameter():
    entry = {"paper": {"id": "2503.10101", "title": "T", "summary": "x" * 300_000}}
    data = json.dumps([entry, entry]).encode()
    assert len(list(ApiStream(chunks_of(data)).entries())) == 2
    assert "larger than 0.0953674 MB" in str(refusal(data, max_entry_bytes=100_000))


# --------------------------------------------------------------------------- memory


def write_year(path: Path, days: int, per_day: int) -> int:
    """Daily answers one after the other, as ``cat daily_papers/*.json`` makes them."""
    start = dt.date(2025, 1, 1)
    with path.open("wb") as handle:
        for day in range(days):
            listed = start + dt.timedelta(days=day)
            answer = []
            for n in range(per_day):
                paper_id = f"25{listed.month:02d}.{day * per_day + n:05d}"
                summary = f"Abstract {day}-{n}: " + "we study a problem and report results. " * 20
                answer.append({
                    "paper": {
                        "id": paper_id, "title": f"Paper {day}-{n}", "summary": summary, "upvotes": n,
                        "authors": [{"_id": f"a{k}", "name": f"Author {k}", "hidden": False} for k in range(6)],
                        "publishedAt": f"{listed.isoformat()}T08:00:00.000Z",
                        "submittedOnDailyAt": f"{listed.isoformat()}T09:00:00.000Z",
                        "githubRepo": f"https://github.com/lab/repo{n}", "githubStars": n * 10,
                    },
                    "publishedAt": f"{listed.isoformat()}T09:00:00.000Z", "title": f"Paper {day}-{n}",
                    "summary": summary, "numComments": n % 4, "thumbnail": f"https://cdn.example.org/{paper_id}.png",
                    "submittedBy": {"_id": "s", "user": "akhaliq", "fullname": "AK", "type": "user"},
                })  # fmt: skip
            handle.write(json.dumps(answer, separators=(",", ":")).encode() + b"\n")
    return days * per_day


def test_a_year_of_daily_answers_streams_with_flat_memory(tmp_path):
    path = tmp_path / "year.json"
    count = write_year(path, days=60, per_day=100)
    size = path.stat().st_size

    tracemalloc.start()
    try:
        seen = 0
        last = None
        for entry in parse_api_json(file_chunks(path)):
            seen += 1
            last = entry
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert size > 10_000_000
    assert seen == count == 6000
    assert (last.position, last.listed_at, last.author_count) == (6000, dt.date(2025, 3, 1), 6)
    assert peak < size / 20, f"peak {peak} bytes for a {size} byte file"


# --------------------------------------------------------------------------- detection


@pytest.mark.parametrize(
    ("name", "at_least"),
    [("daily_2025-03-14.json", 1.0), ("search_sparse.json", 1.0), ("paper_2503.08642.json", 0.8),
     ("days_2025-03-14_15.json", 1.0), ("bad_fields.json", 1.0)],
)  # fmt: skip
def test_the_detector_knows_api_answers_from_their_first_keys(name, at_least):
    head = (API / name).read_text(encoding="utf-8")[:4096]
    assert detect_api_json(head) >= at_least


def test_the_detector_reads_only_the_head_and_a_cut_head_is_fine():
    head = (API / "daily_2025-03-14.json").read_text(encoding="utf-8")[:300]
    assert detect_api_json(head) == 0.9  # only "paper" seen: sure enough


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("[]", 0.3),  # a day without papers
        ('{"dailyPapers": [', 0.9),
        ('{"error": "Invalid date"}', 0.0),
        ('[{"name": "Ada", "age": 36}]', 0.0),
        ("[1, 2, 3]", 0.0),
        ("<!DOCTYPE html><html></html>", 0.0),
        ("### [Title](https://huggingface.co/papers/2503.10101)", 0.0),
        ("", 0.0),
    ],
)
def test_the_detector_claims_nothing_else(text, score):
    assert detect_api_json(text) == score


def test_the_detector_does_not_claim_a_text_capture():
    assert detect_api_json((DATA / "daily_basic.txt").read_text(encoding="utf-8")[:4096]) == 0.0
