"""Unit tests of REPORT.md's student-part answers from synthetic results: the decision table
(bench/tcplab_suite/choose.py, block `choose`) and the central findings
(findings.central_lines, block `findings`). Every cell comes from the data or reads
"not measured"; no cell or sentence shows a negative cost."""

import os
import re
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "bench"))
sys.path.insert(0, os.path.join(HERE, "..", ".."))
from tcplab_suite import choose, findings  # noqa: E402
from tcplab_suite.measure import summarize  # noqa: E402
from test_findings import CPU, DESIGNS, runs  # noqa: E402

NEGATIVE = re.compile(r"[−-]\d")
KEEPALIVE = {v: [x / 10 for x in xs] for v, xs in CPU.items()}


def table_workload(values, figure):
    entries = []
    for v, xs in values.items():
        rs = [{"rep": k + 1, "figures": {figure: x},
               "server": {"workers": [3, 0, 2] if v != "epoll" else [5],
                          "processes_created": 5 if v == "fork" else 0,
                          "threads_created": 5 if v == "thread" else 0}}
              for k, x in enumerate(xs)]
        entries.append({"variant": v, "design": v.split("/")[0], "runs": rs,
                        "summary": summarize(rs)})
    return {"kind": "table", "baseline": "iterative", "entries": entries}


def server(name, **figures):
    return {"variant": name, "design": name, "figures": figures}


def results():
    ws = {"unp": table_workload(CPU, "cpu_us_per_conn"),
          "keepalive": table_workload(KEEPALIVE, "cpu_us_per_req"),
          "work": {"params": {"work_us": 200},
                   "servers": [server("prefork", p99_us=900.0), server("epoll", p99_us=4000.0)]},
          "idle": {"params": {"connections": 1000},
                   # RSS moved down while thread held them: noise, never a negative cost.
                   "servers": [server("epoll", rss_kb_per_conn=0.4),
                               server("thread", rss_kb_per_conn=-0.2)]},
          "slowhttp": {"designs": {
              "prefork": {"slowloris_available_fraction": 0.25,
                          "slowloris_first_unavailable_s": 3,
                          "slowread_available_fraction": 1.0,
                          "slowread_first_unavailable_s": None},
              "epoll": {"slowloris_available_fraction": 1.0,
                        "slowloris_first_unavailable_s": None}}},
          "faults": {"scenarios": {"crashes": [
              {"design": "prefork", "mode": "kill"},
              {"design": "prefork", "mode": "crash-request", "server_alive": True,
               "bystander_ok": True},
              {"design": "thread", "mode": "crash-request", "server_alive": False,
               "bystander_ok": False}]}},
          "latency": {"spectrum_rate": {"conn": 1000}, "entries": [
              {"variant": "prefork", "mode": "conn", "curve": [
                  {"rate": 1000, "status": "ok", "summary": {"p99_us": {"median": 250.0}}}]},
              {"variant": "fork", "mode": "conn", "curve": [
                  {"rate": 1000, "status": "over_capacity",
                   "summary": {"p99_us": {"median": 9e4}}}]}]}}
    return {"designs": DESIGNS, "config": {"quick": False}, "workloads": ws}


def cells(r, start):
    """The row whose label starts with `start`."""
    return next(c for label, c in choose.rows(r) if label.startswith(start))


class DecisionTable(unittest.TestCase):
    def test_columns_are_the_candidates_that_ran_in_their_order(self):
        names = [d["name"] for d in choose.columns(results())]
        self.assertEqual(names, ["fork", "prefork", "prefork-fdpass", "prethread-mutex",
                                 "thread", "epoll"])
        header = choose.lines(results())[0]
        self.assertNotIn("iterative", header)      # a baseline, not a choice
        self.assertNotIn("prefork-mutex", header)  # not among the designs worth choosing

    def test_cells_come_from_the_data(self):
        r = results()
        unp = cells(r, "Short connections")
        fdpass = next(e for e in r["workloads"]["unp"]["entries"]
                      if e["variant"] == "prefork-fdpass/least-loaded")   # its first policy
        self.assertEqual(unp["prefork-fdpass"],
                         findings.num(fdpass["summary"]["cpu_us_per_conn"]["median"]))
        self.assertEqual(cells(r, "Long keep-alive")["epoll"], findings.num(3.1))
        self.assertEqual(cells(r, "Requests that need CPU")["epoll"], "4,000")
        self.assertEqual(cells(r, "A steady rate")["prefork"], "250")
        self.assertEqual(cells(r, "A steady rate")["fork"], "over capacity")
        slow = cells(r, "Slow or hostile")
        self.assertEqual(slow["prefork"], "25 %, down at 3 s")
        self.assertEqual(slow["epoll"], "100 %")
        self.assertEqual(cells(r, "Slow readers")["prefork"], "100 %")
        crash = cells(r, "A handler that crashes")
        self.assertEqual(crash["prefork"], "survives, neighbour served")
        self.assertEqual(crash["thread"], "server dies")
        cores = cells(r, "Several cores")
        self.assertEqual(cores["prefork"], "2")              # workers that served
        self.assertEqual(cores["epoll"], "1")
        self.assertEqual(cores["fork"], "one per connection")
        self.assertEqual(cores["thread"], "one per connection")

    def test_what_did_not_run_reads_not_measured(self):
        r = results()
        self.assertEqual(cells(r, "Requests that need CPU")["thread"], choose.NOT_MEASURED)
        self.assertEqual(cells(r, "Slow readers")["epoll"], choose.NOT_MEASURED)
        self.assertEqual(cells(r, "A handler that crashes")["epoll"], choose.NOT_MEASURED)
        self.assertEqual(cells(r, "A steady rate")["epoll"], choose.NOT_MEASURED)
        for name in ("work", "idle", "slowhttp", "faults", "latency", "keepalive"):
            del r["workloads"][name]
        for label, row in choose.rows(r)[1:-1]:
            self.assertEqual(set(row.values()), {choose.NOT_MEASURED}, label)
        self.assertNotIn(choose.NOT_MEASURED, cells(r, "Short connections").values())

    def test_no_negative_cost(self):
        r = results()
        self.assertEqual(cells(r, "Many idle connections")["thread"], "≈ 0")
        for line in choose.lines(r):
            self.assertNotRegex(line, NEGATIVE)

    def test_the_report_block_is_the_table(self):
        from plots import report
        self.assertEqual(report.BLOCKS["choose"](results(), None),
                         "\n".join(choose.lines(results())))
        self.assertEqual(report.BLOCKS["choose"]({"designs": [], "workloads": {}}, None),
                         report.NO_DATA)

    def test_report_has_the_block_in_its_student_part_after_which_to_choose(self):
        with open(os.path.join(HERE, "..", "..", "REPORT.md")) as f:
            text = f.read()
        student = text[:text.index("## Appendix: the generated tables")]
        self.assertLess(student.index("**Which to choose.**"),
                        student.index("<!-- BEGIN generated:choose -->"))
        self.assertLess(student.index("<!-- END generated:choose -->"),
                        student.index("<!-- BEGIN generated:findings -->"))


