"""Precision and recall of link extraction and deduplication on labelled sets we wrote.

tests/data/link_cases.jsonl: abstract fragments and the links they hold (kind, and the repo or the normalised URL).
tests/data/dedup_pairs.jsonl: pairs of (title, abstract) sightings and whether they are the same paper,
hard negatives included. Run with ``pytest -s tests/test_labelled.py`` to see the figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from etl.dedup import same_paper
from etl.links import extract_links
from etl.records import CardFacts, RawRecord
from etl.transform import transform_record

DATA = Path(__file__).parent / "data"


def read_jsonl(name: str) -> list[dict]:
    return [json.loads(line) for line in (DATA / name).read_text(encoding="utf-8").splitlines() if line.strip()]


LINK_CASES = read_jsonl("link_cases.jsonl")
DEDUP_PAIRS = read_jsonl("dedup_pairs.jsonl")


@dataclass
class Score:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        wanted = self.true_positives + self.false_negatives
        return self.true_positives / wanted if wanted else 1.0

    def add(self, predicted: set, expected: set) -> None:
        self.true_positives += len(predicted & expected)
        self.false_positives += len(predicted - expected)
        self.false_negatives += len(expected - predicted)


def link_items(links) -> set[tuple[str, str]]:
    return {(link["kind"], link.get("repo") or link["url"]) for link in links}


def test_the_labelled_sets_are_large_enough():
    assert len(LINK_CASES) >= 200
    assert len(DEDUP_PAIRS) >= 150
    negatives = [pair for pair in DEDUP_PAIRS if not pair["same"]]
    assert len(negatives) >= 50


# Markdown contexts the link set must cover (issue 13), by the note's prefix.
MARKDOWN_LINK_CONTEXTS = (
    "md-inline", "md-angle", "md-reference", "md-link-text-url", "md-trailing-paren", "md-trailing-bracket",
    "md-balanced-paren", "spaced-scheme", "duplicate-repo",
)  # fmt: skip


@pytest.mark.parametrize("context", MARKDOWN_LINK_CONTEXTS)
def test_the_link_set_covers_markdown_contexts(context):
    assert sum(case["note"].startswith(f"{context}:") for case in LINK_CASES) >= 3


def test_link_extraction_is_exact_on_the_labelled_set():
    score, misses = Score(), []
    for case in LINK_CASES:
        predicted = {(link.kind, link.repo or link.url) for link in extract_links(case["text"])}
        expected = link_items(case["expected"])
        score.add(predicted, expected)
        if predicted != expected:
            misses.append(f"{case['note']}: {case['text']!r} gave {sorted(predicted)}, expected {sorted(expected)}")
    print(f"\nlinks: {len(LINK_CASES)} cases, precision {score.precision:.4f}, recall {score.recall:.4f}")
    assert misses == []
    assert (score.precision, score.recall) == (1.0, 1.0)


def sighting(side: dict):
    card = CardFacts(arxiv_id=side.get("arxiv_id"))
    paper, _ = transform_record(RawRecord(1, 1, side["title"], side["abstract"], card=card))
    return paper


def test_deduplication_precision_and_recall_on_the_labelled_pairs():
    score, misses = Score(), []
    for index, pair in enumerate(DEDUP_PAIRS):
        predicted = same_paper(sighting(pair["a"]), sighting(pair["b"]))
        score.add({index} if predicted else set(), {index} if pair["same"] else set())
        if predicted != pair["same"]:
            misses.append(f"{pair['note']}: {pair['a']['title']!r} / {pair['b']['title']!r}")
    print(f"\ndedup: {len(DEDUP_PAIRS)} pairs, precision {score.precision:.4f}, recall {score.recall:.4f}")
    print("\n".join(misses))
    assert score.precision >= 0.995, misses
    assert score.recall >= 0.98, misses


@pytest.mark.parametrize("pair", DEDUP_PAIRS[:20], ids=lambda pair: pair["note"][:40])
def test_same_paper_is_symmetric_on_labelled_pairs(pair):
    a, b = sighting(pair["a"]), sighting(pair["b"])
    assert same_paper(a, b) == same_paper(b, a)
