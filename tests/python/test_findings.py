"""Unit tests of bench/tcplab_suite/findings.py (the findings of a run, from synthetic results)
and of the tables' rules for meaningful figures (table.fmt_diff, table.unexplained_failures,
no process control on keep-alive). They check data, not wording."""

import os
import sys
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import findings, stats, summary, table  # noqa: E402
from tcplab_suite.measure import summarize as measure_summary  # noqa: E402


def design(name, unp="30.x", workers="processes", pooled=True, event_loop=False,
           accepts="workers", lock=None, policies=()):
    return {"name": name, "unp": unp, "workers": workers, "pooled": pooled,
            "event_loop": event_loop, "accepts": accepts, "accept_lock": lock,
            "dispatch_policies": list(policies), "reuseport": False, "description": name}


DESIGNS = [
    design("iterative", workers="none", pooled=False, accepts="main"),
    design("fork", pooled=False, accepts="main"),
    design("prefork"),
    design("prefork-mutex", lock="mutex"),
    design("prefork-fdpass", accepts="main", policies=("least-loaded", "round-robin")),
    design("thread", workers="threads", pooled=False, accepts="main"),
    design("prethread-mutex", workers="threads", lock="mutex"),
    design("epoll", unp=None, workers="none", pooled=False, event_loop=True, accepts="main"),
]

# CPU µs per connection in repetitions 1..5 (repetition 4 dearer for all: a block effect).
CPU = {
    "iterative": [25, 26, 25, 35, 25],
    "fork": [230, 228, 235, 245, 229],
    "prefork": [36.1, 35.3, 42.4, 43.9, 37.2],
    "prefork-mutex": [34, 36, 40, 44, 36],
    "prefork-fdpass/least-loaded": [47.4, 44.5, 45.3, 49.3, 51.3],
    "prefork-fdpass/round-robin": [37, 35, 43.5, 45, 36.5],      # ≈ prefork: undecided
    "thread": [55, 54, 58, 62, 55],
    "prethread-mutex": [38, 37, 40, 45, 38],
    "epoll": [30, 31, 30, 40, 31],
}


def runs(values, figure="cpu_us_per_conn"):
    return [{"rep": k + 1, "figures": {figure: v, "cpu_us_per_req": v / 100,
                                       "conn_per_s": 1000.0}}
            for k, v in enumerate(values)]


def results(quiet=None, herd=None):
    entries = [{"variant": v, "design": v.split("/")[0], "runs": runs(xs)}
               for v, xs in CPU.items()]
    r = {"designs": DESIGNS, "config": {"quick": False, "repeat": 5},
         "workloads": {"unp": {"kind": "table", "baseline": "iterative", "entries": entries}}}
    if quiet is not None:
        r["quiet"] = quiet
    if herd:
        r["workloads"]["herd"] = {"kind": "sweep", "entries": herd}
    return r


def by_id(fs):
    return {f["id"]: f for f in fs}


