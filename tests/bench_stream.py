"""Measure memory and time of `papers-etl load` on one big generated capture (run by hand, not by pytest).

    python tests/bench_stream.py MEGABYTES [DATABASE_URL]

Writes a daily page of about MEGABYTES MB into a temporary folder, loads it in a
child process, and prints the child's peak resident memory next to the same
figure for a 1 MB page: flat memory means the two are close, whatever the size.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pages import write_big_daily_page


def load_once(megabytes: int, url: str | None, folder: Path) -> tuple[int, float, int, str]:
    capture = folder / f"{megabytes}mb" / "2026-03-12-big.txt"
    capture.parent.mkdir()
    write_big_daily_page(capture, megabytes)
    url = url or f"sqlite:///{folder / f'{megabytes}mb.db'}"
    command = [sys.executable, "-c", "import resource, sys; from etl.cli import main\ntry: main()\n"
               "finally: print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, file=sys.stderr)",
               "load", "--force", "--db", url, str(capture.parent)]  # fmt: skip
    started = time.monotonic()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    elapsed = time.monotonic() - started
    peak_kib = int(done.stderr.strip().splitlines()[-1])
    return capture.stat().st_size, elapsed, peak_kib, done.stdout.strip() or done.stderr.strip()


def main() -> None:
    megabytes = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    url = sys.argv[2] if len(sys.argv) > 2 else None
    with tempfile.TemporaryDirectory() as tmp:
        for size in (1, megabytes):
            file_bytes, elapsed, peak_kib, summary = load_once(size, url, Path(tmp))
            print(f"{file_bytes / 1e6:8.1f} MB file: peak RSS {peak_kib / 1024:7.1f} MiB, {elapsed:6.1f} s; {summary}")


if __name__ == "__main__":
    main()
