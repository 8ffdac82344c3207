"""The transform gives exactly what it gave before it was made faster (issue #17).

tests/data/transform_outputs.json holds, for each input, a digest of what the transform
of commit c8ecf73 (before the speed-up) returned for it: of every text function
(``clean_text``, ``normalise_text``, ``title_key``, ``abstract_key``, ``folded_text``,
``extract_links``) for each text, and of ``transform_record`` (paper, folded title,
problems) for each record. Inputs and outputs are stored as digests only, so no text of
the real captures enters the repository. The inputs:

- every line of the plain-text seeds and Markdown captures in ../shared (skipped with a
  reason where absent), and the records papers-etl reads from them;
- every string of the labelled sets (tests/data/link_cases.jsonl, dedup_pairs.jsonl);
- 3,000 records of the benchmark's generator (bench/generate.py, seed 0: titles with
  LaTeX, accents and hyphenation variants, abstracts with links), built directly as
  RawRecords, plus records with the date and author forms the pages print.

Digests are 12 hex digits (48 bits): a changed output goes unnoticed with odds of 2^-48.

Write the file again (only ever from a transform whose outputs are the reference) with
``python tests/test_transform_outputs.py``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))  # run as a script: etl and bench from this checkout

from bench import generate  # noqa: E402
from etl.extract import decode_capture, parse_page  # noqa: E402
from etl.links import extract_links  # noqa: E402
from etl.records import RawRecord  # noqa: E402
from etl.transform import (  # noqa: E402
    LATEX_CHARACTERS,
    abstract_key,
    clean_text,
    folded_text,
    has_latex,
    normalise_text,
    title_key,
    transform_record,
)

DATA = Path(__file__).parent / "data"
EXPECTED = DATA / "transform_outputs.json"
SHARED = PROJECT_ROOT.parent / "shared"
REAL_FOLDERS = (SHARED / "seeds", SHARED / "captures")
LABELLED = ("link_cases.jsonl", "dedup_pairs.jsonl")
GENERATED_PAPERS = 3000
BOUND = dt.date(2025, 12, 31)  # the year bound of a date printed without its year
# Date and author lines as pages print them, well formed or not (field problems included).
DATE_FORMS = ("Jun 7, 2023", "Published on Dec 28, 2024", "May 29 6", "Mar 13 [ 3]", "Feb 30, 2024",
              "May 25, 2025 2", "2024-03-01", "Sept. 3, 2021", "May 29", "yesterday")  # fmt: skip
AUTHOR_FORMS = ("  • 13 authors", "- 1 author", "13 authors", "OCC", "• many authors", "  • 0 authors")


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, ensure_ascii=False, default=str).encode()).hexdigest()[:12]


def text_outputs(text: str) -> list:
    links = [[link.url, link.kind, link.repo, link.found_in] for link in extract_links(text)]
    functions = (clean_text, normalise_text, title_key, abstract_key, folded_text)
    return [*(function(text) for function in functions), links]


def record_inputs(record: RawRecord) -> list:
    card = record.card
    return [record.position, record.line_no, record.raw_title, record.raw_abstract, record.raw_authors,
            record.authors_line_no, record.raw_published, record.published_line_no, record.raw_comments,
            card.arxiv_id, card.github_url, list(card.abstract_urls)]  # fmt: skip


def record_outputs(record: RawRecord) -> list:
    paper, problems = transform_record(record, BOUND)
    found = [[p.level, p.reason, p.line_no, p.excerpt] for p in problems]
    if paper is None:
        return [None, found]
    links = [[link.url, link.kind, link.repo, link.found_in] for link in paper.links]
    fields = [paper.title, paper.title_key, paper.abstract, paper.abstract_key, paper.published_on,
              paper.author_count, links, paper.folded_title, paper.arxiv_id]  # fmt: skip
    return [fields, found]


# --------------------------------------------------------------------------- the inputs


def real_files() -> list[Path]:
    return sorted(path for folder in REAL_FOLDERS if folder.is_dir() for path in folder.iterdir() if path.is_file())


def real_texts() -> Iterator[str]:
    for path in real_files():
        yield from decode_capture(path.read_bytes(), path).splitlines()


def real_records() -> Iterator[RawRecord]:
    for path in real_files():
        yield from parse_page(decode_capture(path.read_bytes(), path)).records


def labelled_texts() -> Iterator[str]:
    def strings(value) -> Iterator[str]:
        if isinstance(value, str):
            yield value
        elif isinstance(value, dict):
            for item in value.values():
                yield from strings(item)
        elif isinstance(value, list):
            for item in value:
                yield from strings(item)

    for name in LABELLED:
        for line in (DATA / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                yield from strings(json.loads(line))


def generated_records() -> Iterator[RawRecord]:
    """The generator's papers as records (canonical and variant titles), then the date and author forms."""
    for number in range(GENERATED_PAPERS):
        paper = generate.paper_text(0, number)
        title = paper.variant if number % 3 == 0 else paper.title
        published = generate.printed_date(paper.published) + paper.published_suffix
        authors = f"  • {paper.author_count} authors"
        yield RawRecord(number % 50 + 1, 2 * number + 1, title, paper.abstract, authors, 5, published, 7)
    paper = generate.paper_text(0, 0)
    for index, (published, authors) in enumerate((d, a) for d in DATE_FORMS for a in AUTHOR_FORMS):
        yield RawRecord(index + 1, index + 1, paper.title, paper.abstract, authors, 3, published, 4)
    yield RawRecord(1, 1, "$$", "An abstract of a few words.")
    yield RawRecord(2, 2, "https://example.org/a", "An abstract of a few words.")
    yield RawRecord(3, 3, "A Title", None)


