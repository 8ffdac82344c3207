"""Extract without a database: reading bytes, finding files, and splitting pages into raw records.

The pages in tests/data are hand-written, one per layout and pitfall.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import tracemalloc
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT
from pages import write_big_daily_page

from etl import db
from etl.db import database_files
from etl.errors import EncodingError, InputError, LayoutError, NoInputError
from etl.extract import (
    PageStream,
    Selection,
    decode_capture,
    discover,
    discover_inputs,
    fingerprint_file,
    iter_lines,
    open_capture,
    parse_page,
    split_lines,
)
from etl.formats.compact import NAME as LAYOUT_COMPACT
from etl.formats.daily import NAME as LAYOUT_DAILY
from etl.formats.daily_meta import NAME as LAYOUT_DAILY_META
from etl.records import LEVEL_RECORD, RawRecord
from etl.transform import transform_record

DATA = Path(__file__).parent / "data"
EXAMPLES = Path(__file__).parent.parent / "examples"
SEEDS = Path(__file__).parent.parent.parent / "shared" / "seeds"

DAILY_BANNER = "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nbyAK and the research community\n\n"
META_BANNER = (
    "new\n\nGet trending papers in your email inbox!\n\nSubscribe\n\nDaily Papers\n\n"
    "byAK and the research community\n\n"
)
COMPACT_BANNER = "Get trending papers in your email inbox once a day!\nGet trending papers in your email inbox!\n"


def page_text(name: str) -> str:
    """A data page as text, exactly as stored (BOM and CR kept: parse_page must cope)."""
    return (DATA / name).read_bytes().decode("utf-8")


def page(name: str):
    return parse_page(page_text(name))


def titles(parsed) -> list[str]:
    return [record.raw_title for record in parsed.records]


# --------------------------------------------------------------------------- layouts


@pytest.mark.parametrize(
    ("name", "layout", "count", "header_date", "header_line"),
    [
        ("compact_basic.txt", LAYOUT_COMPACT, 4, None, None),
        ("compact_truncated.txt", LAYOUT_COMPACT, 2, None, None),
        ("compact_bom.txt", LAYOUT_COMPACT, 2, None, None),
        ("daily_basic.txt", LAYOUT_DAILY, 4, "Mar 12", 9),
        ("daily_crlf.txt", LAYOUT_DAILY, 3, "Apr 3", 9),
        ("daily_trailing_blank_lines.txt", LAYOUT_DAILY, 2, "Nov 30", 9),
        ("daily_truncated.txt", LAYOUT_DAILY, 2, "Jul 4", 9),
        ("daily_subscribe_title.txt", LAYOUT_DAILY, 2, "Feb 2", 9),
        ("daily_duplicate.txt", LAYOUT_DAILY, 3, "Oct 15", 9),
        ("daily_meta_basic.txt", LAYOUT_DAILY_META, 3, "Jan 8", 11),
        ("daily_meta_bad_fields.txt", LAYOUT_DAILY_META, 3, "Sep 9", 11),
        ("daily_meta_missing_abstract.txt", LAYOUT_DAILY_META, 2, "Apr 21", 11),
    ],
)
def test_layout_count_and_header_date(name, layout, count, header_date, header_line):
    parsed = page(name)
    assert parsed.layout == layout
    assert len(parsed.records) == count
    assert parsed.header_date == header_date
    assert parsed.header_date_line_no == header_line
    assert [record.position for record in parsed.records] == list(range(1, count + 1))


@pytest.mark.parametrize(
    "name",
    [
        "compact_basic.txt",
        "compact_bom.txt",
        "daily_basic.txt",
        "daily_crlf.txt",
        "daily_trailing_blank_lines.txt",
        "daily_subscribe_title.txt",
        "daily_duplicate.txt",
        "daily_meta_basic.txt",
        "daily_meta_bad_fields.txt",
    ],
)
def test_whole_pages_have_no_page_problems(name):
    assert page(name).problems == []


def test_compact_page_records():
    parsed = page("compact_basic.txt")
    assert titles(parsed) == [
        "Quiet Gradients: Noise-Free Training of Tiny Recurrent Nets",
        "Cartographer: Mapping Long Documents into Hierarchical Summaries",
        "Rényi Bounds for Private Federated Averaging",
        "Sparse Lanterns: Retrieval over Compressed Memories",
    ]
    assert [record.line_no for record in parsed.records] == [3, 5, 7, 9]
    assert parsed.records[0].raw_abstract.startswith("We train tiny recurrent networks")
    assert parsed.records[0].raw_abstract.endswith("https://github.com/quiet-lab/quiet-gradients{here}.")
    for record in parsed.records:
        assert record.raw_authors is None
        assert record.raw_published is None
        assert record.raw_meta is None


def test_no_final_newline_keeps_the_last_abstract_whole():
    text = page_text("compact_basic.txt")
    assert not text.endswith("\n")
    last = parse_page(text).records[-1]
    assert last.raw_abstract == (
        "A retrieval method over compressed key-value memories, evaluated on six benchmarks without released code."
    )
    assert parse_page(text + "\n").records == parse_page(text).records


def test_daily_page_records_keep_latex_and_accents():
    parsed = page("daily_basic.txt")
    assert titles(parsed) == [
        "Two-Step Samplers with $f$-Divergence Matching",
        "Equivariant Flows on SE$(n)$ for Molecule Docking",
        "Rényi-Regularised Policy Gradients",
        "Pocket Benchmarks: Small Tasks for Large Models",
    ]
    assert [record.line_no for record in parsed.records] == [11, 15, 19, 23]
    assert parsed.records[1].raw_abstract == (
        "Flows that are equivariant under SE(n) dock small molecules into rigid pockets; "
        "code at https://github.com/dock-flows/se-n-flows/tree/main/docking."
    )
    assert all(record.raw_meta is None for record in parsed.records)


def test_daily_meta_page_records():
    parsed = page("daily_meta_basic.txt")
    assert titles(parsed) == [
        "Hypernetwork Priors for Few-Shot Segmentation",
        "Scaling Laws for a Single Author",
        "Weight Entanglement for Architecture Search",
    ]
    first, second, third = parsed.records
    assert first == RawRecord(
        position=1,
        line_no=13,
        raw_title="Hypernetwork Priors for Few-Shot Segmentation",
        raw_abstract=(
            "A hypernetwork generates the decoder of a segmentation model from five labelled examples; "
            "code at https://github.com/hyperseg/hyperprior-fss."
        ),
        raw_authors="  • 13 authors",
        authors_line_no=17,
        raw_published="Jun 7, 2023",
        published_line_no=19,
    )
    assert (second.raw_authors, second.raw_published) == ("  • 1 author", "May 25, 2025 2")
    assert (second.line_no, second.authors_line_no, second.published_line_no) == (21, 25, 27)
    # The last record of a page without a final newline keeps its date.
    assert (third.raw_authors, third.raw_published, third.published_line_no) == ("  • 4 authors", "Dec 16, 2023", 35)


def test_raw_meta_joins_the_metadata_lines_verbatim():
    first = page("daily_meta_basic.txt").records[0]
    assert first.raw_meta == "  • 13 authors\nJun 7, 2023"
    assert RawRecord(1, 1, "T", "A", raw_authors="  • 2 authors").raw_meta == "  • 2 authors"
    assert RawRecord(1, 1, "T", "A", raw_published="Jun 7, 2023").raw_meta == "Jun 7, 2023"
    assert RawRecord(1, 1, "T", "A").raw_meta is None


def test_daily_meta_bad_fields_are_kept_raw_for_transform():
    parsed = page("daily_meta_bad_fields.txt")
    assert [(r.raw_authors, r.raw_published) for r in parsed.records] == [
        ("  • many authors", "Feb 30, 2023"),
        ("  • 2 authors", "Aug 8, 2025 2"),
        ("  • 5 authors", "Jun 2023"),
    ]
    papers = [transform_record(record) for record in parsed.records]
    # Every record still becomes a paper; the bad fields are NULL with a field problem each.
    assert all(paper is not None for paper, _ in papers)
    first_paper, first_problems = papers[0]
    assert (first_paper.author_count, first_paper.published_on) == (None, None)
    assert sorted(problem.line_no for problem in first_problems) == [17, 19]
    assert papers[1][1] == []
    assert papers[2][0].author_count == 5
    assert papers[2][0].published_on is None
    assert [problem.line_no for problem in papers[2][1]] == [35]


def test_crlf_page_reads_like_the_same_page_with_lf():
    text = page_text("daily_crlf.txt")
    assert "\r\n" in text
    crlf = parse_page(text)
    lf = parse_page(text.replace("\r\n", "\n"))
    assert crlf == lf
    for record in crlf.records:
        assert "\r" not in record.raw_title
        assert "\r" not in record.raw_abstract
    assert crlf.header_date == "Apr 3"
    assert crlf.records[-1].raw_abstract.endswith("at a fifth of the compute.")


def test_crlf_daily_meta_page():
    text = page_text("daily_meta_basic.txt").replace("\n", "\r\n")
    parsed = parse_page(text)
    assert parsed.layout == LAYOUT_DAILY_META
    assert parsed.records[0].raw_authors == "  • 13 authors"
    assert parsed.records[-1].raw_published == "Dec 16, 2023"


def test_bom_does_not_hide_the_banner():
    text = page_text("compact_bom.txt")
    assert text.startswith("\ufeff")
    parsed = parse_page(text)
    assert parsed.layout == LAYOUT_COMPACT
    assert titles(parsed) == ["Byte Order Marks in the Wild", "Heron: A Wading-Bird Detector for Drone Footage"]
    assert parsed.records[0].line_no == 3


def test_decoded_bom_page_parses_the_same():
    data = (DATA / "compact_bom.txt").read_bytes()
    text = decode_capture(data, "compact_bom.txt")
    assert not text.startswith("\ufeff")
    assert parse_page(text) == parse_page(data.decode("utf-8"))


def test_trailing_blank_lines_are_ignored():
    parsed = page("daily_trailing_blank_lines.txt")
    assert titles(parsed) == [
        "Late Fusion for Audio-Visual Speech Recognition",
        "Cold Starts in Recommender Systems, Revisited",
    ]
    assert parsed.records[-1].raw_abstract.endswith("most gains within noise.")


def test_compact_truncated_last_record_is_a_record_problem():
    parsed = page("compact_truncated.txt")
    assert titles(parsed) == ["Tidal Attention for Streaming Speech", "Folded Priors in Bayesian Optimisation"]
    (problem,) = parsed.problems
    assert problem.level == LEVEL_RECORD
    assert problem.line_no == 7
    assert problem.excerpt == "Mosaic Tokens: Patch Merging for Video Transformers"
    assert "abstract" in problem.reason


def test_daily_truncated_last_record_is_a_record_problem():
    parsed = page("daily_truncated.txt")
    assert titles(parsed) == [
        "Fireworks: Bursty Traffic Generation for Network Simulators",
        "Independent Components of Birdsong",
    ]
    assert parsed.records[1].raw_abstract.startswith("Independent component analysis")
    (problem,) = parsed.problems
    assert (problem.level, problem.line_no) == (LEVEL_RECORD, 19)
    assert problem.excerpt == "Half a Paper: Records Cut Short by the Capture Tool"


def test_daily_meta_record_without_abstract_does_not_swallow_the_next_title():
    parsed = page("daily_meta_missing_abstract.txt")
    assert titles(parsed) == [
        "Pelican: Long-Range Weather from Sparse Stations",
        "Quokka: Friendly Small Language Models",
    ]
    quokka = parsed.records[1]
    assert quokka.raw_abstract == "Quokka is a family of small language models tuned to be helpful on a laptop."
    assert (quokka.raw_authors, quokka.raw_published) == ("  • 9 authors", "Apr 4, 2024 5")
    assert quokka.position == 2
    (problem,) = parsed.problems
    assert (problem.level, problem.line_no) == (LEVEL_RECORD, 21)
    assert problem.excerpt == "A Paper Whose Abstract Went Missing"


def test_daily_page_whose_first_title_starts_with_subscribe():
    parsed = page("daily_subscribe_title.txt")
    assert parsed.layout == LAYOUT_DAILY
    assert titles(parsed) == [
        "SubscribeNet: Learning When to Notify Users",
        "Subscriber Churn under Price Changes",
    ]
    assert parsed.records[0].line_no == 11


def test_compact_first_title_is_unglued_from_subscribe():
    text = (
        COMPACT_BANNER + "SubscribeSubscriber-Aware Caching\nAn abstract about caches.\nSecond Title\nSecond abstract."
    )
    parsed = parse_page(text)
    assert parsed.layout == LAYOUT_COMPACT
    assert titles(parsed) == ["Subscriber-Aware Caching", "Second Title"]
    assert [r.raw_abstract for r in parsed.records] == ["An abstract about caches.", "Second abstract."]


def test_compact_with_subscribe_on_its_own_line():
    text = COMPACT_BANNER + "Subscribe\nFirst Title\nFirst abstract.\nSecond Title\nSecond abstract.\n"
    parsed = parse_page(text)
    assert parsed.layout == LAYOUT_COMPACT
    assert titles(parsed) == ["First Title", "Second Title"]
    assert [record.line_no for record in parsed.records] == [4, 6]


def test_same_paper_twice_on_one_page_gives_two_records():
    parsed = page("daily_duplicate.txt")
    first, middle, last = parsed.records
    assert first.raw_title == last.raw_title == "Echo Chambers in Self-Play Dialogue"
    assert first.raw_abstract == last.raw_abstract
    assert middle.raw_title == "Sundial: Calibrating Time-Series Forecasts"
    assert (first.position, last.position) == (1, 3)
    assert (first.line_no, last.line_no) == (11, 19)


def test_daily_page_without_header_date():
    parsed = parse_page(DAILY_BANNER + "A Title\n\nIts abstract.\n")
    assert parsed.layout == LAYOUT_DAILY
    assert parsed.header_date is None
    assert parsed.header_date_line_no is None
    assert titles(parsed) == ["A Title"]


def test_daily_banner_page_with_metadata_is_daily_meta():
    text = DAILY_BANNER + "Mar 5\n\nA Title\n\nIts abstract.\n\n  • 2 authors\n·\nMar 1, 2026\n"
    parsed = parse_page(text)
    assert parsed.layout == LAYOUT_DAILY_META
    assert parsed.records[0].raw_authors == "  • 2 authors"
    assert parsed.records[0].raw_published == "Mar 1, 2026"


def test_daily_papers_banner_without_metadata_is_still_daily_meta():
    parsed = parse_page(META_BANNER + "Mar 5\n\nA Title\n\nIts abstract.\n")
    assert parsed.layout == LAYOUT_DAILY_META
    assert parsed.records[0].raw_meta is None


def test_metadata_with_date_but_no_author_line():
    parsed = parse_page(META_BANNER + "Mar 5\n\nA Title\n\nIts abstract.\n\n·\nFeb 3, 2026\n\nNext\n\nNext abstract.\n")
    first, second = parsed.records
    assert (first.raw_authors, first.raw_published) == (None, "Feb 3, 2026")
    assert (second.raw_title, second.raw_abstract) == ("Next", "Next abstract.")


@pytest.mark.parametrize("header", ["Mar 12", "March 12", "Sept 5", "sep 5", "Dec 1", "Mar. 12"])
def test_header_dates_are_recognised(header):
    parsed = parse_page(DAILY_BANNER + header + "\n\nA Title\n\nIts abstract.\n")
    assert parsed.header_date == header
    assert titles(parsed) == ["A Title"]


@pytest.mark.parametrize("first_line", ["Marching Bands 12", "Mar 123", "Foo 12"])
def test_a_title_that_is_not_a_date_stays_a_title(first_line):
    parsed = parse_page(DAILY_BANNER + first_line + "\n\nIts abstract.\n")
    assert parsed.header_date is None
    assert titles(parsed) == [first_line]


# --------------------------------------------------------------------------- refused pages


@pytest.mark.parametrize(
    "name",
    ["banners_only_daily.txt", "banners_only_compact.txt", "not_a_listing.txt", "not_a_listing_subscribe.txt"],
)
def test_pages_that_are_not_listings_raise_layout_error(name):
    with pytest.raises(LayoutError):
        page(name)


def test_non_listing_error_names_the_first_line():
    with pytest.raises(LayoutError) as info:
        page("not_a_listing.txt")
    assert info.value.line_no == 1
    assert "unknown layout" in str(info.value)


@pytest.mark.parametrize("text", ["", "\n\n", "   \n\t\n", "\ufeff"])
def test_empty_text_raises_layout_error(text):
    with pytest.raises(LayoutError):
        parse_page(text)


def test_page_whose_only_record_is_truncated_raises_layout_error():
    with pytest.raises(LayoutError):
        parse_page(DAILY_BANNER + "Mar 12\n\nOnly a Title\n")


def test_layout_error_is_an_input_error():
    assert issubclass(LayoutError, InputError)


# --------------------------------------------------------------------------- split_lines


@pytest.mark.parametrize(
    ("text", "lines"),
    [
        ("", []),
        ("a", ["a"]),
        ("a\n", ["a"]),
        ("a\nb", ["a", "b"]),
        ("a\r\nb\r\n", ["a", "b"]),
        ("a\r\n\r\nb", ["a", "", "b"]),
        ("a\n\n\n", ["a", "", ""]),
        ("a\r\nb\nc", ["a", "b", "c"]),
        ("x\u2028y\x0cz\x85w", ["x\u2028y\x0cz\x85w"]),
        ("  indented  \n", ["  indented  "]),
    ],
)
def test_split_lines(text, lines):
    assert split_lines(text) == lines


# --------------------------------------------------------------------------- decode_capture


def test_decode_plain_utf8():
    assert decode_capture("Rényi ∑ 😀\n".encode(), "p.txt") == "Rényi ∑ 😀\n"


def test_decode_strips_one_bom():
    assert decode_capture(b"\xef\xbb\xbfnew\n", "p.txt") == "new\n"


@pytest.mark.parametrize("data", [b"", b"   ", b"\n\n", b"\r\n\t \r\n"])
def test_decode_refuses_empty_files(data):
    with pytest.raises(InputError) as info:
        decode_capture(data, "empty.txt")
    assert not isinstance(info.value, EncodingError)
    assert info.value.path == "empty.txt"
    assert "empty" in str(info.value)


@pytest.mark.parametrize(
    ("data", "offset"),
    [(b"\x00\x01\x02PNG", 0), (b"new\n\x00\x00", 4), ("new".encode("utf-16"), 3)],
)
def test_decode_refuses_binary_files(data, offset):
    with pytest.raises(InputError) as info:
        decode_capture(data, "image.bin")
    assert not isinstance(info.value, EncodingError)
    assert f"offset {offset}" in str(info.value)
    assert str(info.value).startswith("image.bin:")


def test_decode_refuses_latin1_with_offset_and_line():
    data = "new\n\nGet trending papers\n\nR\u00e9nyi bounds\n".encode("latin-1")
    offset = data.index(b"\xe9")
    with pytest.raises(EncodingError) as info:
        decode_capture(data, Path("captures/latin1.txt"))
    error = info.value
    assert isinstance(error, InputError)
    assert error.path == str(Path("captures/latin1.txt"))
    assert error.line_no == 5
    assert f"offset {offset}" in str(error)
    assert "0xe9" in str(error)
    assert str(error).startswith(f"{Path('captures/latin1.txt')}:5: ")


def test_decode_refuses_truncated_multibyte_sequence():
    data = "café".encode()[:-1]
    with pytest.raises(EncodingError) as info:
        decode_capture(data, "cut.txt")
    assert info.value.line_no == 1
    assert "offset 3" in str(info.value)


def test_decode_without_path():
    with pytest.raises(EncodingError) as info:
        decode_capture(b"\xff\xfe", None)
    assert info.value.path is None
    assert str(info.value).startswith("<text>:1: ")


# --------------------------------------------------------------------------- discover


def make_files(root: Path, names: list[str]) -> None:
    for name in names:
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("x", encoding="utf-8")


def test_discover_folder_is_recursive_sorted_and_skips_dot_files(tmp_path):
    make_files(
        tmp_path,
        ["b.txt", "a.txt", "sub/c.txt", "sub/deeper/d.txt", ".hidden.txt", ".git/objects/e.txt", "sub/.DS_Store"],
    )
    found = discover([tmp_path])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "b.txt", "sub/c.txt", "sub/deeper/d.txt"]


def test_discover_folder_under_a_dot_folder_is_walked(tmp_path):
    make_files(tmp_path, [".captures/x.txt", ".captures/.y.txt"])
    assert [p.name for p in discover([tmp_path / ".captures"])] == ["x.txt"]


def test_discover_single_file(tmp_path):
    make_files(tmp_path, ["one.txt", "two.txt"])
    assert discover([tmp_path / "two.txt"]) == [tmp_path / "two.txt"]
    assert discover([str(tmp_path / "two.txt")]) == [tmp_path / "two.txt"]


def test_discover_glob(tmp_path):
    make_files(tmp_path, ["2026-03-13.txt", "2026-03-12.txt", "notes.md", "sub/2026-03-14.txt"])
    found = discover([str(tmp_path / "*.txt")])
    assert [p.name for p in found] == ["2026-03-12.txt", "2026-03-13.txt"]
    recursive = discover([str(tmp_path / "**" / "*.txt")])
    assert sorted(p.name for p in recursive) == ["2026-03-12.txt", "2026-03-13.txt", "2026-03-14.txt"]


def test_discover_glob_matching_a_folder_walks_it(tmp_path):
    make_files(tmp_path, ["day1/b.txt", "day1/a.txt", "day2/c.txt"])
    found = discover([str(tmp_path / "day*")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["day1/a.txt", "day1/b.txt", "day2/c.txt"]


def test_a_folder_given_twice_in_two_spellings_is_found_once(tmp_path):
    make_files(tmp_path, ["d/a.txt", "d/sub/b.txt"])
    found = discover([tmp_path / "d", str(tmp_path / "d" / "**" / "*.txt"), tmp_path / "d" / "sub"])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["d/a.txt", "d/sub/b.txt"]


def test_discover_removes_duplicates_and_keeps_argument_order(tmp_path):
    make_files(tmp_path, ["z/1.txt", "a/2.txt"])
    found = discover([tmp_path / "z", tmp_path / "a", tmp_path / "z" / "1.txt", str(tmp_path / "*" / "*.txt")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["z/1.txt", "a/2.txt"]


@pytest.mark.parametrize("name", ["missing.txt", "missing-folder", "*.nothing"])
def test_discover_raises_for_a_path_that_matches_nothing(tmp_path, name):
    make_files(tmp_path, ["present.txt"])
    with pytest.raises(NoInputError) as info:
        discover([tmp_path / "present.txt", str(tmp_path / name)])
    assert name in str(info.value)


def test_discover_raises_for_an_empty_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    make_files(tmp_path, ["empty/.only-hidden"])
    with pytest.raises(NoInputError):
        discover([tmp_path / "empty"])


def test_a_symlinked_folder_is_followed_once(tmp_path):
    make_files(tmp_path, ["real/a.txt"])
    (tmp_path / "link").symlink_to(tmp_path / "real")
    (tmp_path / "real" / "again").symlink_to(tmp_path / "real", target_is_directory=True)  # a loop

    found = discover([tmp_path])

    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["link/a.txt"]  # one file, one spelling


def test_a_symlinked_folder_outside_the_walk_is_walked(tmp_path):
    make_files(tmp_path, ["elsewhere/b.txt", "captures/a.txt"])
    (tmp_path / "captures" / "more").symlink_to(tmp_path / "elsewhere")
    assert [p.name for p in discover([tmp_path / "captures"])] == ["a.txt", "b.txt"]


@pytest.mark.parametrize("pattern", ["{d}", "{d}/**/*.txt", "{d}/**", "{d}/**/sub/*.txt"])
def test_a_symlink_loop_neither_hangs_a_walk_nor_a_recursive_glob_and_is_named(tmp_path, pattern, caplog):
    d = tmp_path / "d"
    make_files(d, ["a.txt", "sub/b.txt"])
    (d / "sub" / "up").symlink_to(d)
    (d / "sub" / "self").symlink_to(d / "sub")

    found = discover([pattern.format(d=d)])

    expected = ["sub/b.txt"] if pattern.endswith("sub/*.txt") else ["a.txt", "sub/b.txt"]
    assert [p.relative_to(d).as_posix() for p in found] == expected
    loops = [r.getMessage() for r in caplog.records if "loop" in r.getMessage()]
    assert loops and all(str(d / "sub") in message for message in loops)


def test_a_recursive_glob_matches_at_every_depth_and_a_folder_it_matches_is_walked(tmp_path):
    make_files(tmp_path, ["a.txt", "x/b.txt", "x/y/c.txt", "x/y/notes.md", "days/2026/d.txt"])
    found = discover([str(tmp_path / "**" / "*.txt")])
    assert [p.relative_to(tmp_path).as_posix() for p in found] == ["a.txt", "days/2026/d.txt", "x/b.txt", "x/y/c.txt"]
    assert [p.name for p in discover([str(tmp_path / "**" / "2026")])] == ["d.txt"]


def test_folder_walks_take_capture_formats_and_leave_other_files_out(tmp_path):
    names = ["a.txt", "b.MD", "c.markdown", "d.html", "e.htm", "f.json", "papers.jsonl", "notes.csv", "raw"]
    make_files(tmp_path, names)

    found = discover_inputs([tmp_path])

    assert [p.name for p in found.files] == ["a.txt", "b.MD", "c.markdown", "d.html", "e.htm", "f.json"]
    assert found.ignored == 3


def test_include_and_exclude_patterns(tmp_path):
    make_files(tmp_path, ["a.txt", "b.txt", "old/c.txt", "x.jsonl", "y.capture"])
    selection = Selection(include=("*.txt", "*.capture"), exclude=("b.*", "old/*"))
    assert [p.name for p in discover([tmp_path], selection)] == ["a.txt", "y.capture"]
    assert [p.name for p in discover([str(tmp_path / "*")], selection)] == ["a.txt", "y.capture"]
    # A file named on the command line is read whatever the patterns.
    assert discover([tmp_path / "x.jsonl"], selection) == [tmp_path / "x.jsonl"]


def test_a_folder_with_only_files_left_out_is_not_an_error(tmp_path):
    make_files(tmp_path, ["export.jsonl"])
    assert discover_inputs([tmp_path]).files == []


@pytest.mark.parametrize("spelling", ["papers.db", "link.db"])
def test_the_target_database_and_its_files_are_never_read(tmp_path, spelling):
    make_files(
        tmp_path, ["a.txt", "papers.db", "papers.db-wal", "papers.db-shm", "papers.db-journal", "papers.db.lock"]
    )
    (tmp_path / "link.db").symlink_to(tmp_path / "papers.db")
    selection = Selection(
        include=("*",), protected=database_files(db.create_engine(f"sqlite:///{tmp_path / spelling}"))
    )

    assert [p.name for p in discover([tmp_path], selection)] == ["a.txt"]
    assert [p.name for p in discover([str(tmp_path / "*")], selection)] == ["a.txt"]
    assert discover([tmp_path / "a.txt", tmp_path / "papers.db"], selection) == [tmp_path / "a.txt"]


def test_a_file_name_that_is_not_utf8_is_one_refusal_and_the_others_are_found(tmp_path):
    make_files(tmp_path, ["a.txt", "z.txt"])
    bad = os.fsdecode(bytes(tmp_path) + b"/caf\xe9.txt")
    Path(bad).write_text("x", encoding="utf-8")

    found = discover_inputs([tmp_path])

    assert [p.name for p in found.files] == ["a.txt", "z.txt"]
    [refused] = found.refused
    assert refused.path == f"{tmp_path}/caf\\xe9.txt"
    assert "the file name is not valid UTF-8 (byte 0xe9)" in refused.reason


def unreadable(monkeypatch, folder: Path) -> str:
    """Make ``folder`` unreadable. As root, permissions do not stop reading, so opening it is made to
    fail with the error the OS gives an unprivileged user (EACCES); otherwise chmod 000 does it."""
    if os.geteuid() != 0:
        folder.chmod(0)
        return "real (chmod 000)"
    real_scandir = os.scandir

    def scandir(path="."):
        if Path(path) == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    return "simulated (running as root)"


def test_an_unreadable_folder_is_refused_by_name(tmp_path, monkeypatch):
    make_files(tmp_path, ["a.txt", "locked/b.txt", "z.txt"])
    how = unreadable(monkeypatch, tmp_path / "locked")
    try:
        found = discover_inputs([tmp_path])
    finally:
        (tmp_path / "locked").chmod(0o755)

    assert [p.name for p in found.files] == ["a.txt", "z.txt"], how
    [refused] = found.refused
    assert refused.path == str(tmp_path / "locked")
    assert (
        "this folder cannot be read (Permission denied)" in refused.reason and "check its permissions" in refused.reason
    )


# --------------------------------------------------------------------------- examples and real captures


@pytest.mark.parametrize(
    ("name", "layout", "header_date"),
    [
        ("2026-03-12-daily.txt", LAYOUT_DAILY, "Mar 12"),
        ("daily-papers-with-metadata.txt", LAYOUT_DAILY_META, "Mar 13"),
        ("search-results-compact.txt", LAYOUT_COMPACT, None),
    ],
)
def test_examples_parse_and_transform_without_problems(name, layout, header_date):
    parsed = parse_page(decode_capture((EXAMPLES / name).read_bytes(), name))
    assert parsed.layout == layout
    assert parsed.header_date == header_date
    assert 4 <= len(parsed.records) <= 6
    assert parsed.problems == []
    for record in parsed.records:
        paper, problems = transform_record(record)
        assert paper is not None
        assert problems == []
        if layout == LAYOUT_DAILY_META:
            assert paper.author_count is not None
            assert paper.published_on is not None


def test_examples_folder_holds_exactly_the_three_layouts():
    assert sorted(p.name for p in discover([EXAMPLES])) == [
        "2026-03-12-daily.txt",
        "daily-papers-with-metadata.txt",
        "search-results-compact.txt",
    ]


@pytest.mark.parametrize(
    ("name", "layout", "header_date"),
    [
        ("000_507768fe1ae47dd6.txt", LAYOUT_COMPACT, None),
        ("001_610f197604c2059d.txt", LAYOUT_DAILY, "Mar 12"),
        ("002_39951104f27984dd.txt", LAYOUT_COMPACT, None),
        ("003_adf85ad18c475e59.txt", LAYOUT_DAILY_META, "Jan 8"),
        ("004_e1af630cfe92b12c.txt", LAYOUT_DAILY, "Mar 13"),
    ],
)
def test_real_captures_parse_cleanly(name, layout, header_date):
    path = SEEDS / name
    if not path.is_file():
        pytest.skip(f"real capture {path} is not here")
    parsed = parse_page(decode_capture(path.read_bytes(), path))
    assert parsed.layout == layout
    assert parsed.header_date == header_date
    assert parsed.problems == []
    assert len(parsed.records) >= 20
    for record in parsed.records:
        assert record.raw_abstract
        assert len(record.raw_abstract) > len(record.raw_title)
        if layout == LAYOUT_DAILY_META:
            assert record.raw_authors is not None
            assert record.raw_published is not None


def test_a_file_holding_only_a_bom_is_empty():
    with pytest.raises(InputError, match="the file is empty"):
        decode_capture(b"\xef\xbb\xbf\r\n", "bom-only.txt")


# --------------------------------------------------------------------------- streaming


def chunked(data: bytes, size: int) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


STREAM_TEXTS = [
    "\ufeffnew\r\n\r\nRényi ∑ 😀 bounds\r\nlast line without newline",
    "a\n\nb\n\n\n",
    "only one line",
    "x\u2028y\x0cz\n😀😀😀\n",
]


@pytest.mark.parametrize("text", STREAM_TEXTS)
@pytest.mark.parametrize("chunk_size", [1, 2, 3, 5, 64])
def test_iter_lines_matches_split_lines_whatever_the_chunk_size(text, chunk_size):
    data = text.encode()

    lines = list(iter_lines(chunked(data, chunk_size), "p.txt"))

    assert lines == list(enumerate(split_lines(text.removeprefix("\ufeff")), start=1))


@pytest.mark.parametrize("chunk_size", [1, 4, 7, 1 << 20])
def test_iter_lines_names_the_offset_and_line_of_a_bad_byte_in_any_chunk(chunk_size):
    data = "new\n\nRényi\n\nok\nCaf".encode() + b"\xe9 au lait\n"
    with pytest.raises(EncodingError) as info:
        list(iter_lines(chunked(data, chunk_size), "cafe.txt"))
    offset = data.index(b"\xe9")
    assert info.value.line_no == 6
    assert f"(byte 0xe9 at offset {offset})" in str(info.value)


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 4, 64])
def test_cr_only_line_ends_read_as_line_ends_whatever_the_chunk_size(chunk_size):
    text = "new\n\nRényi ∑ bounds\nsecond \x0c line\n\nlast"
    data = text.replace("\n", "\r").encode()

    lines = list(iter_lines(chunked(data, chunk_size), "mac.txt"))

    assert lines == list(enumerate(split_lines(text), start=1))


@pytest.mark.parametrize("chunk_size", [1, 3, 64])
def test_a_stray_cr_stays_in_its_line_when_the_file_uses_lf_or_crlf(chunk_size):
    data = b"a\r\nb\rstill b\r\n"
    assert list(iter_lines(chunked(data, chunk_size), "p.txt")) == [(1, "a"), (2, "b\rstill b")]


def test_a_cr_only_page_parses_like_the_same_page_with_lf(tmp_path):
    text = page_text("daily_meta_basic.txt")
    path = tmp_path / "mac.txt"
    path.write_bytes(text.replace("\n", "\r").encode())

    with open_capture(path) as chunks:
        stream = PageStream(iter_lines(chunks, path))
        records = list(stream.records())

    assert stream.layout == parse_page(text).layout
    assert records == parse_page(text).records


def test_a_bad_byte_in_a_cr_only_file_is_located_exactly():
    data = "new\r\rRényi\rCaf".encode() + b"\xe9\r"
    with pytest.raises(EncodingError) as info:
        list(iter_lines(chunked(data, 5), "mac.txt"))
    assert info.value.line_no == 4
    offset = data.index(b"\xe9")
    assert f"(byte 0xe9 at offset {offset})" in str(info.value)


def test_iter_lines_refuses_a_nul_byte_in_a_later_chunk_before_decoding_it():
    data = b"new\n" * 10 + b"\xff\x00"
    with pytest.raises(InputError, match="binary data \\(NUL byte at offset 41\\)") as info:
        list(iter_lines(chunked(data, 8), "late.bin"))
    assert not isinstance(info.value, EncodingError)


def test_a_line_of_several_megabytes_streams_whole(tmp_path, monkeypatch):
    monkeypatch.setattr("etl.extract.READ_CHUNK_BYTES", 64 * 1024)  # the line spans about a hundred chunks
    abstract = "Long abstract " + "é∑ word " * 600_000  # about 6 MB of UTF-8
    path = tmp_path / "long.txt"
    path.write_text(COMPACT_BANNER + "SubscribeA Title\n" + abstract + "\nSecond\nSecond abstract\n", encoding="utf-8")

    with open_capture(path) as chunks:
        records = list(PageStream(iter_lines(chunks, path)).records())

    assert len(abstract.encode()) > 6_000_000
    assert [(r.raw_title, r.raw_abstract) for r in records] == [("A Title", abstract), ("Second", "Second abstract")]


def test_fingerprint_hashes_in_chunks(tmp_path, monkeypatch):
    monkeypatch.setattr("etl.extract.READ_CHUNK_BYTES", 10)
    path = tmp_path / "a.txt"
    path.write_bytes(b"0123456789" * 7 + b"tail")

    found = fingerprint_file(path)

    assert (found.sha256, found.size_bytes) == (hashlib.sha256(path.read_bytes()).hexdigest(), 74)


def test_fingerprint_of_a_vanished_file_is_an_input_error(tmp_path):
    with pytest.raises(InputError, match="vanished before it could be read; run the load again"):
        fingerprint_file(tmp_path / "gone.txt")


def test_a_big_file_streams_with_flat_memory(tmp_path):
    path = tmp_path / "big.txt"
    count = write_big_daily_page(path, 20)

    tracemalloc.start()
    try:
        with open_capture(path) as chunks:
            page = PageStream(iter_lines(chunks, path))
            seen = sum(1 for record in page.records() if transform_record(record)[0] is not None)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert seen == count > 10_000
    assert peak < path.stat().st_size / 4, f"peak {peak} bytes for a {path.stat().st_size} byte file"


def test_an_unreadable_folder_is_refused_when_an_unprivileged_user_walks_it():
    """The same as above for real, without simulation: as root, the walk runs as user nobody (setpriv)."""
    if os.geteuid() != 0:
        pytest.skip("runs only as root (unprivileged, the test above already uses chmod 000)")
    if shutil.which("setpriv") is None:
        pytest.skip("setpriv is not installed")
    folder = Path(tempfile.mkdtemp(prefix="papers-etl-unreadable-"))  # /tmp, which nobody can enter
    try:
        folder.chmod(0o755)
        make_files(folder, ["a.txt", "locked/b.txt"])
        (folder / "locked").chmod(0o700)
        script = (
            "import sys; from etl.extract import discover_inputs; found = discover_inputs([sys.argv[1]]); "
            "print([p.name for p in found.files], [(e.path, e.reason) for e in found.refused])"
        )
        result = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script, str(folder)],
            cwd=PROJECT_ROOT,
            env={**os.environ, "PYTHONPATH": str(PROJECT_ROOT)},
            capture_output=True,
            text=True,
            timeout=60,
        )
    finally:
        shutil.rmtree(folder)

    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("['a.txt'] [(")
    assert f"{folder / 'locked'}" in result.stdout and "this folder cannot be read (Permission denied)" in result.stdout
