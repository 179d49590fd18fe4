"""The quiet-machine guard on synthetic /proc/stat deltas: the foreign CPU of one side
(procstat.foreign_cpu), a window's noise record over both sides (measure.noise_record), the
re-measuring of a noisy window (measure.guarded) and the run's bookkeeping (core.Context),
and the summary's line."""

import argparse
import os
import sys
import tempfile
import time
import types
import unittest
import unittest.mock

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
from tcplab_suite import core, measure, procstat, summary  # noqa: E402


def stat(cpus, hz=250):
    """A read_stat result from {cpu: {field: ticks}} (USER_HZ 100, CONFIG_HZ 250)."""
    full = {c: {f: fields.get(f, 0) for f in procstat.FIELDS} for c, fields in cpus.items()}
    return {"time": 0.0, "user_hz": 100, "hz": hz, "cpus": full}


ZERO = stat({0: {}, 1: {}})


def window(server, load):
    """Two reads 2 s apart (200 USER_HZ ticks a CPU): CPU 0 the server's, CPU 1 the load's;
    SERVER and LOAD give the busy ticks by field, the rest idle."""
    def cpu(busy):
        return dict(busy, idle=200 - sum(busy.values()))
    return ZERO, stat({0: cpu(server), 1: cpu(load)})


class ForeignCpu(unittest.TestCase):
    def test_busy_less_own_less_softirq_and_irq(self):
        a, b = window({"user": 60, "system": 40, "softirq": 20, "irq": 2, "steal": 3}, {})
        f = procstat.foreign_cpu(a, b, [0], own_s=0.9)
        self.assertAlmostEqual(f["window_s"], 2.0)
        self.assertAlmostEqual(f["busy_s"], 1.25)
        self.assertAlmostEqual(f["softirq_s"], 0.2)
        self.assertAlmostEqual(f["steal_s"], 0.03)
        # 1.25 busy - 0.9 own - 0.2 softirq - 0.02 irq: 0.13 s, the steal included
        self.assertAlmostEqual(f["foreign_s"], 0.13)
        self.assertAlmostEqual(f["share"], 0.065)

    def test_guest_is_not_counted_twice(self):
        a, b = window({"user": 100, "guest": 100}, {})
        self.assertAlmostEqual(procstat.foreign_cpu(a, b, [0], own_s=1.0)["foreign_s"], 0.0)

    def test_the_error_is_the_tick_samplings_bound(self):
        a, b = window({"user": 100}, {})
        f = procstat.foreign_cpu(a, b, [0], own_s=1.0)
        # 2 s at CONFIG_HZ 250: 500 samples, 1.96 * 0.5 / sqrt(500) + 1 / 200 ticks
        self.assertAlmostEqual(f["error"], 0.98 / 500 ** 0.5 + 0.005)

    def test_a_short_window_has_a_wider_error(self):
        a = ZERO
        b = stat({0: {"user": 10, "idle": 10}, 1: {"idle": 20}})
        self.assertAlmostEqual(procstat.foreign_cpu(a, b, [0], 0.1)["error"], 0.98 / 50 ** 0.5 + 0.05)

    def test_noisy_only_beyond_the_error(self):
        self.assertFalse(procstat.noisy({"share": 0.09, "error": 0.05}, 0.05))
        self.assertTrue(procstat.noisy({"share": 0.11, "error": 0.05}, 0.05))


