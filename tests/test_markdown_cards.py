"""etl.formats.markdown_cards: Hugging Face papers cards read from Markdown captures.

Part 1 checks the three real captures in ../shared/captures against figures
established by reading them line by line:

- firecrawl_search_source-citations.md (a web-to-markdown search page, YAML front
  matter, inline links): 8 cards. Upvote links come before each title, three of them
  print a number (101, 173, 1); four cards show an organisation with an avatar, four
  an authors link (3, 10, 9, 5 and 6 authors: five in all); comment counts are glued
  to the date on three cards (6, 9, 1). Four titles and abstracts are hard-wrapped
  with ``\\`` markers.
- notebooklm_search_intercode-bash.md (a notebook export, one URL per line): 9 cards;
  upvotes ``[-] 1``, ``2``, ``19``, ``5`` and five ``-``; comments on two cards (2, 1);
  the last card shows the organisation Google instead of an authors link.
- structured_html_trending.md (a structured-HTML-to-markdown trending page): 8
  headings, every card twice, so 4 cards; each has GitHub stars (131, 3.29k, 110k,
  1.54k) and an arXiv link; three name a submitter; one shows 4 authors.

Part 2 reads pages written for these tests (tests/data/markdown/) in every card
style with its pitfalls; part 3 checks the detector.
"""

from __future__ import annotations

import textwrap
from dataclasses import FrozenInstanceError
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from etl.formats.markdown_cards import Card, CardPage, detect_markdown, join_wrapped, parse_cards, parse_count
from etl.records import LEVEL_FIELD, LEVEL_RECORD

CAPTURES = Path(__file__).resolve().parent.parent.parent / "shared" / "captures"
SEEDS = Path(__file__).resolve().parent.parent.parent / "shared" / "seeds"
PAGES = Path(__file__).parent / "data" / "markdown"
PLAIN_PAGES = Path(__file__).parent / "data"


def capture(name: str) -> str:
    path = CAPTURES / name
    if not path.exists():
        pytest.skip(
            f"the real Markdown captures are not here ({path}); CI and developer machines have ../shared/captures"
        )
    return path.read_text(encoding="utf-8")


def page(name: str) -> CardPage:
    return parse_cards((PAGES / name).read_text(encoding="utf-8"))


def column(cards: tuple[Card, ...], name: str) -> list:
    return [getattr(card, name) for card in cards]


# --------------------------------------------------------------------------- real captures


def test_firecrawl_search_page():
    result = parse_cards(capture("firecrawl_search_source-citations.md"))
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == [
        "2606.00683", "2609.11115", "2502.20581", "2605.08583",
        "2609.00319", "2403.01774", "2410.22349", "2509.04499",
    ]  # fmt: skip
    assert column(cards, "position") == list(range(1, 9))
    assert column(cards, "line_no") == [32, 44, 56, 89, 101, 113, 141, 170]
    assert column(cards, "upvotes") == [101, 173, None, 1, None, None, None, None]
    assert column(cards, "comments") == [6, 9, None, 1, None, None, None, None]
    assert column(cards, "author_count") == [None, None, 3, None, 10, 9, 5, 6]
    assert column(cards, "organization") == [
        "OCC", "Carnegie Mellon University", None, "University of Massachusetts Amherst", None, None, None, None,
    ]  # fmt: skip
    assert column(cards, "raw_published") == [
        "May 29", "Sep 9", "Feb 27, 2025", "May 8", "Aug 30", "Mar 3, 2024", "Oct 14, 2024", "Sep 1, 2025",
    ]  # fmt: skip
    assert column(cards, "github_url") == [None] * 8  # no card links a repository (one abstract does)
    first = cards[0]
    assert first.raw_title == "OCC-RAG: Optimal Cognitive Core for Faithful Question Answering"
    assert first.paper_url == "https://huggingface.co/papers/2606.00683"
    assert first.raw_abstract.startswith("Recent progress in the development of language models has been defined")
    assert first.raw_abstract.endswith("and refusal (MuSiQue-Un) benchmarks.")
    assert first.published_line_no == 40
    wrapped = cards[2]
    assert wrapped.raw_title == (
        "The Noisy Path from Source to Citation: Measuring How Scholars Engage with Past Research"
    )
    assert wrapped.raw_abstract.startswith(
        "Academic citations are widely used for evaluating research and tracing knowledge flows. Such uses"
    )
    assert wrapped.raw_abstract.endswith("and the potential for distortion of evidence.")
    assert "\\" not in wrapped.raw_abstract and "  " not in wrapped.raw_abstract
    assert (wrapped.raw_authors, wrapped.authors_line_no, wrapped.published_line_no) == ("3 authors", 81, 85)
    assert cards[3].raw_abstract.endswith("Code: https://github.com/aaFrostnova/CiteTracer.")
    assert cards[5].raw_title == (
        "WebCiteS: Attributed Query-Focused Summarization on Chinese Web Search Results with Citations"
    )


