"""Unit tests of bench/tcplab_suite/syscalls.py: strace's table, the difference of two runs, and
one real counted run of the iterative server."""

import os
import shutil
import sys
import time
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import syscalls  # noqa: E402

# strace 6.1's `strace -f -c` of a small forking shell, with a second section as strace prints
# one per personality (the 32-bit rows are made up: no 32-bit program was at hand).
CANNED = """\
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
 41.18    0.000070          17         4           clone
 20.00    0.000034           2        17           close
  0.00    0.000000           0         3           write
  0.00    0.000000           0        10         2 wait4
  0.00    0.000000           0         4         3 rt_sigreturn
  0.00    0.000000           0         2         2 access
------ ----------- ----------- --------- --------- ----------------
100.00    0.000104           2        40         7 total
System call usage summary for 32 bit mode:
% time     seconds  usecs/call     calls    errors syscall
------ ----------- ----------- --------- --------- ----------------
100.00    0.000010          10         1           write
------ ----------- ----------- --------- --------- ----------------
100.00    0.000010          10         1           total
"""


class Parse(unittest.TestCase):
    def test_canned_table(self):
        self.assertEqual(syscalls.parse_strace_summary(CANNED),
                         {"clone": 4, "close": 17, "write": 4, "wait4": 10, "rt_sigreturn": 4,
                          "access": 2})

    def test_no_rows_is_an_error_that_shows_the_text(self):
        with self.assertRaisesRegex(ValueError, "(?s)no system call rows.*strace: exec"):
            syscalls.parse_strace_summary("strace: exec: No such file or directory\n")


# perf 6.1's `perf stat -x, -e syscalls:sys_enter_NAME,...,raw_syscalls:sys_enter -o FILE` of a
# shell forking twice (cut).
CANNED_PERF = """\
# started on Tue Dec  1 21:34:42 2026

1,,syscalls:sys_enter_rt_sigreturn,6762639,100.00,,
2,,syscalls:sys_enter_clone,6762639,100.00,,
0,,syscalls:sys_enter_clone3,6762639,100.00,,
3,,syscalls:sys_enter_wait4,6762639,100.00,,
3,,syscalls:sys_enter_exit_group,6762639,100.00,,
<not counted>,,syscalls:sys_enter_kexec_load,0,0.00,,
29,,raw_syscalls:sys_enter,6762639,100.00,,
"""


class ParsePerf(unittest.TestCase):
    def test_canned_output(self):
        self.assertEqual(syscalls.parse_perf_stat(CANNED_PERF),
                         {"rt_sigreturn": 1, "clone": 2, "wait4": 3, "exit_group": 3,
                          "other": 20})  # 29 calls in all, 9 of them named

    def test_io_uring_enter_is_named(self):
        """The io_uring designs' one call is counted by name, not lost in "other"."""
        from unittest import mock
        with mock.patch.object(syscalls, "TRACEFS_SYSCALLS", "/nonexistent"):
            events = syscalls.perf_events().split(",")
        self.assertIn("syscalls:sys_enter_io_uring_enter", events)
        self.assertEqual(events[-1], "raw_syscalls:sys_enter")

    def test_no_rows_is_an_error(self):
        with self.assertRaisesRegex(ValueError, "no syscalls:sys_enter_ rows"):
            syscalls.parse_perf_stat("# started on Tue Dec  1\n")

    def test_unknown_tracer(self):
        with self.assertRaisesRegex(ValueError, "tracer 'dtrace': auto, strace or perf"):
            syscalls.choose_tracer("dtrace")


