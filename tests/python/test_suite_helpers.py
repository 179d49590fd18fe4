"""The suite's own helpers: the per-figure summaries over repetitions, Stevens' subtraction
paired by repetition, the latency CDF, the design sets derived from the
design table, the CPU-list parser, and where the server and the load run (loopback or veth)."""

import argparse
import contextlib
import importlib.util
import io
import json
import os
import signal
import subprocess
import sys
import tempfile
import unittest
from unittest import mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import core, designs, measure, netns, procfs, table  # noqa: E402


def run(rep, cpu, conn_per_s=1000.0, **extra):
    return {"rep": rep, "figures": {"cpu_us_per_conn": cpu, "conn_per_s": conn_per_s, **extra}}


class Summaries(unittest.TestCase):
    def test_summary_of_each_figure_over_the_good_runs(self):
        runs = [run(1, 10.0), {"rep": 2, "error": "x"}, run(3, 30.0), run(4, 20.0)]
        s = measure.summarize(runs)
        self.assertEqual(set(s), {"cpu_us_per_conn", "conn_per_s"})
        self.assertEqual(s["cpu_us_per_conn"]["median"], 20.0)
        self.assertEqual(s["cpu_us_per_conn"]["n"], 3)
        self.assertEqual(s["cpu_us_per_conn"]["ci95"], [10.0, 30.0])
        self.assertEqual((s["cpu_us_per_conn"]["min"], s["cpu_us_per_conn"]["max"]), (10.0, 30.0))

    def test_no_good_run_is_no_summary(self):
        self.assertIsNone(measure.summarize([{"rep": 1, "error": "x"}]))

    def test_a_figure_missing_from_one_run_is_left_out(self):
        s = measure.summarize([run(1, 1.0, server_cpu_user_share=0.1), run(2, 2.0)])
        self.assertNotIn("server_cpu_user_share", s)

    def test_process_control_is_paired_by_repetition(self):
        base = {"variant": "iterative", "runs": [run(1, 10.0), run(2, 20.0), run(3, 30.0)]}
        other = {"variant": "fork", "runs": [run(1, 15.0), run(2, 26.0), {"rep": 3, "error": "x"}]}
        entries = [base, other]
        for e in entries:
            e["summary"] = measure.summarize(e["runs"])
        table.add_process_control(entries, "iterative")
        self.assertEqual(base["process_control_us_per_conn"]["median"], 0)
        pc = other["process_control_us_per_conn"]
        self.assertEqual(pc["n"], 2)                 # repetition 3 has no pair
        self.assertEqual((pc["min"], pc["max"]), (5.0, 6.0))
        table.add_process_control(entries, "absent")
        self.assertIsNone(other["process_control_us_per_conn"])

    def test_median_run_is_the_lower_middle(self):
        runs = [run(1, 0, 3.0), run(2, 0, 1.0), run(3, 0, 4.0), run(4, 0, 2.0)]
        self.assertEqual(measure.median_run(runs)["rep"], 4)

    def test_fmt_ci(self):
        self.assertEqual(table.fmt_ci({"median": 2.0, "ci95": [1.0, 3.0]}), "2.0 [1.0–3.0]")
        self.assertEqual(table.fmt_ci({"median": 2.0, "ci95": None}), "2.0")
        self.assertEqual(table.fmt_ci(None), "–")


