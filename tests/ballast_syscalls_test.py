#!/usr/bin/python3
"""End-to-end tests of the named workloads `ballast` and `syscalls` through bench/suite.py:
a --quick run of one design each into a temp folder, then results.json, summary.md and the
chart files.

    tests/ballast_syscalls_test.py BIN_DIR [BallastQuick|SyscallsQuick|SyscallsUringQuick]
                                         (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)
"""

import os
import re
import subprocess
import sys
import tempfile
import unittest

from suite_support import read_run  # tests/, this file's folder

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")
MIB = 1024


def run_suite(cls, *args):
    """A --quick suite run into a temp folder: cls.proc, cls.out, cls.results, cls.summary."""
    cls.tmp = tempfile.TemporaryDirectory(prefix="ballast_syscalls_test-")
    cls.out = os.path.join(cls.tmp.name, "results")
    cls.proc = subprocess.run(
        ["/usr/bin/python3", os.path.join(ROOT, "bench", "suite.py"), "--quick", *args,
         "--out", cls.out, "--bin", BIN_DIR], capture_output=True, text=True, timeout=85,
        env=dict(os.environ, TMPDIR=cls.tmp.name))  # the suite's temp dir, in every server's
    #                                                  and tracer's command line
    cls.results, cls.summary = read_run(cls.out)