def test_notebook_export_with_one_url_per_line():
    result = parse_cards(capture("notebooklm_search_intercode-bash.md"))
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == [
        "2410.05434", "2306.14898", "2502.06858", "1802.08979", "2104.13100",
        "1808.01400", "2409.02326", "2203.03850", "2510.21057",
    ]  # fmt: skip
    assert column(cards, "line_no") == [93, 113, 133, 153, 173, 193, 213, 237, 257]
    assert column(cards, "upvotes") == [1, None, None, None, None, 2, 19, None, 5]
    assert column(cards, "comments") == [None, None, None, None, None, None, 2, None, 1]
    assert column(cards, "author_count") == [2, 4, 6, 4, 6, 4, 3, 6, None]
    assert column(cards, "raw_published") == [
        "Oct 7, 2024", "Jun 26, 2023", "Feb 7, 2025", "Feb 24, 2018", "Apr 26, 2021",
        "Aug 3, 2018", "Sep 3, 2024", "Mar 7, 2022", "Oct 23, 2025",
    ]  # fmt: skip
    assert column(cards, "organization") == [None] * 8 + ["Google"]
    assert cards[0].raw_title == "Better than Your Teacher: LLM Agents that learn from Privileged AI Feedback"
    assert cards[0].paper_url == "https://huggingface.co/papers/2410.05434"
    assert cards[0].raw_abstract.startswith("While large language models (LLMs) show impressive decision-making")
    assert cards[0].raw_abstract.endswith("Our code is available at https://leap-llm.github.io")
    assert cards[3].raw_title == (
        "NL2Bash: A Corpus and Semantic Parser for Natural Language Interface to the Linux Operating System"
    )
    assert cards[8].raw_title == "Soft Instruction De-escalation Defense"
    # Navigation (Models, Datasets, Log In, ...) and banners are no cards.
    assert not any(card.raw_title in ("Models", "Subscribe", "Daily Papers") for card in cards)


def test_trending_page_cards_shown_twice_are_one_card():
    text = capture("structured_html_trending.md")
    assert text.count("### [") == 8
    result = parse_cards(text)
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == ["2610.05608", "2609.18063", "2412.20138", "2609.05415"]
    assert column(cards, "position") == [1, 2, 3, 4]
    assert column(cards, "line_no") == [53, 104, 153, 222]  # the first copy's
    assert column(cards, "upvotes") == [117, 25, 149, 22]
    assert column(cards, "comments") == [None] * 4
    assert column(cards, "github_url") == [
        "https://github.com/kandinskylab/kandinsky-6",
        "https://github.com/Edge0-AI/edge0",
        "https://github.com/tauricresearch/tradingagents",
        "https://github.com/Friedrich-M/UniMate",
    ]
    assert column(cards, "github_stars") == [131, 3290, 110_000, 1540]
    assert column(cards, "submitted_by") == ["vvasilev", "bupalinyu", None, "Linzhan"]
    assert column(cards, "organization") == ["Kandinsky Lab", "Edge0", None, "Princeton University"]
    assert column(cards, "author_count") == [None, None, 4, None]
    assert column(cards, "raw_published") == [
        "Published on Oct 4, 2026",
        "Published on Sep 16, 2026",
        "Published on Dec 28, 2024",
        "Published on Sep 4, 2026",
    ]
    assert cards[0].raw_title == "Kandinsky 6.0 Video: Foundation Models for Synchronized Video and Audio Generation"
    # An abstract the capture hard-wrapped mid-sentence is one field.
    assert "On a single 24GB machine, Edge0 serves a 35B MoE at 20tok/s" in cards[1].raw_abstract
    assert cards[2].raw_abstract == (
        "A multi-agent framework using large language models for stock trading simulates real-world trading "
        "firms, improving performance metrics like cumulative returns and Sharpe ratio."
    )


