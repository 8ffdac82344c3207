"""Acceptance: load all of ../shared/seeds and check the figures established by reading the files.

The five captures hold 244 records (70 + 54 + 23 + 25 + 72) in three layouts,
of 204 distinct papers: 40 sightings repeat a paper, one of them under a LaTeX
variant of its title ("SE$(n)$" / "SE(n)"). 50 papers link 50 GitHub
repositories; the 25 papers of the daily_meta page carry author counts and
publication dates (one printed as "May 25, 2025 2", with a trailing count).
"""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl.pipeline import run_load

RECORDS_PER_FILE = {
    "000_507768fe1ae47dd6.txt": ("compact", 70),
    "001_610f197604c2059d.txt": ("daily", 54),
    "002_39951104f27984dd.txt": ("compact", 23),
    "003_adf85ad18c475e59.txt": ("daily_meta", 25),
    "004_e1af630cfe92b12c.txt": ("daily", 72),
}
HEADER_DATES = {
    "001_610f197604c2059d.txt": (3, 12),
    "003_adf85ad18c475e59.txt": (1, 8),
    "004_e1af630cfe92b12c.txt": (3, 13),
}
REPOS = {
    "ayu987/deep-regression-unlearning", "brotherhappy/ostquant", "cambridge-mlg/recombiner",
    "cammarasana123/weightedconvolution2.0", "catworldlee/gaussian-mixture-mask-attention",
    "chaudatascience/mixturegrowth", "clovaai/adamp", "cosmoimd/feature-selection-gates", "dongzelian/ssf",
    "ekinakyurek/google-research", "google/xnnpack", "gunale0926/sorsa", "halleyjiang/romnistereo",
    "haoxuanli-pku/iclr24-kernel-balancing", "iminfine/freeatten", "improbable-ai/harness-offline-rl",
    "intel/neural-compressor", "jhhuangkay/gradient-weight-normalized-low-rank-projection-for-efficient-llm-training",
    "jiahaozhenbang/scope", "junyizhu-ai/surrogate_model_extension", "khalil-research/neur2ro", "kleinzcy/cr-kd-ncd",
    "miccunifi/iamcl2r", "microsoft/wina", "ml-gsai/revisiting-dis-vs-gen-classifiers", "moritzmock/nlbse2025",
    "naver-ai/model-stock", "nbasyl/ofq", "necludov/super-diffusion", "neulab/ripple", "nvlabs/maskllm",
    "opengvlab/omniquant", "opennlplab/cosformer", "optimization-ai/icml2023_ldr", "oscarxzq/weight-selection",
    "psunlpgroup/d-pruner", "qingruzhang/adalora", "rabeehk/compacter", "ruc-dwbi-ml/research", "ruikangliu/flatquant",
    "salesforce/codegen2", "shunlu91/pa-da", "thartvigsen/grace", "thudm/glm-130b", "thvnvtos/snn-delays",
    "wangkiw/teen", "xvyaward/owq", "zhuanghp/analytic-continual-learning", "zkxufo/ttm",
    "zrrskywalker/personalize-sam",
}  # fmt: skip


def query(engine, sql: str, **types):
    statement = sa.text(sql).columns(**types) if types else sa.text(sql)
    with engine.connect() as conn:
        return [tuple(r) for r in conn.execute(statement)]


@pytest.fixture
def loaded(engine, seeds):
    summary = run_load(engine, [seeds])
    return engine, summary


def test_every_seed_loads_with_its_layout_and_record_count(loaded):
    engine, summary = loaded
    assert summary.status == "succeeded" and summary.counts["files_loaded"] == 5
    files = query(engine, "SELECT path, layout, record_count FROM source_files")
    found = {path.rsplit("/", 1)[-1]: (layout, count) for path, layout, count in files}
    assert found == RECORDS_PER_FILE
    assert query(engine, "SELECT count(*) FROM listings") == [(244,)]
    assert query(engine, "SELECT count(*) FROM rejects") == [(0,)]