class Common:
    CHART = None

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exits_zero_without_errors(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIsNotNone(self.results, "no results.json")
        self.assertEqual(self.results["errors"], [])
        steps = int(re.search(r"\((\d+) steps\b", self.proc.stdout).group(1))
        self.assertEqual(self.proc.stdout.count("\n["), steps)

    def test_the_chart_is_drawn(self):
        self.assertIn(self.CHART, self.results["charts"])
        for ext in ("png", "svg"):
            self.assertGreater(os.path.getsize(os.path.join(self.out, f"{self.CHART}.{ext}")),
                               1000)

    def test_no_process_and_no_temp_dir_is_left(self):
        # Every server's --control socket (and the tracer's table) is in the suite's temp dir,
        # made under TMPDIR: a process left behind has our folder in its command line.
        self.assertEqual(os.listdir(self.tmp.name), ["results"])
        out = subprocess.run(["pgrep", "-f", self.tmp.name], capture_output=True, text=True)
        self.assertEqual(out.stdout, "")


class BallastQuick(Common, unittest.TestCase):
    CHART = "ballast-1-cpu-and-p99"

    @classmethod
    def setUpClass(cls):
        run_suite(cls, "--workloads", "ballast", "--only", "fork")

    def test_one_point_per_size_with_the_ballast_in_the_parent(self):
        w = self.results["workloads"]["ballast"]
        self.assertEqual(w["params"]["ballast_mb"], [0, 64])
        self.assertEqual([(e["design"], e["ballast_mb"]) for e in w["entries"]],
                         [("fork", 0), ("fork", 64)])
        small, big = (e["summary"] for e in w["entries"])
        self.assertLess(small["parent_rss_kb"]["median"], 64 * MIB)
        self.assertGreaterEqual(big["parent_rss_kb"]["median"], 64 * MIB)
        for s in (small, big):
            self.assertGreater(s["cpu_us_per_conn"]["median"], 0)
            self.assertGreater(s["p99_us"]["median"], 0)
            self.assertEqual(s["load_errors"]["max"], 0)
            self.assertEqual(s["server_failures"]["max"], 0)
        for e in w["entries"]:
            self.assertEqual(e["runs"][0]["server"]["processes_created"],
                             e["runs"][0]["server"]["connections"])  # one fork per connection
        self.assertIn("fork", w["slopes"])

    def test_summary_table(self):
        self.assertIn("## Workload `ballast`: fork's cost against the parent's size",
                      self.summary)
        self.assertRegex(self.summary, r"\n\| fork \| 0 \| \d+ \| [\d,]+ \| [\d.,]+ ")
        self.assertRegex(self.summary, r"\n\| fork \| 64 \| (6[4-9]|[7-9]\d) \| [\d,]+ \| ")
        self.assertRegex(self.summary, r"\n\| fork \| -?[\d.,]+ .*\| -?[\d,]+ .*\|\n")


class SyscallsQuick(Common, unittest.TestCase):
    CHART = "syscalls-1-per-connection"

    @classmethod
    def setUpClass(cls):
        run_suite(cls, "--workloads", "syscalls", "--only", "fork")

    def counts(self, mode):
        e = next(e for e in self.results["workloads"]["syscalls"]["entries"]
                 if e["design"] == "fork" and e["mode"] == mode)
        return e["counts"]

    def test_fork_forks_once_per_connection(self):
        c = self.counts("conn")
        per = c["per_connection"]
        self.assertEqual(c["connections"], [100, 400])
        self.assertEqual(per.get("clone", 0) + per.get("clone3", 0), 1.0)
        self.assertEqual(per.get("accept4", 0) + per.get("accept", 0), 1.0)
        self.assertEqual(per["read"], 2.0)  # the request, then the client's end of file
        if c["tracer"] == "perf":
            self.assertEqual(per["exit_group"], 1.0)  # each child's; strace cannot see it
        self.assertEqual(c["per_request"], per)

    def test_keep_alive_is_per_request(self):
        c = self.counts("keepalive")
        self.assertEqual(c["requests_per_conn"], 20)
        per = c["per_request"]
        self.assertEqual(per.get("clone", 0) + per.get("clone3", 0), 0.05)  # 1 fork, 20 requests
        self.assertGreaterEqual(per.get("read", 0) + per.get("recvfrom", 0), 1.0)

    def test_no_cpu_figure_from_a_traced_run(self):
        for e in self.results["workloads"]["syscalls"]["entries"]:
            self.assertEqual(set(e), {"design", "mode", "requests_per_conn", "counts"})
            self.assertEqual(set(e["counts"]), {
                "design", "per_connection", "per_request", "method", "tracer", "connections",
                "requests_per_conn", "workers", "exit_calls_missing"})

    def test_summary_tables_and_what_the_model_needs(self):
        self.assertIn("## Workload `syscalls`: system calls per connection and per request",
                      self.summary)
        self.assertIn("### Per request (keep-alive: 20 requests per connection)", self.summary)
        self.assertRegex(self.summary, r"\n\| fork \| [\d.]+ \| .*\| [\d.]+ \|\n")
        self.assertIn("The model needs, in the same results: a `unp` result", self.summary)


class SyscallsUringQuick(Common, unittest.TestCase):
    """uring's links (common/uring.hpp): a connection of one request costs two turns of the
    loop, its request and its client's EOF, where a multishot accept and recv cost four, and a
    keep-alive request one turn, where it cost two. With one client nothing shares a turn, so
    the counts are the structure itself; with the workload's 5 clients events share turns, by
    how much varies from run to run (the figure is a difference of two runs, README)."""
    CHART = "syscalls-1-per-connection"

    @classmethod
    def setUpClass(cls):
        run_suite(cls, "--workloads", "syscalls", "--only", "uring")

    def setUp(self):
        if "uring" in (self.results or {}).get("skipped_designs", {}):
            self.skipTest(f"io_uring cannot run here: {self.results['skipped_designs']['uring']}")

    def counts(self, mode):
        return next(e["counts"] for e in self.results["workloads"]["syscalls"]["entries"]
                    if e["design"] == "uring" and e["mode"] == mode)

    def one_client(self, requests_per_conn):
        """Per request, with one client: the syscalls workload's count, CLIENTS set to 1."""
        sys.path.insert(0, os.path.join(ROOT, "bench"))
        from tcplab_suite import syscalls
        clients, syscalls.CLIENTS = syscalls.CLIENTS, 1
        try:
            c = syscalls.count_syscalls(os.path.join(BIN_DIR, "tcplab-server"),
                                        os.path.join(BIN_DIR, "tcplab-load"), "uring",
                                        connections=(50, 150), warmup=20,
                                        requests_per_conn=requests_per_conn, tmp=self.tmp.name)
        finally:
            syscalls.CLIENTS = clients
        self.assertEqual(set(c["per_request"]), {"io_uring_enter"})
        return c["per_request"]["io_uring_enter"]

    def test_one_client_two_turns_per_connection(self):
        self.assertLessEqual(self.one_client(1), 2.2)  # 2: request, EOF (it was 4)

    def test_one_client_one_turn_per_keep_alive_request(self):
        self.assertLessEqual(self.one_client(20), 1.25)  # 1 + 1/20 for the EOF (it was 2.1)

    def test_five_clients_share_turns_and_make_no_other_call(self):
        for mode in ("conn", "keepalive"):
            per = self.counts(mode)["per_request"]
            self.assertEqual(set(per), {"io_uring_enter"}, mode)  # no accept4, read, close...
            self.assertLessEqual(per["io_uring_enter"], 2.5, mode)


if __name__ == "__main__":
    unittest.main()