def all_outputs(with_real: bool) -> dict[str, dict[str, str]]:
    texts, records = list(labelled_texts()), list(generated_records())
    if with_real:
        texts += real_texts()
        records += real_records()
    return {
        "texts": {_digest(text): _digest(text_outputs(text)) for text in texts},
        "records": {_digest(record_inputs(record)): _digest(record_outputs(record)) for record in records},
    }


# --------------------------------------------------------------------------- the tests


@pytest.fixture(scope="module")
def expected() -> dict[str, dict[str, str]]:
    return json.loads(EXPECTED.read_text(encoding="utf-8"))


def _differences(kind: str, inputs: list, outputs, expected: dict[str, str]) -> list[str]:
    wrong, missing = [], []
    for item in inputs:
        key = _digest(record_inputs(item) if kind == "records" else item)
        if key not in expected:
            missing.append(repr(item)[:80])
        elif expected[key] != _digest(outputs(item)):
            wrong.append(repr(item)[:120])
    assert not missing, f"{len(missing)} {kind} not in {EXPECTED.name} (the inputs changed?): {missing[:3]}"
    return wrong


def test_text_functions_give_the_reference_outputs(expected):
    texts = list(labelled_texts())
    assert len(texts) > 2000
    assert _differences("texts", texts, text_outputs, expected["texts"]) == []


def test_transform_record_gives_the_reference_outputs(expected):
    records = list(generated_records())
    assert len(records) > GENERATED_PAPERS
    assert _differences("records", records, record_outputs, expected["records"]) == []


@pytest.mark.skipif(not real_files(), reason="no real captures in ../shared/seeds or ../shared/captures")
def test_the_real_captures_give_the_reference_outputs(expected):
    texts, records = list(real_texts()), list(real_records())
    assert texts and records
    assert _differences("texts", texts, text_outputs, expected["texts"]) == []
    assert _differences("records", records, record_outputs, expected["records"]) == []


def test_has_latex_tests_every_latex_character():
    """has_latex spells LATEX_CHARACTERS out (for speed): the two must agree."""
    for character in LATEX_CHARACTERS:
        assert has_latex(f"plain {character} text")
    assert not has_latex("plain text, with a 'quote' and (brackets)")


def test_a_changed_output_is_caught(expected, monkeypatch):
    """The comparison can fail: a title key with one letter more differs from the reference."""
    original = title_key
    monkeypatch.setattr(sys.modules[__name__], "title_key", lambda text: original(text) + "x")
    texts = list(labelled_texts())[:50]
    assert len(_differences("texts", texts, text_outputs, expected["texts"])) == len(texts)


if __name__ == "__main__":
    if not real_files():
        sys.exit(f"no real captures in {REAL_FOLDERS[0]} or {REAL_FOLDERS[1]}: they are part of the reference")
    outputs = all_outputs(with_real=True)
    EXPECTED.write_text(json.dumps(outputs, sort_keys=True, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"written {EXPECTED}")
