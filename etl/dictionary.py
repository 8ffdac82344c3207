"""The data dictionary: the one description of every table, view and column.

Everything else is generated from it: docs/schema.md (``python -m etl.dictionary``
writes it; tests/test_docs.py checks it is current), PostgreSQL's ``COMMENT ON``
(``apply_comments``, run by migrations) and the Datasette metadata of
``papers-etl serve``. tests/test_docs.py fails when a live column on either engine
has no entry here, or an entry names no live column.

A new column is one ``Col`` in its relation; a migration that adds columns calls
``apply_comments(op.get_bind())`` after adding them (it comments whatever exists).
Text is Markdown; comments and Datasette descriptions get it without the backticks.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass

import sqlalchemy as sa

ENGINES = ("sqlite", "postgresql")


@dataclass(frozen=True)
class Col:
    name: str
    type: str  # as declared, with its constraints: "INTEGER, primary key"
    meaning: str  # what it is and how it is derived
    example: str
    engines: tuple[str, ...] = ENGINES


@dataclass(frozen=True)
class Relation:
    name: str
    kind: str  # table | view | search (full-text search objects)
    description: str  # the first sentence is the short description (comments, Datasette)
    columns: tuple[Col, ...]
    notes: str = ""  # more Markdown for docs/schema.md, after the columns
    engines: tuple[str, ...] = ENGINES


RELATIONS: tuple[Relation, ...] = (
    Relation(
        "papers",
        "table",
        "One row per distinct paper, whatever the number of pages it was seen on.",
        (
            Col(
                "paper_id",
                "INTEGER, primary key",
                "Surrogate key. Stable: a `load --force` reload or `papers-etl rebuild` keeps it while the paper exists.",
                "`42`",
            ),
            Col(
                "title",
                "TEXT, not null",
                "Title of the earliest sighting (see the merge rule), as text: LaTeX markup converted (`SE$(n)$` → `SE(n)`, `R\\'enyi` → `Rényi`, `$\\mathcal{O}(n)$` → `O(n)`), Unicode NFC, zero-width characters dropped, white space collapsed.",
                "`Weighted Conditional Flow Matching`",
            ),
            Col(
                "title_key",
                "TEXT, not null, indexed (not unique)",
                "Deduplication key of that title: its letters and digits without accents, case, punctuation, hyphens, white space or LaTeX markup (`Re-weighting Rényi` and `Reweighting Renyi` both give `reweightingrenyi`). Not unique: unrelated papers may share a short generic title (their abstracts tell them apart).",
                "`weightedconditionalflowmatching`",
            ),
            Col(
                "abstract",
                "TEXT, not null",
                "Abstract of the earliest sighting, converted like `title`; capture artefacts glued to a URL (`{here}`, the URL repeated in braces) removed. URLs are kept exactly.",
                "`We study flow matching with…`",
            ),
            Col(
                "published_on",
                "DATE, null",
                "Publication date printed on the card (`Jun 7, 2023` → 2023-06-07; `Published on Dec 28, 2024`; `May 29` without a year: the latest May 29 not after the page's listing date, else its capture time, else the file's time). NULL when no page showed it, or when the printed date does not exist (that case also leaves a `field` reject).",
                "`2023-06-07`",
            ),
            Col(
                "author_count",
                "INTEGER, null, > 0",
                "From the card's author line (`• N authors`, `- N authors`, `* N authors`, `N authors`, `1 author`); NULL when unknown, including when the card prints an organisation where the count would be.",
                "`13`",
            ),
            Col(
                "arxiv_id",
                "TEXT, null, unique",
                "The arXiv id a card gives (`huggingface.co/papers/2606.00683`, or an `arxiv.org/abs/…` / `arxiv.org/pdf/…` link on the card), as Hugging Face prints it, without a version. The paper's identity where known: one id is one paper, two ids are two papers. NULL when no sighting gave one (plain-text pages).",
                "`2606.00683`",
            ),
            Col(
                "created_at",
                "TIMESTAMP WITH TIME ZONE, not null",
                "When the load that first saw the paper wrote it (UTC).",
                "`2026-03-12 09:15:02+00`",
            ),
            Col(
                "updated_at",
                "TIMESTAMP WITH TIME ZONE, not null",
                "When a later sighting last changed the row or its links, or `papers-etl rebuild` or a `load --force` reload changed the row (UTC). Equal to `created_at` if that never happened.",
                "`2026-03-13 08:01:44+00`",
            ),
            Col(
                "search_vector",
                "TSVECTOR, generated, stored (PostgreSQL only)",
                "Full-text search vector: `setweight(to_tsvector('english', title), 'A') \\|\\| setweight(to_tsvector('english', abstract), 'B')`, computed by PostgreSQL on every insert and update; GIN index `ix_papers_search_vector`. Not in `etl.schema` (Alembic ignores it); see \"Full-text search\".",
                "`'distil':2A 'diffus':1A,7B`",
                engines=("postgresql",),
            ),
        ),
        notes="""\
