"""Build capture pages in the three layouts from (title, abstract, ...) tuples.

The database tests use these to write exactly the page they need; the parser
tests use the hand-written files in tests/data.
"""

from __future__ import annotations

COMPACT_BANNER = ["Get trending papers in your email inbox once a day!", "Get trending papers in your email inbox!"]
DAILY_BANNER = ["new", "Get trending papers in your email inbox!", "Subscribe"]
BYLINE = "byAK and the research community"


def compact_page(papers: list[tuple[str, str]]) -> str:
    lines = list(COMPACT_BANNER)
    for index, (title, abstract) in enumerate(papers):
        lines.append(("Subscribe" + title) if index == 0 else title)
        lines.append(abstract)
    return "\n".join(lines)


def daily_page(listing_date: str, papers: list[tuple[str, str]]) -> str:
    blocks = [*DAILY_BANNER, BYLINE, listing_date]
    for title, abstract in papers:
        blocks += [title, abstract]
    return "\n\n".join(blocks)


def daily_meta_page(listing_date: str, papers: list[tuple[str, str, str, str]]) -> str:
    """papers: (title, abstract, authors line, publication date line)."""
    blocks = [*DAILY_BANNER, "Daily Papers", BYLINE, listing_date]
    for title, abstract, authors, published in papers:
        blocks += [title, abstract, f"{authors}\n·\n{published}"]
    return "\n\n".join(blocks)


WAVELETS = (
    "Wavelet Tokenizers for Long Audio",
    "We compress audio into wavelet tokens. Code: https://github.com/Example-Lab/WaveTok.",
)
GARDENS = (
    "Gradient Gardens: Pruning by Growth",
    "Pruning by growth is studied on twelve benchmarks, see https://gardens.github.io/site/ for samples.",
)
ORBITS = (
    "Orbit Equivariance in SE$(3)$ Transformers",
    "Equivariant attention over SE(3) orbits, with code at github.com/orbit-ml/se3-orbits/tree/main/src.",
)
ORBITS_PLAIN = ("Orbit Equivariance in SE(3) Transformers", ORBITS[1])
LANTERN = (
    "Lantern: Sparse Retrieval for Agents",
    "Lantern retrieves sparse memories for agents; project page https://lantern.example.org/ and no code yet.",
)


def write_big_daily_page(path, megabytes: int) -> int:
    """A daily page of about ``megabytes`` MB, written piece by piece; returns its record count."""
    abstract = "We study scaling with links to https://github.com/lab/repo and " + "words " * 300
    count = 0
    with path.open("w", encoding="utf-8") as out:
        out.write("\n\n".join([*DAILY_BANNER, BYLINE, "Mar 12"]) + "\n\n")
        while out.tell() < megabytes * 1_000_000:
            out.write(f"Streaming Study {count}\n\n{count} {abstract}\n\n")
            count += 1
    return count


MARKDOWN_BANNER = [
    "new",
    "Get trending papers in your email inbox!",
    "[Subscribe](https://huggingface.co/login?next=%2Fpapers)",
    "# Daily Papers",
]


def markdown_page(listing_date: str, cards: list[tuple]) -> str:
    """A web-to-markdown capture of a daily page. cards: (title, abstract, arxiv_id, upvotes, authors, date);
    upvotes None prints "-", authors is a count, and the date is printed as given."""
    blocks = [*MARKDOWN_BANNER, listing_date]
    for title, abstract, arxiv_id, upvotes, authors, published in cards:
        paper = f"https://huggingface.co/papers/{arxiv_id}"
        blocks += [
            f"[{'-' if upvotes is None else upvotes}](https://huggingface.co/login?next=%2Fpapers%2F{arxiv_id})",
            f"### [{title}]({paper})",
            f"[{abstract}]({paper})",
            f"[- {authors} authors]({paper})",
            "·",
            published,
        ]
    return "\n\n".join(blocks) + "\n"
