"""What the end-to-end tests of bench/suite.py share (tests/suite_test.py,
tests/ballast_syscalls_test.py, tests/slowhttp_test.py): reading a run's folder, and finding
the processes a run left behind."""

import json
import os


def read_run(out):
    """A suite run's results.json (None if it wrote none) and summary.md ("" if none)."""
    results, summary = None, ""
    if os.path.exists(os.path.join(out, "results.json")):
        with open(os.path.join(out, "results.json")) as f:
            results = json.load(f)
    if os.path.exists(os.path.join(out, "summary.md")):
        with open(os.path.join(out, "summary.md")) as f:
            summary = f.read()
    return results, summary


def processes_mentioning(text):
    """Pids whose command line contains `text` (the servers take paths in the suite's temp folder)."""
    pids = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if text.encode() in f.read():
                    pids.append(int(pid))
        except OSError:
            pass
    return pids