def test_unique_papers_and_duplicates(loaded):
    engine, summary = loaded
    assert query(engine, "SELECT count(*) FROM papers") == [(204,)]
    assert summary.duplicates == 40
    # Seen undated in 000-002 first, then dated by the daily_meta page 003 (files load in sorted order).
    assert summary.counts["papers_updated"] == 5
    most_listed = query(
        engine,
        "SELECT p.title, count(*) FROM listings l JOIN papers p USING (paper_id)"
        " GROUP BY p.paper_id, p.title HAVING count(*) >= 3 ORDER BY count(*) DESC, p.title",
    )
    assert most_listed[0] == ("Weight Compander: A Simple Weight Reparameterization for Regularization", 5)
    assert len(most_listed) == 7
    assert ("Fast, Expressive SE(n) Equivariant Networks through Weight-Sharing in Position-Orientation Space", 3) in [
        (title.replace("$", ""), n) for title, n in most_listed
    ]


def test_github_repositories(loaded):
    engine, _ = loaded
    repos = {r for (r,) in query(engine, "SELECT DISTINCT repo FROM paper_links WHERE kind = 'github_repo'")}
    assert repos == REPOS
    assert query(engine, "SELECT count(DISTINCT paper_id) FROM paper_links WHERE kind = 'github_repo'") == [(50,)]
    urls = {u for (u,) in query(engine, "SELECT url FROM paper_links")}
    assert "https://github.com/kleinzcy/Cr-KD-NCD" in urls  # "{here}" artefact dropped
    assert "https://github.com/google/XNNPACK" in urls  # "GitHub.com/google/XNNPACK." normalised
    assert "https://github.com/cosmoimd/feature-selection-gates" in urls  # no scheme on the page
    assert "https://github.com/QingruZhang/AdaLoRA" in urls  # "AdaLoRA ." on the page
    assert query(engine, "SELECT count(*) FROM paper_links WHERE repo = 'brotherhappy/ostquant'") == [(1,)]


def test_github_pages_and_other_links(loaded):
    engine, _ = loaded
    assert query(engine, "SELECT url FROM paper_links WHERE kind = 'github_pages' ORDER BY url") == [
        ("https://epiphqny.github.io/Loong-video",),
        ("https://voldemort108x.github.io/hetero_uncertainty",),  # trailing "/" normalised away
    ]
    assert query(engine, "SELECT url FROM paper_links WHERE kind = 'other' ORDER BY url") == [
        ("https://aka.ms/tinyclip",),
        ("https://anonymous.4open.science/r/TangleNAS-527C",),
        ("https://research.nvidia.com/labs/genair/f-distill",),
    ]


def test_author_counts_and_publication_dates(loaded):
    engine, _ = loaded
    assert query(engine, "SELECT count(author_count), sum(author_count), min(author_count), max(author_count)"
                         " FROM papers") == [(25, 138, 2, 13)]  # fmt: skip
    assert query(engine, "SELECT count(published_on) FROM papers") == [(25,)]
    assert query(engine, "SELECT min(published_on) AS published_on FROM papers", published_on=sa.Date) == [
        (dt.date(2019, 3, 25),)
    ]
    assert query(engine, "SELECT max(published_on) AS published_on FROM papers", published_on=sa.Date) == [
        (dt.date(2025, 10, 22),)
    ]
    wina_sql = "SELECT published_on, author_count FROM papers WHERE title LIKE 'WINA:%'"
    wina = query(engine, wina_sql, published_on=sa.Date)
    assert wina == [(dt.date(2025, 5, 25), 7)]  # printed "May 25, 2025 2"


def test_listing_dates_come_from_the_page_header_and_the_file_time(loaded, seeds):
    engine, _ = loaded
    found = query(engine, "SELECT path, listed_on, listed_on_source FROM source_files", listed_on=sa.Date)
    for path, listed_on, source in found:
        name = path.rsplit("/", 1)[-1]
        if name not in HEADER_DATES:
            assert (listed_on, source) == (None, None), name  # compact pages print no date
            continue
        mtime_date = dt.datetime.fromtimestamp((seeds / name).stat().st_mtime).date()
        assert source == "header"
        assert (listed_on.month, listed_on.day) == HEADER_DATES[name]
        assert listed_on <= mtime_date < listed_on.replace(year=listed_on.year + 1)


