#!/usr/bin/python3
"""Unit tests of bench/stevens_compare.py that need neither the book's code nor root: finding
the cgroup hierarchy, reading its usage, the table, the checks on the checkout and arguments.

    tests/stevens_compare_test.py
"""

import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "bench", "stevens_compare.py")
sys.path.insert(0, os.path.join(ROOT, "bench"))
import stevens_compare as sc  # noqa: E402

V1 = "cgroup /sys/fs/cgroup/cpu cgroup rw,relatime,cpu 0 0\n" \
     "cgroup /sys/fs/cgroup/cpuacct cgroup rw,relatime,cpuacct 0 0\n"
V2 = "cgroup2 /sys/fs/cgroup cgroup2 rw,nosuid,nodev,noexec,relatime 0 0\n"
OTHER = "proc /proc proc rw 0 0\ntmpfs /sys/fs/cgroup tmpfs rw,mode=755 0 0\n"


class Cgroups(unittest.TestCase):
    def test_v1_cpuacct_is_found(self):
        self.assertEqual(sc.find_cgroup_root(OTHER + V1), ("v1", "/sys/fs/cgroup/cpuacct"))

    def test_v2_is_found(self):
        self.assertEqual(sc.find_cgroup_root(OTHER + V2), ("v2", "/sys/fs/cgroup"))

    def test_v1_wins_over_a_hybrid_v2(self):
        hybrid = V1 + "cgroup2 /sys/fs/cgroup/unified cgroup2 rw 0 0\n"
        self.assertEqual(sc.find_cgroup_root(hybrid), ("v1", "/sys/fs/cgroup/cpuacct"))

    def test_none(self):
        self.assertIsNone(sc.find_cgroup_root(OTHER))

    def test_usage(self):
        self.assertEqual(sc.parse_usage_ns("v1", "2117089423754\n"), 2117089423754)
        stat = "usage_usec 1234567\nuser_usec 1000000\nsystem_usec 234567\n"
        self.assertEqual(sc.parse_usage_ns("v2", stat), 1234567000)
        with self.assertRaisesRegex(sc.Error, "no usage_usec"):
            sc.parse_usage_ns("v2", "user_usec 1\n")


class Table(unittest.TestCase):
    def test_medians_ranges_and_ratio(self):
        runs = [{"design": "fork", "side": "stevens", "us_per_conn": x} for x in (110, 100, 120)]
        runs += [{"design": "fork", "side": "tcplab", "us_per_conn": x} for x in (130, 99, 121)]
        runs += [{"design": "thread", "side": "tcplab", "us_per_conn": 30.0}]
        rows = sc.summarize(runs, ["fork", "thread"])
        self.assertEqual(rows[0]["stevens"], {"median": 110, "min": 100, "max": 120, "n": 3})
        self.assertAlmostEqual(rows[0]["ratio"], 121 / 110)
        self.assertIsNone(rows[1]["stevens"])
        self.assertIsNone(rows[1]["ratio"])
        self.assertEqual(sc.format_table(rows),
                         "| design | Stevens' C µs/conn | tcplab µs/conn | ratio |\n"
                         "|---|---:|---:|---:|\n"
                         "| fork | 110.0 [100.0-120.0] | 121.0 [99.0-130.0] | 1.10 |\n"
                         "| thread | - | 30.0 [30.0-30.0] | - |\n")

    def test_pairs_follow_the_book(self):
        self.assertEqual([p[1] for p in sc.PAIRS], [f"serv0{i}" for i in range(9)])
        self.assertEqual([p[0] for p in sc.PAIRS if p[2]],
                         ["prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass",
                          "prethread-mutex", "prethread-dispatch"])


def run(*args):
    return subprocess.run(["/usr/bin/python3", SCRIPT, *args], capture_output=True, text=True,
                          timeout=30)


class Checks(unittest.TestCase):
    def test_not_a_checkout(self):
        with tempfile.TemporaryDirectory() as d:
            r = run(d)
        self.assertEqual(r.returncode, 2)
        self.assertIn("not an unpv13e checkout (no server/serv01.c)", r.stderr)

    def test_not_built(self):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "server"))
            open(os.path.join(d, "server", "serv01.c"), "w").close()
            r = run(d, "--designs", "fork,thread")
        self.assertEqual(r.returncode, 2)
        self.assertIn("server: not built: client serv01 serv06.", r.stderr)

    def test_missing_tcplab(self):
        with tempfile.TemporaryDirectory() as d:
            os.mkdir(os.path.join(d, "server"))
            for name in ("serv01.c", "serv01", "client"):
                path = os.path.join(d, "server", name)
                open(path, "w").close()
                os.chmod(path, 0o755)
            r = run(d, "--designs", "fork", "--bin", os.path.join(d, "nowhere"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("nowhere/tcplab-server: not found", r.stderr)

    def test_bad_arguments(self):
        for args, text in ((["--designs", "fork,forks"], "--designs: unknown forks"),
                           (["--bytes", "0"], "--bytes must be 1..16384"),
                           (["--reps", "0"], "--reps must be at least 1"),
                           (["--server-cpu", "4096"], "--server-cpu must be a CPU number")):
            r = run("/nonexistent", *args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(text, r.stderr, args)

    def test_help(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("tcplab against Stevens' C, same client", r.stdout)


if __name__ == "__main__":
    unittest.main()