@pytest.mark.parametrize(
    "name",
    ["firecrawl_search_source-citations.md", "notebooklm_search_intercode-bash.md", "structured_html_trending.md"],
)
def test_real_captures_are_detected(name):
    assert detect_markdown(capture(name)) >= 0.9


# --------------------------------------------------------------------------- hand-written pages


def test_inline_links_page():
    result = page("inline_links.md")
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == [
        "2606.01234", "2403.04567", "2606.07777", "2606.08888", "2606.09999", "2606.10101",
    ]  # fmt: skip
    assert column(cards, "upvotes") == [42, None, 1204, 9, None, None]  # "-" shows no count; "1,204" is one number
    assert column(cards, "comments") == [6, None, 12, None, None, None]
    assert column(cards, "raw_published") == ["May 29", "Mar 8, 2024", "Jun 1", "Jun 2", "Jun 2", "Jun 3"]  # as printed
    assert column(cards, "organization") == ["Lantern Lab", None, None, None, None, None]
    assert column(cards, "raw_authors") == [None, "3 authors", "671 authors", None, None, None]
    assert column(cards, "line_no") == [26, 38, 54, 67, 76, 82]
    tidepool = cards[1]
    assert tidepool.raw_title == "Tidepool: Measuring How Retrieval Systems Drift over Time"
    assert tidepool.raw_abstract == (
        "Retrieval systems are evaluated once and deployed for years. We measure how twelve open retrievers "
        "drift as the indexed corpus ages, and release a benchmark of monthly snapshots."
    )
    assert (tidepool.authors_line_no, tidepool.published_line_no) == (46, 50)
    # A repository named in the abstract is the abstract's, not the card's GitHub link.
    assert cards[2].github_url is None
    assert cards[2].raw_abstract.endswith("Code: https://github.com/orchard-lm/orchard.")
    # Magpie's upvote link sits in an HTML block (``<div …>`` runs to the next blank line).
    assert cards[3].raw_title == "Magpie: Collecting Shiny Examples for Instruction Tuning"
    # Starling's heading lost its link: a card still, identified by its abstract's link.
    starling = cards[4]
    assert (starling.raw_title, starling.paper_url) == (
        "Starling: A Card Whose Title Lost Its Link",
        "https://huggingface.co/papers/2606.09999",
    )
    assert starling.raw_abstract.startswith("Starling's title link was lost by the capture")
    # A blank line inside the abstract's link breaks the link: one abstract still, without brackets.
    assert cards[5].raw_abstract == (
        "Sandpiper's abstract has two paragraphs in this capture, and the blank line between them breaks the "
        "link that wraps the abstract, which leaves its brackets in the text."
    )


def test_reference_links_page_with_cut_definitions():
    result = page("reference_links.md")
    cards = result.cards
    assert column(cards, "raw_title") == [
        "Quill: Grounded Citation Generation for Long Reports",
        "Marlin: Fast Kernels for Mixed Precision Inference",
        "Heron: Bird Sound Separation in the Wild",
    ]
    quill, marlin, heron = cards
    assert quill.raw_abstract == (
        "Long reports cite many sources, and models that write them invent references or attach them to the "
        "wrong claims. Quill grounds each citation in a retrieved passage and checks it before it is emitted."
    )
    assert (quill.paper_url, quill.arxiv_id) == ("https://huggingface.co/papers/2403.05001", "2403.05001")
    assert (quill.upvotes, quill.comments, quill.author_count, quill.raw_published) == (12, 6, 671, "Mar 8, 2024")
    assert (marlin.arxiv_id, marlin.upvotes, marlin.author_count, marlin.raw_published) == (
        "2405.11002", None, 9, "May 29",
    )  # fmt: skip
    # Heron's title, abstract and comment definitions were cut: the card still reads, without a
    # paper URL; its upvote link (defined before the cut) still names the paper.
    assert (heron.paper_url, heron.arxiv_id) == (None, "2606.00999")
    assert (heron.upvotes, heron.comments, heron.author_count, heron.raw_published) == (7, 1, 2, "Jun 2")
    assert heron.raw_abstract.startswith("Field recordings of birds overlap and echo.")
    # Cormorant: every definition cut and no abstract: not readable as a card.
    assert [(p.level, p.reason, p.line_no) for p in result.problems] == [
        (LEVEL_RECORD, "card title without abstract", 44)
    ]
    assert "Cormorant" in result.problems[0].excerpt


