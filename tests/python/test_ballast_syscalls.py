"""The workloads `ballast` and `syscalls`: their slopes, summary tables, the split of calls into
columns and "other", the cost model's "needs" sentence and its table, and both charts drawn
from a made-up results.json."""

import os
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)
from tcplab_suite import measure  # noqa: E402  (after the path)
from tcplab_suite.workloads import ballast, syscalls  # noqa: E402


def fig(cpu, p99, rss_kb=1024.0, **extra):
    return {"cpu_us_per_conn": cpu, "p99_us": p99, "conn_per_s": 1000.0, "load_errors": 0,
            "parent_rss_kb": rss_kb, **extra}


def ballast_results(cpu_by_design, sizes=(0, 100), reps=3):
    """cpu_by_design: {design: f(mb, rep) -> cpu}; p99 is 10 x cpu."""
    entries = []
    for design, f in cpu_by_design.items():
        for mb in sizes:
            runs = [{"rep": r, "figures": fig(f(mb, r), 10 * f(mb, r), 1024.0 * (mb + 4))}
                    for r in range(1, reps + 1)]
            entries.append({"design": design, "variant": design, "ballast_mb": mb,
                            "runs": runs, "summary": measure.summarize(runs)})
    w = {"kind": "sweep", "x": "ballast_mb", "entries": entries,
         "params": {"ballast_mb": list(sizes), "clients": 5, "bytes": 4000,
                    "connections": 500, "workers": 15, "repeat": reps, "min_window_s": 2.0}}
    ballast.add_slopes(w)
    return {"workloads": {"ballast": w}}


class BallastSlopes(unittest.TestCase):
    def test_slope_per_100_mib_per_repetition(self):
        r = ballast_results({"fork": lambda mb, rep: 100 + mb * (1 + rep / 10),
                             "thread": lambda mb, rep: 30.0})
        sl = r["workloads"]["ballast"]["slopes"]
        fork = sl["fork"]["cpu_us_per_conn_per_100mib"]
        self.assertEqual([round(s, 6) for s in fork["slopes"]], [110.0, 120.0, 130.0])
        self.assertAlmostEqual(fork["median"], 120.0)
        self.assertAlmostEqual(sl["fork"]["p99_us_per_100mib"]["median"], 1200.0)
        self.assertEqual(sl["thread"]["cpu_us_per_conn_per_100mib"]["median"], 0.0)

    def test_a_repetition_missing_a_size_is_left_out_of_the_slopes(self):
        r = ballast_results({"fork": lambda mb, rep: 100 + mb * rep})
        entry = r["workloads"]["ballast"]["entries"][1]  # fork at 100 MiB
        entry["runs"][2] = {"rep": 3, "error": "server did not start"}
        ballast.add_slopes(r["workloads"]["ballast"])
        fork = r["workloads"]["ballast"]["slopes"]["fork"]["cpu_us_per_conn_per_100mib"]
        self.assertEqual([round(s, 6) for s in fork["slopes"]], [100.0, 200.0])

    def test_one_size_has_no_slope(self):
        r = ballast_results({"fork": lambda mb, rep: 100.0}, sizes=(64,))
        self.assertIsNone(r["workloads"]["ballast"]["slopes"]["fork"]["cpu_us_per_conn_per_100mib"])


