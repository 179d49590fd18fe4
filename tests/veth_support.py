"""What the root-only tests over network namespaces share (tests/e2e_veth_test.py and
tests/suite_veth_test.py): the namespaces and root links to compare before and after, the
reaping of orphans, and main(): the skip rule (exit 77, which ctest reports as skipped), this
process as a subreaper, and a budget for the whole file."""

import ctypes
import os
import signal
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                                "bench"))
from tcplab_suite import netns  # noqa: E402

SKIP = 77
PR_SET_CHILD_SUBREAPER = 36


def namespaces():
    return set(netns.list_namespaces())


def root_links():
    out = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True,
                         timeout=20).stdout
    return {line.split(":")[1].strip().split("@")[0] for line in out.splitlines()}


def reap_orphans():
    """We are a subreaper: processes left by a killed child become ours; reap them."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def main(name, budget_s):
    """Runs the calling script's unittest classes, or says why not and returns SKIP."""
    if os.geteuid() != 0:
        print("skipped: needs root (network namespaces)")
        return SKIP
    if not netns._tool("ip"):
        print("skipped: needs iproute2's ip")
        return SKIP
    if (os.cpu_count() or 1) < 2:
        print("skipped: needs 2 CPUs (one per side)")
        return SKIP
    ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)

    def over_budget(signum, frame):
        raise TimeoutError(f"{name}: over its {budget_s} s budget")
    signal.signal(signal.SIGALRM, over_budget)
    signal.alarm(budget_s)
    prog = unittest.main(exit=False, verbosity=2)
    signal.alarm(0)
    reap_orphans()
    return 0 if prog.result.wasSuccessful() else 1