class WindowSizing(unittest.TestCase):
    """The count-based windows (unp, herd, ballast): sized from the warm-up's rate and what the
    workload has measured so far, measured again with a larger count when one comes out short,
    so that no window below min_window_s is ever reported."""
    PLAN = {"clients": 5, "connections": 5000}

    def test_count_fills_the_window_in_whole_rounds_of_clients(self):
        self.assertEqual(measure.sized_connections(self.PLAN, 50001.0, 2.0), 100005)
        self.assertEqual(measure.sized_connections(self.PLAN, 50000.0, 2.0), 100000)

    def test_never_below_the_plan(self):
        self.assertEqual(measure.sized_connections(self.PLAN, 10.0, 2.0), 5000)
        self.assertEqual(measure.sized_connections(self.PLAN, 0.0, 2.0), 5000)
        self.assertEqual(measure.sized_connections(self.PLAN, 50000.0, 0), 5000)  # --quick

    def test_first_runs_assume_the_window_a_third_faster_than_its_warm_up(self):
        self.assertEqual(measure.expected_rate(1000.0), 1350.0)
        self.assertEqual(measure.expected_rate(1000.0, [2.0] * 7), 1350.0)  # 7 < 8 runs in
        self.assertEqual(measure.expected_rate(None), 0)

    def test_then_the_90th_percentile_of_the_workloads_own_speed_ups(self):
        speedups = [0.9, 1.0, 1.0, 1.1, 1.0, 0.95, 1.2, 1.3, 1.05, 1.5]
        # sorted: 0.9 0.95 1.0 1.0 1.0 1.05 1.1 1.2 1.3 1.5; index round(0.9 x 9) = 8: 1.3
        self.assertAlmostEqual(measure.expected_rate(1000.0, speedups), 1300.0)
        # never less than 5 % over the warm-up, however slow the earlier windows were
        self.assertAlmostEqual(measure.expected_rate(1000.0, [0.5] * 10), 1050.0)

    def test_never_below_the_variants_fastest_window_so_far(self):
        self.assertAlmostEqual(measure.expected_rate(1000.0, [1.0] * 10, [1500.0, 2000.0]),
                               2100.0)
        self.assertAlmostEqual(measure.expected_rate(1000.0, [1.0] * 10, [500.0]), 1050.0)

    def test_a_short_window_is_retried_for_a_tenth_more_than_the_rate_it_ran_at(self):
        # 20,000 connections in 1.6 s: 12,500/s; x 1.1 x 2 s = 27,500
        self.assertEqual(measure.resized_connections(self.PLAN, 20000, 1.6, 2.0), 27500)
        # even a window a hair short grows by at least a round of clients
        self.assertEqual(measure.resized_connections(self.PLAN, 5000, 2.5, 2.0), 5005)

    def measure_with(self, windows):
        """A fake window: the count asked for is recorded, the next window of WINDOWS given."""
        asked = []
        windows = iter(windows)

        def measure_once(n):
            asked.append(n)
            w = next(windows)
            return {"load_window_s": w, "figures": {"conn_per_s": (n or 0) / w}}
        return measure_once, asked

    def test_no_short_window_is_reported(self):
        once, asked = self.measure_with([1.6, 1.9, 2.1])
        run, tried = measure.long_enough(once, 20000, self.PLAN, 2.0)
        self.assertEqual(run["load_window_s"], 2.1)
        self.assertEqual(asked, [20000, 27500, 31845])  # 27,500 in 1.9 s x 1.1 x 2 s
        self.assertEqual([t["window_s"] for t in tried], [1.6, 1.9, 2.1])
        self.assertEqual([t["connections"] for t in tried], asked)
        self.assertAlmostEqual(tried[0]["conn_per_s"], 12500.0)

    def test_a_long_enough_first_window_is_the_only_one(self):
        once, asked = self.measure_with([2.0])
        run, tried = measure.long_enough(once, 20000, self.PLAN, 2.0)
        self.assertEqual((asked, len(tried)), ([20000], 1))

    def test_too_many_short_windows_fail_the_step(self):
        once, asked = self.measure_with([1.0, 1.5, 1.9, 5.0])
        with self.assertRaises(core.StepError) as err:
            measure.long_enough(once, 20000, self.PLAN, 2.0)
        self.assertEqual(str(err.exception), "every window was below 2.0 s after 3 tries "
                                             "(1.00 s, 1.50 s, 1.90 s)")
        self.assertEqual(len(asked), 3)

    def test_a_timed_window_is_retried_as_it_was(self):
        once, asked = self.measure_with([1.2, 2.0])
        measure.long_enough(once, None, self.PLAN, 2.0)
        self.assertEqual(asked, [None, None])

    def test_history_comes_from_the_workload_the_entry_is_in(self):
        def sized(first_rate, warm_rate, rate):
            return {"rep": 1, "figures": {"conn_per_s": rate},
                    "sizing": {"warmup_conn_per_s": warm_rate,
                               "attempts": [{"conn_per_s": first_rate}, {"conn_per_s": rate}]}}
        mine = {"runs": [sized(1200.0, 1000.0, 1300.0), {"rep": 2, "error": "x"}, {"rep": 3}]}
        other = {"runs": [sized(900.0, 1000.0, 900.0)]}
        elsewhere = {"runs": [sized(5000.0, 1000.0, 5000.0)]}
        ctx = argparse.Namespace(results={"workloads": {
            "unp": {"entries": [other, mine]}, "herd": {"entries": [elsewhere]},
            "latency": {"points": []}}})
        speedups, rates = measure.sizing_history(ctx, mine)
        self.assertEqual(sorted(speedups), [0.9, 1.2])   # first windows, this workload only
        self.assertEqual(rates, [1300.0])                # the kept windows of this variant
        self.assertEqual(measure.sizing_history(ctx, None), ([], []))


