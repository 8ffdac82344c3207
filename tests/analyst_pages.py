"""Hand-written pages for the analyst layer's tests, and their expected view rows.

Four pages: three dated by their file names (2026-03-02, -03, -04) and one
undated compact page. Eight papers, A to H:

| paper | listed on                          | published   | authors | GitHub repositories                     |
|-------|------------------------------------|-------------|---------|-----------------------------------------|
| A     | 03-02, 03-03, undated page         | 2026-02-27  | 6       | fastgen/four-steps                      |
| B     | 03-02, 03-04                       | 2026-02-28  | 3       | tab-lab/sparsemix, tab-lab/sparsemix-data |
| C     | 03-02                              | 2026-01-15  | 12      | none (a github.io page only)            |
| D     | 03-03                              | 2026-03-01  | 3       | fastgen/four-steps                      |
| E     | 03-03                              | 2025-12-30  | 1       | none                                    |
| H     | 03-03                              | 2026-02-03  | 2       | none                                    |
| F     | 03-04 (no metadata on that page)   | unknown     | unknown | sound-ai/no-codebook                    |
| G     | undated page only                  | unknown     | unknown | none                                    |
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import _postgres_url
from pages import compact_page, daily_meta_page, daily_page, markdown_page

from etl import db
from etl.pipeline import run_load

A = ("Diffusion Distillation in Four Steps",
     "A four step sampler for image models. Code: github.com/fastgen/four-steps.")  # fmt: skip
B = ("Sparse Mixtures for Tabular Learning",
     "Sparse experts for tables. Code: https://github.com/Tab-Lab/SparseMix and data at "
     "github.com/tab-lab/sparsemix-data.")  # fmt: skip
C = ("Graph Priors for Robot Grasping", "Grasping with graph priors; videos at https://grasp.github.io/demos/.")
D = ("Consistency Models for Fast Sampling",
     "We revisit diffusion distillation: https://github.com/fastgen/four-steps/tree/main.")  # fmt: skip
E = ("Weather Forecasting with Tiny Transformers", "Tiny transformers forecast the weather a week ahead.")
H = ("Notes on Evaluation Leakage", "Benchmarks leak into training sets; we measure how much.")
F = ("Audio Tokens Without Codebooks", "Continuous audio tokens, code at https://github.com/sound-ai/no-codebook.")
G = ("Prompt Caches for Long Contexts", "Reusing prompt caches across long contexts.")

TITLES = {"A": A[0], "B": B[0], "C": C[0], "D": D[0], "E": E[0], "F": F[0], "G": G[0], "H": H[0]}

PAGES = {
    "2026-03-02.txt": daily_meta_page("Mar 2", [
        (*A, "  • 6 authors", "Feb 27, 2026"),
        (*B, "  • 3 authors", "Feb 28, 2026"),
        (*C, "  • 12 authors", "Jan 15, 2026"),
    ]),
    "2026-03-03.txt": daily_meta_page("Mar 3", [
        (*A, "  • 6 authors", "Feb 27, 2026"),
        (*D, "  • 3 authors", "Mar 1, 2026"),
        (*E, "  • 1 authors", "Dec 30, 2025"),
        (*H, "  • 2 authors", "Feb 3, 2026"),
    ]),
    "2026-03-04.txt": daily_page("Mar 4", [B, F]),
    "trending.txt": compact_page([A, G]),
}  # fmt: skip


def day(month: int, day_: int, year: int = 2026) -> dt.date:
    return dt.date(year, month, day_)


# Expected rows, keyed by paper letter where the view has one row per paper.
PAPER_SUMMARY = {
    # letter: (published_on, author_count, repo, has_code, github_repo_count, link_count, times_listed,
    #          days_listed, best_position, first_listed_on, last_listed_on)
    "A": (day(2, 27), 6, "fastgen/four-steps", 1, 1, 1, 3, 2, 1, day(3, 2), day(3, 3)),
    "B": (day(2, 28), 3, "tab-lab/sparsemix", 1, 2, 2, 2, 2, 1, day(3, 2), day(3, 4)),
    "C": (day(1, 15), 12, None, 0, 0, 1, 1, 1, 3, day(3, 2), day(3, 2)),
    "D": (day(3, 1), 3, "fastgen/four-steps", 1, 1, 1, 1, 1, 2, day(3, 3), day(3, 3)),
    "E": (day(12, 30, 2025), 1, None, 0, 0, 0, 1, 1, 3, day(3, 3), day(3, 3)),
    "H": (day(2, 3), 2, None, 0, 0, 0, 1, 1, 4, day(3, 3), day(3, 3)),
    "F": (None, None, "sound-ai/no-codebook", 1, 1, 1, 1, 1, 2, day(3, 4), day(3, 4)),
    "G": (None, None, None, 0, 0, 0, 1, 0, 2, None, None),
}
ABSTRACTS = {"A": A[1], "B": B[1], "C": C[1], "D": D[1], "E": E[1], "F": F[1], "G": G[1], "H": H[1]}
MONTHLY_PUBLICATIONS = [
    (day(12, 1, 2025), 1, 0, 0.0),
    (day(1, 1), 1, 0, 0.0),
    (day(2, 1), 3, 2, 2 / 3),
    (day(3, 1), 1, 1, 1.0),
    (None, 2, 1, 0.5),  # F and G have no publication date
]
GITHUB_REPOSITORIES = [
    ("fastgen/four-steps", "https://github.com/fastgen/four-steps", 2, day(2, 27), day(3, 3)),
    ("sound-ai/no-codebook", "https://github.com/sound-ai/no-codebook", 1, None, day(3, 4)),
    ("tab-lab/sparsemix", "https://github.com/tab-lab/sparsemix", 1, day(2, 28), day(3, 4)),
    ("tab-lab/sparsemix-data", "https://github.com/tab-lab/sparsemix-data", 1, day(2, 28), day(3, 4)),
]
# March: A B C D E H F first listed (7), 9 listings, A B D F have code; undated (trending) page: A and G, G new.
LISTING_MONTHS = [(day(3, 1), 7, 7, 9, 4, 4 / 7), (None, 1, 2, 2, 1, 0.5)]
LISTING_DAYS = [(day(3, 2), 3, 3), (day(3, 3), 4, 3), (day(3, 4), 2, 1)]
AUTHOR_COUNT_DISTRIBUTION = [(1, 1), (2, 1), (3, 2), (6, 1), (12, 1), (None, 2)]


# Upvotes: two daily Markdown captures of papers A and B (ids 2603.00001, 2603.00002) and a trending capture
# (no listing date: its capture day counts) that shows A twice and B once more; C is on a plain page only.
TRENDING = "---\nurl: https://huggingface.co/papers/trending\nretrieved: 2026-03-07T09:00:00Z\n---\n"
UPVOTE_PAGES = {
    "2026-03-05.md": markdown_page(
        "Mar 5", [(*A, "2603.00001", 10, 6, "Feb 27"), (*B, "2603.00002", None, 3, "Feb 28")]
    ),
    "2026-03-06.md": markdown_page("Mar 6", [(*A, "2603.00001", 25, 6, "Feb 27"), (*B, "2603.00002", 4, 3, "Feb 28")]),
    "trending.md": TRENDING
    + markdown_page("Mar 7", [(*A, "2603.00001", 31, 6, "Feb 27"), (*B, "2603.00002", 2, 3, "Feb 28")]),
    "2026-03-08.txt": daily_page("Mar 8", [C]),
}
# Each file's modification time, as if saved when captured: the daily captures' time orders their upvotes.
UPVOTE_MTIMES = {"2026-03-05.md": "2026-03-05T12:00:00+00:00", "2026-03-06.md": "2026-03-06T12:00:00+00:00"}
HF = "https://huggingface.co/papers/"
# arxiv_id: (hf_url, latest_upvotes, max_upvotes, times_listed); B's latest capture (trending, Mar 7) shows 2.
UPVOTE_SUMMARY = {
    "2603.00001": (HF + "2603.00001", 31, 31, 3),
    "2603.00002": (HF + "2603.00002", 2, 4, 3),
    None: (None, None, None, 1),
}
# (paper_id, arxiv_id, title, listed_on, upvotes, comments, github_stars, captures), by paper then day.
PAPER_UPVOTES = [
    (1, "2603.00001", A[0], day(3, 5), 10, None, None, 1),
    (1, "2603.00001", A[0], day(3, 6), 25, None, None, 1),
    (1, "2603.00001", A[0], day(3, 7), 31, None, None, 1),
    (2, "2603.00002", B[0], day(3, 6), 4, None, None, 1),
    (2, "2603.00002", B[0], day(3, 7), 2, None, None, 1),
]


def load_pages(engine, folder: Path, pages: dict = PAGES) -> None:
    for name, when in UPVOTE_MTIMES.items():
        if name in pages:
            stamp = dt.datetime.fromisoformat(when).timestamp()
            os.utime(folder / name, (stamp, stamp))
    summary = run_load(engine, [folder])
    assert summary.counts["files_loaded"] == len(pages), summary


def loaded_engines(
    request: pytest.FixtureRequest, tmp_path: Path, page_dir, pages: dict = PAGES, name: str = "analyst.db"
) -> Iterator[dict]:
    """{"sqlite": engine, "postgres": engine}, both loaded with ``pages`` from the same folder."""
    folder = page_dir(pages)
    engines = {
        "sqlite": db.create_engine(f"sqlite:///{tmp_path / name}"),
        "postgres": db.create_engine(_postgres_url(request)),
    }
    for engine in engines.values():
        load_pages(engine, folder, pages)
    yield engines
    for engine in engines.values():
        engine.dispose()
