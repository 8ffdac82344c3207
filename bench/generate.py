"""Generate synthetic capture files for the benchmark, and the truth about them.

    python bench/generate.py --papers 100000 --out /tmp/bench-1e5

writes ``OUT/captures/NNNN/*.txt`` in the three layouts papers-etl reads
(compact, daily, daily_meta; the same shapes as tests/pages.py builds, which
bench does not import), ``OUT/truth.json`` (what a correct load must give) and
``OUT/rows.pickle`` (the same data already parsed into the tables' rows, for the
floor and the alternatives).

``--shape`` chooses the files: ``pages`` (the default, issue #17's corpus: daily_meta
pages of 1,000 records each, so 1e5 records are 100 files) or ``mixed`` (rounds 1–3:
the three layouts, 20–60 records per page). ``daily_page`` writes the one 50-paper
page of the daily-run measurement.

``--papers N`` is the number of records (paper sightings) in the files. About 15%
of them repeat a paper from an earlier file, half of those in a markup variant
(case, LaTeX, accents, hyphenation) that has the same title key; about 20% of
abstracts hold a GitHub link. Everything is derived from ``--seed``: the same
arguments give byte-identical files. Memory stays flat in the number of files:
a paper's text is re-derived from its number, never kept.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import pickle
import random
import re
import sys
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

REPEAT_SHARE = 0.15
VARIANT_SHARE = 0.5  # of repeats
GITHUB_SHARE = 0.20
PAGES_SHARE = 0.05  # project pages on github.io
OTHER_LINK_SHARE = 0.05
LAYOUT_WEIGHTS = {"compact": 0.3, "daily": 0.3, "daily_meta": 0.4}
PAPERS_PER_FILE = (20, 60)
# The corpus shapes: (records per file, low and high; layout weights).
SHAPES = {
    "pages": ((1000, 1000), {"daily_meta": 1.0}),  # issue #17: 100 daily_meta pages of 1,000 records at 1e5
    "mixed": (PAPERS_PER_FILE, LAYOUT_WEIGHTS),  # rounds 1-3
}
DAILY_PAGE_PAPERS = 50
FILES_PER_FOLDER = 1000
CRLF_SHARE, BOM_SHARE = 0.05, 0.02
RUN_ID = 1
LOADED_AT = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)

COMPACT_BANNER = ["Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!"]
DAILY_BANNER = ["new", "Get trending papers in your email inbox!", "Subscribe"]
DAILY_PAPERS = "Daily Papers"
BYLINE = "byAK and the research community"
MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _words(text: str) -> list[str]:
    return text.split()


WORDS = _words("""
learning model models language vision diffusion transformer transformers attention sparse dense retrieval
agents agent reasoning benchmark benchmarks evaluation alignment reward policy optimization gradient
descent training inference decoding tokens tokenizer context memory long efficient scalable robust
generalization representation representations embeddings contrastive supervised unsupervised
reinforcement multimodal video audio speech image images text code graph graphs neural networks network
latent space spaces sampling distillation quantization pruning compression low rank adapters fine tuning
instruction preference feedback human synthetic data datasets curriculum scaling laws emergent abilities
chain thought planning tool use search tree monte carlo world simulation physics molecular protein
docking geometry equivariant invariant rotation translation point cloud mesh rendering radiance fields
gaussian splatting segmentation detection tracking depth estimation flow matching consistency score
energy based autoregressive masked modeling mixture experts routing parallel decoding speculative cache
kv quantized precision hardware accelerators throughput latency serving systems compiler kernels
federated privacy differential secure watermarking safety refusal calibration uncertainty hallucination
factuality grounding citations knowledge editing continual forgetting lifelong adaptation domain shift
out distribution detection anomaly time series forecasting tabular recommendation ranking clicks users
""")
ADJECTIVES = _words("""
Scalable Efficient Robust Sparse Adaptive Hierarchical Contrastive Causal Latent Neural Unified Simple
Fast Tiny Large Structured Implicit Explicit Learned Dynamic Static Recurrent Parallel Modular Faithful
""")
NOUNS = _words("""
Transformers Agents Diffusion Retrieval Attention Memory Reasoning Planning Alignment Distillation
Tokenizers Adapters Critics Benchmarks Embeddings Policies Rewards Caches Kernels Experts Fields Meshes
""")
CONSONANTS = "bcdfghklmnprstvz"  # 16
VOWELS = "aeiou"  # 5
CODE_SPACE = (len(CONSONANTS) * len(VOWELS)) ** 4  # 40,960,000 names
CODE_MULTIPLIER = 2_654_435_761  # prime to CODE_SPACE (odd, not a multiple of 5): a bijection
# Markup that etl's title key ignores: (canonical form, variant form).
LATEX_PHRASES = [("in $\\mathcal{O}(n)$ Time", "in O(n) Time"), ("on $\\mathbf{SE}(3)$", "on SE(3)")]
ACCENT_PHRASES = [
    ("Pólya Urns", "Polya Urns"),
    ("Erdős Graphs", "Erdos Graphs"),
    ("Schrödinger Bridges", "Schrodinger Bridges"),
]
HYPHEN_PHRASES = [
    ("Self-Supervised", "Self Supervised"),
    ("Long-Context", "LongContext"),
    ("Multi-Agent", "Multi Agent"),
]
FEATURES = ("plain", "latex", "accent", "hyphen")


def code_name(number: int) -> str:
    """A pronounceable, fixed-length (8 letters) name unique to ``number``: it makes every title key unique."""
    number = (number * CODE_MULTIPLIER) % CODE_SPACE  # scattered, as real titles are, not in index order
    letters = []
    for _ in range(4):
        number, syllable = divmod(number, len(CONSONANTS) * len(VOWELS))
        consonant, vowel = divmod(syllable, len(VOWELS))
        letters.append(CONSONANTS[consonant] + VOWELS[vowel])
    return "".join(letters).capitalize()


def abstract_key(abstract: str) -> str:
    """The listing's abstract fingerprint, as papers-etl computes it (blake2b of the folded words)."""
    words = re.findall(r"[^\W_]+", re.sub(r"[-‐‑‒–'’]", "", unicodedata.normalize("NFKD", abstract.casefold())))
    return hashlib.blake2b(" ".join(words).encode(), digest_size=16).hexdigest() if words else ""