class WindowReport(unittest.TestCase):
    F = {"conn_per_s": 1000.0}

    def test_counts_the_shortest_the_short_and_the_retried(self):
        retried = {"rep": 2, "load_window_s": 2.4, "figures": self.F, "step_s": 5.0,
                   "sizing": {"attempts": [{"window_s": 1.5}, {"window_s": 2.4}]}}
        entries = [{"variant": "fork", "runs": [
            {"rep": 1, "load_window_s": 2.1, "figures": self.F, "step_s": 2.5}, retried,
            {"rep": 3, "error": "x", "step_s": 0.2}]},
            {"variant": "epoll", "runs": [{"rep": 1, "load_window_s": 1.9, "figures": self.F}]}]
        r = measure.window_report(entries, 2.0)
        self.assertEqual((r["windows"], r["shortest_s"], r["below_min"], r["retried"]),
                         (3, 1.9, ["epoll/rep1"], 1))
        self.assertAlmostEqual(r["windows_s"], 6.4)
        self.assertAlmostEqual(r["steps_s"], 7.7)
        self.assertEqual(measure.window_line(r),
                         "Windows: 3 measured, the shortest 1.90 s; **1 below 2.0 s: "
                         "epoll/rep1**; 1 repetition(s) measured again with a larger count "
                         "after a short window (1.5 s of windows discarded); 6 s of windows "
                         "in 8 s of steps.")

    def test_none_short(self):
        r = measure.window_report([{"variant": "fork", "runs": [
            {"rep": 1, "load_window_s": 2.0, "figures": self.F}]}], 2.0)
        self.assertEqual(measure.window_line(r),
                         "Windows: 1 measured, the shortest 2.00 s, none below 2.0 s.")
        self.assertEqual(measure.window_line(measure.window_report([], 2.0)),
                         "Windows: none measured.")


class Cdf(unittest.TestCase):
    def test_pooled_over_runs(self):
        runs = [{"latency_buckets_ns": [[0, 1000, 1], [1000, 2000, 1]]},
                {"latency_buckets_ns": [[1000, 2000, 2]]}, {}]
        self.assertEqual(measure.cdf_points(runs), [[1.0, 0.25], [2.0, 1.0]])

    def test_empty(self):
        self.assertEqual(measure.cdf_points([{}]), [])

    def test_thinned_but_ends_at_one_with_the_tail_kept(self):
        buckets = [[k * 1000, (k + 1) * 1000, 1] for k in range(1000)]
        pts = measure.cdf_points([{"latency_buckets_ns": buckets}], max_points=50)
        self.assertLess(len(pts), 70)
        self.assertEqual(pts[-1], [1000.0, 1.0])
        self.assertEqual([p for p in pts if p[1] > 0.99], [[float(k), k / 1000] for k in range(991, 1001)])
        self.assertEqual(pts, sorted(pts))


BIN_DIR = os.environ.get("TCPLAB_BIN_DIR")