class NoiseRecord(unittest.TestCase):
    SIDES = {"server": [0], "load": [1]}

    def test_a_quiet_window(self):
        # the server used 1.2 s of CPU 0 (plus 0.1 s of softirq), the generator 1.5 s of CPU 1
        a, b = window({"user": 50, "system": 70, "softirq": 10}, {"user": 100, "system": 50})
        n = measure.noise_record(a, b, self.SIDES, {"server": 1.2, "load": 1.5}, 0.05,
                                 {"loadavg": [0.1, 0.2, 0.3], "running": 1})
        self.assertFalse(n["noisy"])
        self.assertAlmostEqual(n["server"]["foreign_s"], 0.0)
        self.assertAlmostEqual(n["load"]["foreign_s"], 0.0)
        self.assertEqual(n["loadavg"], [0.1, 0.2, 0.3])

    def test_a_busy_loop_on_the_servers_cpu(self):
        # `yes` took half of CPU 0 beside a server that got 0.9 s of it
        a, b = window({"user": 150, "system": 50}, {"user": 100, "system": 50})
        n = measure.noise_record(a, b, self.SIDES, {"server": 0.9, "load": 1.5}, 0.05)
        self.assertTrue(n["noisy"])
        self.assertAlmostEqual(n["server"]["share"], 0.55)
        self.assertAlmostEqual(n["share"], 0.55)
        self.assertAlmostEqual(n["margin"], 0.55 - n["server"]["error"], places=3)

    def test_other_work_on_the_generators_cpu_counts_too(self):
        a, b = window({"user": 100}, {"user": 200})
        n = measure.noise_record(a, b, self.SIDES, {"server": 1.0, "load": 1.0}, 0.05)
        self.assertTrue(n["noisy"])
        self.assertAlmostEqual(n["load"]["share"], 0.5)

    def test_within_the_sampling_error_is_quiet(self):
        # 8 ticks (80 ms, 4 % of the window) unaccounted for: under 5 % + the error
        a, b = window({"user": 108}, {"user": 100})
        n = measure.noise_record(a, b, self.SIDES, {"server": 1.0, "load": 1.0}, 0.05)
        self.assertAlmostEqual(n["server"]["share"], 0.04)
        self.assertFalse(n["noisy"])
        # the same share counts with a threshold of 0
        self.assertTrue(measure.noise_record(a, b, self.SIDES, {"server": 0.7, "load": 1.0},
                                             0.0)["noisy"])

    def test_unpinned_or_shared_cpus_cannot_be_judged(self):
        a, b = window({}, {})
        n = measure.noise_record(a, b, {"server": [], "load": []}, {}, 0.05)
        self.assertTrue(n["noisy"])
        self.assertIn("not pinned", n["error"])
        n = measure.noise_record(a, b, {"server": [0], "load": [0, 1]}, {}, 0.05)
        self.assertIn("share CPUs", n["error"])


def context(test, quick=False, threshold=None):
    """A real core.Context (its results folder in a temporary directory)."""
    tmp = tempfile.TemporaryDirectory()
    test.addCleanup(tmp.cleanup)
    args = argparse.Namespace(quick=quick, repeat=1, bin=tmp.name, server_cpus=[0],
                              load_cpus=[1], quiet_threshold=threshold)
    return core.Context(args, tmp.name, tmp.name, [], {"errors": [], "workloads": {}})


class Guarded(unittest.TestCase):
    def windows(self, *noisy):
        """A measure() that returns records with these noisy flags in turn."""
        seq = iter(noisy)
        calls = []

        def measure_once():
            n = next(seq)
            calls.append(n)
            return {"noise": {"noisy": n, "share": 0.5 if n else 0.0}}
        return measure_once, calls

    def test_a_quiet_window_is_kept(self):
        ctx = context(self)
        m, calls = self.windows(False)
        rec = measure.guarded(ctx, "w", m)
        self.assertEqual((rec["quiet"], len(calls)), (True, 1))
        self.assertTrue(ctx.results["quiet"])
        self.assertEqual(ctx.results["quiet_guard"]["windows_total"], 1)

    def test_a_noisy_window_is_measured_again_until_quiet(self):
        ctx = context(self)
        m, calls = self.windows(True, False)
        rec = measure.guarded(ctx, "w", m)
        self.assertEqual((rec["quiet"], len(calls)), (True, 2))
        self.assertEqual(rec["noise"]["tries"], [0.5, 0.0])
        self.assertTrue(ctx.results["quiet"])
        g = ctx.results["quiet_guard"]
        self.assertEqual((g["windows_noisy"], g["windows_total"]), (1, 2))

    def test_three_windows_at_most_then_the_run_is_not_quiet(self):
        ctx = context(self)
        m, calls = self.windows(True, True, True, True)
        rec = measure.guarded(ctx, "unp/x/rep1", m)
        self.assertEqual(len(calls), 1 + measure.QUIET_RETRIES)
        self.assertFalse(rec["quiet"])
        self.assertFalse(ctx.results["quiet"])
        self.assertEqual(ctx.results["quiet_guard"]["kept_noisy"], ["unp/x/rep1"])

    def test_quick_measures_again_once(self):
        ctx = context(self, quick=True)
        m, calls = self.windows(True, True, True)
        self.assertFalse(measure.guarded(ctx, "w", m)["quiet"])
        self.assertEqual(len(calls), 2)

    def test_a_threshold_of_100_percent_never_measures_again_nor_calls_a_run_quiet(self):
        ctx = context(self, threshold=1.0)
        self.assertFalse(ctx.results["quiet"])
        m, calls = self.windows(False, True)
        measure.guarded(ctx, "w", m)
        measure.guarded(ctx, "w", m)
        self.assertEqual(len(calls), 2)
        self.assertFalse(ctx.results["quiet"])

    def test_no_retries_keeps_the_noisy_window_and_counts_it(self):
        ctx = context(self)
        m, calls = self.windows(True, False)
        self.assertFalse(measure.guarded(ctx, "stall/x", m, retries=0)["quiet"])
        self.assertEqual(len(calls), 1)
        self.assertEqual(ctx.results["quiet_guard"]["kept_noisy"], ["stall/x"])

    def test_a_window_that_cannot_be_judged_is_not_measured_again(self):
        ctx = context(self)
        calls = []

        def m():
            calls.append(1)
            return {"noise": {"noisy": True, "error": "not pinned"}}
        self.assertFalse(measure.guarded(ctx, "w", m)["quiet"])
        self.assertEqual(len(calls), 1)
        self.assertFalse(ctx.results["quiet"])


