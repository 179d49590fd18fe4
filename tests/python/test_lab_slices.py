"""Unit tests of the lab's slices in the default run (bench/tcplab_suite/workloads/__init__.py,
DEFAULT "lab"): a plain `bench/suite.py` runs syscalls, faults and slowhttp only on the designs
and parts bench/LAB.md's questions 4, 11, 12 and 13 read, through each workload's own code;
named with --workloads they run whole, --quick leaves them out, --lab-slices makes named ones
slices. What each slice runs, what it records, that lab.py's checks find in it what they read,
and that plots/report.py prefers an extra run's whole workload to a slice."""

import argparse
import contextlib
import io
import os
import sys
import unittest
from unittest import mock

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)
import lab  # noqa: E402
import suite  # noqa: E402
from tcplab_suite import core  # noqa: E402
from tcplab_suite.workloads import REGISTRY, defaults, lab_slices  # noqa: E402
from tcplab_suite.workloads import faults, slowhttp, syscalls  # noqa: E402

SLICES = ["faults", "slowhttp", "syscalls"]


def row(name, unp=None, workers="processes", pooled=True, accepts="workers", lock=None,
        policies=(), event_loop=False, reuseport=False, uring=False):
    return {"name": name, "unp": unp, "workers": workers, "pooled": pooled, "accepts": accepts,
            "accept_lock": lock, "dispatch_policies": list(policies), "event_loop": event_loop,
            "reuseport": reuseport, "io_uring": uring}


# The design table's rows (tcplab-server --list --json), the fields the workloads read.
TABLE = [
    row("iterative", "30.4", "none", False, "main"),
    row("fork", "30.5", pooled=False, accepts="main"),
    row("prefork", "30.6"),
    row("prefork-fcntl", "30.7", lock="fcntl"),
    row("prefork-mutex", "30.8", lock="mutex"),
    row("prefork-fdpass", "30.9", accepts="main",
        policies=("least-loaded", "round-robin", "first-free")),
    row("thread", "30.10", "threads", False, "main"),
    row("prethread-mutex", "30.11", "threads", lock="mutex"),
    row("prethread-dispatch", "30.12", "threads", accepts="main"),
    row("epoll", None, "none", False, "main", event_loop=True),
    row("prefork-epoll-exclusive", event_loop=True),
    row("uring", None, "none", False, "main", event_loop=True, uring=True),
]


class Ctx:
    """What a workload's run() reads of core.Context, with Context's own plan() and
    workload()."""
    plan = core.Context.plan
    workload = core.Context.workload
    fail = core.Context.fail

    def __init__(self, designs=TABLE, slices=SLICES, quick=False):
        self.designs = designs
        self.quick = quick
        self.args = argparse.Namespace(lab_slices=list(slices), workers=None)
        self.results = {"workloads": {}, "errors": []}
        self.errors = self.results["errors"]
        self.server_cpus, self.load_cpus = [0], [1]
        self.server_bin, self.load_bin, self.tmp = "server", "load", "/nonexistent"
        self.step = self.total_steps = 0

    def workers(self, planned):
        return planned


def labels_of(calls):
    return [label for label, _ in calls]


class Registry(unittest.TestCase):
    def test_the_default_run_holds_the_slices_and_quick_does_not(self):
        self.assertEqual(lab_slices(), SLICES)
        self.assertEqual(defaults(), ["unp", "keepalive", "latency"] + SLICES + ["micro"])
        self.assertEqual(defaults(quick=True), ["unp", "keepalive", "latency", "micro"])
        for name in SLICES:
            w = REGISTRY[name]
            self.assertEqual(w.DEFAULT, "lab", name)
            self.assertEqual(w.PLANS["lab"]["slice"], "lab", name)
            self.assertTrue(w.LAB_COST, name)
            self.assertNotIn("slice", w.PLANS["default"], name)

    def test_the_plan_is_the_slice_only_in_a_run_that_makes_slices(self):
        plans = syscalls.PLANS
        self.assertIs(Ctx().plan(plans)["slice"], "lab")
        self.assertNotIn("slice", Ctx(slices=[]).plan(plans))
        self.assertEqual(Ctx(quick=True).plan(plans), plans["quick"])
        # A workload without a slice runs its default plan in the default run.
        self.assertEqual(Ctx().plan(REGISTRY["unp"].PLANS), REGISTRY["unp"].PLANS["default"])
        # Old callers whose args know nothing of slices: the whole workload.
        ctx = Ctx()
        ctx.args = argparse.Namespace()
        self.assertEqual(ctx.plan(plans), plans["default"])