class Findings(unittest.TestCase):
    def setUp(self):
        self.fs = by_id(findings.compute(results()))

    def test_the_ids(self):
        expected = {"fork-vs-pool/prefork", "fork-vs-pool/prefork-mutex",
                    "fork-vs-pool/prefork-fdpass/least-loaded",
                    "fork-vs-pool/prefork-fdpass/round-robin", "fork-vs-pool/prethread-mutex",
                    "process-control-ratio/prefork", "process-control-ratio/prefork-mutex",
                    "process-control-ratio/prefork-fdpass/least-loaded",
                    "process-control-ratio/prefork-fdpass/round-robin",
                    "process-control-ratio/prethread-mutex",
                    "accept-vs-fdpass/prefork/least-loaded",
                    "accept-vs-fdpass/prefork/round-robin",
                    "accept-vs-fdpass/prefork-mutex/least-loaded",
                    "accept-vs-fdpass/prefork-mutex/round-robin",
                    "thread-vs-pool", "epoll-vs-prefork"}
        self.assertEqual(set(self.fs), expected)
        for f in self.fs.values():
            for key in ("id", "question", "estimate", "interval", "unit", "n", "verdict",
                        "book"):
                self.assertIn(key, f)
            self.assertIn(f["verdict"], stats.VERDICTS)

    def test_accept_vs_fdpass_is_the_issues_paired_estimate(self):
        f = self.fs["accept-vs-fdpass/prefork/least-loaded"]
        self.assertEqual(f["verdict"], stats.HOLDS)
        # The Hodges-Lehmann estimate of +2.9, +5.4, +9.2, +11.3, +14.1 (median +9.2).
        self.assertAlmostEqual(f["estimate"], 8.5)
        self.assertEqual(f["method"], stats.PAIRED_METHOD)
        self.assertEqual([round(x, 6) for x in f["interval"]], [2.9, 14.1])
        self.assertEqual((f["n"], f["unit"], f["a"], f["b"]),
                         (5, "µs/conn", "prefork-fdpass/least-loaded", "prefork"))
        self.assertGreater(f["ratio"]["interval"][0], 1)
        self.assertTrue(f["central"])
        self.assertAlmostEqual(f["width"], 14.1 - 2.9)
        self.assertAlmostEqual(f["book"]["a_s"], 2.58)

    def test_an_undecided_comparison_says_how_many_repetitions_would_decide_it(self):
        f = self.fs["accept-vs-fdpass/prefork/round-robin"]
        self.assertEqual(f["verdict"], stats.CANNOT_TELL)
        self.assertLessEqual(f["interval"][0], 0)
        self.assertGreaterEqual(f["interval"][1], 0)
        self.assertIsNotNone(f["reps_to_decide"])
        self.assertGreater(f["reps_to_decide"], 5)
        self.assertLessEqual(f["reps_to_decide"], stats.MAX_REPS)
        self.assertIn("≈ 0", findings.render(f))   # never a cost shown for it
        self.assertIn(f"{f['reps_to_decide']} repetitions", findings.render(f))

    def test_fork_vs_pool_and_thread_vs_pool(self):
        for pool in ("prefork", "prefork-mutex", "prethread-mutex"):
            self.assertEqual(self.fs[f"fork-vs-pool/{pool}"]["verdict"], stats.HOLDS)
        t = self.fs["thread-vs-pool"]
        self.assertEqual((t["a"], t["b"], t["verdict"]), ("thread", "prethread-mutex",
                                                          stats.HOLDS))
        self.assertLess(t["book"]["diff_us_per_conn"], 0)  # Stevens measured thread cheaper

    def test_process_control_ratio_against_ten_and_the_book(self):
        f = self.fs["process-control-ratio/prefork"]
        # fork's process control 205, 202, 210, 210, 204 over prefork's 11.1, 9.3, 17.4,
        # 8.9, 12.2: ratios 18.5 ... 23.6, all above 10 and above the book's 11.6.
        self.assertEqual(f["verdict"], stats.HOLDS)
        self.assertEqual(f["verdict_book"], stats.HOLDS)
        self.assertAlmostEqual(f["book"]["ratio"], 20.90 / 1.80)
        self.assertEqual(f["unit"], "×")
        self.assertGreater(f["interval"][0], 10)

    def test_a_pool_at_or_below_the_baseline_makes_an_unbounded_ratio(self):
        # prethread-mutex's process control is 13, 11, 15, 10, 13 here; lower the baseline's
        # reach: iterative dearer than the pool in repetitions 2 and 4 (pc <= 0 there).
        r = results()
        it = r["workloads"]["unp"]["entries"][0]
        for k, v in ((1, 40.0), (3, 46.0)):
            it["runs"][k]["figures"]["cpu_us_per_conn"] = v
        f = by_id(findings.compute(r))["process-control-ratio/prethread-mutex"]
        self.assertEqual(f["unbounded_reps"], 2)
        self.assertIsNone(f["interval"][1])          # the top is unbounded, not an error
        self.assertGreater(f["interval"][0], 10)
        self.assertEqual(f["verdict"], stats.HOLDS)
        self.assertIn("unbounded", findings.render(f))
        est, interval, cov, unbounded = findings.unbounded_ratio([10, 10, 10], [-1, 0, -2])
        self.assertEqual((est, interval, unbounded), (None, [None, None], 3))

    def test_event_loop_against_prefork(self):
        f = self.fs["epoll-vs-prefork"]
        self.assertEqual((f["claim"], f["verdict"]), ("a<b", stats.HOLDS))
        self.assertLess(f["estimate"], 0)

    def test_not_quiet_keeps_estimates_and_draws_no_verdict(self):
        fs = findings.compute(results(quiet=False))
        self.assertTrue(fs)
        for f in fs:
            self.assertEqual(f["verdict"], stats.NOT_QUIET, f["id"])
            if f["kind"] == "ratio":
                self.assertEqual(f["verdict_book"], stats.NOT_QUIET)
        quiet_fs = by_id(findings.compute(results(quiet=True)))
        self.assertEqual(quiet_fs["thread-vs-pool"]["estimate"],
                         by_id(fs)["thread-vs-pool"]["estimate"])
        text = "\n".join(summary.header_lines(dict(results(quiet=False), **RUN)))
        self.assertIn("not quiet", text)

    def test_a_missing_side_has_no_finding(self):
        r = results()
        r["workloads"]["unp"]["entries"] = [e for e in r["workloads"]["unp"]["entries"]
                                            if e["variant"] != "thread"]
        self.assertNotIn("thread-vs-pool", by_id(findings.compute(r)))

    def test_uring_findings_appear_only_when_both_sides_ran(self):
        r = results()
        r["designs"] = DESIGNS + [
            design("uring", unp=None, workers="none", pooled=False, event_loop=True,
                   accepts="main"),
            design("uring-msgring", unp=None, workers="threads", event_loop=True,
                   accepts="main", policies=("least-loaded", "round-robin"))]
        r["workloads"]["unp"]["entries"] += [
            {"variant": "uring", "design": "uring", "runs": runs([20, 21, 20, 30, 21])},
            {"variant": "uring-msgring/least-loaded", "design": "uring-msgring",
             "runs": runs([30, 31, 33, 40, 31])}]
        fs = by_id(findings.compute(r))
        self.assertEqual(fs["uring-vs-epoll"]["verdict"], stats.HOLDS)
        f = fs["uring-msgring-vs-prefork-fdpass/least-loaded"]
        self.assertEqual((f["a"], f["b"]), ("uring-msgring/least-loaded",
                                            "prefork-fdpass/least-loaded"))
        self.assertNotIn("uring-msgring-vs-prefork-fdpass/round-robin", fs)  # it did not run
        self.assertNotIn("uring-msgring-vs-loop-per-thread/least-loaded", fs)  # no such design