def test_notebook_export_page():
    result = page("notebook.md")
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == ["2501.10001", "2607.20002", "2606.30003"]
    assert column(cards, "line_no") == [55, 79, 99]
    assert column(cards, "upvotes") == [14, None, 8]
    assert column(cards, "comments") == [3, None, 1]
    assert column(cards, "author_count") == [5, 2, None]
    assert column(cards, "raw_published") == ["Jan 14, 2025", "Jul 20", "Jun 30"]
    assert column(cards, "organization") == [None, None, "Helix Institute"]
    # An abstract the export cut short stays as cut.
    assert cards[0].raw_abstract.endswith("while halving the cost of infer")
    assert cards[0].raw_title == "Foldwise: Protein Structure Prediction with Sparse Pair Features"
    # An export is plain text: asterisks and angle brackets in it are characters, not Markdown or HTML.
    assert cards[1].raw_abstract == (
        "Side chain packing decides whether a designed protein folds. Coil samples 4*8 conformations per "
        "residue*step with a diffusion model conditioned on the backbone, written as Map<Residue> in code, "
        "and beats rotamer libraries on recovery."
    )


def test_trending_page_merges_the_two_copies():
    result = page("trending.md")
    cards = result.cards
    assert result.problems == ()
    assert column(cards, "arxiv_id") == ["2610.01111", "2412.22222"]
    gale, ledger = cards
    assert (gale.line_no, gale.position, gale.submitted_by, gale.organization) == (37, 1, "mkowalski", "Gale AI")
    assert gale.raw_published == "Published on Oct 4, 2026"  # the first copy's
    # Only the second copy shows the repository: the merged card has it.
    assert (gale.github_url, gale.github_stars) == ("https://github.com/gale-ai/gale", 1320)
    assert gale.upvotes == 117
    assert (ledger.line_no, ledger.position, ledger.upvotes, ledger.author_count) == (73, 2, None, 4)
    assert (ledger.github_url, ledger.github_stars) == ("https://github.com/ledger-agents/ledger", 110_000)
    assert ledger.raw_abstract == (
        "Ledger lets several language model agents keep a company's books with tools whose results can be "
        "checked, and finds far fewer errors than a single agent on a year of synthetic transactions."
    )
    assert ledger.submitted_by is None


def test_arxiv_id_from_an_arxiv_link_when_the_card_links_no_paper_page():
    # The title links a cut reference; the arXiv link is a versioned PDF: the id is the paper's, unversioned.
    text = (
        "# Trending Papers\n\n### [Ledger: Multi-Agent Accounting with Verifiable Tools][4]\n\n"
        "Ledger lets several language model agents keep a company's books with checkable tools.\n\n"
        "[GitHub 110k](https://github.com/ledger-agents/ledger) [arXiv Page](https://arxiv.org/pdf/2412.22222v2)\n"
    )
    (card,) = parse_cards(text).cards
    assert (card.paper_url, card.arxiv_id, card.github_stars) == (None, "2412.22222", 110_000)