class CommandLine(unittest.TestCase):
    def parse(self, *argv):
        with mock.patch("os.sched_getaffinity", return_value={0, 1}):
            return suite.parse_args(list(argv))

    def test_which_workloads_run_as_slices(self):
        a = self.parse()
        self.assertEqual(a.workloads, defaults())
        self.assertEqual(a.lab_slices, SLICES)
        # named: whole
        a = self.parse("--workloads", "unp,syscalls")
        self.assertEqual((a.workloads, a.lab_slices), (["unp", "syscalls"], []))
        # named with --lab-slices: the slices of those named
        a = self.parse("--workloads", "unp,syscalls,faults", "--lab-slices")
        self.assertEqual(a.lab_slices, ["syscalls", "faults"])
        a = self.parse("--quick")
        self.assertEqual((a.workloads, a.lab_slices), (defaults(quick=True), []))
        with contextlib.redirect_stderr(io.StringIO()), self.assertRaises(SystemExit):
            self.parse("--quick", "--lab-slices")

    def test_help_lists_each_slice_with_both_costs(self):
        out = io.StringIO()
        with contextlib.redirect_stdout(out), self.assertRaises(SystemExit):
            self.parse("--help")
        text = " ".join(out.getvalue().split())
        for name in SLICES:
            self.assertIn(f"{name} lab slice by default {REGISTRY[name].LAB_COST}", text)
        self.assertIn("--lab-slices", text)


class WhatEachSliceRuns(unittest.TestCase):
    def record(self, module):
        """Patches module.record_step: each call's label and the record its run() makes."""
        calls = []

        def fake(ctx, label, what, into, run, note):
            r = run()
            into.append(r)
            calls.append((label, r))
        p = mock.patch.object(module, "record_step", fake)
        p.start()
        self.addCleanup(p.stop)
        return calls

    def test_faults_runs_one_crashing_handler_on_the_two_designs_of_question_11(self):
        calls = self.record(faults)
        def crash(ctx, d, workers):
            alive = d != "prethread-dispatch"
            return {"design": d, "server_alive": alive, "bystander_ok": alive,
                    "new_client_ok": alive, "exit_text": "exit 0" if alive else
                    "killed by signal 6"}
        with mock.patch.object(faults, "crash_request", crash):
            ctx = Ctx()
            self.assertEqual(faults.steps(ctx), 2)
            faults.run(ctx)
        self.assertEqual(labels_of(calls), ["faults/crash-request/prefork-fdpass",
                                            "faults/crash-request/prethread-dispatch"])
        w = ctx.results["workloads"]["faults"]
        self.assertEqual(w["params"]["slice"], "lab")
        self.assertEqual({k: len(v) for k, v in w["scenarios"].items()},
                         {"bad_input": 0, "slow": 0, "resets": 0, "crashes": 2, "emfile": 0})
        self.assertEqual({r["mode"] for r in w["scenarios"]["crashes"]}, {"crash-request"})
        text = "\n".join(faults.summary(ctx.results))
        self.assertIn("slice for bench/LAB.md (question 11)", text)
        self.assertIn("| prethread-dispatch | **dies** | killed by signal 6 |", text)
        self.assertNotIn("kill -9", text)

    def test_faults_whole_still_runs_every_step(self):
        ctx = Ctx(slices=[])
        per_design = 1 + len(faults.PLANS["default"]["slow"]["kinds"]) + 1 + 1 + 1
        n = 10   # the chapter-30 designs and uring in TABLE
        kill = 5   # fork, prefork, prefork-fcntl, prefork-mutex, prefork-fdpass
        self.assertEqual(faults.steps(ctx), n * per_design + kill)

    def test_slowhttp_runs_slowloris_on_the_two_designs_of_question_12(self):
        calls = self.record(slowhttp)
        ctx = Ctx()
        with mock.patch.object(slowhttp, "installed", lambda: True), \
                mock.patch.object(slowhttp, "wmem_max", lambda: 4 << 20), \
                mock.patch.object(slowhttp, "one_run",
                                  lambda ctx, d, workers, mode, plan: dict(
                                      {"design": d, "mode": mode, "bytes": 100,
                                       "all_closed": False, "alive": True,
                                       "fds_before": 5, "fds_after": 5, "server": None,
                                       "ended": "Hit test time limit"},
                                      **slowhttp.availability([
                                          {"s": s, "available": s < 4} for s in range(9)]))):
            self.assertEqual(slowhttp.steps(ctx), 2)
            slowhttp.run(ctx)
        self.assertEqual(labels_of(calls), ["slowhttp/prethread-dispatch/slowloris",
                                            "slowhttp/prefork-epoll-exclusive/slowloris"])
        w = ctx.results["workloads"]["slowhttp"]
        self.assertEqual(set(w["designs"]), {"prethread-dispatch", "prefork-epoll-exclusive"})
        self.assertEqual(set(w["designs"]["prethread-dispatch"]),
                         {f"slowloris_{k}" for k in ("available_s", "seconds",
                                                     "available_fraction",
                                                     "first_unavailable_s")})
        text = "\n".join(slowhttp.summary(ctx.results))
        self.assertIn("slowloris -c 200", text)
        self.assertNotIn("slow read -c", text)
        self.assertIn("| prethread-dispatch | 44 % | 4 s | – |", text)

    def test_syscalls_counts_per_connection_the_six_designs_of_questions_4_and_13(self):
        counted = []

        def count(server_bin, load_bin, design, workers, conns, rpc, *rest):
            counted.append((design, rpc, conns, rest[2]))
            per = {"read": 2.0, "close": 1.0}
            return {"design": design, "per_connection": per, "per_request": per,
                    "tracer": "perf"}
        ctx = Ctx()
        with mock.patch.object(syscalls.counting, "choose_tracer", lambda t: "perf"), \
                mock.patch.object(syscalls.counting, "count_syscalls", count), \
                contextlib.redirect_stdout(io.StringIO()):
            self.assertEqual(syscalls.steps(ctx), 6)
            syscalls.run(ctx)
        self.assertEqual([d for d, *_ in counted],
                         ["prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass",
                          "epoll", "uring"])
        self.assertEqual({(rpc, conns) for _, rpc, conns, _ in counted}, {(1, (500, 2500))})
        fdpass = next(extra for d, _, _, extra in counted if d == "prefork-fdpass")
        self.assertEqual(fdpass, ["--dispatch", "least-loaded"])
        w = ctx.results["workloads"]["syscalls"]
        self.assertEqual({e["mode"] for e in w["entries"]}, {"conn"})
        text = "\n".join(syscalls.summary(ctx.results))
        self.assertIn("slice for bench/LAB.md (questions 4 and 13)", text)
        self.assertNotIn("keep-alive:", text)
        # the whole workload: every design in both modes
        self.assertEqual(syscalls.steps(Ctx(slices=[])), len(TABLE) * 2)

    def test_only_leaves_the_slice_what_it_chose(self):
        ctx = Ctx(designs=[d for d in TABLE if d["name"] in ("prefork", "epoll", "fork")])
        self.assertEqual(syscalls.steps(ctx), 2)
        self.assertEqual(faults.steps(ctx), 0)
        self.assertEqual(slowhttp.steps(ctx), 0)
        # a slice with none of its designs left writes nothing, and fails nothing (no tracer,
        # no slowhttptest needed)
        ctx = Ctx(designs=[d for d in TABLE if d["name"] in ("iterative", "fork")])
        with mock.patch.object(syscalls.counting, "choose_tracer",
                               mock.Mock(side_effect=ValueError("no tracer"))), \
                mock.patch.object(slowhttp, "installed", lambda: False):
            for w in (syscalls, faults, slowhttp):
                self.assertEqual(w.steps(ctx), 0, w.NAME)
                w.run(ctx)
        self.assertEqual((ctx.results["workloads"], ctx.errors), ({}, []))