def herd_entries(design, slopes_by_rep, sizes=(15, 60, 120), base=30.0, variant=None):
    out = []
    for size in sizes:
        rs = [{"rep": k + 1, "figures": {"cpu_us_per_conn": base + s * size + k}}
              for k, s in enumerate(slopes_by_rep)]
        out.append({"variant": variant or design, "design": design, "workers": size, "runs": rs,
                    "summary": {"cpu_us_per_conn": {"median": base + size * slopes_by_rep[0]}}})
    return out


# CPU µs per connection of the quiet default run main-20261206 (unp, repetitions 1..9, to
# 0.1 µs), the chapter-30 processes only.
MAIN_20261206 = {
    "iterative": [24.0, 25.5, 24.4, 25.1, 24.2, 24.5, 22.5, 24.5, 21.1],
    "fork": [194.5, 226.4, 212.1, 205.4, 133.2, 218.0, 196.3, 198.9, 139.3],
    "prefork": [30.2, 32.8, 32.4, 33.7, 24.1, 26.9, 25.0, 24.6, 31.6],
    "prefork-fcntl": [28.1, 30.3, 30.3, 27.4, 29.2, 26.4, 28.4, 21.8, 29.8],
    "prefork-mutex": [30.9, 29.8, 30.2, 26.5, 33.3, 29.2, 24.7, 21.4, 24.8],
    "prefork-fdpass/least-loaded": [36.3, 36.2, 34.7, 34.4, 32.6, 27.2, 32.3, 27.8, 32.8],
    "prefork-fdpass/round-robin": [35.5, 36.3, 34.7, 33.2, 32.9, 31.4, 32.9, 33.0, 32.9],
    "prefork-fdpass/first-free": [35.3, 35.3, 34.6, 32.6, 33.2, 35.8, 32.3, 23.5, 32.3],
}