@unittest.skipUnless(BIN_DIR, "TCPLAB_BIN_DIR (where tcplab-server is) is not set; ctest sets it")
class DesignSets(unittest.TestCase):
    """The sets the workloads run, derived from the flags of `tcplab-server --list --json`, are
    the ones the old hand-written lists named (HERD_DESIGNS, FAULT_DESIGNS, PROCESS_DESIGNS,
    CLASSIC, NEW...)."""

    @classmethod
    def setUpClass(cls):
        cls.table = designs.load(os.path.join(BIN_DIR, "tcplab-server"))

    def names(self, fn):
        return designs.names(fn(self.table))

    def test_sets(self):
        self.assertEqual(self.names(designs.herd),
                         ["prefork", "prefork-fcntl", "prefork-mutex", "prethread-mutex"])
        self.assertEqual(self.names(designs.chapter30)[0], "iterative")
        self.assertEqual(len(self.names(designs.chapter30)), 9)
        self.assertEqual(self.names(designs.processes),
                         ["fork", "prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass"])
        self.assertEqual(self.names(designs.classic),
                         ["prefork", "prefork-fdpass", "prethread-dispatch"])
        self.assertEqual(self.names(designs.event_loops),
                         ["epoll", "prefork-reuseport", "prefork-epoll-exclusive",
                          "loop-per-thread", "uring", "uring-msgring"])
        self.assertEqual(self.names(designs.io_uring), ["uring", "uring-msgring"])
        self.assertEqual(self.names(designs.dispatchers), ["prefork-fdpass", "prethread-dispatch"])
        self.assertEqual(self.names(designs.pooled_event_loops),
                         ["prefork-reuseport", "prefork-epoll-exclusive", "loop-per-thread",
                          "uring-msgring"])
        self.assertEqual(self.names(designs.thread_per_connection), ["thread"])
        self.assertEqual(designs.baseline(self.table)["name"], "iterative")
        self.assertEqual(self.names(designs.shared_listener_loops), ["prefork-epoll-exclusive"])

    def test_herd_sweeps_the_exclusive_pool_and_its_positive_control(self):
        from tcplab_suite.workloads import herd
        ctx = argparse.Namespace(designs=self.table)
        self.assertEqual(herd.extra(ctx), [
            ("prefork-epoll-exclusive", "prefork-epoll-exclusive", ()),
            ("prefork-epoll-exclusive", "prefork-epoll-exclusive/no-exclusive",
             ("--no-exclusive",))])

    def test_variants_one_per_dispatch_policy(self):
        v = designs.variants(self.table)
        self.assertEqual(len(v), 18)
        self.assertIn(("uring-msgring", "round-robin"), v)
        self.assertIn(("prefork-fdpass", "round-robin"), v)
        self.assertIn(("epoll", None), v)
        fd = next(d for d in self.table if d["name"] == "prefork-fdpass")
        self.assertEqual(designs.first_variant(fd), "prefork-fdpass/least-loaded")

    def test_every_row_says_whether_it_can_run_here(self):
        for d in self.table:
            self.assertIn("available", d)
            self.assertEqual(d["unavailable_reason"] is None, d["available"], d["name"])
            self.assertTrue(d["available"] or d["io_uring"], d["name"])

    def test_split_available_skips_an_unavailable_design_with_its_reason(self):
        rows = [{"name": "epoll", "available": True, "unavailable_reason": None},
                {"name": "uring", "available": False,
                 "unavailable_reason": "io_uring is disabled (kernel.io_uring_disabled=2)"},
                {"name": "old"}]  # a table from before the key: available
        runnable, skipped = designs.split_available(rows)
        self.assertEqual(designs.names(runnable), ["epoll", "old"])
        self.assertEqual(skipped, {"uring": "io_uring is disabled (kernel.io_uring_disabled=2)"})


class HerdSweep(unittest.TestCase):
    """run_herd's entries and what each repetition is started with, one_run replaced by a
    recorder: the chapter-30 pools, then each EXTRA (design, variant, options) at every pool
    size, the options handed to the server of every repetition."""

    ROWS = [{"name": "prefork", "unp": "30.6", "pooled": True, "accepts": "workers",
             "event_loop": False, "reuseport": False},
            {"name": "prefork-epoll-exclusive", "unp": None, "pooled": True,
             "accepts": "workers", "event_loop": True, "reuseport": False},
            {"name": "prefork-reuseport", "unp": None, "pooled": True, "accepts": "workers",
             "event_loop": True, "reuseport": True}]

    def test_the_control_is_swept_beside_the_pools_with_its_option(self):
        from tcplab_suite.workloads import herd
        calls = []
        saved = table.one_run
        table.one_run = lambda ctx, e, rep, label, what, plan, extra=(): calls.append(
            (e["variant"], e["workers"], rep, label, tuple(extra)))
        self.addCleanup(setattr, table, "one_run", saved)
        ctx = argparse.Namespace(designs=self.ROWS, repeat=2, results={"workloads": {}},
                                 quick=True, args=argparse.Namespace(repeat_given=True))
        ctx.workload = lambda name, **fields: ctx.results["workloads"].setdefault(name, fields)
        plan = {"pool_sizes": [15, 120], "clients": 5}
        self.assertEqual(herd.steps(argparse.Namespace(
            designs=self.ROWS, repeat=2, plan=lambda plans: plan,
            args=argparse.Namespace(repeat_given=True))), 3 * 2 * 2)
        table.run_herd(ctx, "herd", plan, herd.extra(ctx))
        control = "prefork-epoll-exclusive/no-exclusive"
        self.assertEqual([(v, w) for v, w, rep, _, _ in calls if rep == 1],
                         [("prefork", 15), ("prefork", 120),
                          ("prefork-epoll-exclusive", 15), ("prefork-epoll-exclusive", 120),
                          (control, 15), (control, 120)])
        self.assertEqual({x for v, _, _, _, x in calls if v == control}, {("--no-exclusive",)})
        self.assertEqual({x for v, _, _, _, x in calls if v != control}, {()})
        self.assertIn(f"herd/{control}/w15/rep2", [label for *_, label, _ in calls])
        entries = ctx.results["workloads"]["herd"]["entries"]
        self.assertEqual([e["design"] for e in entries if e["variant"] == control],
                         ["prefork-epoll-exclusive"] * 2)