HERD = [{"variant": "prefork", "design": "prefork", "workers": w,
         "runs": runs([30 + 0.01 * w + 0.3 * k for k in range(5)]),
         "summary": {"cpu_us_per_conn": {"median": 30.0}}} for w in (15, 30, 60, 120)]


class CentralFindings(unittest.TestCase):
    def r(self, **kw):
        r = results()
        r["workloads"]["herd"] = {"kind": "sweep", "entries": HERD}
        r.update(kw)
        r["findings"] = findings.compute(r)
        return r

    def test_one_sentence_per_central_question_and_one_for_the_loops(self):
        r = self.r()
        out = findings.central_lines(r)
        self.assertEqual([line[:10] for line in out],
                         ["- **(a) A ", "- **(b) Ch", "- **(c) Th", "- **(d) Wh", "- **Event "])
        fs = {f["id"]: f for f in r["findings"]}
        # Each question is answered by its paired finding, the book's figure beside it.
        self.assertIn(findings.render(fs["fork-vs-pool/prefork"]), out[0])
        self.assertIn("Book:", out[0])
        self.assertIn(findings.render(fs["accept-vs-fdpass/prefork/least-loaded"]), out[1])
        self.assertIn(findings.render(fs["herd/prefork"]), out[2])
        self.assertIn(findings.render(fs["thread-vs-pool"]), out[3])
        # (d): the lowest median leaves the iterative baseline out; thread's rank is measured.
        self.assertIn("`epoll`'s", out[3])
        self.assertIn("`thread` ranks 8th of 9", out[3])
        self.assertIn("`epoll` − `prefork`", out[4])

    def test_every_event_loop_gets_its_sentence_the_io_uring_one_included(self):
        r = results()
        r["designs"] = DESIGNS + [dict(DESIGNS[-1], name="uring")]
        r["workloads"]["unp"]["entries"].append(
            dict(r["workloads"]["unp"]["entries"][-1], variant="uring", design="uring"))
        r["findings"] = findings.compute(r)
        loops = findings.central_lines(r)[-1]
        self.assertIn("`epoll` − `prefork`", loops)
        self.assertIn("`uring` − `prefork`", loops)
        self.assertIn("`uring`", choose.lines(r)[0])

    def test_a_question_without_data_says_so(self):
        r = results()
        r["findings"] = findings.compute(r)     # no herd sweep
        out = findings.central_lines(r)
        self.assertTrue(any(line.startswith("- **(c)") and "not measured" in line
                            for line in out))

    def test_not_quiet_draws_no_verdict(self):
        out = findings.central_lines(self.r(quiet=False))
        self.assertIn("not quiet", out[0])
        for line in out[1:]:
            self.assertNotIn(f"**{findings.stats.HOLDS}**", line)

    def test_no_negative_cost_even_without_an_interval(self):
        r = results()
        for w in ("unp", "keepalive"):   # one repetition: no interval at all
            for e in r["workloads"][w]["entries"]:
                e["runs"] = e["runs"][:1]
        r["findings"] = findings.compute(r)
        for line in findings.central_lines(r):
            self.assertNotRegex(line, NEGATIVE)
        self.assertEqual(findings.amount(-7.0, None, "µs/conn"), "7.00 µs/conn less (no interval)")
        self.assertEqual(findings.percent({"estimate": 0.8, "interval": None}), " (20.0 % less)")


if __name__ == "__main__":
    unittest.main()