class MainRun(unittest.TestCase):
    """The central comparisons of a real quiet run: the sign test's interval left two of them
    undecided (one or two small differences the other way); the signed-rank interval decides
    every one, and in the same direction as the sign test's decided ones."""

    def setUp(self):
        ds = [design("iterative", workers="none", pooled=False, accepts="main"),
              design("fork", pooled=False, accepts="main"), design("prefork"),
              design("prefork-fcntl", lock="fcntl"), design("prefork-mutex", lock="mutex"),
              design("prefork-fdpass", accepts="main",
                     policies=("least-loaded", "round-robin", "first-free"))]
        entries = [{"variant": v, "design": v.split("/")[0], "runs": runs(xs)}
                   for v, xs in MAIN_20261206.items()]
        self.fs = by_id(findings.compute(
            {"designs": ds, "config": {"quick": False, "repeat": 9},
             "workloads": {"unp": {"kind": "table", "baseline": "iterative",
                                   "entries": entries}}}))

    def test_every_central_comparison_is_decided(self):
        central = [f for f in self.fs.values() if f["central"]]
        self.assertEqual(len(central), 6 + 9)   # fork against 6 pools, 3 x 3 accept-vs-fdpass
        for f in central:
            self.assertEqual(f["verdict"], stats.HOLDS, f["id"])
            self.assertEqual(f["n"], 9)
            self.assertEqual(f["coverage"], 1 - 20 / 512)
            self.assertIsNone(f["reps_to_decide"])

    def test_the_two_the_sign_test_left_undecided(self):
        for fid in ("accept-vs-fdpass/prefork/first-free",
                    "accept-vs-fdpass/prefork-mutex/least-loaded"):
            f = self.fs[fid]
            a, b = MAIN_20261206[f["a"]], MAIN_20261206[f["b"]]
            diffs = [x - y for x, y in zip(a, b)]
            self.assertEqual(sum(d < 0 for d in diffs), 2, fid)     # two of nine the other way
            lo, _ = stats.summary(diffs)["ci95"]
            self.assertLess(lo, 0, fid)                             # the sign test: undecided
            self.assertGreater(f["interval"][0], 0, fid)
        # first-free: -1.1, -1.1, 0.7, 2.2, ...: A(6) of 45 = (-1.1 + 2.2) / 2.
        self.assertAlmostEqual(self.fs["accept-vs-fdpass/prefork/first-free"]["interval"][0],
                               0.55)


