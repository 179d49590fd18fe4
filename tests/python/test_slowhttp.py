"""Unit tests of bench/tcplab_suite/workloads/slowhttp.py: slowhttptest's CSV parsed on samples
captured from real runs, the availability drawn from it, its exit status, and the data REPORT
reads (results["workloads"]["slowhttp"]["designs"])."""

import contextlib
import io
import json
import os
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tcplab_suite.workloads import slowhttp  # noqa: E402

# slowhttptest 1.8.2 -H -c 200 -r 100 -i 5 -l 10 -p 2 against prefork, 4 workers,
# --io-timeout-ms 2000 (bench/suite.py --quick --workloads slowhttp --only prefork,epoll).
PREFORK_SLOWLORIS = """Seconds,Closed,Pending,Connected,Service Available
0,0,1,0,200
1,0,1,93,200
2,0,1,187,200
3,4,0,196,200
4,5,0,195,0
5,8,0,192,0
6,8,0,192,0
7,8,0,192,0
8,12,0,188,0
9,12,0,188,0
10,16,0,184,0
11,16,0,184,0
"""

# The same run against epoll: the server dropped every slow connection 2 s after its first
# byte, and slowhttptest ended ("No open connections left") in its 5th second.
EPOLL_SLOWLORIS = """Seconds,Closed,Pending,Connected,Service Available
0,0,1,0,200
1,0,1,94,200
2,0,1,187,200
3,93,0,107,200
4,186,0,14,200
"""

# The tail of its terminal output (colour codes as it writes them).
OUTPUT_TAIL = ("\x1b[0mSun Dec  6 02:52:04 2026:\x1b[0;36m\nTest ended on 11th second\n"
               "Exit status:\x1b[1;36m Hit test time limit\n\x1b[0m\x1b[0;36mCSV report saved "
               "to \x1b[1;36m/tmp/slowx/loris.csv\n")


class ParseCsv(unittest.TestCase):
    def test_a_captured_csv_gives_one_row_a_second(self):
        rows = slowhttp.parse_csv(PREFORK_SLOWLORIS)
        self.assertEqual([r["s"] for r in rows], list(range(12)))
        self.assertEqual(rows[3], {"s": 3, "closed": 4, "pending": 0, "connected": 196,
                                   "available": True})
        self.assertEqual([r["available"] for r in rows], [True] * 4 + [False] * 8)

    def test_columns_are_found_by_their_header(self):
        # An older slowhttptest order, with an Error column before the others.
        text = "Seconds,Error,Closed,Pending,Connected,Service Available\n0,1,2,3,4,0\n"
        self.assertEqual(slowhttp.parse_csv(text),
                         [{"s": 0, "closed": 2, "pending": 3, "connected": 4,
                           "available": False}])

    def test_what_is_not_that_csv_is_refused(self):
        for text in ("", "Seconds,Closed,Pending,Connected\n0,0,0,0\n",
                     "Seconds,Closed,Pending,Connected,Service Available\n0,0,0\n",
                     "Seconds,Closed,Pending,Connected,Service Available\n0,0,0,x,200\n"):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    slowhttp.parse_csv(text)


class Availability(unittest.TestCase):
    def test_prefork_is_available_until_its_first_probe_times_out(self):
        a = slowhttp.availability(slowhttp.parse_csv(PREFORK_SLOWLORIS))
        self.assertEqual(a["seconds"], 12)
        self.assertEqual(a["available_s"], 4)
        self.assertAlmostEqual(a["available_fraction"], 4 / 12)
        self.assertEqual(a["first_unavailable_s"], 4)

    def test_epoll_is_available_throughout(self):
        a = slowhttp.availability(slowhttp.parse_csv(EPOLL_SLOWLORIS))
        self.assertEqual((a["seconds"], a["available_fraction"], a["first_unavailable_s"]),
                         (5, 1.0, None))

    def test_a_missing_second_keeps_the_verdict_before_it(self):
        rows = [{"s": 0, "available": True}, {"s": 1, "available": False},
                {"s": 4, "available": True}]
        a = slowhttp.availability(rows)
        self.assertEqual(a["timeline"], [True, False, False, False, True])
        self.assertEqual((a["available_s"], a["first_unavailable_s"]), (2, 1))

    def test_no_rows_no_fraction(self):
        self.assertIsNone(slowhttp.availability([])["available_fraction"])


