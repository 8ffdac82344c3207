"""Links in abstracts: found in the raw text, trimmed, classified, GitHub repos reduced to owner/name.

Each case is a piece of abstract text and the links expected from it, as
(url as written, kind, repo). Many are pitfalls seen in real captures.
"""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from etl.links import (
    URL_RE,
    classify,
    extract_links,
    github_repo,
    links_from_urls,
    may_hold_links,
    normalise_url,
    strip_trailing_punctuation,
    unique_links,
)
from etl.records import LINK_GIST, LINK_GITHUB_PAGES, LINK_GITHUB_REPO, LINK_OTHER, Link

REPO, PAGES, GIST, OTHER = LINK_GITHUB_REPO, LINK_GITHUB_PAGES, LINK_GIST, LINK_OTHER

CASES = [
    # --- plain GitHub repository links
    ("Code: https://github.com/lab/tool", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("Code is at http://github.com/lab/tool today", [("http://github.com/lab/tool", REPO, "lab/tool")]),
    ("Code: https://github.com/Lab-X/Tool_Y", [("https://github.com/Lab-X/Tool_Y", REPO, "lab-x/tool_y")]),
    ("https://github.com/lab/tool/", [("https://github.com/lab/tool/", REPO, "lab/tool")]),
    ("See https://github.com/lab/tool#readme", [("https://github.com/lab/tool#readme", REPO, "lab/tool")]),
    ("See https://github.com/lab/tool?tab=readme", [("https://github.com/lab/tool?tab=readme", REPO, "lab/tool")]),
    # --- trailing punctuation
    ("Code is available at https://github.com/lab/tool.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("at https://github.com/lab/tool, and more", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("at https://github.com/lab/tool; and more", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code: https://github.com/lab/tool: done", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("Try https://github.com/lab/tool!", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("Really https://github.com/lab/tool?", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("(code: https://github.com/lab/tool)", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("(code: https://github.com/lab/tool).", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("[code](https://github.com/lab/tool)", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("[https://github.com/lab/tool]", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("'https://github.com/lab/tool'", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ('"https://github.com/lab/tool"', [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("**https://github.com/lab/tool**", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("<https://github.com/lab/tool>", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("at https://github.com/lab/tool...", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("available at https://github.com/lab/tool .", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("released at https://github.com/lab/tool soon.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code:\nhttps://github.com/lab/tool\nnext line", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    # --- dots inside the repository name survive, the sentence's full stop does not
    (
        "at https://github.com/someone/weightedConv2.0.",
        [("https://github.com/someone/weightedConv2.0", REPO, "someone/weightedconv2.0")],
    ),
    ("at https://github.com/lab/tool.js", [("https://github.com/lab/tool.js", REPO, "lab/tool.js")]),
    # --- capture artefacts after the URL
    ("Code is available at https://github.com/lab/tool{here}.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    (
        "openly accessible https://anon.example.science/r/Proj-52C{here}",
        [("https://anon.example.science/r/Proj-52C", OTHER, None)],
    ),
    (
        "methods. https://github.com/lab/tool{https://github.com/lab/tool}.",
        [("https://github.com/lab/tool", REPO, "lab/tool")],
    ),
    ("https://github.com/lab/tool{https://github.com/lab/tool}", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    # --- scheme-less and odd hosts
    ("The codebase is at github.com/lab/tool.", [("github.com/lab/tool", REPO, "lab/tool")]),
    ("part of the library at GitHub.com/Google/XLib.", [("GitHub.com/Google/XLib", REPO, "google/xlib")]),
    ("see GITHUB.COM/Lab/Tool", [("GITHUB.COM/Lab/Tool", REPO, "lab/tool")]),
    ("Code: https://www.github.com/lab/tool.", [("https://www.github.com/lab/tool", REPO, "lab/tool")]),
    ("Code: www.github.com/lab/tool", [("www.github.com/lab/tool", REPO, "lab/tool")]),
    ("HTTPS://GITHUB.COM/LAB/TOOL", [("HTTPS://GITHUB.COM/LAB/TOOL", REPO, "lab/tool")]),
    ("(github.com/lab/tool)", [("github.com/lab/tool", REPO, "lab/tool")]),
    ("publicly available at~https://github.com/lab/tool.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code at:https://github.com/lab/tool", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    # a scheme-less URL right after CJK text (no space between): the CJK letter is no part of it
    ("代码见github.com/lab/tool。", [("github.com/lab/tool", REPO, "lab/tool")]),
    ("主页www.example.org/lab", [("www.example.org/lab", OTHER, None)]),
    # --- deeper paths reduce to owner/name
    (
        "at https://github.com/org/research/tree/main/WAD-master.",
        [("https://github.com/org/research/tree/main/WAD-master", REPO, "org/research")],
    ),
    (
        "released at https://github.com/ek/google-research/blob/master/incontext.",
        [("https://github.com/ek/google-research/blob/master/incontext", REPO, "ek/google-research")],
    ),
    (
        "Code: github.com/lab/tool/tree/main/src",
        [("github.com/lab/tool/tree/main/src", REPO, "lab/tool")],
    ),
    ("issues at https://github.com/lab/tool/issues/12", [("https://github.com/lab/tool/issues/12", REPO, "lab/tool")]),
    (
        "weights: https://github.com/lab/tool/releases/download/v1/w.zip",
        [("https://github.com/lab/tool/releases/download/v1/w.zip", REPO, "lab/tool")],
    ),
    ("clone https://github.com/lab/tool.git", [("https://github.com/lab/tool.git", REPO, "lab/tool")]),
    ("clone https://github.com/lab/tool.git.", [("https://github.com/lab/tool.git", REPO, "lab/tool")]),
    (
        "data: https://raw.githubusercontent.com/Lab/Tool/main/data.csv",
        [("https://raw.githubusercontent.com/Lab/Tool/main/data.csv", REPO, "lab/tool")],
    ),
    # --- LaTeX markup
    ("Code: \\url{https://github.com/lab/tool}.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("\\href{https://github.com/lab/tool}{code}", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("\\url{github.com/lab/tool}", [("github.com/lab/tool", REPO, "lab/tool")]),
    # --- GitHub site pages are not repositories
    ("https://github.com/orgs/lab/repositories", [("https://github.com/orgs/lab/repositories", OTHER, None)]),
    ("github.com/orgs/lab", [("github.com/orgs/lab", OTHER, None)]),
    ("https://github.com/topics/llm", [("https://github.com/topics/llm", OTHER, None)]),
    ("https://github.com/features/actions", [("https://github.com/features/actions", OTHER, None)]),
    ("https://github.com/features", [("https://github.com/features", OTHER, None)]),
    ("https://github.com/sponsors/someone", [("https://github.com/sponsors/someone", OTHER, None)]),
    ("https://github.com/marketplace/actions/x", [("https://github.com/marketplace/actions/x", OTHER, None)]),
    ("https://github.com/login", [("https://github.com/login", OTHER, None)]),
    ("https://github.com/login/oauth", [("https://github.com/login/oauth", OTHER, None)]),
    ("https://github.com/settings/tokens", [("https://github.com/settings/tokens", OTHER, None)]),
    ("https://github.com/apps/dependabot", [("https://github.com/apps/dependabot", OTHER, None)]),
    ("profile: https://github.com/someone.", [("https://github.com/someone", OTHER, None)]),
    ("https://github.com", [("https://github.com", OTHER, None)]),
    ("https://github.com/", [("https://github.com/", OTHER, None)]),
    ("https://github.com/-bad-/tool", [("https://github.com/-bad-/tool", OTHER, None)]),
    ("https://gist.github.com/someone/abc123", [("https://gist.github.com/someone/abc123", GIST, None)]),
    # --- GitHub Pages
    ("Samples: https://lab.github.io/project/.", [("https://lab.github.io/project/", PAGES, None)]),
    ("project page https://my-lab.github.io", [("https://my-lab.github.io", PAGES, None)]),
    ("see lab.github.io/demo for videos", [("lab.github.io/demo", PAGES, None)]),
    ("https://Lab.GitHub.IO/demo", [("https://Lab.GitHub.IO/demo", PAGES, None)]),
    ("https://github.io/x", [("https://github.io/x", OTHER, None)]),
    # --- other links
    (
        "Project page: https://research.example.com/labs/x/f-distill",
        [("https://research.example.com/labs/x/f-distill", OTHER, None)],
    ),
    ("open-sourced at https://aka.ms/tinything.", [("https://aka.ms/tinything", OTHER, None)]),
    ("models at https://huggingface.co/lab/model-7b", [("https://huggingface.co/lab/model-7b", OTHER, None)]),
    ("see www.example.org/page.", [("www.example.org/page", OTHER, None)]),
    ("paper https://arxiv.org/abs/2401.00001v2.", [("https://arxiv.org/abs/2401.00001v2", OTHER, None)]),
    (
        "(see https://en.wikipedia.org/wiki/Ring_(mathematics))",
        [("https://en.wikipedia.org/wiki/Ring_(mathematics)", OTHER, None)],
    ),
    (
        "see https://en.wikipedia.org/wiki/Ring_(mathematics).",
        [("https://en.wikipedia.org/wiki/Ring_(mathematics)", OTHER, None)],
    ),
    # --- Markdown: a URL ends where the Markdown syntax starts ("](", ")", "]", ">")
    ("Code: [GitHub](https://github.com/lab/tool).", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("[https://github.com/lab/tool](https://github.com/lab/tool)", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    (
        "see https://github.com/lab/tool](https://github.com/lab/other)",
        [("https://github.com/lab/tool", REPO, "lab/tool"), ("https://github.com/lab/other", REPO, "lab/other")],
    ),
    (
        "[https://lab.github.io/tool](https://github.com/lab/tool)",
        [("https://lab.github.io/tool", PAGES, None), ("https://github.com/lab/tool", REPO, "lab/tool")],
    ),
    ("see [the code][3].\n\n[3]: https://github.com/Lab/Tool", [("https://github.com/Lab/Tool", REPO, "lab/tool")]),
    ('[3]: <https://github.com/lab/tool> "Code"', [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("[code](<https://github.com/lab/tool>)", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ('[code](https://github.com/lab/tool "the code")', [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("(see [code](https://github.com/lab/tool)).", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code at https://github.com/lab/tool] and more", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code at https://github.com/lab/tool)and more", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("code https://github.com/lab/tool[12].", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    (
        "[![stars](https://img.shields.io/github/stars/lab/tool)](https://github.com/lab/tool)",
        [
            ("https://img.shields.io/github/stars/lab/tool", OTHER, None),
            ("https://github.com/lab/tool", REPO, "lab/tool"),
        ],
    ),
    ("`https://github.com/lab/tool`", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    # balanced parentheses belong to the URL, inside Markdown too; brackets only in the query
    (
        "[ring](https://en.wikipedia.org/wiki/Ring_(mathematics))",
        [("https://en.wikipedia.org/wiki/Ring_(mathematics)", OTHER, None)],
    ),
    (
        "https://en.wikipedia.org/wiki/Ring_(mathematics)](https://example.org/r)",
        [("https://en.wikipedia.org/wiki/Ring_(mathematics)", OTHER, None), ("https://example.org/r", OTHER, None)],
    ),
    (
        "data at https://example.org/get?ids[0]=1&ids[1]=2.",
        [("https://example.org/get?ids[0]=1&ids[1]=2", OTHER, None)],
    ),
    # --- spaced URLs as some arXiv abstracts print them
    ("Code: https: //github.com/Lab/Tool.", [("https://github.com/Lab/Tool", REPO, "lab/tool")]),
    ("Code: http: //github.com/lab/tool", [("http://github.com/lab/tool", REPO, "lab/tool")]),
    ("Code: HTTPS: //github.com/lab/tool", [("HTTPS://github.com/lab/tool", REPO, "lab/tool")]),
    ("page: https: //lab.github.io/tool/", [("https://lab.github.io/tool/", PAGES, None)]),
    ("code:https:\n//github.com/lab/tool", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("Code: https://github. com/lab/tool.", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    ("Code: github. com/lab/tool", [("github.com/lab/tool", REPO, "lab/tool")]),
    ("[code](https: //github.com/lab/tool)", [("https://github.com/lab/tool", REPO, "lab/tool")]),
    # --- several links, order kept, repeats dropped
    (
        "Code https://github.com/lab/tool and page https://lab.github.io/tool and data https://example.org/d.",
        [
            ("https://github.com/lab/tool", REPO, "lab/tool"),
            ("https://lab.github.io/tool", PAGES, None),
            ("https://example.org/d", OTHER, None),
        ],
    ),
    (
        "https://github.com/lab/tool. Again: https://github.com/lab/tool.",
        [("https://github.com/lab/tool", REPO, "lab/tool")],
    ),
    (
        "https://github.com/b/two then https://github.com/a/one",
        [("https://github.com/b/two", REPO, "b/two"), ("https://github.com/a/one", REPO, "a/one")],
    ),
    # --- no URL, no link
    ("We release the code on GitHub.", []),
    ("our github-open source toolkit", []),
    ("github open source release", []),
    ("The GitHub repository will follow.", []),
    ("mygithub.com/lab/tool is not GitHub", []),
    ("clone git@github.com:lab/tool.git", []),
    ("a bare https:// with nothing", []),
    ("ftp://files.example.org/x", []),
    ("a scheme https: // and then a word", []),
    ("code on GitHub. Com and more", []),
    ("code on GitHub. It is free", []),
    ("a ratio 1//2 and a path a/b", []),
    ("[code](/papers/2401.00001)", []),
    # letters that match "i" or "s" only under Unicode case folding do not make a URL
    ("gıthub.com/lab/tool", []),
    ("G\u0130THUB.COM/lab/tool", []),
    ("httpſ://example.org/a", []),
    ("", []),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_extract_links(text, expected):
    # Expected URLs are written as on the page; links carry them normalised.
    assert extract_links(text) == tuple(Link(normalise_url(url), kind, repo) for url, kind, repo in expected)


def test_there_are_plenty_of_link_cases():
    assert len(CASES) >= 60


def test_link_urls_are_normalised_urls_found_in_the_text():
    for text, _ in CASES:
        for link in extract_links(text):
            assert link.url.startswith("https://")
            assert not link.url.endswith("/")
            host_and_path = link.url.removeprefix("https://").casefold()
            closed_up = re.sub(r"(?i)github\.\scom/", "github.com/", text.replace("\\_", "_"))
            assert host_and_path in closed_up.casefold()


def test_only_github_repo_links_have_a_repo():
    for text, _ in CASES:
        for link in extract_links(text):
            assert (link.repo is not None) == (link.kind == REPO)
            if link.repo is not None:
                assert link.repo == link.repo.lower()
                assert link.repo.count("/") == 1


@pytest.mark.parametrize(
    ("url", "stripped"),
    [
        ("https://x.org/a.", "https://x.org/a"),
        ("https://x.org/a),", "https://x.org/a"),
        ("https://x.org/a_(b)", "https://x.org/a_(b)"),
        ("https://x.org/a_(b))", "https://x.org/a_(b)"),
        ("https://x.org/a'\"*>]}", "https://x.org/a"),
        ("https://x.org/?a[0]", "https://x.org/?a[0]"),
        ("https://x.org/?a[0]].", "https://x.org/?a[0]"),
        ("https://x.org/a]", "https://x.org/a"),
        ("https://x.org/a/", "https://x.org/a/"),
        ("", ""),
    ],
)
def test_strip_trailing_punctuation(url, stripped):
    assert strip_trailing_punctuation(url) == stripped


@pytest.mark.parametrize(
    ("segments", "repo"),
    [
        (["Lab", "Tool"], "lab/tool"),
        (["lab", "tool.git"], "lab/tool"),
        (["lab", "tool", "tree", "main"], "lab/tool"),
        (["lab"], None),
        ([], None),
        (["orgs", "lab"], None),
        (["Topics", "llm"], None),
        (["lab", "."], None),
        (["lab", ".."], None),
        (["lab_x", "tool"], None),
        (["lab", "to ol"], None),
    ],
)
def test_github_repo(segments, repo):
    assert github_repo(segments) == repo


def test_classify_normalises_the_url():
    assert classify("GitHub.com/Owner/Repo") == Link("https://github.com/Owner/Repo", REPO, "owner/repo")
    assert classify("http://x.github.io/") == Link("https://x.github.io", PAGES)
    assert classify("https://Example.org/A?q=1#f") == Link("https://example.org/A?q=1#f", OTHER)
    assert classify("https://gist.github.com/u/1") == Link("https://gist.github.com/u/1", GIST)


@pytest.mark.parametrize(
    ("text", "repos"),
    [
        ("https://github.com/a/b and https://github.com/a/b/ and github.com/A/B/tree/main", ["a/b"]),
        ("https://github.com/a/my\\_repo", ["a/my_repo"]),
        ("code at github.com/a/b.Next we show", ["a/b"]),
        ("code\u3002https://github.com/a/b\u3002more", ["a/b"]),
        ("https://github.com/a/b\u200bnext", ["a/b"]),
        ("\\url{https://github.com/a/b} and \\href{https://github.com/c/d}{code}", ["a/b", "c/d"]),
        ("https://github.com/a/b.js.", ["a/b.js"]),
    ],
)
def test_link_pitfalls(text, repos):
    assert [link.repo for link in extract_links(text)] == repos


# --- the pre-filter: it may let text without a link through, never hold back one with a link


def test_every_case_with_a_link_passes_the_pre_filter():
    for text, expected in CASES:
        assert may_hold_links(text) or not expected, text


@pytest.mark.parametrize(
    "text",
    ["www.x.org", "WWW.X.ORG", "GitHub.com/a/b", "GITHUB. COM/a/b", "x.GitHub.IO", "https: //x.org", "HTTP:\n//x.org"],
)
def test_the_pre_filter_lets_every_url_spelling_through(text):
    assert URL_RE.search(text)
    assert may_hold_links(text)


@given(st.text(alphabet=st.sampled_from(list("htpsw:/. \nGgiHhubUBcomCOMIiWx-(")), max_size=40))
def test_the_pre_filter_never_holds_back_a_url(text):
    assert may_hold_links(text) or URL_RE.search(text) is None


def test_the_pre_filter_rules_out_plain_prose():
    assert not may_hold_links("We release the code on GitHub and a demo at our project page (see appendix).")


# --- URLs given one by one: a card's GitHub link, the destinations of links inside a Markdown abstract


def test_links_from_urls_normalise_as_extraction_does():
    urls = ["https://github.com/Lab/Tool/tree/main", "https://lab.github.io/tool/", "https://example.org/d"]
    assert links_from_urls(urls) == tuple(extract_links(url)[0] for url in urls)
    assert links_from_urls(urls) == (
        Link("https://github.com/Lab/Tool/tree/main", REPO, "lab/tool"),
        Link("https://lab.github.io/tool", PAGES),
        Link("https://example.org/d", OTHER),
    )


def test_links_from_urls_make_one_link_per_repository():
    urls = [
        "https://github.com/lab/tool",
        "http://www.github.com/Lab/Tool/",
        "github.com/lab/tool.git",
        "https://github.com/lab/other",
    ]
    assert [link.repo for link in links_from_urls(urls)] == ["lab/tool", "lab/other"]
    assert links_from_urls(urls)[0].url == "https://github.com/lab/tool"  # the first spelling


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("  https://github.com/lab/tool  ", Link("https://github.com/lab/tool", REPO, "lab/tool")),
        ("<https://github.com/lab/tool>", Link("https://github.com/lab/tool", REPO, "lab/tool")),
        ("https://github.com/lab/tool.", Link("https://github.com/lab/tool", REPO, "lab/tool")),
        ("https://github.com/lab/my\\_tool", Link("https://github.com/lab/my_tool", REPO, "lab/my_tool")),
        ("https: //github.com/lab/tool", Link("https://github.com/lab/tool", REPO, "lab/tool")),
        (
            "https://en.wikipedia.org/wiki/Ring_(mathematics)",
            Link("https://en.wikipedia.org/wiki/Ring_(mathematics)", OTHER),
        ),
        ("https://gist.github.com/u/1", Link("https://gist.github.com/u/1", GIST)),
    ],
)
def test_links_from_urls_read_each_url(url, expected):
    assert links_from_urls([url]) == (expected,)


@pytest.mark.parametrize(
    "url",
    [
        None,
        "",
        "   ",
        "/papers/2401.00001",
        "#community",
        "mailto:someone@github.com",
        "ftp://x.org/a",
        "https://",
        "code",
        "gıthub.com/lab/tool",  # "ı" matches "i" only under Unicode case folding
    ],
)
def test_links_from_urls_skip_what_is_not_a_link(url):
    assert links_from_urls([url]) == ()


def test_a_repository_on_the_card_and_in_the_abstract_is_one_link():
    abstract = "We release the code at https://github.com/Lab/Tool/tree/main and data at https://example.org/d."
    card_links = links_from_urls(["https://github.com/lab/tool", "https://example.org/d/"])
    merged = unique_links((*extract_links(abstract), *card_links))
    assert merged == (
        Link("https://github.com/Lab/Tool/tree/main", REPO, "lab/tool"),
        Link("https://example.org/d", OTHER),
    )


def test_unique_links_keep_the_first_of_each_and_skip_none():
    first, again, other = (
        Link("https://github.com/a/b", REPO, "a/b"),
        Link("https://github.com/A/B/", REPO, "a/b"),
        Link("https://x.org", OTHER),
    )
    assert unique_links([None, first, other, again, None]) == (first, other)
    assert unique_links([]) == ()


# Pieces of URLs and Markdown that random texts are made of.
URL_PIECES = [
    "https://", "http: //", "HTTPS:\n//", "www.", "WWW.", "github.com/", "GitHub. com/", "x.github.io", "lab",
    "/", "tool", ".", ",", "(", ")", "[", "]", "](", "<", ">", "?q=1", "#f", " ", "İ", "ı", "ſ", "日本", "-",
]  # fmt: skip


@given(st.lists(st.sampled_from(URL_PIECES), max_size=12).map("".join))
def test_extract_links_reads_every_url_re_match(text):
    # extract_links skips text by its pre-filter and scans with a faster pattern where it
    # can: it must find exactly the links of URL_RE's matches, each read as links_from_urls reads a URL.
    expected = unique_links(link for match in URL_RE.finditer(text) for link in links_from_urls([match.group(0)]))
    assert extract_links(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Code: HTTPS://GitHub.com/Owner/Repo and www.Example.org/a.",
        "see https://www.github.com/a/b/blob/main/github.com/c/d, then github. com/e/f",
        "my\\_repo at https://github.com/o/my\\_repo (mirror: http: //x.org/p?q[1]=2#f)",
        "wwww.example.org/x and awww.example.org and a.github.com/x and nogithub.com/y; www.z.org",
        "[code](https://github.com/o/r)](https://github.com/o/r2) http://",
        "Ünïcode text, then https://github.com/o/ü and www.x.de",
        "pages at https://o.github.io/p and github.io alone, www.y.org",
    ],
)
def test_url_matches_are_those_of_a_scan_at_every_character(text):
    """The candidate-start search (issue #17) finds exactly what URL_RE's finditer finds."""
    from etl.links import _unescaped, _url_matches, _url_re

    lowered, unescaped = text.lower(), _unescaped(text)
    expected = [(m.span(), m.group(0)) for m in _url_re(lowered).finditer(unescaped)]
    assert expected  # every case holds a URL
    assert [(m.span(), m.group(0)) for m in _url_matches(unescaped, lowered)] == expected


@given(
    st.lists(
        st.sampled_from(["https://", "http: //", "www.", "github.", "com/", "github.com/", "o/r", "HTTP", "WWW.",
                         ".", "/", "(", ")", "[", "]", "?", "#", " ", "\\_", "é", "-", "@", "x", "io", "{a}"]),
        max_size=30,
    ).map("".join)
)  # fmt: skip
def test_url_matches_agree_with_the_full_scan_on_any_text(text):
    from etl.links import _unescaped, _url_matches, _url_re

    lowered, unescaped = text.lower(), _unescaped(text)
    expected = [(m.span(), m.group(0)) for m in _url_re(lowered).finditer(unescaped)]
    assert [(m.span(), m.group(0)) for m in _url_matches(unescaped, lowered)] == expected