class Herd(unittest.TestCase):
    def test_a_real_herd_a_bound_and_noise(self):
        herd = (herd_entries("grows", [0.10, 0.12, 0.09, 0.11, 0.10])
                + herd_entries("flat", [0.01, -0.01, 0.02, -0.005, 0.0])
                + herd_entries("falls", [-0.05, -0.06, -0.04, -0.05, -0.07]))
        fs = by_id(findings.compute(results(herd=herd)))
        grows, flat, falls = fs["herd/grows"], fs["herd/flat"], fs["herd/falls"]
        self.assertEqual(grows["verdict"], stats.HOLDS)
        self.assertIsNone(grows["at_most"])
        self.assertEqual(flat["verdict"], stats.CANNOT_TELL)
        self.assertAlmostEqual(flat["at_most"], 0.02)
        self.assertAlmostEqual(flat["at_most_share"], 0.02 * 105 / 30.15)
        self.assertFalse(flat["noise"])
        self.assertTrue(falls["noise"])
        self.assertEqual(falls["verdict"], stats.DOES_NOT_HOLD)
        self.assertIn("noise", findings.render(falls))
        self.assertIn("at most", findings.render(flat))

    def test_a_positive_control_is_a_finding_of_its_own(self):
        # A switch on an existing design (plain epoll waiters on one shared listener) is a
        # variant of its own in the sweep, and gets its own herd/ finding.
        herd = (herd_entries("prefork", [0.01, -0.01, 0.02, -0.005, 0.0])
                + herd_entries("prefork", [0.5, 0.6, 0.55, 0.52, 0.58],
                               variant="prefork/shared-epoll"))
        fs = by_id(findings.compute(results(herd=herd)))
        self.assertEqual(fs["herd/prefork"]["verdict"], stats.CANNOT_TELL)
        self.assertEqual(fs["herd/prefork/shared-epoll"]["verdict"], stats.HOLDS)
        self.assertAlmostEqual(fs["herd/prefork/shared-epoll"]["estimate"], 0.55)


RUN = {"started": "x", "duration_s": 1, "interrupted": False, "command_line": "c",
       "machine": {"cpu_model": "m", "cpus": 2, "usable_cpus": 2, "system": "Linux",
                   "kernel": "k", "loadavg_start": [0, 0, 0], "loadavg_end": [0, 0, 0]},
       "pinning": {"server": "0", "load": "1"}}


class Rendering(unittest.TestCase):
    def test_summary_opens_with_the_findings(self):
        r = dict(results(), **RUN)
        lines = summary.header_lines(r)
        first = lines.index("## Findings")
        self.assertLess(first, lines.index("## Designs"))
        self.assertIn("accept-vs-fdpass/prefork/least-loaded", "\n".join(lines))
        self.assertIn("| finding | width | n | verdict | repetitions to decide |", lines)
        row = next(line for line in lines
                   if line.startswith("| `accept-vs-fdpass/prefork/round-robin` |"))
        f = by_id(findings.compute(r))["accept-vs-fdpass/prefork/round-robin"]
        self.assertTrue(row.endswith(f"| ~{f['reps_to_decide']} |"), row)

    def test_no_negative_cost_in_any_sentence(self):
        for f in findings.compute(results()):
            text = findings.render(f)
            self.assertNotRegex(text, r"costs [−-]", f["id"])
            self.assertNotRegex(text, r"[−-]\d", f["id"])   # no negative figure at all
        for line in findings.grouped_lines(results()):
            self.assertNotRegex(line, r"[−-]\d")
            if f["interval"] and f["interval"][0] <= 0 <= f["interval"][1] \
                    and f["kind"] == "difference":
                self.assertIn("≈ 0", text, f["id"])


class MeaningfulFigures(unittest.TestCase):
    def test_fmt_diff_never_shows_a_negative_cost(self):
        self.assertEqual(table.fmt_diff({"median": 8.3, "ci95": [2.0, 11.4]}), "8.3 [2.0–11.4]")
        self.assertEqual(table.fmt_diff({"median": -0.3, "ci95": [-5.8, 7.5]}),
                         "≈ 0 (within ±7.5)")
        self.assertEqual(table.fmt_diff({"median": -1.0, "ci95": [-1.6, -0.5]}),
                         "below baseline by 1.0 [0.5–1.6]")
        self.assertEqual(table.fmt_diff({"median": 0.0, "ci95": [0.0, 0.0]}), "0")
        self.assertEqual(table.fmt_diff(None), "–")

    def test_resets_of_abandoned_connections_are_not_failures(self):
        run = {"server": {"failures": {"reset": 3, "other": 0}},
               "load_counts": {"abandoned": 5}}
        self.assertEqual(table.unexplained_failures(run), 0)
        run = {"server": {"failures": {"reset": 7, "other": 1}},
               "load_counts": {"abandoned": 5}}
        self.assertEqual(table.unexplained_failures(run), 3)

    def test_keepalive_has_no_process_control(self):
        entries = [{"variant": v, "design": v, "runs": runs(xs)} for v, xs in
                   (("iterative", [10, 11, 12]), ("prefork", [20, 21, 22]))]
        w = {"kind": "table", "baseline": "iterative", "entries": entries,
             "params": {"process_control": False, "min_window_s": 0}}
        for e in entries:
            for r in e["runs"]:
                r.update(server={"workers": [1]}, load_window_s=1.0)
        table.finalize(w)
        self.assertTrue(all(e["process_control_us_per_conn"] is None for e in entries))
        w["params"]["process_control"] = True
        table.finalize(w)
        self.assertEqual(entries[1]["process_control_us_per_conn"]["median"], 10)