class Window(unittest.TestCase):
    """measure.window, the one window, around a stand-in server on this machine's /proc."""

    class Srv:
        def __init__(self):
            self.calls, self.cpu = [], 1.0

        def snapshot(self, kind="plain"):
            self.calls.append(kind)
            self.cpu += 0.25
            return {"cpu_user_s": self.cpu, "cpu_sys_s": 0.5, "connections": len(self.calls)}

        def quiet_snapshot(self):
            return self.snapshot("quiet")

    def test_snapshots_around_the_load_and_the_proc_stat_records(self):
        if len(os.sched_getaffinity(0)) < 2 or not {0, 1} <= os.sched_getaffinity(0):
            self.skipTest("needs CPUs 0 and 1")
        ctx = context(self)
        for quiet, kind in ((True, "quiet"), (False, "plain")):
            srv = self.Srv()

            def load():
                srv.calls.append("load")
                time.sleep(0.1)
                return {"window_s": 0.1}, "raw/x.load.json"
            w = measure.window(ctx, srv, load, quiet=quiet)
            self.assertEqual(srv.calls, [kind, "load", kind])
            self.assertEqual((w["load"], w["load_file"]), ({"window_s": 0.1}, "raw/x.load.json"))
            self.assertAlmostEqual(w["server"]["cpu_user_s"], 0.25)
            self.assertEqual(w["server"]["connections"], 2)
            self.assertEqual(w["cpu"]["server"]["cpus"], [0])
            self.assertEqual(w["cpu"]["load"]["cpus"], [1])
            self.assertIn("share", w["noise"]["server"])
            self.assertGreater(w["probe"].stat_b["time"], w["probe"].stat_a["time"])


class ProgressNote(unittest.TestCase):
    def test_a_window_measured_again_says_so(self):
        self.assertEqual(measure.noise_note({"quiet": True, "noise": {"tries": [0.3, 0.01]}}),
                         " [quiet after 2 windows: other work took 30, 1 % of the pinned CPUs]")
        self.assertIn("NOT QUIET", measure.noise_note({"quiet": False,
                                                       "noise": {"tries": [0.3, 0.4]}}))
        self.assertEqual(measure.noise_note({"quiet": True, "noise": {}}), "")

    def test_a_noisy_window_kept_without_retries_says_its_share(self):
        self.assertEqual(measure.noise_note({"quiet": False,
                                             "noise": {"noisy": True, "share": 0.5}}),
                         " [NOT QUIET after 1 windows: other work took 50 % of the pinned CPUs]")