class BallastSummary(unittest.TestCase):
    def test_table_rows_and_slopes(self):
        r = ballast_results({"fork": lambda mb, rep: 100 + mb + rep,
                             "thread": lambda mb, rep: 30.0})
        lines = ballast.summary(r)
        self.assertIn("## Workload `ballast`: fork's cost against the parent's size", lines)
        self.assertIn("| fork | 0 | 4 | 1,000 | 102.0 [101.0–103.0] | – | 1,020 [1,010–1,030] "
                      "| 0 |", lines)
        self.assertIn("| fork | 100 | 104 | 1,000 | 202.0 [201.0–203.0] | – "
                      "| 2,020 [2,010–2,030] | 0 |", lines)
        self.assertIn("| thread | 100 | 104 | 1,000 | 30.0 | – | 300 | 0 |", lines)
        self.assertIn("| fork | 100.0 | 1,000 |", lines)
        self.assertIn("| thread | 0.0 | 0 |", lines)

    def test_the_proc_stat_split_when_measured(self):
        share = {"server_cpu_user_share": 0.25, "server_cpu_system_share": 0.7,
                 "server_cpu_softirq_share": 0.05}
        s = measure.summarize([{"figures": fig(1.0, 1.0, **share)}])
        self.assertEqual(ballast.split_text(s), "25/70/5")
        self.assertEqual(ballast.split_text(measure.summarize([{"figures": fig(1, 1)}])), "–")

    def test_a_point_with_no_good_run_says_so(self):
        r = ballast_results({"fork": lambda mb, rep: 1.0}, sizes=(0,), reps=1)
        e = r["workloads"]["ballast"]["entries"][0]
        e["runs"], e["summary"] = [{"rep": 1, "error": "x"}], None
        self.assertIn("| fork | 0 | – | – | – | – | – | 1 failed run(s) |", ballast.summary(r))

    def test_no_sweep_no_lines(self):
        self.assertEqual(ballast.summary({"workloads": {}}), [])


def counts_entry(design, mode, per, rpc=1):
    figure = syscalls.FIGURE[mode]
    return {"design": design, "mode": mode, "requests_per_conn": rpc,
            "counts": {"design": design, figure: per, "per_connection": per}}


COUNTS = {"iterative": {"accept4": 1.0, "read": 2.0, "setsockopt": 2.0, "sendmsg": 1.0,
                        "close": 1.0, "getpid": 0.001},
          "fork": {"accept4": 1.0, "read": 2.0, "setsockopt": 2.0, "sendmsg": 1.0, "close": 2.0,
                   "clone": 1.0, "wait4": 1.0, "set_robust_list": 1.0, "exit_group": 1.0,
                   "rt_sigreturn": 1.0}}


def syscalls_results(with_unp=True, with_micro=True, tracer="perf"):
    entries = [counts_entry(d, "conn", c) for d, c in COUNTS.items()]
    entries.append(counts_entry("fork", "keepalive", {"read": 1.01, "sendmsg": 1.0}, 100))
    entries.append({"design": "iterative", "mode": "keepalive", "requests_per_conn": 100,
                    "error": "tcplab-load exited 1"})
    r = {"workloads": {"syscalls": {
        "kind": "counts", "tracer": tracer, "entries": entries,
        "params": {"top": 3, "tracer": "auto", "modes": {
            "conn": {"requests_per_conn": 1, "connections": [500, 2500]},
            "keepalive": {"requests_per_conn": 100, "connections": [20, 100]}}}}},
        "micro": None}
    if with_unp:
        r["workloads"]["unp"] = {"baseline": "iterative", "entries": [
            {"design": d, "summary": {"cpu_us_per_conn": {"median": us}}}
            for d, us in (("iterative", 14.0), ("fork", 160.0))]}
    if with_micro:
        r["micro"] = {"benchmarks": [{"name": "BM_ForkExitWait/heap_mib:0/real_time",
                                      "real_us": 100.0},
                                     {"name": "BM_Getrusage/real_time", "real_us": 0.5}]}
    return r


class SplitCalls(unittest.TestCase):
    def test_top_of_each_design_then_other(self):
        columns, rows = syscalls.split_calls(COUNTS, 3)
        # iterative's top 3: read, setsockopt (2 each), then accept4 (by name among the 1.0s);
        # fork's: close, read, setsockopt. Commonest over both designs first.
        self.assertEqual(columns, ["read", "setsockopt", "close", "accept4"])
        self.assertEqual(rows["iterative"]["other"], 1.001)   # sendmsg, getpid
        self.assertEqual(rows["fork"]["other"], 6.0)
        self.assertEqual(rows["fork"]["close"], 2.0)
        self.assertEqual(rows["iterative"]["close"], 1.0)

    def test_among_equals_the_calls_the_baseline_does_not_make_first(self):
        columns, rows = syscalls.split_calls(COUNTS, 4, "iterative")
        # fork's fourth: clone (1.0, not iterative's) before accept4 (1.0, iterative's too).
        self.assertEqual(columns, ["read", "setsockopt", "close", "accept4", "clone"])
        self.assertEqual(rows["fork"]["clone"], 1.0)
        self.assertEqual(rows["iterative"]["clone"], 0)
        self.assertEqual(rows["fork"]["other"], 5.0)

    def test_the_tracers_other_is_folded_into_other(self):
        columns, rows = syscalls.split_calls({"x": {"read": 5.0, "other": 2.5, "close": 1.0}}, 1)
        self.assertEqual(columns, ["read"])
        self.assertEqual(rows["x"], {"read": 5.0, "other": 3.5})

    def test_table_lines(self):
        lines = syscalls.count_table(COUNTS, 3)
        self.assertEqual(lines[0], "| design | `read` | `setsockopt` | `close` | `accept4` "
                                   "| other | total |")
        self.assertEqual(lines[2], "| iterative | 2.00 | 2.00 | 1.00 | 1.00 | 1.00 | 7.00 |")
        self.assertEqual(lines[3], "| fork | 2.00 | 2.00 | 2.00 | 1.00 | 6.00 | 13.00 |")