def test_crawler_summary_page():
    result = page("crawler.md")
    cards = result.cards
    assert column(cards, "raw_title") == [
        "Sparrow: Tiny Vision Language Models That Run on a Phone Without a Server",  # wrapped heading
        "Finch: Counting Objects in Dense Scenes",
        "Kite: Wind Measurements from Kites over the Sea",
    ]
    sparrow, finch, kite = cards
    assert (sparrow.line_no, sparrow.paper_url, sparrow.arxiv_id) == (5, None, None)
    assert sparrow.raw_abstract.startswith("Sparrow is a family of vision language models")
    assert (sparrow.raw_authors, sparrow.author_count, sparrow.authors_line_no) == ("28 authors", 28, 10)
    assert (sparrow.github_url, sparrow.github_stars) == ("https://github.com/sparrow-vlm/sparrow", 1320)
    assert (finch.raw_authors, finch.author_count, finch.github_url) == ("1 author", 1, None)
    # An abstract that starts with a date and links a repository is an abstract, and the
    # repository is the abstract's link, not the card's.
    assert kite.raw_abstract == (
        "Dec 7 marks the release of Kite, a dataset of wind measurements collected by kites flying over "
        "the sea; the code is in our repository."
    )
    assert (kite.github_url, kite.abstract_links, kite.author_count) == (
        None,
        ("https://github.com/kite-wind/kite",),
        6,
    )
    assert sparrow.abstract_links is None
    assert [(p.level, p.reason, p.line_no) for p in result.problems] == [
        (LEVEL_RECORD, "card title is a URL", 26),
        (LEVEL_RECORD, "card title is a number", 30),
        (LEVEL_RECORD, "card abstract is implausibly short", 34),
    ]


def test_junk_cards_are_record_problems_naming_their_line():
    result = page("junk.md")
    assert column(result.cards, "raw_title") == [
        "Kestrel: A Real Paper Between the Junk",
        "Avocet: Fields That Cannot Be Read",
    ]
    assert column(result.cards, "position") == [1, 2]
    avocet = result.cards[1]
    assert (avocet.arxiv_id, avocet.upvotes, avocet.github_url, avocet.github_stars) == (
        "2602.00009",
        None,
        "https://github.com/avocet/avocet",
        None,
    )
    assert [(p.level, p.reason, p.line_no) for p in result.problems] == [
        (LEVEL_RECORD, "card title is a URL", 11),
        (LEVEL_RECORD, "card title is a number", 15),
        (LEVEL_RECORD, "card title is an author line", 19),
        (LEVEL_RECORD, "card title is a date", 23),
        (LEVEL_RECORD, "card abstract is a URL", 33),
        (LEVEL_RECORD, "card abstract is implausibly short", 37),
        (LEVEL_RECORD, "card title without abstract", 41),
        (LEVEL_FIELD, "upvote count 'many' is not a number", 43),
        (LEVEL_FIELD, "GitHub stars 'GitHub lots' are not a number", 49),
        (LEVEL_FIELD, "arXiv link 2602.00010 is not the card's paper 2602.00009", 49),
    ]
    assert all(problem.excerpt for problem in result.problems)


def test_front_matter_and_navigation_are_no_cards():
    result = page("front_matter_navigation.md")
    assert result.problems == ()
    assert column(result.cards, "raw_title") == [
        "Wren: Small Speech Models for Many Languages",
        "Bittern: Audio Watermarks That Survive Compression",
    ]
    wren, bittern = result.cards
    assert (wren.line_no, wren.upvotes, wren.comments, wren.author_count, wren.raw_published) == (
        41, 88, 2, 11, "Jun 4",
    )  # fmt: skip
    # The footer's links (Privacy, Terms) are neither an organisation nor a card.
    assert (bittern.upvotes, bittern.organization, bittern.raw_published) == (None, "Bittern Audio", "Jun 5")


def test_a_title_line_number_counts_the_front_matter():
    body = "### [Wren: Small Speech Models](https://huggingface.co/papers/2606.04444)\n\n" + (
        "[Wren trains small speech recognition models on two hundred languages.](https://huggingface.co/papers/2606.04444)\n"
    )
    front = "---\nurl: https://huggingface.co/papers\ntitle: x\n---\n"
    assert parse_cards(body).cards[0].line_no == 1
    assert parse_cards(front + body).cards[0].line_no == 5