def title_key(title: str) -> str:
    """The same rule as papers-etl's title key (bench does not import etl): for the floor's rows."""
    text = title
    for command in ("\\mathcal", "\\mathbf"):
        text = text.replace(command, "")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


@dataclass(frozen=True)
class PaperText:
    """Everything about one synthetic paper, derived from its number and the seed."""

    number: int
    title: str  # canonical
    variant: str  # a markup variant with the same title key
    abstract: str
    links: tuple[tuple[str, str, str | None], ...]  # (url, kind, repo)
    author_count: int
    published: dt.date
    published_suffix: str  # "" or " 12": a trailing count as printed on daily pages


def paper_text(seed: int, number: int) -> PaperText:
    rng = random.Random(seed * 10_000_019 + number)
    name = code_name(number)
    feature = rng.choice(FEATURES)
    words = [
        rng.choice(ADJECTIVES),
        *(w.capitalize() for w in rng.choices(WORDS, k=rng.randint(3, 8))),
        rng.choice(NOUNS),
    ]
    canonical, variant = " ".join(words), " ".join(words)
    if feature != "plain":
        phrases = {"latex": LATEX_PHRASES, "accent": ACCENT_PHRASES, "hyphen": HYPHEN_PHRASES}[feature]
        extra, extra_variant = rng.choice(phrases)
        canonical, variant = f"{canonical} {extra}", f"{variant} {extra_variant}"
    if rng.random() < 0.5:
        variant = variant.upper() if rng.random() < 0.5 else variant.lower()
    title, variant_title = f"{name}: {canonical}", f"{name}: {variant}"
    sentences = []
    for _ in range(rng.randint(7, 12)):
        sentence = " ".join(rng.choices(WORDS, k=rng.randint(12, 24)))
        sentences.append(sentence.capitalize() + ".")
    links: list[tuple[str, str, str | None]] = []
    owner, repo = f"{name.lower()}-lab", f"{name.lower()}-{rng.choice(WORDS)}"
    roll = rng.random()
    if roll < GITHUB_SHARE:
        url, sentence = rng.choice(
            [
                (f"https://github.com/{owner}/{repo}", "Code: {url}."),
                (f"github.com/{owner}/{repo}/tree/main", "Code is available at {url}."),
                (f"https://github.com/{owner}/{repo}/tree/main/experiments", "Our experiments are at {url}."),
            ]
        )
        sentences.append(sentence.format(url=url))
        links.append((url, "github_repo", f"{owner}/{repo}"))
    elif roll < GITHUB_SHARE + PAGES_SHARE:
        url = f"https://{owner}.github.io/{repo}/"
        sentences.append(f"Samples are on our project page, {url}.")
        links.append((url, "github_pages", None))
    elif roll < GITHUB_SHARE + PAGES_SHARE + OTHER_LINK_SHARE:
        url = f"https://huggingface.co/datasets/{owner}/{repo}"
        sentences.append(f"The data are at {url}.")
        links.append((url, "other", None))
    published = dt.date(2019, 1, 1) + dt.timedelta(days=rng.randrange(2900))
    suffix = f" {rng.randint(1, 300)}" if rng.random() < 0.1 else ""
    return PaperText(
        number, title, variant_title, " ".join(sentences), tuple(links), rng.randint(1, 40), published, suffix
    )