class Difference(unittest.TestCase):
    def test_per_connection_is_the_slope(self):
        one = {"accept4": 1200, "clone": 15, "read": 2400, "futex": 10}
        two = {"accept4": 3200, "clone": 15, "read": 6400, "futex": 748, "sendmsg": 2000}
        self.assertEqual(syscalls.difference(one, two, 1000, 3000),
                         {"accept4": 1.0, "read": 2.0, "futex": 0.369, "sendmsg": 1.0})

    def test_second_run_must_be_larger(self):
        with self.assertRaisesRegex(ValueError, "more connections"):
            syscalls.difference({}, {}, 500, 500)

    def test_median_of_pairs_call_by_call_an_absent_call_counting_zero(self):
        pairs = [{"io_uring_enter": 1.85, "other": 0.01}, {"io_uring_enter": 0.31},
                 {"io_uring_enter": 0.93, "other": 0.01}, {"io_uring_enter": 1.2}]
        self.assertEqual(syscalls.median_counts(pairs), {"io_uring_enter": 1.065, "other": 0.005})
        self.assertEqual(syscalls.median_counts(pairs[:3]), {"io_uring_enter": 0.93,
                                                             "other": 0.01})
        self.assertEqual(syscalls.median_counts([{"a": 1.0}, {}, {}]), {})

    def test_repeat_counts_each_pair_afresh_and_keeps_them(self):
        # Total counts of each counted run, in the order made: pairs (N1, N2) of 100 and 300.
        totals = iter([{"io_uring_enter": 300}, {"io_uring_enter": 670},    # 1.85
                       {"io_uring_enter": 300}, {"io_uring_enter": 362},    # 0.31
                       {"io_uring_enter": 300}, {"io_uring_enter": 486}])   # 0.93
        made = []

        def run(server, load, design, workers, n, *rest):
            made.append(n)
            return next(totals)
        with mock.patch.object(syscalls, "counted_run", run):
            c = syscalls.count_syscalls("s", "l", "uring", connections=(100, 300),
                                        tracer="perf", repeat=3)
        self.assertEqual(made, [100, 300] * 3)
        self.assertEqual(c["repetitions"], [{"io_uring_enter": 1.85}, {"io_uring_enter": 0.31},
                                            {"io_uring_enter": 0.93}])
        self.assertEqual(c["per_connection"], {"io_uring_enter": 0.93})
        self.assertEqual(c["per_request"], c["per_connection"])
        with mock.patch.object(syscalls, "counted_run", lambda *a: {"read": a[4] * 2}):
            once = syscalls.count_syscalls("s", "l", "iterative", connections=(100, 300),
                                           tracer="perf")
        self.assertNotIn("repetitions", once)
        self.assertEqual(once["per_connection"], {"read": 2.0})

    def test_writes_sums_the_sending_calls(self):
        self.assertEqual(syscalls.writes({"sendmsg": 1.0, "write": 0.5, "read": 2.0}), 1.5)

    def test_table_has_a_column_per_call_and_a_total(self):
        lines = syscalls.table_lines([
            {"design": "iterative", "per_connection": {"read": 2.0, "accept4": 1.0}},
            {"design": "epoll", "per_connection": {"read": 3.09, "epoll_pwait": 0.001}}])
        self.assertEqual(lines[0], "| design | read | accept4 | total |")
        self.assertEqual(lines[2], "| `iterative` | 2.00 | 1.00 | 3.00 |")
        self.assertEqual(lines[3], "| `epoll` | 3.09 |  | 3.09 |")


BIN_DIR = os.environ.get("TCPLAB_BIN_DIR")


def read_cmdline(pid):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().decode(errors="replace")
    except OSError:
        return ""


@unittest.skipUnless(BIN_DIR, "TCPLAB_BIN_DIR (where tcplab-server is) is not set; ctest sets it")
class CountedRun(unittest.TestCase):
    def setUp(self):
        self.server = os.path.join(BIN_DIR, "tcplab-server")
        self.load = os.path.join(BIN_DIR, "tcplab-load")

    def test_without_strace_the_error_says_so(self):
        with mock.patch.object(syscalls.shutil, "which", return_value=None):
            with self.assertRaisesRegex(syscalls.CountError, "strace is not installed"):
                syscalls.counted_run(self.server, self.load, "iterative", 1, 10)

    @unittest.skipUnless(shutil.which("strace"), "strace is not installed (see .ci/setup)")
    def test_unknown_design_is_a_clear_error(self):
        with self.assertRaisesRegex(syscalls.CountError, "no-such-design did not start"):
            syscalls.counted_run(self.server, self.load, "no-such-design", 1, 10)

    @unittest.skipUnless(shutil.which("strace"), "strace is not installed (see .ci/setup)")
    def test_a_failed_load_leaves_no_process_behind(self):
        # The server is a pool of 3 children under strace; the "load" fails at once. A
        # --max-bytes of this test process's own marks the server's processes.
        max_bytes = str(10**9 + os.getpid())
        marker = "--max-bytes\x00" + max_bytes + "\x00"
        with self.assertRaisesRegex(syscalls.CountError, "prefork: tcplab-load exited 1"):
            syscalls.counted_run(self.server, "/bin/false", "prefork", 3, 10, tracer="strace",
                                 extra_args=("--max-bytes", max_bytes))
        with open(f"/proc/{os.getpid()}/task/{os.getpid()}/children") as f:
            self.assertEqual(f.read().split(), [])  # strace reaped
        for _ in range(500):  # SIGKILLed: gone (or zombies, with no command line) at once
            left = [pid for pid in os.listdir("/proc") if pid.isdigit() and
                    marker in read_cmdline(pid)]
            if not left:
                break
            time.sleep(0.01)
        self.assertEqual(left, [])

    @unittest.skipUnless(shutil.which("strace"), "strace is not installed (see .ci/setup)")
    def test_iterative_per_connection(self):
        # Small and bounded: 2 x (20 warm-up + 50 or 250 connections), a few seconds traced.
        r = syscalls.count_syscalls(self.server, self.load, "iterative", workers=1,
                                    connections=(50, 250), warmup=20, tracer="strace")
        per = r["per_connection"]
        self.assertEqual(r["connections"], [50, 250])
        self.assertEqual((r["design"], r["method"]), ("iterative", syscalls.METHODS["strace"]))
        self.assertEqual(r["exit_calls_missing"], ["exit", "exit_group"])
        # One accept per connection and one close of it; the listener and the start-up's
        # descriptors are in both runs and cancel out.
        # Within one call over the 200 connections of the difference: since the binaries link
        # liburing, one run of the two now and then counts one accept, close or read more or less
        # under strace (seen in about half the runs; the cause is not established: a timing
        # change at the counted run's edges is the likely one). Exact counts stay the perf
        # tests' (PerfCountedRun).
        one = 1 / 200 + 1e-9
        self.assertAlmostEqual(per.get("accept4", 0) + per.get("accept", 0), 1.0, delta=one)
        self.assertAlmostEqual(per.get("close"), 1.0, delta=one)
        # A 4000-byte answer is one sendmsg (the body goes in chunks of 64000 bytes).
        self.assertEqual(syscalls.writes(per), 1.0)
        # The request, then the client's end of file.
        self.assertAlmostEqual(per.get("read"), 2.0, delta=one)
        self.assertNotIn("clone", per)  # no process or thread per connection
        self.assertEqual(r["per_request"], per)

    @unittest.skipUnless(shutil.which("strace"), "strace is not installed (see .ci/setup)")
    def test_iterative_keepalive_per_request(self):
        r = syscalls.count_syscalls(self.server, self.load, "iterative", workers=1,
                                    connections=(10, 50), requests_per_conn=10, warmup=5,
                                    tracer="strace")
        # Per connection: 10 answers and 10 request reads plus the end of file, one accept.
        self.assertEqual(syscalls.writes(r["per_connection"]), 10.0)
        # Within one call over the 40 connections (400 requests) of the difference, as above.
        self.assertAlmostEqual(r["per_connection"].get("read"), 11.0, delta=1 / 40 + 1e-9)
        self.assertEqual(syscalls.writes(r["per_request"]), 1.0)
        self.assertAlmostEqual(
            r["per_request"].get("accept4", 0) + r["per_request"].get("accept", 0), 0.1,
            delta=1 / 400 + 1e-9)


