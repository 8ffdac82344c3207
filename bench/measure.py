"""Run a command; write its wall time, CPU time, exit status and peak RSS as JSON to a file.

    python -S bench/measure.py REPORT.json COMMAND [ARG...]

bench/run.py measures every process through this small launcher because Linux
counts, in a child's peak RSS (``ru_maxrss``), the memory of the process that
forked it: forked from the benchmark itself (hundreds of MB after generating the
data) every child would show at least that. This launcher is a few MB, so the
figure is the command's own. Standard library only, so ``python -S`` can run it.
"""

import json
import os
import sys
import time


def main() -> int:
    report, *command = sys.argv[1:]
    started = time.perf_counter()
    pid = os.fork()
    if pid == 0:
        try:
            os.execv(command[0], command)
        finally:
            os._exit(127)  # only when exec failed
    _, status, usage = os.wait4(pid, 0)
    figures = {
        "exit_code": os.waitstatus_to_exitcode(status),
        "wall_seconds": time.perf_counter() - started,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,  # Linux gives KiB
    }
    with open(report, "w") as handle:
        json.dump(figures, handle)
    return 0


if __name__ == "__main__":
    sys.exit(main())