class ReportBlocks(unittest.TestCase):
    """plots/report.py's blocks from the findings: Fig. 30.1 and the claims."""

    def setUp(self):
        sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))
        from plots import report
        self.report = report
        self.r = results()
        for e in self.r["workloads"]["unp"]["entries"]:
            e["summary"] = measure_summary(e["runs"])
        table.add_process_control(self.r["workloads"]["unp"]["entries"], "iterative")

    def test_an_extra_runs_workloads_join_the_findings(self):
        # The herd sweep comes from an extra run: its herd/ findings are in the merged data's
        # (they were not: the main run's findings were taken as they were), and an extra run
        # that was not quiet makes them all not quiet.
        main = dict(self.r, findings=findings.compute(self.r), quiet=True)
        herd = {"workloads": {"herd": {"kind": "sweep", "entries": herd_entries(
            "prefork", [0.5, 0.6, 0.55, 0.52, 0.58])}}, "quiet": True}
        merged = self.report.merged(main, [herd])
        self.assertIn("herd/prefork", by_id(merged["findings"]))
        self.assertNotIn("herd/prefork", by_id(main["findings"]))
        noisy = self.report.merged(main, [dict(herd, quiet=False)])
        self.assertEqual({f["verdict"] for f in noisy["findings"]}, {"not quiet"})

    def test_fig30_1_shows_no_negative_cost(self):
        # prethread-mutex's process control: 13, 11, 15, 10, 13; make it straddle zero.
        e = next(e for e in self.r["workloads"]["unp"]["entries"]
                 if e["variant"] == "prethread-mutex")
        e["process_control_us_per_conn"] = stats.summary([-5.8, 2.0, -1.0, 3.0, -0.3])
        block = self.report.block_fig301(self.r)
        row = next(line for line in block.split("\n") if line.startswith("| `prethread-mutex`"))
        self.assertIn("≈ 0 (within ±5.8)", row)
        self.assertNotRegex(block, r"\| -\d")

    def test_claims_come_from_the_paired_findings(self):
        block = self.report.block_claims(self.r)
        lines = block.split("\n")
        # fork's process control over prefork-fdpass/least-loaded's is ×7.8 ... ×14.7 here.
        self.assertTrue(lines[0].startswith(
            "- **Pools cut `fork`'s process control tenfold or more, every pool: "
            f"{stats.CANNOT_TELL}** (holds for 4, {stats.CANNOT_TELL} for 1 of 5)"), lines[0])
        accept = next(line for line in lines if "passing descriptors" in line)
        # least-loaded holds, round-robin cannot tell: the claim over both cannot tell.
        self.assertIn(f": {stats.CANNOT_TELL}**", accept)
        self.assertIn("Ranking by CPU per connection", lines[-1])
        not_quiet = self.report.block_claims(dict(self.r, quiet=False))
        self.assertIn(f"every pool: {stats.NOT_QUIET}**", not_quiet)