class Run(unittest.TestCase):
    def test_exit_status_without_colour_codes(self):
        self.assertEqual(slowhttp.exit_status(OUTPUT_TAIL), "Hit test time limit")
        self.assertIsNone(slowhttp.exit_status("nothing"))

    def test_slow_read_asks_for_more_than_a_send_buffer_holds(self):
        q = slowhttp.PLANS["default"]["modes"]["slowread"]
        n = slowhttp.response_bytes("slowread", q)
        if slowhttp.wmem_max():
            self.assertGreaterEqual(n, 2 * slowhttp.wmem_max())
        self.assertGreaterEqual(n, q["bytes"])

    def test_the_command_is_bounded_and_aims_at_the_server_only(self):
        class Ctx:
            load_pin = "1"
        plan = slowhttp.PLANS["default"]
        for mode in slowhttp.MODES:
            cmd = slowhttp.command(Ctx, mode, 4242, plan, "/tmp/x", 100)
            self.assertEqual(cmd[:4], ["taskset", "-c", "1", "slowhttptest"])
            cmd = cmd[4:]
            self.assertEqual(cmd[cmd.index("-l") + 1], str(plan["duration_s"]))
            self.assertEqual(cmd[cmd.index("-c") + 1],
                             str(plan["modes"][mode]["connections"]))
            self.assertEqual(cmd[-1], "http://127.0.0.1:4242/100")
            self.assertIn("-g", cmd)

    def test_server_counts_from_its_exit_summary(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "stats.json")
            self.assertIsNone(slowhttp.server_counts(path))  # it wrote none
            with open(path, "w") as f:
                json.dump({"connections": 206, "requests": 6, "failures": {
                    "bad_request": 0, "closed_mid_request": 0, "io_error": 0, "reset": 0,
                    "timeout": 16}}, f)
            self.assertEqual(slowhttp.server_counts(path), {"connections": 206, "requests": 6,
                                                            "timeouts": 16, "resets": 0})

    def test_by_design_has_the_keys_report_reads(self):
        runs = [{"design": "prefork", "mode": "slowloris", "available_fraction": 0.25,
                 "first_unavailable_s": 4, "available_s": 3, "seconds": 12},
                {"design": "prefork", "mode": "slowread", "available_fraction": 0.5,
                 "first_unavailable_s": 6, "available_s": 6, "seconds": 12}]
        self.assertEqual(slowhttp.by_design(runs), {"prefork": {
            "slowloris_available_fraction": 0.25, "slowloris_first_unavailable_s": 4,
            "slowloris_available_s": 3, "slowloris_seconds": 12,
            "slowread_available_fraction": 0.5, "slowread_first_unavailable_s": 6,
            "slowread_available_s": 6, "slowread_seconds": 12}})


def row(name, **flags):
    """A row of the design table (tcplab-server --list --json), the flags that matter here."""
    return {"name": name, "unp": flags.get("unp"), "pooled": flags.get("pooled", False),
            "accepts": flags.get("accepts", "main"), "event_loop": flags.get("event_loop", False)}


class Designs(unittest.TestCase):
    TABLE = [row("iterative", unp="30.4"), row("prefork", unp="30.6", pooled=True,
                                               accepts="workers"),
             row("epoll", event_loop=True), row("uring", event_loop=True)]

    def test_the_default_runs_every_row_of_the_table(self):
        class Ctx:
            designs = self.TABLE
        self.assertEqual(slowhttp.slow_designs(Ctx, slowhttp.PLANS["default"]),
                         ["iterative", "prefork", "epoll", "uring"])

    def test_quick_runs_a_pool_whose_workers_accept_and_the_first_event_loop(self):
        class Ctx:
            designs = self.TABLE
        self.assertEqual(slowhttp.slow_designs(Ctx, slowhttp.PLANS["quick"]), ["prefork", "epoll"])
        Ctx.designs = self.TABLE[:1]
        self.assertEqual(slowhttp.slow_designs(Ctx, slowhttp.PLANS["quick"]), ["iterative"])


class Skip(unittest.TestCase):
    def test_without_slowhttptest_it_records_why_and_skips(self):
        class Ctx:
            quick, step, total_steps, results = False, 0, 1, {"workloads": {}}
            designs = [{"name": "prefork"}]

            def plan(self, plans):
                return dict(plans["default"])

            def workers(self, n):
                return n

            def workload(self, name, **fields):
                return self.results["workloads"].setdefault(name, fields)

        ctx = Ctx()
        real = slowhttp.installed
        slowhttp.installed = lambda: None
        try:
            self.assertEqual(slowhttp.steps(ctx), 1)
            with contextlib.redirect_stdout(io.StringIO()) as out:
                slowhttp.run(ctx)
        finally:
            slowhttp.installed = real
        w = ctx.results["workloads"]["slowhttp"]
        self.assertIn("not installed", w["skipped"])
        self.assertEqual((w["runs"], w["designs"]), ([], {}))
        self.assertEqual(out.getvalue(), f"[1/1] slowhttp ... skipped: {w['skipped']}\n")
        self.assertEqual(ctx.step, 1)
        self.assertIn(w["skipped"], "\n".join(slowhttp.summary(ctx.results)))


if __name__ == "__main__":
    unittest.main()