**Same paper** (`etl/dedup.py`). Where cards give arXiv ids, the ids decide:
sightings with one id are one paper even when their titles differ (a revised
title), and sightings with two ids are two papers even when their titles and
abstracts are equal (a resubmission). A sighting without an id joins by the
rules below and never bridges two ids: when it matches papers with different
ids it joins one of them, the first in a fixed order of the candidate pairs
(their keys), so the result does not depend on file order. Loads split into
runs give the same: a batch that brings two ids among sightings sharing keys
plans those papers again from scratch (`etl/load/plan.py`), and a stored
sighting may move to the other paper. Otherwise two sightings are one paper when their title
keys are equal and their abstracts agree (one is empty, they have the same
words, one is a truncation of the other, or rapidfuzz finds them ≥ 80 % alike),
or when they have the same abstract (at least 12 words) under titles that are
alike (token-set ratio ≥ 60) and carry the same numbers (`Part I` / `Part II`,
`GPT-3` / `GPT-4` stay apart). A paper is a connected group of such sightings.
Candidates are only looked up by `listings.title_key` and
`listings.abstract_key`, so the cost does not grow with all pairs.

**Merge rule**, for a paper seen several times. It does not depend on load order
or on how files are split into runs:
- `title` and `abstract` come from the earliest sighting: earliest listing date
  (pages without one come last), then the file's sha256, then the position.
- `published_on` and `author_count` are the value most sightings give; on a tie
  the earliest date and the largest count. Each sighting a run loads that gives
  another value than a sighting of the same paper (already stored, or loaded in
  the same batch) leaves a `field` reject in that run; so the count of these
  rejects, unlike the papers, depends on the order files arrive in. A dry run
  does not cluster, so it does not report them.
- `arxiv_id` is the one id of the paper's sightings (a paper never holds two).
- Links are the union over all sightings: one row per repository for GitHub
  repositories, one per URL otherwise (the smallest URL represents several);
  `found_in` says whether the abstracts, the cards' own links, or both gave it.
- Card values (upvotes, comments, stars, submitter, organisation) are not
  merged: every sighting keeps its own in `listings`, a point of each paper's
  time series. A paper's latest and highest upvotes are in `paper_summary`.

`papers-etl rebuild` re-derives `papers` and `paper_links` (and the listings'
keys) from the raw text in `listings` with the current rules.
""",
    ),
    Relation(
        "paper_links",
        "table",
        """\
Links found in the raw abstracts of a paper's sightings (before any LaTeX conversion), one row per paper and
repository (GitHub repositories) or per paper and URL (the other kinds). Only explicit URLs count: with a
scheme, starting with `www.`, a bare `github.com/…` or a bare `….github.io`; the word "GitHub" alone yields
nothing.
""",
        (
            Col("paper_id", "INTEGER, primary key part, references `papers`", "The paper.", "`42`"),
            Col(
                "url",
                "TEXT, primary key part",
                "The URL normalised: `https://`, lower-case host, no trailing `/`, path, query and fragment as written; trailing sentence punctuation (`.,;:!?)]}>'\"`), a capitalised word glued after a final full stop (`…/b.Next`), capture artefacts (`{here}`, `URL{URL}`) and anything after a non-ASCII character (`。`, a zero-width space) are not part of it; `\\_` in a URL is `_`. Example: `GitHub.com/google/XNNPACK.` gives `https://github.com/google/XNNPACK`.",
                "`https://github.com/google/XNNPACK`",
            ),
            Col(
                "kind",
                "TEXT, not null",
                "`github_repo` (a GitHub repository), `github_pages` (a `*.github.io` site), `gist` (`gist.github.com`), or `other`.",
                "`github_repo`",
            ),
            Col(
                "found_in",
                "VARCHAR(16), not null, default `abstract`",
                "Where the paper's sightings show the link: `abstract` (in an abstract's text or its links), `card` (the card's own GitHub link), or `both`.",
                "`card`",
            ),
            Col(
                "repo",
                "TEXT, null",
                "For `github_repo` only: `owner/name` in lower case, from `github.com/…`, `www.github.com/…` or `raw.githubusercontent.com/…`, with `.git`, `/tree/…`, `/blob/…`, `/issues/…`, `#…` and `?…` removed. Site pages (`/orgs/…`, `/topics/…`, `/features`, `/sponsors`, `/marketplace`, `/login`, `/settings`, `/apps`, …) are `other`. Example: `qingruzhang/adalora`. NULL for the other kinds.",
                "`google/xnnpack`",
            ),
        ),
    ),
    Relation(
        "paper_authors",
        "table",
        "One row per paper and author, in the order the capture lists them, where a capture names the authors (the papers API, saved pages).",
        (
            Col("paper_id", "INTEGER, primary key part, references `papers` (deleted with it)", "The paper.", "`42`"),
            Col("position", "INTEGER, primary key part, > 0", "1-based place in the author list.", "`1`"),
            Col("name", "TEXT, not null", "The author's name as the capture gives it.", "`Ada Lovelace`"),
            Col("hf_user", "TEXT, null", "The author's Hugging Face user name, where the capture links one.", "`ada`"),
        ),
        notes="""\