class CpuList(unittest.TestCase):
    def test_forms(self):
        self.assertEqual(procfs.cpu_list("0"), [0])
        self.assertEqual(procfs.cpu_list("3,0-1"), [0, 1, 3])
        self.assertEqual(core.pin_text([0, 1, 3]), "0,1,3")

    def test_bad(self):
        for bad in ("", "a", "1-", "-1", "0,,1"):
            with self.assertRaises(ValueError, msg=bad):
                procfs.cpu_list(bad)


class StepPolicy(unittest.TestCase):
    """core.Step records the suite's expected failures and goes on; a bug propagates with its
    traceback and is recorded nowhere."""

    class Ctx:
        def __init__(self):
            self.step, self.total_steps, self.errors = 0, 3, []

        fail = core.Context.fail

    def run_step(self, ctx, exc):
        record = {"figures": {"x": 1}}
        with contextlib.redirect_stdout(io.StringIO()):
            with core.Step(ctx, "unp/prefork", "prefork", record):
                raise exc
        return record

    def test_expected_failures_are_recorded(self):
        for exc in (core.StepError("server did not start"), OSError(5, "EIO"),
                    subprocess.TimeoutExpired(["tcplab-load"], 1),
                    json.JSONDecodeError("Expecting value", "", 0)):
            ctx = self.Ctx()
            record = self.run_step(ctx, exc)
            self.assertEqual(len(ctx.errors), 1, exc)
            self.assertEqual(record["error"], ctx.errors[0]["message"])
            self.assertNotIn("figures", record)

    def test_a_bug_propagates_unrecorded(self):
        for exc in (KeyError("cpu_user_s"), ValueError("bad figure"), TypeError("None")):
            ctx = self.Ctx()
            with self.assertRaises(type(exc)) as caught:
                self.run_step(ctx, exc)
            self.assertIs(caught.exception, exc)
            self.assertEqual(ctx.errors, [])


class StopWhileStarting(unittest.TestCase):
    """A Ctrl-C while a server starts: the suite waits until the server catches SIGTERM before
    it sends one, so that it ends cleanly with its summary (exit 0), not by SIGTERM's default
    action (-15) as it did when the signal came before its handlers."""

    # Installs its handler 1 s after it starts, as a server does just before it listens (1 s:
    # the test must look before that even on a loaded machine).
    SERVER = ("import signal, sys, time; time.sleep(1.0); "
              "signal.signal(signal.SIGTERM, lambda *a: sys.exit(0)); "
              "print('listening on 127.0.0.1:1', flush=True); time.sleep(30)")

    def test_catches_sees_the_handler_once_installed(self):
        proc = subprocess.Popen([sys.executable, "-c", self.SERVER], stdout=subprocess.PIPE)
        try:
            self.assertFalse(procfs.catches(proc.pid, signal.SIGTERM))
            self.assertEqual(proc.stdout.readline(), b"listening on 127.0.0.1:1\n")
            self.assertTrue(procfs.catches(proc.pid, signal.SIGTERM))
            self.assertFalse(procfs.catches(proc.pid, signal.SIGUSR2))
        finally:
            proc.kill()
            proc.wait()
            proc.stdout.close()
        self.assertFalse(procfs.catches(proc.pid, signal.SIGTERM))  # gone

    def test_a_server_stopped_while_it_starts_ends_by_its_own_handler(self):
        server = core.Server.__new__(core.Server)  # no context needed: only stop's state
        server.proc = subprocess.Popen([sys.executable, "-c", self.SERVER],
                                       stdout=subprocess.PIPE)
        server.exit = None
        server._stderr = open(os.devnull, "w")
        server.stop_once_started()
        self.assertEqual(server.exit, 0)