class StallProbe(unittest.TestCase):
    """The guard's probe of a host that pauses the machine (measure.stall_probe), on this
    process's own naps and on naps one of which a pause stretches by 10 ms."""

    def test_a_real_probe_of_this_process(self):
        rec, = measure.stall_probe([None], probe_s=0.05)
        self.assertIsNone(rec["cpu"])
        self.assertGreater(rec["wakeups"], 5)
        self.assertGreaterEqual(rec["late_share"], 0.0)
        self.assertLessEqual(rec["p99_us"], rec["max_us"])

    def test_each_cpu_is_probed_by_a_thread_pinned_to_it(self):
        before = os.sched_getaffinity(0)
        cpus = sorted(before)[:2]
        seen = []
        real_sleep = measure.time.sleep

        def sleep(s):
            seen.append(os.sched_getaffinity(0))
            real_sleep(s)
        with unittest.mock.patch.object(measure.time, "sleep", sleep):
            recs = measure.stall_probe(cpus, probe_s=0.02)
        self.assertEqual([r["cpu"] for r in recs], cpus)
        self.assertEqual({frozenset(a) for a in seen}, {frozenset({c}) for c in cpus})
        self.assertEqual(os.sched_getaffinity(0), before)  # the caller's thread is not pinned

    def test_a_pause_counts_only_past_the_late_after(self):
        # A clock of our own: each nap takes exactly its time, the third 10 ms more.
        now = [0.0]
        naps = []

        def sleep(s):
            naps.append(s)
            now[0] += s + (0.010 if len(naps) == 3 else 0.0)
        clock = types.SimpleNamespace(perf_counter=lambda: now[0], sleep=sleep)
        with unittest.mock.patch.object(measure, "time", clock):
            rec, = measure.stall_probe([None], probe_s=0.1)
        # 100 ms of naps: 89 of 1 ms and one of 11; 9 ms of it past the allowed 1 ms
        self.assertEqual(rec["wakeups"], 90)
        self.assertAlmostEqual(rec["late_share"], 0.09)
        self.assertAlmostEqual(rec["max_us"], 10000.0)
        self.assertEqual(rec["p99_us"], 0.0)
        self.assertEqual(measure.stalling([rec]), [None])
        self.assertEqual(measure.stalling([dict(rec, late_share=0.01)]), [])

    def test_a_stalling_cpu_makes_the_run_not_quiet_and_is_recorded(self):
        ctx = context(self)
        probe = [{"cpu": 0, "wakeups": 900, "late_share": 0.002, "p99_us": 80, "max_us": 900},
                 {"cpu": 1, "wakeups": 800, "late_share": 0.022, "p99_us": 3000,
                  "max_us": 4600}]
        with unittest.mock.patch.object(measure, "stall_probe", lambda cpus: probe):
            ctx.check_stalls("unp")
        self.assertIs(ctx.results["quiet"], False)
        rec, = ctx.results["quiet_guard"]["stall_probes"]
        self.assertEqual(rec, {"when": "unp", "cpus": probe, "stalling": [1]})

    def test_no_stall_keeps_the_run_quiet_and_quick_runs_are_not_probed(self):
        ctx = context(self)
        calm = [{"cpu": c, "wakeups": 900, "late_share": 0.0, "p99_us": 80, "max_us": 300}
                for c in (0, 1)]
        calls = []

        def probe(cpus):
            calls.append(cpus)
            return calm
        with unittest.mock.patch.object(measure, "stall_probe", probe):
            ctx.check_stalls("end")
            self.assertIsNone(context(self, quick=True).check_stalls("end"))
            self.assertIsNone(context(self, threshold=1.0).check_stalls("end"))
        self.assertEqual(calls, [[0, 1]])  # the server's CPU and the load's, once
        self.assertIs(ctx.results["quiet"], True)


class SummaryLine(unittest.TestCase):
    def results(self, quiet, kept=0):
        return {"quiet": quiet, "quiet_guard": {"threshold": 0.05, "windows_noisy": 4,
                                                "windows_total": 40, "windows_kept_noisy": kept}}

    def test_not_quiet_is_said_first_and_plainly(self):
        line, = summary.quiet_line(self.results(False, kept=2))
        self.assertTrue(line.startswith("- **not quiet"))
        self.assertIn("2 window(s)", line)
        self.assertIn("no verdict", line)

    def test_quiet(self):
        line, = summary.quiet_line(self.results(True))
        self.assertIn("4 of 40 windows", line)
        self.assertIn("measured again", line)

    def test_a_threshold_of_100_percent_is_not_a_check(self):
        r = self.results(True)
        r["quiet_guard"]["threshold"] = 1.0
        line, = summary.quiet_line(r)
        self.assertIn("not checked", line)

    def test_results_from_before_the_guard_have_no_line(self):
        self.assertEqual(summary.quiet_line({}), [])

    def probes(self, *shares):
        return [{"when": "unp", "stalling": [0] if x > 0.01 else [],
                 "cpus": [{"cpu": 0, "late_share": x}]} for x in shares]

    def test_a_stalling_machine_is_said_after_the_windows(self):
        r = self.results(False)
        r["quiet_guard"]["stall_probes"] = self.probes(0.001, 0.022)
        first, second = summary.quiet_line(r)
        self.assertTrue(first.startswith("- **not quiet**"), first)
        self.assertTrue(second.startswith("- **the machine stalls: at most 2.2 % of 2 probes'"),
                        second)
        self.assertIn("no verdict", second)

    def test_no_stalls_are_said_too(self):
        r = self.results(True)
        r["quiet_guard"]["stall_probes"] = self.probes(0.001)
        first, second = summary.quiet_line(r)
        self.assertIn("4 of 40 windows", first)
        self.assertTrue(second.startswith("- no stalls: at most 0.1 % of 1 probes'"), second)


if __name__ == "__main__":
    unittest.main()


class ShortWindow(unittest.TestCase):
    """A window shorter than a tick (--quick's HTTP windows in beyond) has no /proc/stat split:
    cpu_accounting says so instead of raising (which ended the whole suite run)."""

    def test_no_ticks_is_no_split_not_an_exception(self):
        import argparse
        from tcplab_suite import measure, procstat
        read = {"time": 1.0, "cpus": {c: {f: 100 for f in procstat.FIELDS} for c in (0, 1)}}
        later = dict(read, time=1.017)
        ctx = argparse.Namespace(server_cpus=[0], load_cpus=[1])
        cpu = measure.cpu_accounting(ctx, read, later, 0.0)
        self.assertIn("no ticks", cpu["error"])