class Repetitions(unittest.TestCase):
    """A workload's plan chooses its repetitions unless --repeat was given."""

    def ctx(self, repeat, given):
        class Args:
            repeat_given = given
        class Ctx:
            args = Args()
        c = Ctx()
        c.repeat = repeat
        return c

    def test_the_plan_chooses_unless_repeat_is_given(self):
        plan = {"repeat": 9}
        self.assertEqual(table.repetitions(self.ctx(5, False), plan), 9)
        self.assertEqual(table.repetitions(self.ctx(3, True), plan), 3)
        self.assertEqual(table.repetitions(self.ctx(5, False), {}), 5)
        self.assertEqual(table.repetitions(self.ctx(1, False), {}), 1)   # --quick's plans

    def test_the_default_plans_are_sized_for_pairs(self):
        from tcplab_suite.workloads import REGISTRY
        for name in ("unp", "keepalive", "herd"):
            plan = REGISTRY[name].PLANS["default"]
            # 9 pairs: the signed-rank interval [A(6), A(40)] of 45 Walsh averages at 96.1 %.
            self.assertEqual(plan["repeat"], 9, name)
            self.assertEqual(stats.walsh_rank_for(plan["repeat"]), 6)
            self.assertNotIn("repeat", REGISTRY[name].PLANS["quick"], name)
        self.assertFalse(REGISTRY["keepalive"].PLANS["default"]["process_control"])
        self.assertTrue(REGISTRY["unp"].PLANS["default"]["process_control"])

    def test_central_designs_get_their_further_repetitions_interleaved_after_the_rest(self):
        designs = [{"name": n, "workers": w, "event_loop": False, "dispatch_policies": ps}
                   for n, w, ps in (("iterative", "none", []), ("fork", "per-conn", []),
                                    ("prefork", "15", []),
                                    ("prefork-fdpass", "15", ["least-loaded", "round-robin"]))]
        ctx = self.ctx(5, False)
        ctx.designs = designs
        ctx.workers = lambda n: n
        made = {}
        ctx.workload = lambda name, **kw: made.setdefault(name, dict(kw))
        plan = {"repeat": 2, "workers": 15, "clients": 5,
                "central": {"designs": ["prefork", "prefork-fdpass"], "repeat": 4}}
        order = []
        with mock.patch.object(table, "one_run",
                               lambda c, e, rep, *a: order.append((rep, e["variant"]))), \
                mock.patch.object(table, "finalize", lambda w: None):
            table.run_table(ctx, "unp", plan)
        pool = ["prefork", "prefork-fdpass/least-loaded", "prefork-fdpass/round-robin"]
        every = ["iterative", "fork"] + pool
        self.assertEqual(order, [(1, v) for v in every] + [(2, v) for v in every]
                         + [(3, v) for v in pool] + [(4, v) for v in pool])
        self.assertEqual(table.table_steps(ctx, plan), len(order))
        self.assertEqual(made["unp"]["params"]["central"]["repeat"], 4)
        self.assertIn("4 of prefork, prefork-fdpass", table.central_text(made["unp"]["params"]))
        # --repeat N sets every design's repetitions alike.
        order.clear()
        given = self.ctx(3, True)
        given.designs, given.workers = designs, ctx.workers
        given.workload = lambda name, **kw: made.__setitem__(name, dict(kw))
        with mock.patch.object(table, "one_run",
                               lambda c, e, rep, *a: order.append((rep, e["variant"]))), \
                mock.patch.object(table, "finalize", lambda w: None):
            table.run_table(given, "unp", plan)
        self.assertEqual(len(order), 3 * len(every))
        self.assertEqual(table.table_steps(given, plan), len(order))
        self.assertNotIn("central", made["unp"]["params"])

    def test_the_summary_names_the_central_designs_repetitions(self):
        results = {"config": {"repeat": 5}, "workloads": {
            "unp": {"params": {"repeat": 9, "central": {"designs": ["prefork", "prefork-mutex"],
                                                        "repeat": 18}}},
            "keepalive": {"params": {"repeat": 9}}, "latency": {"params": {"repeat": 5}}}}
        self.assertEqual(summary.repeat_text(results),
                         "9 (unp; 18 of prefork, prefork-mutex), 9 (keepalive), otherwise 5")
        self.assertEqual(summary.repeat_text({"config": {"repeat": 3}, "workloads": {}}), "3")


if __name__ == "__main__":
    unittest.main()