@unittest.skipUnless(BIN_DIR, "TCPLAB_BIN_DIR (where tcplab-server is) is not set; ctest sets it")
@unittest.skipUnless(syscalls.perf_can_count(),
                     "perf may not count the syscall tracepoints here (not installed, no "
                     "tracefs, or not allowed: see kernel.perf_event_paranoid)")
class PerfCountedRun(unittest.TestCase):
    def setUp(self):
        self.server = os.path.join(BIN_DIR, "tcplab-server")
        self.load = os.path.join(BIN_DIR, "tcplab-load")

    def test_fork_one_process_and_its_exit_per_connection(self):
        r = syscalls.count_syscalls(self.server, self.load, "fork", workers=1,
                                    connections=(50, 250), warmup=20, tracer="perf")
        per = r["per_connection"]
        self.assertEqual(r["tracer"], "perf")
        # The iterative server's calls, as under strace: the child's.
        for name, n in {"accept4": 1.0, "read": 2.0, "setsockopt": 2.0, "sendmsg": 1.0}.items():
            self.assertEqual(per.get(name), n, name)
        self.assertEqual(per.get("clone", 0) + per.get("clone3", 0), 1.0)
        self.assertEqual(per.get("exit_group"), 1.0)  # not in strace -c's table
        self.assertEqual(r["exit_calls_missing"], [])


if __name__ == "__main__":
    unittest.main()


class CpuLists(unittest.TestCase):
    """The command line reads its CPU lists with the suite's one parser (procfs.cpu_list)."""

    def run_main(self, *cpus):
        import tempfile
        with tempfile.TemporaryDirectory() as d:
            for name in ("tcplab-server", "tcplab-load"):
                path = os.path.join(d, name)
                with open(path, "w") as f:
                    f.write("#!/bin/sh\n")
                os.chmod(path, 0o755)
            seen = []

            def count(*args, **kw):
                seen.append(args[6:8])
                raise syscalls.CountError("stop here")
            with mock.patch.object(syscalls, "count_syscalls", count), \
                    mock.patch.object(syscalls, "choose_tracer", lambda t: "strace"), \
                    mock.patch("sys.stderr"):
                rc = syscalls.main(["--bin", d, "--designs", "fork", "--server-cpus", cpus[0],
                                    "--load-cpus", cpus[1]])
            return rc, seen

    def test_ranges_and_an_empty_list(self):
        self.assertEqual(self.run_main("0-1,3", ""), (1, [([0, 1, 3], [])]))

    def test_a_bad_list_is_a_usage_error(self):
        with mock.patch("sys.stderr"), self.assertRaises(SystemExit) as e:
            self.run_main("0,x", "1")
        self.assertEqual(e.exception.code, 2)