class LabReadsTheSlices(unittest.TestCase):
    def test_each_slice_holds_what_its_questions_check(self):
        names = syscalls.PLANS["lab"]["designs"]
        self.assertLessEqual({"prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass",
                              "epoll", "uring"}, set(names))
        self.assertEqual(list(syscalls.PLANS["lab"]["modes"]), ["conn"])
        self.assertLessEqual({"prefork-fdpass", "prethread-dispatch"},
                             set(faults.PLANS["lab"]["designs"]))
        self.assertEqual(faults.PLANS["lab"]["steps"], ["crash_request"])
        slow = set(slowhttp.PLANS["lab"]["designs"])
        self.assertTrue(slow & set(lab.SLOW_BLOCKING) and slow & set(lab.SLOW_EVENT))
        self.assertEqual(list(slowhttp.PLANS["lab"]["modes"]), ["slowloris"])
        # the slice measures as the whole workload does: the same settings, fewer designs
        self.assertEqual(slowhttp.PLANS["lab"]["modes"]["slowloris"],
                         slowhttp.PLANS["default"]["modes"]["slowloris"])
        for key in ("workers", "io_timeout_ms", "duration_s", "probe_timeout_s"):
            self.assertEqual(slowhttp.PLANS["lab"][key], slowhttp.PLANS["default"][key], key)
        # ...and each counted pair as the whole workload counts it; the whole takes the median
        # of 3 pairs, the slice (within the default run's budget) 1
        whole = dict(syscalls.PLANS["default"]["modes"]["conn"])
        self.assertEqual(whole.pop("repeat"), 3)
        self.assertEqual(syscalls.PLANS["lab"]["modes"]["conn"], whole)


class ReportPrefersTheWholeWorkload(unittest.TestCase):
    def test_an_extra_runs_whole_workload_replaces_a_slice_and_not_the_reverse(self):
        from plots import report
        piece = {"params": {"slice": "lab"}, "runs": ["slice"]}
        whole = {"params": {}, "runs": ["whole"]}
        main = {"workloads": {"slowhttp": piece, "faults": whole}, "findings": []}
        extra = {"workloads": {"slowhttp": whole, "faults": piece}}
        with mock.patch.object(report.findings, "compute", lambda data: []):
            m = report.merged(main, [extra])
        self.assertIs(m["workloads"]["slowhttp"], whole)
        self.assertIs(m["workloads"]["faults"], whole)
        self.assertIs(main["workloads"]["slowhttp"], piece)   # the main run's own untouched


if __name__ == "__main__":
    unittest.main()
