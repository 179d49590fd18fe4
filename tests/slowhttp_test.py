#!/usr/bin/python3
"""End-to-end test of the `slowhttp` workload: bench/suite.py --quick --workloads slowhttp on
prefork and epoll (4 workers each) with Debian's slowhttptest, into a temp folder. A pool whose
four workers are each held by a slow client stops answering slowhttptest's probe; one event
loop keeps answering it.

    tests/slowhttp_test.py BIN_DIR       (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)

slowhttptest must be installed (.ci/setup installs it): without it the test fails and says so.
"""

import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

from suite_support import processes_mentioning, read_run  # tests/, this file's folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")


class SlowhttpQuick(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("slowhttptest"):
            raise RuntimeError("slowhttptest is not installed; install the Debian package "
                               "slowhttptest (.ci/setup installs it)")
        cls.tmp = tempfile.TemporaryDirectory(prefix="slowhttp_test-")
        cls.out = os.path.join(cls.tmp.name, "results")
        private = os.path.join(cls.tmp.name, "tmp")
        os.mkdir(private)
        cls.proc = subprocess.run(
            ["/usr/bin/python3", os.path.join(ROOT, "bench", "suite.py"), "--quick",
             "--workloads", "slowhttp", "--only", "prefork,epoll", "--workers", "4",
             "--out", cls.out, "--bin", BIN_DIR],
            capture_output=True, text=True, timeout=150,  # about 45 s
            env=dict(os.environ, TMPDIR=private))
        cls.left = processes_mentioning(private)
        for pid in cls.left:  # whatever outlived the suite is this test's own
            os.kill(pid, signal.SIGKILL)
        cls.results, cls.summary = read_run(cls.out)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def run_of(self, design, mode):
        return next(r for r in self.results["workloads"]["slowhttp"]["runs"]
                    if r["design"] == design and r["mode"] == mode)

    def test_exits_zero_and_leaves_nothing_running(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stdout + self.proc.stderr)
        self.assertIsNotNone(self.results, "no results.json")
        self.assertEqual(self.results["errors"], [])
        self.assertIsNone(self.results["workloads"]["slowhttp"]["skipped"])
        steps = int(re.search(r"\((\d+) steps\b", self.proc.stdout).group(1))
        self.assertEqual(steps, 4)
        self.assertEqual(self.proc.stdout.count("\n["), steps)
        self.assertEqual(self.left, [], "a server or slowhttptest outlived the suite")

    def test_epoll_stays_available_under_slowloris_and_prefork_does_not(self):
        epoll, prefork = self.run_of("epoll", "slowloris"), self.run_of("prefork", "slowloris")
        self.assertGreaterEqual(epoll["available_fraction"], 0.9, epoll["timeline"])
        self.assertIsNone(epoll["first_unavailable_s"], epoll["timeline"])
        self.assertLess(prefork["available_fraction"], 0.5, prefork["timeline"])
        self.assertIsNotNone(prefork["first_unavailable_s"])
        # Unavailable once its first probe under attack times out, and for the rest of the run.
        self.assertFalse(any(prefork["timeline"][prefork["first_unavailable_s"]:]),
                         prefork["timeline"])

    def test_slow_read_holds_the_pool_too_and_the_answer_outgrows_the_buffers(self):
        epoll, prefork = self.run_of("epoll", "slowread"), self.run_of("prefork", "slowread")
        self.assertGreaterEqual(epoll["available_fraction"], 0.9, epoll["timeline"])
        self.assertLess(prefork["available_fraction"], 0.5, prefork["timeline"])
        wmem = self.results["workloads"]["slowhttp"]["tcp_wmem_max"]
        if wmem:
            self.assertGreaterEqual(prefork["bytes"], 2 * wmem)

    def test_the_servers_own_counts_say_why(self):
        # epoll timed out every slow client 2 s after its first byte, and slowhttptest ran out
        # of connections; prefork's four workers time out four at a time, the rest wait.
        epoll, prefork = self.run_of("epoll", "slowloris"), self.run_of("prefork", "slowloris")
        clients = self.results["workloads"]["slowhttp"]["params"]["modes"]["slowloris"]["connections"]
        self.assertTrue(epoll["all_closed"], epoll["ended"])
        self.assertEqual(epoll["server"]["timeouts"], clients, epoll["server"])
        self.assertFalse(prefork["all_closed"], prefork["ended"])
        self.assertLess(prefork["server"]["timeouts"], clients / 4, prefork["server"])

    def test_servers_survive_and_the_data_for_report_is_there(self):
        for r in self.results["workloads"]["slowhttp"]["runs"]:
            self.assertTrue(r["alive"], r)
            self.assertEqual(r["exit"], 0, r)
            self.assertEqual(r["fds_after"], r["fds_before"], r)  # no descriptor leaked
            self.assertTrue(os.path.exists(os.path.join(self.out, r["csv"])), r["csv"])
        d = self.results["workloads"]["slowhttp"]["designs"]
        self.assertEqual(set(d), {"prefork", "epoll"})
        for keys in d.values():
            for k in ("slowloris_available_fraction", "slowread_available_fraction",
                      "slowloris_first_unavailable_s", "slowread_first_unavailable_s"):
                self.assertIn(k, keys)

    def test_chart_and_summary(self):
        self.assertIn("slowhttp-availability", self.results["charts"])
        for ext in ("png", "svg"):
            self.assertGreater(os.path.getsize(
                os.path.join(self.out, f"slowhttp-availability.{ext}")), 1000)
        self.assertRegex(self.summary, r"\| prefork \| \d+ % \| \d+ s \|")
        self.assertRegex(self.summary, r"\| epoll \| 100 % \| never \|")


if __name__ == "__main__":
    if not shutil.which("slowhttptest"):
        sys.exit("slowhttp_test: slowhttptest is not installed; install the Debian package "
                 "(apt-get install slowhttptest; .ci/setup installs it)")
    unittest.main(verbosity=2)