class SyscallsSummary(unittest.TestCase):
    def test_tables_per_mode_and_the_failed_count(self):
        lines = syscalls.summary(syscalls_results())
        text = "\n".join(lines)
        self.assertIn("### Per connection (one request of 4000 bytes)", lines)
        self.assertIn("### Per request (keep-alive: 100 requests per connection)", lines)
        self.assertIn("2,000 connections by difference (500 and 2,500).", lines)
        self.assertIn("| fork | 1.01 | 1.00 |  | 2.01 |", lines)
        self.assertIn("iterative: not counted: tcplab-load exited 1", text)
        self.assertNotIn("exit_group (one per", text)  # perf counts it

    def test_strace_says_what_it_cannot_see(self):
        text = "\n".join(syscalls.summary(syscalls_results(tracer="strace")))
        self.assertIn("exit and exit_group (one per connection for `fork`'s children) are not",
                      text)

    def test_the_model_beside_the_measured_cpu(self):
        lines = syscalls.summary(syscalls_results())
        row = next(line for line in lines if line.startswith("| `fork` |"))
        # floor 14 + fork/exit/wait 100 + (close 1 + rt_sigreturn 1) x 0.5 = 115; measured 160.
        self.assertIn("| 115.0 | 160.0 | 45.0 | 1.39 |", row)
        self.assertIn("1 × `BM_ForkExitWait/heap_mib:0` 100.00", row)

    def test_the_model_names_what_it_needs(self):
        for kwargs, needed in (({"with_unp": False}, "a `unp` result"),
                               ({"with_micro": False}, "tcplab-micro's prices")):
            text = "\n".join(syscalls.summary(syscalls_results(**kwargs)))
            self.assertIn("The model needs, in the same results: " + needed, text)
            self.assertNotIn("measured / model", text)

    def test_no_counts_no_lines(self):
        self.assertEqual(syscalls.summary({"workloads": {}}), [])


class Charts(unittest.TestCase):
    def test_both_charts_are_drawn_and_skipped_without_data(self):
        from plots import ballast_charts, syscall_charts
        with tempfile.TemporaryDirectory() as out:
            r = ballast_results({"fork": lambda mb, rep: 100 + mb + rep})
            self.assertEqual(ballast_charts.cpu_and_p99(r, out), "ballast-1-cpu-and-p99")
            self.assertEqual(syscall_charts.stacked(syscalls_results(), out),
                             "syscalls-1-per-connection")
            for name in ("ballast-1-cpu-and-p99", "syscalls-1-per-connection"):
                for ext in ("png", "svg"):
                    self.assertGreater(os.path.getsize(os.path.join(out, f"{name}.{ext}")), 1000)
            self.assertIsNone(ballast_charts.cpu_and_p99({"workloads": {}}, out))
            self.assertIsNone(syscall_charts.stacked({"workloads": {}}, out))

    def test_error_bars_from_the_interval(self):
        from plots import ballast_charts
        r = ballast_results({"fork": lambda mb, rep: 100 + mb + rep})
        xs, ys, err = ballast_charts.series(r["workloads"]["ballast"]["entries"], "fork",
                                            "cpu_us_per_conn")
        self.assertEqual((xs, ys, err), ([0, 100], [102.0, 202.0], [[1.0, 1.0], [1.0, 1.0]]))


if __name__ == "__main__":
    unittest.main()