def printed_date(day: dt.date) -> str:
    return f"{MONTH_NAMES[day.month - 1]} {day.day}, {day.year}"


# --------------------------------------------------------------------------- pages


@dataclass
class PageBuilder:
    """Lines of one capture, with the line number of each record's title."""

    lines: list[str] = field(default_factory=list)

    def add(self, *lines: str) -> int:
        self.lines.extend(lines)
        return len(self.lines) - len(lines) + 1  # line number of the first one

    def blank(self) -> None:
        self.lines.append("")


@dataclass(frozen=True)
class Sighting:
    paper: PaperText
    title: str  # as printed
    line_no: int
    raw_meta: str | None


def build_page(layout: str, listing_day: dt.date, papers: list[tuple[PaperText, bool]]) -> tuple[str, list[Sighting]]:
    """A capture in ``layout`` listing ``papers`` ((paper, print its variant title)); its text and sightings."""
    page, sightings = PageBuilder(), []
    if layout == "compact":
        page.add(*COMPACT_BANNER)
        for index, (paper, variant) in enumerate(papers):
            title = paper.variant if variant else paper.title
            line_no = page.add(("Subscribe" + title) if index == 0 else title, paper.abstract)
            sightings.append(Sighting(paper, title, line_no, None))
        return "\n".join(page.lines) + "\n", sightings
    header = [*DAILY_BANNER, *([DAILY_PAPERS] if layout == "daily_meta" else []), BYLINE]
    header.append(f"{MONTH_NAMES[listing_day.month - 1]} {listing_day.day}")
    for line in header:
        page.add(line)
        page.blank()
    for paper, variant in papers:
        title = paper.variant if variant else paper.title
        line_no = page.add(title)
        page.blank()
        page.add(paper.abstract)
        raw_meta = None
        if layout == "daily_meta":
            authors, published = (
                f"  • {paper.author_count} authors",
                printed_date(paper.published) + paper.published_suffix,
            )
            page.blank()
            page.add(authors, "·", published)
            raw_meta = f"{authors}\n{published}"
        page.blank()
        sightings.append(Sighting(paper, title, line_no, raw_meta))
    return "\n".join(page.lines) + "\n", sightings


# --------------------------------------------------------------------------- the whole set


