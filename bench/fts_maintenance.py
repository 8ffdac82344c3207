"""How SQLite's full-text index is best maintained during a load (issue 17: "profile first").

    python bench/fts_maintenance.py WORKDIR/data/rows.pickle [--file-rows 1000] [--files-per-commit 10]

Loads the generated papers (title, abstract: bench/generate.py's rows.pickle) into a
``papers`` table with papers-etl's external-content FTS5 table (the same tokenizer) in
five ways, each on a fresh file, as a load writes them: multi-row INSERTs of 500 rows,
a SAVEPOINT per capture file, a commit every few files. Prints the seconds of each:

- ``triggers``: row triggers fill the index (what papers-etl does);
- ``per_file``: no triggers; one ``INSERT … SELECT`` into the index per file, at its end;
- ``per_commit``: no triggers; one ``INSERT … SELECT`` per commit, for the rows since the last;
- ``at_end``: no triggers; the index built in one statement at the end (the floor's way);
- ``none``: no index at all.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sqlite3
import tempfile
import time

TOKENIZE = "porter unicode61 remove_diacritics 2"  # migrations/versions/…_0003_analyst_layer.py
INDEX_ROWS = "INSERT INTO papers_fts (rowid, title, abstract) SELECT paper_id, title, abstract FROM papers"
MODES = ("triggers", "per_file", "per_commit", "at_end", "none")


def fresh_database(path: str, mode: str) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("CREATE TABLE papers (paper_id INTEGER PRIMARY KEY, title TEXT NOT NULL, abstract TEXT NOT NULL)")
    if mode != "none":
        conn.execute(
            "CREATE VIRTUAL TABLE papers_fts USING fts5(title, abstract, content='papers',"
            f" content_rowid='paper_id', tokenize='{TOKENIZE}')"
        )
    if mode == "triggers":
        conn.execute(
            "CREATE TRIGGER papers_fts_after_insert AFTER INSERT ON papers BEGIN"
            " INSERT INTO papers_fts (rowid, title, abstract) VALUES (new.paper_id, new.title, new.abstract); END"
        )
    return conn


def load(conn: sqlite3.Connection, papers: list[tuple], mode: str, file_rows: int, files_per_commit: int) -> None:
    conn.execute("BEGIN")
    first_uncommitted = 1
    for file_number, start in enumerate(range(0, len(papers), file_rows), start=1):
        conn.execute("SAVEPOINT capture_file")
        for chunk_start in range(start, min(len(papers), start + file_rows), 500):
            chunk = papers[chunk_start : chunk_start + 500]
            values = ", ".join(["(?, ?, ?)"] * len(chunk))
            conn.execute(f"INSERT INTO papers VALUES {values}", [v for row in chunk for v in row])
        if mode == "per_file":
            conn.execute(f"{INDEX_ROWS} WHERE paper_id > ?", (start,))
        conn.execute("RELEASE capture_file")
        if file_number % files_per_commit == 0 or start + file_rows >= len(papers):
            if mode == "per_commit":
                conn.execute(f"{INDEX_ROWS} WHERE paper_id >= ?", (first_uncommitted,))
            first_uncommitted = start + file_rows + 1
            if mode == "at_end" and start + file_rows >= len(papers):
                conn.execute("INSERT INTO papers_fts (papers_fts) VALUES ('rebuild')")
            conn.execute("COMMIT")
            conn.execute("BEGIN")
    conn.execute("COMMIT")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", help="rows.pickle of bench/generate.py")
    parser.add_argument("--file-rows", type=int, default=1000, help="papers per capture file (a SAVEPOINT each)")
    parser.add_argument("--files-per-commit", type=int, default=10)
    parser.add_argument("--modes", nargs="*", default=MODES, choices=MODES)
    args = parser.parse_args()
    with open(args.rows, "rb") as handle:
        generated = pickle.load(handle)["papers"]
    papers = [(number, row[1], row[3]) for number, row in enumerate(generated, start=1)]  # paper_id, title, abstract
    print(f"{len(papers)} papers, {args.file_rows} a file, a commit every {args.files_per_commit} files")
    with tempfile.TemporaryDirectory() as folder:
        for mode in args.modes:
            path = os.path.join(folder, f"{mode}.db")
            conn = fresh_database(path, mode)
            started = time.perf_counter()
            load(conn, papers, mode, args.file_rows, args.files_per_commit)
            print(f"{mode:12s} {time.perf_counter() - started:7.2f} s", flush=True)
            conn.close()


if __name__ == "__main__":
    main()