class NamespaceRemoval(unittest.TestCase):
    """netns._remove_namespace, without root: what it does to the processes still inside. They
    get SIGTERM first (a tcplab-server then stops as anywhere: its grace period, its summary),
    and SIGKILL only those still there after TERM_WAIT_S."""

    def run_removal(self, stubborn):
        inside = {101, 102}
        sent = []

        def kill(pid, sig):
            sent.append((pid, sig))
            if sig == signal.SIGKILL or pid not in stubborn:
                inside.discard(pid)

        def run(cmd, check=True, input=None):
            return subprocess.CompletedProcess(cmd, 0, "", "")
        with mock.patch.object(netns, "_pids_in", lambda ip, name: sorted(inside)), \
                mock.patch.object(netns.os, "kill", kill), \
                mock.patch.object(netns, "_run", run), \
                mock.patch.object(netns, "TERM_WAIT_S", 0.1):
            problems = netns._remove_namespace("ip", "tcplab-1-srv")
        return sent, problems

    def test_sigterm_is_enough_for_a_process_that_takes_it(self):
        sent, problems = self.run_removal(stubborn=set())
        self.assertEqual(sent, [(101, signal.SIGTERM), (102, signal.SIGTERM)])
        self.assertEqual(problems, [])

    def test_sigkill_only_for_what_stays(self):
        sent, problems = self.run_removal(stubborn={102})
        self.assertEqual(sent, [(101, signal.SIGTERM), (102, signal.SIGTERM),
                                (102, signal.SIGKILL)])
        self.assertEqual(problems, [])


class WhereThingsRun(unittest.TestCase):
    """The Context decides the server's address and prefix and each generator's, for every
    workload; a TwoHosts that is not up is enough to build the command lines."""

    def context(self, net=None):
        tmp = tempfile.TemporaryDirectory(prefix="suite_helpers-")
        self.addCleanup(tmp.cleanup)
        args = argparse.Namespace(quick=True, repeat=1, bin="/b", workers=None,
                                  load_threads=None, server_cpus=[0], load_cpus=[0])
        return core.Context(args, tmp.name, tmp.name, [], {"errors": []}, net)

    def test_loopback(self):
        ctx = self.context()
        self.assertEqual(core.load_command(ctx, 9, 5, 1, 4000), [
            "taskset", "-c", "0", "/b/tcplab-load", "--host", "127.0.0.1", "--port", "9",
            "--clients", "5", "--requests-per-conn", "1", "--bytes", "4000", "--allow-errors",
            "--cpu", "0"])
        cmd = core.Server(ctx, "epoll", 2).cmd
        self.assertEqual(cmd[:5], ["taskset", "-c", "0", "/b/tcplab-server", "epoll"])
        self.assertEqual(cmd[5:7], ["--host", "127.0.0.1"])

    def test_veth_two_load_hosts(self):
        net = netns.TwoHosts(load_hosts=2, server_cpus=[0], load_cpus=[[0]])
        ctx = self.context(net)
        ip = net.prefix(net.server)[0]
        self.assertEqual([g.name for g in ctx.generators], ["gen1", "gen2"])
        cmd = core.load_command(ctx, 9, 2, 1, 100, connections=10, generator=ctx.generators[1])
        self.assertEqual(cmd[:7], [ip, "netns", "exec", f"tcplab-{os.getpid()}-gen2",
                                   "taskset", "-c", "0"])
        self.assertEqual(cmd[7:10], ["/b/tcplab-load", "--host", netns.SERVER_ADDRESS])
        i = cmd.index("--source-base")
        self.assertEqual(cmd[i:i + 4], ["--source-base", "198.18.2.1", "--source-addresses",
                                        "16"])
        self.assertEqual(cmd[-2:], ["--cpu", "0"])
        server = core.Server(ctx, "epoll", 2).cmd
        self.assertEqual(server[:7], [ip, "netns", "exec", f"tcplab-{os.getpid()}-srv",
                                      "taskset", "-c", "0"])
        self.assertEqual(server[8:10], ["epoll", "--host"])
        self.assertEqual(server[10], netns.SERVER_ADDRESS)

    def test_split(self):
        self.assertEqual(core.split(5, 2), [3, 2])
        self.assertEqual(core.split(4, 4), [1, 1, 1, 1])
        self.assertEqual(core.split(7, 1), [7])

    def test_each_generator_its_share_of_the_load_cpus(self):
        path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench",
                            "suite.py")
        spec = importlib.util.spec_from_file_location("suite_main", path)
        suite = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(suite)
        self.assertEqual(suite.load_cpu_lists([1], 2), [[1]])
        self.assertEqual(suite.load_cpu_lists([1, 2, 3], 2), [[1, 2], [3]])
        self.assertEqual(suite.load_cpu_lists([1, 2, 3, 4], 4), [[1], [2], [3], [4]])


if __name__ == "__main__":
    unittest.main()