@dataclass
class Rows:
    """The tables' rows as papers-etl should write them, and one flat record per sighting."""

    source_files: list[tuple] = field(default_factory=list)
    papers: list[tuple] = field(default_factory=list)
    paper_links: list[tuple] = field(default_factory=list)
    listings: list[tuple] = field(default_factory=list)
    records: list[dict] = field(default_factory=list)  # for sqlite-utils and dlt


SOURCE_FILE_COLUMNS = (
    "source_file_id", "path", "sha256", "size_bytes", "layout", "listed_on", "listed_on_source", "record_count",
    "run_id", "loaded_at",
)  # fmt: skip
PAPER_COLUMNS = (
    "paper_id",
    "title",
    "title_key",
    "abstract",
    "published_on",
    "author_count",
    "created_at",
    "updated_at",
)
LINK_COLUMNS = ("paper_id", "url", "kind", "repo")
LISTING_COLUMNS = (
    "source_file_id", "position", "paper_id", "line_no", "raw_title", "raw_abstract", "raw_meta", "title_key",
    "abstract_key",
)  # fmt: skip


def generate(out: Path, papers: int, seed: int = 0, shape: str = "mixed") -> dict:
    """Write the captures, truth.json and rows.pickle under ``out``; return the truth."""
    per_file, layouts = SHAPES[shape]
    rng = random.Random(seed)
    captures = out / "captures"
    captures.mkdir(parents=True, exist_ok=True)
    rows = Rows()
    paper_ids: dict[int, int] = {}  # paper number -> paper_id (order of first sighting)
    truth = {"papers": papers, "seed": seed, "shape": shape, "files": 0, "records": 0, "unique_papers": 0, "repeats": 0,
             "variant_repeats": 0, "paper_links": 0, "github_repo_links": 0,
             "layouts": dict.fromkeys(layouts, 0)}  # fmt: skip
    written, day = 0, dt.date(2023, 1, 2)
    while written < papers:
        count = min(rng.randint(*per_file), papers - written)
        layout = rng.choices(list(layouts), weights=list(layouts.values()))[0]
        chosen = _choose_papers(rng, count, next_number=len(paper_ids), truth=truth)
        text, sightings = build_page(layout, day, chosen)
        path = _write_capture(rng, captures, truth["files"], layout, day, text)
        _add_rows(rows, paper_ids, truth, path, layout, day, sightings)
        written += count
        day += dt.timedelta(days=1)
    truth["unique_papers"] = len(paper_ids)
    truth["records"] = written
    (out / "truth.json").write_text(json.dumps(truth, indent=2) + "\n")
    with (out / "rows.pickle").open("wb") as handle:
        pickle.dump(vars(rows), handle, protocol=pickle.HIGHEST_PROTOCOL)  # plain dict: loadable anywhere
    return truth


def daily_page(out: Path, base: dict, papers: int = DAILY_PAGE_PAPERS) -> dict:
    """One daily_meta page of ``papers`` records, dated the day after the ``base`` corpus's last
    file, into ``out`` (a folder of its own): about REPEAT_SHARE of them repeat papers of the
    base (half in a markup variant), the rest are new. Returns what a load of it must give."""
    rng = random.Random(base["seed"] * 7_919 + base["papers"])
    repeats = sorted(rng.sample(range(base["unique_papers"]), round(papers * REPEAT_SHARE)))
    chosen = [(paper_text(base["seed"], number), rng.random() < VARIANT_SHARE) for number in repeats]
    new = papers - len(repeats)
    chosen += [(paper_text(base["seed"], base["unique_papers"] + index), False) for index in range(new)]
    rng.shuffle(chosen)
    day = dt.date(2023, 1, 2) + dt.timedelta(days=base["files"])
    text, _ = build_page("daily_meta", day, chosen)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{day.isoformat()}-daily_meta-daily.txt").write_text(text, encoding="utf-8")
    return {"records": papers, "repeats_of_base": len(repeats), "new_papers": new}