def test_loading_the_seeds_again_changes_nothing(loaded, seeds):
    engine, _ = loaded
    tables = ("papers", "paper_links", "source_files", "listings")
    before = {t: query(engine, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    again = run_load(engine, [seeds])
    assert again.counts["files_skipped"] == 5
    assert {t: query(engine, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables} == before


def test_seeds_give_the_same_papers_in_reverse_order_one_file_per_run(engine, seeds):
    def content():
        return sorted(
            query(
                engine,
                "SELECT p.title, p.abstract, p.published_on, p.author_count, l.url, l.repo"
                " FROM papers p LEFT JOIN paper_links l USING (paper_id)",
                published_on=sa.Date,
            ),
            key=repr,
        )

    run_load(engine, [seeds])
    forward = content()
    with engine.begin() as conn:
        for table in ("rejects", "listings", "paper_links", "papers", "source_files", "etl_runs"):
            conn.execute(sa.text(f"DELETE FROM {table}"))
    for path in sorted(seeds.iterdir(), reverse=True):
        run_load(engine, [path])

    assert content() == forward
    assert len({row[:2] for row in forward}) == 204


def test_latex_in_seed_titles_and_abstracts_becomes_text(loaded):
    engine, _ = loaded
    assert query(engine, "SELECT count(*) FROM papers WHERE title LIKE '%$%' OR abstract LIKE '%$%'") == [(0,)]
    assert query(engine, "SELECT count(*) FROM papers WHERE abstract LIKE '%\\%%' ESCAPE '!'") == [(0,)]
    assert query(engine, "SELECT count(*) FROM papers WHERE abstract LIKE '%{here}%'") == [(0,)]
    assert query(engine, "SELECT count(*) FROM papers WHERE abstract LIKE '%Rényi%'") == [(1,)]
    assert query(engine, "SELECT count(*) FROM listings WHERE raw_abstract LIKE '%R\\''enyi%' ESCAPE '!'") == [(1,)]


# --------------------------------------------------------------------------- the real Markdown captures
#
# ../shared/captures holds three pages as capture tools wrote them, read by hand:
# - firecrawl_search_source-citations.md: a search page (?q=source citations), 8 cards;
#   upvotes 101, 173, 1 on cards 1, 2 and 4, "-" on the others; comments 6, 9, 1 glued to the
#   dates of those three; organisations instead of an author count on those three; "May 29"
#   and "Sep 9" printed without a year (captured 2026-10-02); a title wrapped with "\ ".
# - notebooklm_search_intercode-bash.md: a search page in a notebook export (each link's URL on
#   its own line), 9 cards; Google instead of an author count on the last.
# - structured_html_trending.md: the trending page, 8 headings that are 4 cards shown twice;
#   submitters, organisations, "Published on …" dates, card GitHub links with their stars.

CAPTURES = {
    "firecrawl_search_source-citations.md": ("search", 8),
    "notebooklm_search_intercode-bash.md": ("search", 9),
    "structured_html_trending.md": ("trending", 4),
}
UPVOTES = {
    "firecrawl_search_source-citations.md": [101, 173, None, 1, None, None, None, None],
    "notebooklm_search_intercode-bash.md": [1, None, None, None, None, 2, 19, None, 5],
    "structured_html_trending.md": [117, 25, 149, 22],
}
COMMENTS = {
    "firecrawl_search_source-citations.md": [6, 9, None, 1, None, None, None, None],
    "notebooklm_search_intercode-bash.md": [None, None, None, None, None, None, 2, None, 1],
    "structured_html_trending.md": [None, None, None, None],
}
AUTHOR_COUNTS = {
    "firecrawl_search_source-citations.md": [None, None, 3, None, 10, 9, 5, 6],
    "notebooklm_search_intercode-bash.md": [2, 4, 6, 4, 6, 4, 3, 6, None],
    "structured_html_trending.md": [None, None, 4, None],
}
CARD_REPOSITORIES = [
    ("2412.20138", "tauricresearch/tradingagents", 110000),
    ("2609.05415", "friedrich-m/unimate", 1540),
    ("2609.18063", "edge0-ai/edge0", 3290),
    ("2610.05608", "kandinskylab/kandinsky-6", 131),
]


@pytest.fixture
def markdown_loaded(engine, real_captures):
    summary = run_load(engine, [real_captures])
    return engine, summary


def per_file(engine, column: str) -> dict[str, list]:
    found: dict[str, list] = {}
    sql = (
        f"SELECT f.path, {column} FROM listings l JOIN papers p USING (paper_id)"
        " JOIN source_files f USING (source_file_id) ORDER BY f.path, l.position"
    )
    for path, value in query(engine, sql):
        found.setdefault(path.rsplit("/", 1)[-1], []).append(value)
    return found


def test_each_markdown_capture_loads_card_by_card(markdown_loaded):
    engine, summary = markdown_loaded
    assert (summary.status, summary.counts["files_loaded"], summary.rejects) == ("succeeded", 3, 0)
    files = query(engine, "SELECT path, layout, page_kind, listed_on, record_count FROM source_files")
    assert {p.rsplit("/", 1)[-1]: (layout, kind, count) for p, layout, kind, _, count in files} == {
        name: ("markdown", kind, count) for name, (kind, count) in CAPTURES.items()
    }
    assert {listed_on for *_, listed_on, _ in files} == {None}  # search and trending pages list nothing
    assert query(engine, "SELECT count(*), count(DISTINCT arxiv_id) FROM papers") == [(21, 21)]
    assert per_file(engine, "l.upvotes") == UPVOTES
    assert per_file(engine, "l.comments") == COMMENTS
    assert per_file(engine, "p.author_count") == AUTHOR_COUNTS


def test_markdown_cards_give_ids_organisations_dates_and_repositories(markdown_loaded):
    engine, _ = markdown_loaded
    occ = query(
        engine,
        "SELECT p.title, p.published_on, l.organization FROM papers p JOIN listings l USING (paper_id)"
        " WHERE p.arxiv_id = '2606.00683'",
        published_on=sa.Date,
    )
    assert occ == [("OCC-RAG: Optimal Cognitive Core for Faithful Question Answering", dt.date(2026, 5, 29), "OCC")]
    wrapped = query(engine, "SELECT title FROM papers WHERE arxiv_id = '2502.20581'")
    assert wrapped == [("The Noisy Path from Source to Citation: Measuring How Scholars Engage with Past Research",)]
    repositories = query(
        engine,
        "SELECT p.arxiv_id, k.repo, l.github_stars FROM paper_links k JOIN papers p USING (paper_id)"
        " JOIN listings l USING (paper_id) WHERE k.found_in = 'card' ORDER BY p.arxiv_id",
    )
    assert repositories == CARD_REPOSITORIES
    submitters = query(engine, "SELECT submitted_by FROM listings WHERE submitted_by IS NOT NULL ORDER BY 1")
    assert submitters == [("Linzhan",), ("bupalinyu",), ("vvasilev",)]


def test_markdown_captures_and_seeds_load_together_and_again_change_nothing(engine, real_captures, seeds):
    first = run_load(engine, [real_captures, seeds])
    assert (first.status, query(engine, "SELECT count(*) FROM papers")) == ("succeeded", [(225,)])
    tables = ("papers", "paper_links", "source_files", "listings")
    before = {t: query(engine, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables}
    assert run_load(engine, [real_captures, seeds]).counts["files_skipped"] == 8
    assert {t: query(engine, f"SELECT * FROM {t} ORDER BY 1, 2") for t in tables} == before
