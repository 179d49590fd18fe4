#!/usr/bin/python3
"""End-to-end test of bench/suite.py: a --quick run of two designs into a temp folder, then
the documented results.json keys, every chart as PNG and SVG, and each design in summary.md;
(SuitePartsQuick) a --quick run of the faults and beyond workloads on two designs; and
(SuiteLabSlices) the default run's lab slices of syscalls, faults and slowhttp, which
bench/lab.py check must find its questions 4, 11, 12 and 13 in.

    tests/suite_test.py BIN_DIR [SuiteQuick|SuitePartsQuick|SuiteLabSlices|...]
                                         (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)
"""

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tcplab_suite.workloads import REGISTRY, defaults, lab_slices  # noqa: E402  (after the path)
from suite_support import processes_mentioning  # noqa: E402  (tests/, this file's folder)

DEFAULT_WORKLOADS = defaults(quick=True)   # what a --quick run without --workloads runs
DESIGNS = ("iterative", "prefork-fdpass")
VARIANTS = ("iterative", "prefork-fdpass/least-loaded", "prefork-fdpass/round-robin",
            "prefork-fdpass/first-free")
CHARTS = ("1-cpu-per-connection", "2-process-control", "3-latency",
          "4-connections-per-worker", "7-context-switches")
FIGURES = ("conn_per_s", "req_per_s", "cpu_user_us_per_conn", "cpu_sys_us_per_conn",
           "cpu_us_per_conn", "cpu_us_per_req", "ctxt_per_conn", "vol_ctxt_per_conn",
           "invol_ctxt_per_conn", "p50_us", "p99_us", "p99_9_us", "load_errors",
           "server_failures", "load_cpu_us_per_req")


SUMMARY_KEYS = {"median", "ci95", "n", "min", "max", "method"}


def run_suite(cls, *args, quick=True):
    """Runs the suite into a temp folder; sets cls.proc, cls.out and cls.results."""
    cls.tmp = tempfile.TemporaryDirectory(prefix="suite_test-")
    cls.out = os.path.join(cls.tmp.name, "results")
    cls.proc = subprocess.run(
        ["/usr/bin/python3", os.path.join(ROOT, "bench", "suite.py")] + ["--quick"] * quick +
        [*args, "--out", cls.out, "--bin", BIN_DIR],
        capture_output=True, text=True, timeout=300)  # ~30 s on a quiet machine
    cls.results = None
    path = os.path.join(cls.out, "results.json")
    if os.path.exists(path):
        with open(path) as f:
            cls.results = json.load(f)