def _choose_papers(rng: random.Random, count: int, next_number: int, truth: dict) -> list[tuple[PaperText, bool]]:
    """New papers, and about REPEAT_SHARE repeats of papers from earlier files (never twice in one file)."""
    seed = truth["seed"]
    chosen, in_file, new = [], set(), 0
    for _ in range(count):
        if next_number > 0 and rng.random() < REPEAT_SHARE:
            number = rng.randrange(next_number)
            if number not in in_file:
                in_file.add(number)
                variant = rng.random() < VARIANT_SHARE
                truth["repeats"] += 1
                truth["variant_repeats"] += variant
                chosen.append((paper_text(seed, number), variant))
                continue
        number, new = next_number + new, new + 1
        in_file.add(number)
        chosen.append((paper_text(seed, number), False))
    return chosen


def _write_capture(rng: random.Random, captures: Path, index: int, layout: str, day: dt.date, text: str) -> Path:
    folder = captures / f"{index // FILES_PER_FOLDER:04d}"
    folder.mkdir(exist_ok=True)
    # Daily pages carry their date in the file name (listed_on from the name); search results do not.
    name = f"search-{index:07d}.txt" if layout == "compact" else f"{day.isoformat()}-{layout}-{index:07d}.txt"
    if rng.random() < CRLF_SHARE:
        text = text.replace("\n", "\r\n")
    data = (b"\xef\xbb\xbf" if rng.random() < BOM_SHARE else b"") + text.encode("utf-8")
    path = folder / name
    path.write_bytes(data)
    return path


def _add_rows(rows: Rows, paper_ids: dict[int, int], truth: dict, path: Path, layout: str, day: dt.date,
              sightings: list[Sighting]) -> None:  # fmt: skip
    truth["files"] += 1
    truth["layouts"][layout] += 1
    source_file_id = truth["files"]
    data = path.read_bytes()
    listed_on, listed_on_source = (None, None) if layout == "compact" else (day, "file_name")
    rows.source_files.append(
        (source_file_id, str(path), hashlib.sha256(data).hexdigest(), len(data), layout, listed_on,
         listed_on_source, len(sightings), RUN_ID, LOADED_AT)
    )  # fmt: skip
    for position, sighting in enumerate(sightings, start=1):
        paper = sighting.paper
        meta = sighting.raw_meta is not None
        if paper.number not in paper_ids:
            paper_id = paper_ids[paper.number] = len(paper_ids) + 1
            rows.papers.append(
                (paper_id, paper.title, title_key(paper.title), paper.abstract, paper.published, paper.author_count,
                 LOADED_AT, LOADED_AT)
            )  # fmt: skip
            for url, kind, repo in paper.links:
                rows.paper_links.append((paper_id, url, kind, repo))
                truth["paper_links"] += 1
                truth["github_repo_links"] += kind == "github_repo"
        paper_id = paper_ids[paper.number]
        rows.listings.append(
            (source_file_id, position, paper_id, sighting.line_no, sighting.title, paper.abstract, sighting.raw_meta,
             title_key(sighting.title), abstract_key(paper.abstract))
        )  # fmt: skip
        rows.records.append(
            {
                "title_key": title_key(sighting.title),
                "title": sighting.title,
                "abstract": paper.abstract,
                "published_on": paper.published if meta else None,
                "author_count": paper.author_count if meta else None,
                "links": [{"url": u, "kind": k, "repo": r} for u, k, r in paper.links],
            }
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--papers", type=int, required=True, help="records (paper sightings) to write")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (captures/, truth.json, rows.pickle)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--shape", choices=SHAPES, default="pages", help="pages: 1,000-record daily_meta pages; "
                        "mixed: three layouts, 20-60 records per page (rounds 1-3)")  # fmt: skip
    args = parser.parse_args(argv)
    truth = generate(args.out, args.papers, args.seed, args.shape)
    print(json.dumps(truth))
    return 0


if __name__ == "__main__":
    sys.exit(main())