def test_cards_are_frozen_and_the_page_holds_tuples():
    result = page("inline_links.md")
    assert isinstance(result.cards, tuple) and isinstance(result.problems, tuple)
    with pytest.raises(FrozenInstanceError):
        result.cards[0].upvotes = 1  # type: ignore[misc]


def test_plain_text_is_no_markdown_card():
    result = parse_cards((PLAIN_PAGES / "daily_meta_basic.txt").read_text(encoding="utf-8"))
    assert result == CardPage()


# --------------------------------------------------------------------------- small rules


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("117", (True, 117)),
        ("-", (True, None)),
        ("[-] 1", (True, 1)),
        ("1.32k", (True, 1320)),
        ("GitHub 110k", (True, 110_000)),
        ("1,204", (True, 1204)),
        ("Upvote", (False, None)),
        ("1.5", (False, None)),
    ],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A title\\\nwrapped", "A title wrapped"),
        ("Engage\\  with Past Research", "Engage with Past Research"),
        ("  one\n  two \n", "one two"),
    ],
)
def test_join_wrapped(text, expected):
    assert join_wrapped(text) == expected


# --------------------------------------------------------------------------- detector


@pytest.mark.parametrize("name", sorted(path.name for path in PAGES.glob("*.md")))
def test_detector_is_sure_of_every_markdown_page(name):
    assert detect_markdown((PAGES / name).read_text(encoding="utf-8")) >= 0.6


@pytest.mark.parametrize("name", sorted(path.name for path in PLAIN_PAGES.glob("*.txt")))
def test_detector_is_low_on_plain_text_pages(name):
    assert detect_markdown((PLAIN_PAGES / name).read_text(encoding="utf-8-sig")) <= 0.1


def test_detector_is_low_on_the_real_plain_text_seeds():
    seeds = sorted(SEEDS.glob("*.txt"))
    if not seeds:
        pytest.skip(
            f"the real plain-text captures are not here ({SEEDS}); CI and developer machines have ../shared/seeds"
        )
    assert [detect_markdown(path.read_text(encoding="utf-8-sig")) for path in seeds] == [0.0] * len(seeds)


def test_detector_reads_only_the_head():
    cards = (PAGES / "inline_links.md").read_text(encoding="utf-8")
    assert detect_markdown("plain line\n" * 300 + cards) == 0.0
    assert detect_markdown(cards + "plain line\n" * 300) == 1.0


def test_detector_on_empty_text():
    assert detect_markdown("") == 0.0


# --------------------------------------------------------------------------- spacing and wrapping


WORDS = st.sampled_from(
    [
        "sparse",
        "attention",
        "retrieval",
        "models",
        "agents",
        "protein",
        "weather",
        "kernels",
        "benchmark",
        "survey",
        "data",
        "we",
        "present",
        "a",
        "the",
        "of",
        "for",
        "with",
        "and",
        "show",
        "that",
        "scale",
        "tokens",
        "training",
    ]
)


@st.composite
def card_specs(draw):
    count = draw(st.integers(1, 4))
    ids = draw(st.lists(st.integers(10000, 99999), min_size=count, max_size=count, unique=True))
    return [
        {
            "id": f"2606.{number}",
            "title": " ".join(draw(st.lists(WORDS, min_size=3, max_size=10))).capitalize(),
            "abstract": " ".join(draw(st.lists(WORDS, min_size=12, max_size=60))).capitalize() + ".",
            "upvotes": draw(st.none() | st.integers(0, 5000)),
            "comments": draw(st.none() | st.integers(1, 99)),
            "date": draw(st.sampled_from(["May 29", "Mar 8, 2024", "Dec 31, 2025"])),
        }
        for number in ids
    ]