The names come from the earliest sighting that names the authors (the merge rule's order), and so does
`papers.author_count` then: other sightings' counts that differ are `field` rejects.
""",
    ),
    Relation(
        "source_files",
        "table",
        "One row per capture file loaded. Its `sha256` makes re-loading the same file a no-op.",
        (
            Col("source_file_id", "INTEGER, primary key", "Surrogate key.", "`3`"),
            Col(
                "path",
                "TEXT, not null",
                "Path as given on the command line (or found under a given folder or glob).",
                "`captures/2026-03-12.txt`",
            ),
            Col(
                "sha256",
                "CHAR(64), not null, unique",
                "SHA-256 of the file's bytes. A file whose hash is already here is skipped.",
                "`9f86d081…` (64 hex digits)",
            ),
            Col("size_bytes", "BIGINT, not null", "File size in bytes.", "`18432`"),
            Col(
                "layout",
                "VARCHAR(32), not null, references `capture_formats`",
                'The capture format the page was read in: `compact`, `daily`, `daily_meta`, or any other registered format (see the README, "Input").',
                "`daily_meta`",
            ),
            Col("listed_on", "DATE, null", "The day the page listed its papers.", "`2026-03-12`"),
            Col(
                "listed_on_source",
                "TEXT, null",
                "The rule that gave `listed_on`: `option` (`--listed-on`), `page_url` (the date of a dated page URL the capture gives, `/papers/date/2025-03-12`), `file_name` (a date in the file name) or `header` (the page's month and day, in the latest year not after the capture time, else the file's modification date). NULL exactly when `listed_on` is NULL.",
                "`file_name`",
            ),
            Col("record_count", "INTEGER, not null", "Records loaded from the file (rows in `listings`).", "`25`"),
            Col("run_id", "INTEGER, not null, references `etl_runs`", "The run that loaded it.", "`1`"),
            Col(
                "loaded_at",
                "TIMESTAMP WITH TIME ZONE, not null",
                "When it was loaded (UTC).",
                "`2026-03-12 09:15:02+00`",
            ),
            Col(
                "parse_digest",
                "VARCHAR(32), null",
                "blake2b digest (32 hex digits) of everything the load wrote from the file: its records (raw text, line numbers, comment counts), the papers they parsed to (title, keys, abstract, date, author count, links), its problems, its layout, listing date, capture facts and path. `load --force` parses the file again and leaves it untouched when the digest is the same (nothing would change); otherwise it replaces the file's earlier load. NULL for files loaded before schema revision 0004, which `--force` therefore replaces once.",
                "`4f1c0a9e…` (32 hex digits)",
            ),
            Col(
                "page_url",
                "TEXT, null",
                "The captured page's address, as the capture tool's wrapper gives it (YAML front matter `url`, `- Source URL: …`, `**URL:** …`). NULL when the capture does not say.",
                "`https://huggingface.co/papers/date/2026-03-12`",
            ),
            Col(
                "page_kind",
                "VARCHAR(16), not null, default `unknown`",
                "What the page is, from `page_url`: `daily` (`/papers`, `/papers/date/…`), `weekly` (`/papers/week/…`), `monthly` (`/papers/month/…`), `trending` (`/papers/trending`), `search` (`?q=…`) or `unknown` (no URL, or another one).",
                "`daily`",
            ),
            Col(
                "captured_at",
                "TIMESTAMP WITH TIME ZONE, null",
                "When the page was captured, as the wrapper says (`retrieved`, `exported`, `captured`, …; UTC when it gives no zone; midnight UTC for a bare date). It bounds dates printed without a year instead of the file's time. NULL when the capture does not say.",
                "`2026-10-02 00:00:00+00`",
            ),
            Col(
                "modified_at",
                "TIMESTAMP WITH TIME ZONE, null",
                "The file's modification time when it was loaded (UTC): the bound for dates printed without a year when the capture gives no time, kept so that `rebuild` reads such dates as the load did.",
                "`2026-03-12 08:00:11+00`",
            ),
        ),
    ),
    Relation(
        "capture_formats",
        "table",
        "One row per capture format papers-etl knows (`etl.formats`): each load adds the formats its version registers, so a new format needs no migration.",
        (
            Col(
                "name", "VARCHAR(32), primary key", "The format's name, used in `source_files.layout`.", "`daily_meta`"
            ),
            Col(
                "description",
                "TEXT, not null",
                "What a page in this format looks like (from the format's module).",
                "`A daily listing as plain text with card metadata: …`",
            ),
        ),
    ),
    Relation(
        "listings",
        "table",
        "One row per paper record seen on a page: the provenance of every paper, with the raw text kept exactly.",
        (
            Col("source_file_id", "INTEGER, primary key part, references `source_files`", "The page.", "`3`"),
            Col("position", "INTEGER, primary key part", "1-based place of the record on the page.", "`1`"),
            Col(
                "paper_id", "INTEGER, not null, references `papers`", "The paper this record is a sighting of.", "`42`"
            ),
            Col("line_no", "INTEGER, not null", "Line of the title in the file (1-based).", "`14`"),
            Col(
                "raw_title",
                "TEXT, not null",
                "Title exactly as in the file (for the first compact record, without the glued `Subscribe` banner; a title wrapped over several lines is joined with a space, a trailing `\\` line-break marker dropped). Control characters are kept here, removed from `papers.title`.",
                "`Weighted  Conditional Flow Matching`",
            ),
            Col(
                "raw_abstract",
                "TEXT, not null",
                "Abstract exactly as in the file (wrapped lines joined as for the title).",
                "`We study flow matching with…`",
            ),
            Col(
                "raw_meta",
                "TEXT, null",
                "Card metadata, each line exactly as printed, joined by newlines, in page order: the author line (or the organisation printed in its place), the date line, and a comment count printed on a line of its own. NULL when the page prints none.",
                "`  • 13 authors\\nJun 7, 2023`",
            ),
            Col(
                "comments",
                "INTEGER, null",
                "The comment count the card printed, after its date (`May 25, 2025 2`, `May 29 6`, `Mar 13 [ 3]`, `May 29[6](…#community)`) or on the next line, as of this capture. NULL when none was printed.",
                "`6`",
            ),
            Col(
                "upvotes",
                "INTEGER, null",
                "The card's upvote count at this capture (Markdown and API captures); NULL when not shown or shown as `-`.",
                "`101`",
            ),
            Col(
                "arxiv_id",
                "TEXT, null, indexed",
                "The arXiv id this card gives (see `papers.arxiv_id`); a blocking key for deduplication. NULL on plain-text pages.",
                "`2606.00683`",
            ),
            Col(
                "github_url",
                "TEXT, null",
                "The card's own GitHub link (`[GitHub 131](https://github.com/…)`), as printed. It also becomes a `paper_links` row with `found_in` `card`.",
                "`https://github.com/kandinskylab/kandinsky-6`",
            ),
            Col(
                "github_stars",
                "INTEGER, null",
                "The stars printed on that link (`1.32k` → 1320) at this capture.",
                "`131`",
            ),
            Col(
                "submitted_by",
                "TEXT, null",
                "The user the card says submitted the paper (trending cards).",
                "`vvasilev`",
            ),
            Col(
                "organization",
                "TEXT, null",
                "The organisation the card shows (printed where an author count would be).",
                "`Carnegie Mellon University`",
            ),
            Col(
                "abstract_urls",
                "TEXT, null",
                "Markdown captures: the URLs of the links inside the abstract, one a line (the abstract text keeps only their words); their links join `paper_links`.",
                "`https://github.com/aaFrostnova/CiteTracer`",
            ),
            Col(
                "project_page",
                "TEXT, null",
                "The paper's project page as the papers API gives it; it also becomes a `paper_links` row with `found_in` `card`.",
                "`https://lab.example/four-steps`",
            ),
            Col(
                "listed_on",
                "DATE, null",
                "The day this card was listed, where the capture says it per card (the papers API's `submittedOnDailyAt`); NULL otherwise, when the page's `source_files.listed_on` is the sighting's. The views read this one first.",
                "`2025-03-14`",
            ),
            Col(
                "author_names",
                "TEXT, null",
                "The authors' names this sighting gave, as JSON (`[[name, hf_user or null], …]`, in order); NULL when it gave none (text and Markdown pages).",
                '`[["Ada Lovelace", "ada"], ["Alan Turing", null]]`',
            ),
            Col(
                "title_key",
                "TEXT, not null, indexed",
                "This sighting's title key (see `papers.title_key`): a blocking key for deduplication.",
                "`weightedconditionalflowmatching`",
            ),
            Col(
                "abstract_key",
                "TEXT, not null, indexed",
                "A 32-hex-digit fingerprint of the abstract's words (case, accents, LaTeX markup and punctuation ignored); empty for an empty abstract. A blocking key for deduplication: the same abstract under another title.",
                "`3f1c…` (32 hex digits)",
            ),
        ),
    ),
    Relation(
        "etl_runs",
        "table",
        "One row per `papers-etl load`, written when the run starts and completed when it ends, including when it fails.",
        (
            Col("run_id", "INTEGER, primary key", "Run number, shown by `papers-etl runs`.", "`1`"),
            Col("started_at", "TIMESTAMP WITH TIME ZONE, not null", "Start (UTC).", "`2026-03-12 09:15:00+00`"),
            Col(
                "finished_at",
                "TIMESTAMP WITH TIME ZONE, null",
                "End (UTC). NULL while running, or if the process died (killed, crashed).",
                "`2026-03-12 09:15:04+00`",
            ),
            Col(
                "status",
                "TEXT, not null",
                "`running`; `succeeded` (nothing refused or rejected); `partial` (finished, but some files were refused or some records or fields were rejected); `failed` (stopped by a database error or an interruption, see `message`; a run whose process died is marked `failed` by the next load, with `message` starting `interrupted:`). The exit status of `papers-etl load` follows it: 0, 1, 3.",
                "`succeeded`",
            ),
            Col(
                "message",
                "TEXT, null",
                "Why a run failed, in one line; any credential of the database URL is masked (`***`).",
                "`sqlite:///papers.db: the disk is full (database or disk is full); free space, then run the same command again (files committed before stay loaded)`",
            ),
            Col("files_seen", "INTEGER, not null", "Files found from the given paths.", "`5`"),
            Col("files_loaded", "INTEGER, not null", "Files loaded in this run.", "`4`"),
            Col("files_skipped", "INTEGER, not null", "Files skipped as already loaded (same sha256).", "`1`"),
            Col(
                "files_refused",
                "INTEGER, not null",
                "Files refused whole: unreadable, empty, binary, not UTF-8, unknown layout.",
                "`0`",
            ),
            Col(
                "records_read",
                "INTEGER, not null",
                "Records found in the loaded files, including rejected ones.",
                "`100`",
            ),
            Col("papers_inserted", "INTEGER, not null", "New rows in `papers`.", "`80`"),
            Col(
                "papers_updated",
                "INTEGER, not null",
                "Existing papers whose missing date or author count was filled in.",
                "`3`",
            ),
            Col(
                "records_rejected",
                "INTEGER, not null",
                "Records not loaded, for example a title without an abstract.",
                "`1`",
            ),
            Col(
                "fields_rejected", "INTEGER, not null", "Fields loaded as NULL because they could not be parsed.", "`2`"
            ),
        ),
    ),
    Relation(
        "rejects",
        "table",
        "Everything that was not loaded as given, with the reason.",
        (
            Col("reject_id", "INTEGER, primary key", "Surrogate key.", "`7`"),
            Col("run_id", "INTEGER, not null, references `etl_runs`", "The run that found the problem.", "`1`"),
            Col("path", "TEXT, not null", "The file.", "`captures/notes.txt`"),
            Col("line_no", "INTEGER, null", "The line, when the problem has one.", "`12`"),
            Col(
                "level",
                "TEXT, not null",
                "`file` (the file was refused), `record` (one record was not loaded) or `field` (the record loaded with this field NULL).",
                "`field`",
            ),
            Col(
                "reason",
                "TEXT, not null",
                "What is wrong and what to do about it.",
                "`publication date 'Feb 30, 2023' does not exist…`",
            ),
            Col("excerpt", "TEXT, null", "The offending text, at most 120 characters on one line.", "`Feb 30, 2023`"),
        ),
    ),
    Relation(
        "paper_summary",
        "view",
        "One row per paper: the paper with its code and how often and when it was listed.",
        (
            Col("paper_id", "INTEGER", "`papers.paper_id`.", "`42`"),
            Col(
                "arxiv_id",
                "TEXT, null",
                "`papers.arxiv_id`: the paper's arXiv id where a card gave it.",
                "`2606.00683`",
            ),
            Col(
                "hf_url",
                "TEXT, null",
                "The paper's Hugging Face page, `https://huggingface.co/papers/` followed by `arxiv_id`; NULL without an id.",
                "`https://huggingface.co/papers/2606.00683`",
            ),
            Col("title", "TEXT", "`papers.title`.", "`Weighted Conditional Flow Matching`"),
            Col("abstract", "TEXT", "`papers.abstract`.", "`We study flow matching with…`"),
            Col("published_on", "DATE, null", "`papers.published_on`.", "`2023-06-07`"),
            Col("author_count", "INTEGER, null", "`papers.author_count`.", "`13`"),
            Col(
                "authors",
                "TEXT, null",
                "The authors' names `paper_authors` holds, in order, comma separated; NULL when no capture named them (text and Markdown pages).",
                "`Ada Lovelace, Alan Turing`",
            ),
            Col(
                "repo",
                "TEXT, null",
                "The paper's GitHub repository (`paper_links.repo` of kind `github_repo`); the first in byte order if it has several; NULL if none.",
                "`google/xnnpack`",
            ),
            Col(
                "has_code",
                "INTEGER, 0 or 1",
                "1 when the paper links at least one GitHub repository (`github_repo_count > 0`), else 0. An integer, not a boolean, so that it reads the same on both engines and sums to a count.",
                "`1`",
            ),
            Col("github_repo_count", "INTEGER", "Distinct GitHub repositories the paper links (0 if none).", "`1`"),
            Col("link_count", "INTEGER", "Links of any kind in the paper's abstracts (rows in `paper_links`).", "`2`"),
            Col("times_listed", "INTEGER", "Rows in `listings` for the paper: how many times a page showed it.", "`3`"),
            Col(
                "days_listed",
                "INTEGER",
                "Distinct listing dates of the pages that showed it (pages without a listing date are not counted; 0 if it was only on such pages).",
                "`2`",
            ),
            Col(
                "best_position",
                "INTEGER",
                "Its best (smallest) `listings.position` on any page: 1 is the top of a page.",
                "`4`",
            ),
            Col(
                "first_listed_on",
                "DATE, null",
                "Earliest `source_files.listed_on` of the pages that showed it; NULL if no such page had a listing date.",
                "`2026-03-12`",
            ),
            Col(
                "last_listed_on",
                "DATE, null",
                "Latest `source_files.listed_on` of the pages that showed it.",
                "`2026-03-14`",
            ),
            Col(
                "latest_upvotes",
                "INTEGER, null",
                "The upvotes of the latest capture that showed an upvote count (by `source_files.captured_at`, else the file's `modified_at`, else `loaded_at`); NULL if no capture showed one (plain-text pages).",
                "`117`",
            ),
            Col("max_upvotes", "INTEGER, null", "The highest upvote count any capture showed.", "`149`"),
        ),
    ),
    Relation(
        "paper_upvotes",
        "view",
        "One row per paper and day it was seen with an upvote count: the points of an upvotes-over-time chart.",
        (
            Col("paper_id", "INTEGER", "`papers.paper_id`.", "`42`"),
            Col("arxiv_id", "TEXT, null", "`papers.arxiv_id`.", "`2610.05608`"),
            Col("title", "TEXT", "`papers.title`.", "`Kandinsky 6.0 Video: Foundation Models for …`"),
            Col(
                "listed_on",
                "DATE",
                "The page's listing date, else the day it was captured (`source_files.captured_at`, UTC): search and trending pages have no listing date.",
                "`2026-10-04`",
            ),
            Col("upvotes", "INTEGER", "The highest upvote count the paper showed that day.", "`117`"),
            Col("comments", "INTEGER, null", "The highest comment count it showed that day.", "`6`"),
            Col("github_stars", "INTEGER, null", "The highest star count of its GitHub link that day.", "`131`"),
            Col("captures", "INTEGER", "Sightings of the paper with an upvote count that day.", "`2`"),
        ),
    ),
    Relation(
        "monthly_publications",
        "view",
        """\
One row per month in which at least one loaded paper was published, by publication date, plus one row with a
NULL `month` for the papers without a publication date, so that the rows add up to every paper. Most papers
have no publication date (only `daily_meta` pages print one): for counts by the date papers were listed, use
`listing_months`.
""",
        (
            Col(
                "month",
                "DATE, null",
                "First day of the month of `papers.published_on`; NULL for the papers without a publication date.",
                "`2026-02-01`",
            ),
            Col(
                "papers",
                "INTEGER",
                "Papers published that month (or without a publication date, on the NULL row).",
                "`30`",
            ),
            Col("papers_with_github", "INTEGER", "Of those, papers with at least one `github_repo` link.", "`21`"),
            Col("github_share", "DOUBLE PRECISION", "`papers_with_github / papers`, from 0 to 1.", "`0.7`"),
        ),
    ),
    Relation(
        "github_repositories",
        "view",
        "One row per GitHub repository linked from at least one paper.",
        (
            Col("repo", "TEXT", "`paper_links.repo`: `owner/name`, lower case.", "`qingruzhang/adalora`"),
            Col("url", "TEXT", "`https://github.com/` followed by `repo`.", "`https://github.com/qingruzhang/adalora`"),
            Col("papers", "INTEGER", "Distinct papers linking the repository.", "`2`"),
            Col(
                "first_published_on",
                "DATE, null",
                "Earliest `published_on` among those papers; NULL if none has a date.",
                "`2023-03-18`",
            ),
            Col(
                "last_listed_on",
                "DATE, null",
                "Latest listing date of a page that showed one of those papers.",
                "`2026-03-13`",
            ),
        ),
    ),
    Relation(
        "listing_days",
        "view",
        "One row per listing date (pages without a listing date are not counted).",
        (
            Col("listed_on", "DATE", "`source_files.listed_on`.", "`2026-03-12`"),
            Col("papers_listed", "INTEGER", "Distinct papers on that day's pages.", "`25`"),
            Col(
                "new_papers",
                "INTEGER",
                "Of those, papers whose `first_listed_on` is that day: never on an earlier dated page.",
                "`18`",
            ),
        ),
    ),
    Relation(
        "listing_months",
        "view",
        """\
One row per month of listing dates: what the pages of that month showed, counted by the date papers were
listed (every paper has a listing, most have no publication date). One row with a NULL `month` counts the
pages without a listing date; `papers_first_listed` adds up to every paper over all rows.
""",
        (
            Col(
                "month",
                "DATE, null",
                "First day of the month of `source_files.listed_on`; NULL for the pages without a listing date.",
                "`2026-03-01`",
            ),
            Col(
                "papers_first_listed",
                "INTEGER",
                "Papers whose `paper_summary.first_listed_on` falls in that month: new that month. On the NULL row: papers only ever seen on pages without a listing date.",
                "`120`",
            ),
            Col("papers_listed", "INTEGER", "Distinct papers on that month's pages.", "`150`"),
            Col(
                "listings",
                "INTEGER",
                "Rows in `listings` on that month's pages: every time a page showed a paper.",
                "`310`",
            ),
            Col(
                "papers_with_code",
                "INTEGER",
                "Of `papers_listed`, papers with at least one `github_repo` link (`paper_summary.has_code = 1`).",
                "`95`",
            ),
            Col("code_share", "DOUBLE PRECISION", "`papers_with_code / papers_listed`, from 0 to 1.", "`0.63`"),
        ),
    ),
    Relation(
        "author_count_distribution",
        "view",
        "One row per author count, plus one row with a NULL `author_count` for the papers whose count is unknown.",
        (
            Col("author_count", "INTEGER, null", "`papers.author_count`; NULL: unknown.", "`4`"),
            Col("papers", "INTEGER", "Papers with that many authors.", "`17`"),
        ),
    ),
    Relation(
        "papers_fts",
        "search",
        """\
Full-text index of paper titles and abstracts (SQLite only). An external-content FTS5 virtual table over `papers`
(`content="papers"`, `content_rowid="paper_id"`, tokenizer `porter unicode61
remove_diacritics 2`): it stores only the index, and reads the text from `papers`.
Three triggers on `papers` (`papers_fts_after_insert`, `_after_update`,
`_after_delete`) keep it in step with every insert, update and delete, including a
rebuild that deletes and re-inserts papers. Datasette detects it and offers a search
box on `papers`. Its shadow tables `papers_fts_data`, `papers_fts_idx`,
`papers_fts_docsize` and `papers_fts_config` belong to FTS5: never write to them.
Rebuild the index by hand with `INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')`.
Revision 0005 sets FTS5's `automerge` to 16 (the default is 4): the load writes
each capture file as a small segment, and merging 16 at a time halves the
merge work; a search reads at most 15 segments per level instead of 3. Run
`INSERT INTO papers_fts (papers_fts) VALUES ('optimize')` to merge the whole
index into one segment if you ever need to.
""",
        (
            Col(
                "title",
                "FTS5 column",
                "Indexes `papers.title` (the row's `rowid` is `papers.paper_id`).",
                "`Weighted Conditional Flow Matching`",
            ),
            Col("abstract", "FTS5 column", "Indexes `papers.abstract`.", "`We study flow matching with…`"),
        ),
        engines=("sqlite",),
    ),
)


# Prose of docs/schema.md around the relations, by part.
PARTS: dict[str, str] = {
    "Data contract": """\
<!-- Generated from etl/dictionary.py by `python -m etl.dictionary > docs/schema.md`: edit that file, not this one. -->

These tables are what analysts query. Names and meanings here are stable. A
change comes only with an Alembic migration and an update to the data dictionary,
`etl/dictionary.py`, from which this page, PostgreSQL's `COMMENT ON` descriptions
(what BI tools show) and the Datasette metadata of `papers-etl serve` are made;
`tests/test_docs.py` fails when a column exists in the live database, on either
engine, but not in the dictionary, or the other way round. Types are shown as
they are declared on PostgreSQL and SQLite. SQLite stores `DATE` and `TIMESTAMP` values as ISO-8601 text, and SQLAlchemy reads
them back as dates.

Keys: every table has a primary key. Constraint names follow the convention
`pk_<table>`, `uq_<table>_<column>`, `fk_<table>_<column>_<referred table>`,
`ck_<table>_<name>`, `ix_<table>_<column>`.
""",
    "Views": """\
Created by the migrations `2026_11_24_0003_analyst_layer` and
`2026_12_02_0007_descriptions_and_views`; their readable SQL is in `sql/views/` (a file `NAME.sql`, or `NAME.sqlite.sql` and `NAME.postgresql.sql`
where the engines need different SQL). `tests/test_views.py` keeps the files and the
migration identical, and loads the same pages on both engines to check that every
view returns the same rows with the same types. Counts are `INTEGER` and ratios
`DOUBLE PRECISION` on both engines. Dates are `DATE` on PostgreSQL; SQLite has no
date type and returns them as ISO-8601 text (`2026-03-12`), which sorts and compares
correctly; `etl.views` describes every view's types, so `papers-etl export` and
SQLAlchemy read them as dates on both. A view has no guaranteed order: add `ORDER BY`.
""",
    "Full-text search": """\
Titles and abstracts are searchable on both engines. Every word must match (in the
title or the abstract); words are stemmed (`distilled` finds `distillation`),
accents and punctuation are ignored; a title match ranks above an abstract match.
`papers-etl search "diffusion distillation"` runs the queries below;
`sql/examples/05_search_titles_and_abstracts.*.sql` are ready to edit. The two
engines stem with different algorithms (Porter on SQLite, the English Snowball
dictionary on PostgreSQL, which also drops stop words such as `the`), so a rare
query can match slightly differently.

SQLite (FTS5; quote each word so that FTS5 operators such as `-` or `NEAR` are plain words):

```sql
SELECT p.paper_id, p.title, p.published_on
FROM papers_fts JOIN papers AS p ON p.paper_id = papers_fts.rowid
WHERE papers_fts MATCH '"diffusion" "distillation"'
ORDER BY bm25(papers_fts, 10.0, 1.0)
LIMIT 20;
```

PostgreSQL (`tsvector` with a GIN index):

```sql
SELECT p.paper_id, p.title, p.published_on
FROM papers AS p, plainto_tsquery('english', 'diffusion distillation') AS q
WHERE p.search_vector @@ q
ORDER BY ts_rank(p.search_vector, q) DESC
LIMIT 20;
```
""",
    "Read-only access": """\
`papers-etl query` runs one reading statement on a connection that cannot write.
For BI tools on PostgreSQL, create a login role and run `papers-etl db
grant-readonly ROLE`: it grants `USAGE` on the schema, `SELECT` on every table and
view, and, through `ALTER DEFAULT PRIVILEGES`, `SELECT` on tables and views that the
user running the command creates later (run it as the user that runs the
migrations). Nothing else is granted. On PostgreSQL 14 and older, `PUBLIC` may
still create tables in schema `public`; revoke that with `REVOKE CREATE ON SCHEMA
public FROM PUBLIC`.
""",
    "Changing the schema": """\
A later migration that rebuilds `papers`, `paper_links`, `listings` or
`source_files` on SQLite (Alembic batch mode copies the table and renames it) must
drop the views first and create them again afterwards, and, for `papers`, create
the three `papers_fts_*` triggers again: SQLite drops a table's triggers with it.

**A new column, table or view** is one entry in `etl/dictionary.py` (a `Col` in
its `Relation`). Regenerate this page with `python -m etl.dictionary >
docs/schema.md`, and end the migration that adds it with
`etl.dictionary.apply_comments(op.get_bind())`: it writes the dictionary's
descriptions as `COMMENT ON` for every table, view and column that exists, and
does nothing on SQLite. A migration that drops and creates a view again must call
it too, since dropping a view drops its comments. `tests/test_docs.py` compares
PostgreSQL's descriptions with the dictionary.
""",
}

PART_OF_KIND = {"table": "Data contract", "view": "Views", "search": "Full-text search"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}


def relations(dialect: str | None = None) -> list[Relation]:
    """The relations (with only their columns) that exist on ``dialect``; all of them for None."""
    if dialect is None:
        return list(RELATIONS)
    return [
        Relation(r.name, r.kind, r.description, tuple(c for c in r.columns if dialect in c.engines), r.notes, r.engines)
        for r in RELATIONS
        if dialect in r.engines
    ]


def relation(name: str) -> Relation:
    return next(r for r in RELATIONS if r.name == name)


def plain(markdown: str) -> str:
    """Markdown as one line of plain text, for database comments and Datasette descriptions."""
    text = markdown.replace("\\|", "|").replace("`", "").replace("**", "")
    return re.sub(r"\s+", " ", text).strip()


def column_comment(column: Col) -> str:
    return f"{plain(column.meaning)} Example: {plain(column.example)}"


def expected_comments(dialect: str = "postgresql") -> dict[tuple[str, str | None], str]:
    """{(relation, column or None for the relation itself): comment} for every object on ``dialect``."""
    comments: dict[tuple[str, str | None], str] = {}
    for r in relations(dialect):
        comments[(r.name, None)] = plain(r.description)
        comments |= {(r.name, c.name): column_comment(c) for c in r.columns}
    return comments


def apply_comments(bind, remove: bool = False) -> int:
    """PostgreSQL: COMMENT ON every table, view and column of the dictionary that exists now (``remove``:
    set them back to NULL); returns how many. SQLite has no comments: nothing to do.

    For migrations: call it after adding a column or recreating a view (dropping a view drops its comments).
    Objects that do not exist yet are skipped, so an older migration calling it stays correct.
    """
    if bind.dialect.name != "postgresql":
        return 0
    from psycopg import sql  # only where PostgreSQL is used

    inspector = sa.inspect(bind)
    views = set(inspector.get_view_names())
    live = {name: {c["name"] for c in inspector.get_columns(name)} for name in [*inspector.get_table_names(), *views]}
    driver = bind.connection.driver_connection
    done = 0
    for (name, column), text in expected_comments("postgresql").items():
        if name not in live or (column is not None and column not in live[name]):
            continue
        target = (
            sql.SQL("COLUMN {}.{}").format(sql.Identifier(name), sql.Identifier(column))
            if column
            else sql.SQL("VIEW {}" if name in views else "TABLE {}").format(sql.Identifier(name))
        )
        value = sql.NULL if remove else sql.Literal(text)
        driver.execute(sql.SQL("COMMENT ON {} IS {}").format(target, value))
        done += 1
    return done


# FTS5's own tables behind papers_fts, and Alembic's: not part of the data contract.
INTERNAL_TABLES = ("alembic_version", "papers_fts_data", "papers_fts_idx", "papers_fts_docsize", "papers_fts_config")


def live_columns(bind) -> dict[str, set[str]]:
    """{table or view: column names} of the live database, without the internal tables."""
    inspector = sa.inspect(bind)
    names = [n for n in inspector.get_table_names() if n not in INTERNAL_TABLES] + inspector.get_view_names()
    return {name: {c["name"] for c in inspector.get_columns(name)} for name in names}


def mismatches(bind) -> list[str]:
    """What the live database and the dictionary disagree on, one line each; empty when they agree."""
    live = live_columns(bind)
    described = {r.name: {c.name for c in r.columns} for r in relations(bind.dialect.name)}
    found = []
    for name in sorted(live.keys() | described.keys()):
        for column in sorted(live.get(name, set()) - described.get(name, set())):
            found.append(f"{name}.{column} is in the database but not in etl/dictionary.py: describe it there")
        for column in sorted(described.get(name, set()) - live.get(name, set())):
            found.append(f"{name}.{column} is in etl/dictionary.py but not in the database")
        if name not in live:
            found.append(f"{name} is in etl/dictionary.py but not in the database")
        elif name not in described:
            found.append(f"{name} is in the database but not in etl/dictionary.py: describe it there")
    return found


def live_comments(bind) -> dict[tuple[str, str | None], str]:
    """PostgreSQL: {(relation, column or None): comment} of every commented table, view and column."""
    rows = bind.execute(
        sa.text(
            "SELECT c.relname, a.attname, d.description FROM pg_description AS d "
            "JOIN pg_class AS c ON c.oid = d.objoid AND d.classoid = 'pg_class'::regclass "
            "LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = d.objsubid AND d.objsubid > 0 "
            "WHERE c.relnamespace = to_regnamespace(current_schema())"
        )
    )
    return {(relname, attname): text for relname, attname, text in rows}


def _cell(text: str) -> str:
    return text.replace("\n", " ")


def _relation_markdown(r: Relation) -> list[str]:
    only = "" if r.engines == ENGINES else f" ({' and '.join(ENGINE_NAMES[e] for e in r.engines)} only)"
    lines = [f"## {r.name}{only}", "", r.description.strip(), ""]
    lines += ["| column | type | meaning, and how it is derived | example |", "|---|---|---|---|"]
    lines += [f"| `{c.name}` | {c.type} | {_cell(c.meaning)} | {_cell(c.example)} |" for c in r.columns]
    if r.notes:
        lines += ["", r.notes.strip()]
    return [*lines, ""]


def markdown() -> str:
    """docs/schema.md: the parts' prose, each relation with its columns in a table."""
    lines: list[str] = []
    for title, prose in PARTS.items():
        lines += [f"# {title}", "", prose.strip(), ""]
        for r in RELATIONS:
            if PART_OF_KIND[r.kind] == title:
                lines += _relation_markdown(r)
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
