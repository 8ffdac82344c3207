"""Run a command; write its wall time, CPU time, exit status and peak RSS as JSON to a file.

    python -S bench/measure.py REPORT.json COMMAND [ARG...]

bench/run.py measures every process through this small launcher because Linux
counts, in a child's peak RSS (``ru_maxrss``), the memory of the process that
forked it: forked from the benchmark itself (hundreds of MB after generating the
data) every child would show at least that. This launcher is a few MB, so the
figure is the command's own. Standard library only, so ``python -S`` can run it.

papers-etl may parse in a second process, so ``ru_maxrss`` (the largest single
process) would understate what the load needs at once. While the command runs,
the launcher adds up the resident memory (VmRSS) of its whole process tree every
SAMPLE_SECONDS; ``peak_rss_mb`` is the larger of that sum's peak and
``ru_maxrss``, and both are reported.
"""

import json
import os
import sys
import time

SAMPLE_SECONDS = 0.05


def main() -> int:
    report, *command = sys.argv[1:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(command[0], command)
        finally:
            os._exit(127)  # only when exec failed
    tree_peak_kib = 0
    while True:
        done, status, usage = os.wait4(pid, os.WNOHANG)
        if done:
            break
        tree_peak_kib = max(tree_peak_kib, tree_rss_kib(pid))
        time.sleep(SAMPLE_SECONDS)
    largest_process_mb = usage.ru_maxrss / 1024  # Linux gives KiB
    figures = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,  # the worker's too: it was waited for
        "peak_rss_mb": max(largest_process_mb, tree_peak_kib / 1024),
        "largest_process_rss_mb": largest_process_mb,
        "tree_rss_peak_mb": tree_peak_kib / 1024,
    }
    with open(report, "w") as handle:
        json.dump(figures, handle)
    return 0


def tree_rss_kib(root: int) -> int:
    """VmRSS of ``root`` and all its descendants now (0 for a process that just ended)."""
    total, pending = 0, [root]
    while pending:
        pid = pending.pop()
        try:
            with open(f"/proc/{pid}/status") as status:
                total += next((int(line.split()[1]) for line in status if line.startswith("VmRSS:")), 0)
            with open(f"/proc/{pid}/task/{pid}/children") as children:
                pending += [int(child) for child in children.read().split()]
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
    return total


if __name__ == "__main__":
    sys.exit(main())