def render(cards, style: str, width: int, marker: str, gap: str) -> str:
    """A page of cards in ``style``, the abstracts wrapped at ``width`` with ``marker``
    ending each wrapped line, blocks separated by ``gap`` (one or more blank lines)."""
    blocks = ["# Daily Papers", "[Subscribe](https://huggingface.co/login?next=%2Fpapers)"]
    definitions = []
    for n, card in enumerate(cards):
        url = f"https://huggingface.co/papers/{card['id']}"
        upvote = f"https://huggingface.co/login?next=%2Fpapers%2F{card['id']}"
        lines = textwrap.wrap(card["abstract"], width)
        abstract = "\n".join([*(line + marker for line in lines[:-1]), lines[-1]])
        shown = "-" if card["upvotes"] is None else str(card["upvotes"])
        comments = card["comments"]
        if style == "inline":
            glued = "" if comments is None else f"[{comments}]({url}#community)"
            blocks += [f"[{shown}]({upvote})", f"### [{card['title']}]({url})", f"[{abstract}]({url})"]
            blocks += ["·", f"{card['date']}{glued}"]
        elif style == "reference":
            refs = [str(10 * n + k) for k in range(1, 5)]
            glued = "" if comments is None else f" [ {comments}][{refs[3]}]"
            blocks += [f"[{shown}][{refs[0]}]", f"### [{card['title']}][{refs[1]}]", f"[{abstract}][{refs[2]}]"]
            blocks += ["* 3 authors", f"{card['date']}{glued}"]
            definitions += [f"[{refs[0]}]: {upvote}", f"[{refs[1]}]: {url}", f"[{refs[2]}]: {url}"]
            definitions += [f"[{refs[3]}]: {url}#community"]
        elif style == "notebook":
            blocks += [f" [-] {shown}", upvote, card["title"], url, abstract, url, "[", f"3 authors]({url})", "·"]
            blocks += [card["date"], *([] if comments is None else [str(comments), f"{url}#community"])]
        else:  # trending: every card twice, no comment counts, the date after the organisation
            for prefix in ("Published on ", ""):
                blocks += ["Submitted by", "[图片：无替代文本]", "someone", f"### [{card['title']}]({url})", abstract]
                blocks += [f"[[图片：org] Org {n}](https://huggingface.co/org{n}) · {prefix}{card['date']}"]
                blocks += ["[Upvote", f"{shown}]({upvote})", f"[GitHub 1.{n}k](https://github.com/o/r{n})"]
    return gap.join(blocks + (["\n".join(definitions)] if definitions else [])) + "\n"


@settings(max_examples=80, deadline=None)
@given(
    cards=card_specs(),
    style=st.sampled_from(["inline", "reference", "notebook", "trending"]),
    width=st.integers(20, 200),
    marker=st.sampled_from(["", "\\\\", " "]),
    gap=st.sampled_from(["\n\n", "\n\n\n", "\n\n\n\n"]),
)
def test_cards_do_not_depend_on_wrapping_or_spacing(cards, style, width, marker, gap):
    result = parse_cards(render(cards, style, width, marker, gap))
    assert result.problems == ()
    assert [(c.position, c.arxiv_id, c.raw_title, c.raw_abstract) for c in result.cards] == [
        (n, card["id"], card["title"], card["abstract"]) for n, card in enumerate(cards, start=1)
    ]
    trending = style == "trending"
    assert [(c.upvotes, c.comments, c.raw_published) for c in result.cards] == [
        (card["upvotes"], None if trending else card["comments"], ("Published on " if trending else "") + card["date"])
        for card in cards
    ]
    if trending:
        assert [(c.organization, c.submitted_by, c.github_stars) for c in result.cards] == [
            (f"Org {n}", "someone", 1000 + 100 * n) for n in range(len(cards))
        ]
    else:
        assert [c.author_count for c in result.cards] == [None if style == "inline" else 3] * len(cards)


def test_an_ordinary_markdown_document_is_no_papers_page():
    text = (PLAIN_PAGES / "not_a_papers_page.md").read_text(encoding="utf-8")
    assert detect_markdown(text) <= 0.1
    assert parse_cards(text) == CardPage()


def test_an_upvote_count_whose_url_line_is_missing_still_counts():
    url = "https://huggingface.co/papers/2601.00007"
    text = "\n\n".join(
        [
            "Daily Papers",
            " [-] 7",
            "Egret: Counting Wading Birds from Drone Footage",
            url,
            "Egret counts wading birds in drone footage of wetlands with a detector trained on a few hundred images.",
            url,
        ]
    )
    (card,) = parse_cards(text).cards
    assert (card.arxiv_id, card.upvotes, card.line_no) == ("2601.00007", 7, 5)