class SuiteQuick(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        run_suite(cls, "--only", ",".join(DESIGNS))

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exits_zero_and_reports_progress(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertRegex(self.proc.stdout, r"\[\s*1/\d+\] iterative\s+unp\s+rep 1/1 \.\.\. [\d,]+ conn/s")
        self.assertIn("--quick: the figures are indicative only", self.proc.stdout)
        announced = re.search(r"\((\d+) steps over loopback;", self.proc.stdout)
        self.assertIsNotNone(announced, self.proc.stdout[:300])
        self.assertEqual(self.proc.stdout.count("\n["), int(announced.group(1)))

    def test_results_have_the_documented_keys(self):
        r = self.results
        self.assertIsNotNone(r, "no results.json")
        for key in ("schema", "started", "finished", "duration_s", "interrupted", "command",
                    "command_line", "machine", "pinning", "config", "designs", "workloads",
                    "micro", "errors", "charts"):
            self.assertIn(key, r)
        self.assertEqual(r["schema"], "tcplab-suite/2")
        self.assertFalse(r["interrupted"])
        self.assertEqual(r["errors"], [])
        for key in ("cpu_model", "kernel", "cpus"):
            self.assertIn(key, r["machine"])
        self.assertEqual([d["name"] for d in r["designs"]], list(DESIGNS))
        self.assertTrue(all(d["description"] for d in r["designs"]))
        self.assertEqual(r["config"]["workloads"], DEFAULT_WORKLOADS)
        self.assertLessEqual({"unp", "keepalive", "micro"}, set(DEFAULT_WORKLOADS))
        # --quick leaves the lab's slices out (they have no quick form)
        self.assertEqual(r["config"]["lab_slices"], [])
        self.assertFalse(set(lab_slices()) & set(r["workloads"]))
        self.assertEqual(r["pinning"]["server_cpus"], [0])
        self.assertEqual(r["pinning"]["load_cpus"], [1])

        unp = r["workloads"]["unp"]
        self.assertEqual(unp["kind"], "table")
        self.assertEqual([e["variant"] for e in unp["entries"]], list(VARIANTS))
        for e in unp["entries"]:
            for key in ("variant", "design", "dispatch", "workers", "clients", "runs", "summary",
                        "process_control_us_per_conn", "workers_per_slot", "latency_cdf"):
                self.assertIn(key, e)
            for fig in FIGURES:
                self.assertLessEqual(SUMMARY_KEYS, set(e["summary"][fig]))
                self.assertEqual(e["summary"][fig]["n"], 1)
            run = e["runs"][0]
            self.assertNotIn("error", run)
            self.assertGreater(run["figures"]["cpu_us_per_conn"], 0)
            self.assertTrue(os.path.exists(os.path.join(self.out, run["load_file"])))
            # The measurement window holds the measured connections (plus the load
            # generator's one probe connection) and none of the warm-up.
            measured = run["connections_asked"]
            self.assertGreaterEqual(measured, unp["params"]["connections"])
            self.assertGreaterEqual(run["server"]["connections"], measured)
            self.assertLessEqual(run["server"]["connections"], measured + 1)
            self.assertEqual(run["server"]["requests"], measured)
            self.assertGreater(run["load_window_s"], 0)
            # Both sides' /proc/stat split over the window, shares summing to 1.
            for side, cpus in (("server", [0]), ("load", [1])):
                split = run["cpu"][side]
                self.assertEqual(split["cpus"], cpus)
                self.assertAlmostEqual(sum(split["shares"].values()), 1.0, places=6)
                self.assertGreater(split["samples"], 0)
            self.assertTrue(set(run["cpu"]["saturated"]) <= {"server", "load"})
            self.assertGreater(run["cpu"]["server"]["process_cpu_s"], 0)
            self.assertGreaterEqual(run["cpu"]["server"]["ksoftirqd_cpu_s"], 0)
            if not run["cpu"]["server"]["shared"]:  # the split is the server CPU's own
                self.assertIn("server_cpu_system_share", run["figures"])
        base = unp["entries"][0]
        self.assertEqual(base["process_control_us_per_conn"]["median"], 0)
        for e in unp["entries"][1:]:
            self.assertEqual(len(e["workers_per_slot"]), e["workers"])
            self.assertEqual(sum(e["workers_per_slot"]), e["runs"][0]["server"]["connections"])
        self.assertIn("keepalive", r["workloads"])
        self.assertNotIn("concurrency", r["workloads"])  # a named workload now
        self.assertEqual(set(r["timings_s"]), set(DEFAULT_WORKLOADS))

    def test_charts_exist_as_png_and_svg(self):
        self.assertIsNotNone(self.results, "no results.json")
        for name in CHARTS:
            self.assertIn(name, self.results["charts"])
            for ext in ("png", "svg"):
                path = os.path.join(self.out, f"{name}.{ext}")
                self.assertTrue(os.path.getsize(path) > 1000, path)
        with open(os.path.join(self.out, "1-cpu-per-connection.png"), "rb") as f:
            self.assertEqual(f.read(8), b"\x89PNG\r\n\x1a\n")

    def test_summary_mentions_each_design(self):
        with open(os.path.join(self.out, "summary.md")) as f:
            summary = f.read()
        for name in VARIANTS:
            self.assertIn(f"| {name} |", summary)
        for d in self.results["designs"]:
            self.assertIn(d["description"], summary)
        self.assertIn("## Workload `unp`", summary)
        self.assertIn("## Connections per worker", summary)

    def test_report_blocks_are_filled_from_the_run(self):
        # plots/report.py on a copy of REPORT.md: the blocks take this run's figures, the prose
        # around them is kept, and a second run of it changes nothing.
        self.assertIsNotNone(self.results, "no results.json")
        report = os.path.join(self.tmp.name, "REPORT.md")
        with open(os.path.join(ROOT, "REPORT.md")) as f, open(report, "w") as g:
            original = f.read()
            g.write(original)
        cmd = ["/usr/bin/python3", os.path.join(ROOT, "plots", "report.py"), self.out,
               "--report", report, "--charts", os.path.join(self.tmp.name, "charts")]
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        with open(report) as f:
            filled = f.read()
        fork_free = filled.split("<!-- BEGIN generated:fig30-1 -->")[1].split("<!-- END")[0]
        base = self.results["workloads"]["unp"]["entries"][0]
        self.assertIn(f"| `iterative` | {base['summary']['cpu_us_per_conn']['median']:,.1f} |", fork_free)
        self.assertIn("| `fork` | — |", fork_free)  # not in this run: shown as missing, not invented
        claims = filled.split("<!-- BEGIN generated:claims -->")[1].split("<!-- END")[0]
        # Every claim is a generated verdict; one repetition gives no interval to decide by.
        self.assertIn("**Ranking by CPU per connection", claims)
        self.assertIn("0 of 3 neighbouring orders hold", claims)
        self.assertNotIn("`fork`", claims)
        self.assertIn("Stevens' column is process-control CPU seconds", filled)
        self.assertTrue(os.path.exists(os.path.join(self.tmp.name, "charts", "1-cpu-per-connection.png")))
        subprocess.run(cmd, check=True, capture_output=True, timeout=60)
        with open(report) as f:
            self.assertEqual(f.read(), filled)


class SuitePartsQuick(unittest.TestCase):
    """The faults and beyond workloads, --quick, on two designs: every step runs without an
    error and each scenario and server has its record."""

    @classmethod
    def setUpClass(cls):
        run_suite(cls, "--workloads", "faults,beyond", "--only", "prefork,epoll")

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_step_ran_without_error(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        self.assertIsNotNone(self.results, "no results.json")
        self.assertEqual(self.results["errors"], [])

    def test_faults_scenarios_cover_the_chapter30_design(self):
        sc = self.results["workloads"]["faults"]["scenarios"]
        # epoll is not a chapter-30 design: the faults part leaves it to its own workloads.
        for name in ("bad_input", "slow", "resets", "emfile"):
            self.assertEqual({r["design"] for r in sc[name]}, {"prefork"}, name)
        bad = sc["bad_input"][0]
        self.assertEqual(bad["exact"], bad["cases"], bad["wrong"])
        self.assertEqual(bad["fds_after"], bad["fds_before"])
        self.assertEqual({r["mode"] for r in sc["crashes"]}, {"kill", "crash-request"})
        kill = next(r for r in sc["crashes"] if r["mode"] == "kill")
        self.assertGreater(kill["kills"], 0)
        self.assertTrue(kill["alive"])

    def test_beyond_measures_both_designs_and_nginx(self):
        servers = self.results["workloads"]["beyond"]["servers"]
        self.assertEqual(sorted((e["variant"], e["table"]) for e in servers),
                         sorted((v, t) for v in ("prefork", "epoll", "nginx",
                                                 "nginx (sendfile, open_file_cache)")
                                for t in ("unp", "keepalive")))
        configs = self.results["workloads"]["beyond"]["params"]["nginx_configs"]
        self.assertNotIn("sendfile", configs["nginx"])
        self.assertIn("  sendfile on;\n", configs["nginx-tuned"])
        for e in servers:
            self.assertGreater(e["figures"]["req_per_s"], 0, e)
            self.assertEqual(e["figures"]["failed"], 0, e)

    def test_charts_and_summary(self):
        for name in ("faults-1-bad-input", "faults-4-crashes", "beyond-1-throughput-cpu"):
            self.assertIn(name, self.results["charts"])
            self.assertTrue(os.path.getsize(os.path.join(self.out, f"{name}.png")) > 1000)
        with open(os.path.join(self.out, "summary.md")) as f:
            summary = f.read()
        self.assertIn("## Faults (`--workloads faults`)", summary)
        self.assertIn("## Beyond chapter 30: `unp` over HTTP", summary)


class SuiteLabSlices(unittest.TestCase):
    """The default run's lab slices, as `--workloads faults,slowhttp,syscalls --lab-slices`
    runs them (about 45 s, not --quick: the slices have no quick form): each slice runs only
    its designs and parts, records that it is a slice, and bench/lab.py check evaluates the
    questions they answer (4, 11, 12 and, where io_uring runs, 13) from them."""

    @classmethod
    def setUpClass(cls):
        if not shutil.which("slowhttptest"):
            raise unittest.SkipTest("needs slowhttptest (.ci/setup installs it)")
        run_suite(cls, "--workloads", ",".join(lab_slices()), "--lab-slices", quick=False)
        cls.check = subprocess.run(["/usr/bin/python3", os.path.join(ROOT, "bench", "lab.py"),
                                    "check", cls.out], capture_output=True, text=True,
                                   timeout=60)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_slice_ran_its_part_only(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        r = self.results
        self.assertEqual(r["errors"], [])
        self.assertEqual(r["config"]["lab_slices"], lab_slices())
        ran = {d["name"] for d in r["designs"]}
        for name in lab_slices():
            w = r["workloads"][name]
            self.assertEqual(w["params"]["slice"], "lab", name)
            self.assertEqual(w["params"]["designs"], REGISTRY[name].PLANS["lab"]["designs"])
        syscalls = r["workloads"]["syscalls"]["entries"]
        self.assertEqual([e["design"] for e in syscalls],
                         [d for d in REGISTRY["syscalls"].PLANS["lab"]["designs"] if d in ran])
        self.assertEqual({e["mode"] for e in syscalls}, {"conn"})
        self.assertTrue(all(e.get("counts") for e in syscalls), syscalls)
        sc = r["workloads"]["faults"]["scenarios"]
        self.assertEqual([(x["design"], x["mode"]) for x in sc["crashes"]],
                         [("prefork-fdpass", "crash-request"),
                          ("prethread-dispatch", "crash-request")])
        self.assertEqual([len(sc[k]) for k in ("bad_input", "slow", "resets", "emfile")],
                         [0, 0, 0, 0])
        runs = r["workloads"]["slowhttp"]["runs"]
        self.assertEqual([(x["design"], x["mode"]) for x in runs],
                         [("prethread-dispatch", "slowloris"),
                          ("prefork-epoll-exclusive", "slowloris")])
        with open(os.path.join(self.out, "summary.md")) as f:
            summary = f.read()
        self.assertEqual(summary.count("The default run's slice for bench/LAB.md"), 3)

    def test_lab_check_answers_the_slices_questions(self):
        self.assertEqual(self.check.returncode, 0, self.check.stdout + self.check.stderr)
        verdict = dict(re.findall(r"^Q(\d+): (.*)$", self.check.stdout, re.M))
        uring = "uring" in {d["name"] for d in self.results["designs"]}
        answered = {"4", "11", "12"} | ({"13"} if uring else set())
        self.assertEqual({n for n, v in verdict.items() if not v.startswith("no data")},
                         answered, self.check.stdout)
        # the crash, slowloris and the counts of io_uring are the code's, not the machine's
        for n in answered - {"4"}:
            self.assertTrue(verdict[n].startswith("supported"), self.check.stdout)
        # futex's count follows the interleaving: a difference below zero cannot tell
        self.assertTrue(verdict["4"].startswith(("supported", "cannot tell")),
                        self.check.stdout)


class SuiteNotQuiet(unittest.TestCase):
    """The quiet-machine guard end to end: a --quick run of two cheap designs with one busy
    loop pinned to the server's CPU (started and killed by this test) measures each window
    again once, then is marked not quiet: results.json's quiet is false, every kept window's
    foreign CPU on the server's side is over the threshold, summary.md says so at its top,
    and findings, where the run has them, draw no verdict."""

    @classmethod
    def setUpClass(cls):
        usable = sorted(os.sched_getaffinity(0))
        if len(usable) < 2 or not shutil.which("taskset"):
            raise unittest.SkipTest("needs two usable CPUs and taskset")
        server, load = usable[0], usable[1]
        busy = subprocess.Popen(["taskset", "-c", str(server), "yes"],
                                stdout=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        try:
            run_suite(cls, "--only", "iterative,epoll", "--workloads", "unp", "--no-charts",
                      "--server-cpus", str(server), "--load-cpus", str(load))
        finally:
            busy.kill()
            busy.wait()

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_the_run_is_marked_not_quiet(self):
        self.assertEqual(self.proc.returncode, 0, self.proc.stderr)
        r = self.results
        self.assertIs(r["quiet"], False)
        g = r["quiet_guard"]
        self.assertEqual(g["threshold"], 0.05)
        # two windows a repetition (--quick measures a noisy one again once, no more)
        self.assertEqual(g["windows_total"], 4)
        self.assertEqual(g["windows_noisy"], 4)
        self.assertEqual(len(g["kept_noisy"]), 2)

    def test_each_run_records_the_busy_loop_on_the_servers_cpu(self):
        for e in self.results["workloads"]["unp"]["entries"]:
            run, = e["runs"]
            self.assertIs(run["quiet"], False)
            n = run["noise"]
            self.assertEqual(len(n["tries"]), 2)
            side = n["server"]
            self.assertGreater(side["share"] - side["error"], 0.05, n)
            self.assertGreater(side["foreign_s"], 0.0)

    def test_summary_says_so_first_and_findings_draw_no_verdict(self):
        with open(os.path.join(self.out, "summary.md")) as f:
            lines = f.read().splitlines()
        self.assertTrue(lines[2].startswith("- **not quiet: 2 window(s) stayed noisy"),
                        lines[:4])
        for finding in self.results.get("findings") or []:
            self.assertEqual(finding["verdict"], "not quiet", finding)


class SuiteSigterm(unittest.TestCase):
    """SIGTERM (kill, a CI timeout) ends a run as Ctrl-C does: the server of the current step
    stopped and reaped, the suite's temp folder removed, partial results written."""

    def test_sigterm_stops_the_server_and_writes_partial_results(self):
        with tempfile.TemporaryDirectory(prefix="suite_sigterm-") as tmp:
            out, private = os.path.join(tmp, "results"), os.path.join(tmp, "tmp")
            os.mkdir(private)
            proc = subprocess.Popen(
                ["/usr/bin/python3", os.path.join(ROOT, "bench", "suite.py"), "--quick",
                 "--only", "iterative", "--workloads", "unp,keepalive", "--repeat", "5",
                 "--no-charts", "--out", out, "--bin", BIN_DIR],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                env={**os.environ, "TMPDIR": private})
            seen = ""
            for line in proc.stdout:  # the first measured step: a server is up
                seen += line
                if re.match(r"\[\s*1/", line):
                    break
            proc.send_signal(signal.SIGTERM)
            rest, err = proc.communicate(timeout=120)
            self.assertEqual(proc.returncode, 1, seen + rest + err)
            self.assertIn("interrupted: writing partial results", rest)
            with open(os.path.join(out, "results.json")) as f:
                self.assertTrue(json.load(f)["interrupted"])
            left = processes_mentioning(private)
            for pid in left:  # servers this test started, through the suite
                os.kill(pid, signal.SIGKILL)
            self.assertEqual(left, [], "a server outlived the suite")
            self.assertEqual(os.listdir(private), [], "the suite's temp folder was left")


if __name__ == "__main__":
    unittest.main(verbosity=2)
