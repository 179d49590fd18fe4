"""Unit tests of bench/tcplab_suite/nginx.py's two configurations (what each sets, the CPU masks,
Debian's nginx accepting both) and of the beyond tables that show them side by side."""

import json
import os
import subprocess
import sys
import tempfile
import unittest
from pathlib import Path

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)
from tcplab_suite import nginx  # noqa: E402
from tcplab_suite.workloads import beyond  # noqa: E402

FILE_SERVING = ("sendfile", "tcp_nopush", "open_file_cache", "worker_cpu_affinity")


def directives(text):
    """The directive names of a configuration, in order (one per statement)."""
    out = []
    for statement in text.replace("{", ";").replace("}", ";").split(";"):
        words = statement.split()
        if words:
            out.append(words[0])
    return out


class Configs(unittest.TestCase):
    def test_default_sets_nothing_about_file_serving(self):
        text = nginx.config_text(nginx.NAME, "/p", 8080, 4, [0])
        self.assertIn("worker_processes 4;", text)
        self.assertIn("listen 127.0.0.1:8080;", text)
        self.assertIn("root /p/html;", text)
        for d in FILE_SERVING + ("open_file_cache_valid", "master_process"):
            self.assertNotIn(d, directives(text))

    def test_tuned_adds_its_directives_and_one_cpu_per_worker(self):
        text = nginx.config_text(nginx.TUNED, "/p", 8080, 3, [0, 2])
        for line in ("  sendfile on;", "  tcp_nopush on;",
                     "  open_file_cache max=1000 inactive=60s;", "  open_file_cache_valid 60s;",
                     "worker_processes 3;", "worker_cpu_affinity 1 100 1;"):
            self.assertIn(line + "\n", text)
        # Everything else is the default's, line for line.
        default = nginx.config_text(nginx.NAME, "/p", 8080, 3, [0, 2]).splitlines()
        extra = [line for line in text.splitlines() if line not in default]
        self.assertEqual(extra, ["worker_cpu_affinity 1 100 1;"] +
                         [f"  {d};" for d in nginx.CONFIGS[nginx.TUNED]["http"]])

    def test_masks(self):
        self.assertEqual(nginx.affinity_masks(4, [0]), ["1", "1", "1", "1"])
        self.assertEqual(nginx.affinity_masks(3, [1, 3]), ["10", "1000", "10"])

    def test_without_cpus_the_masks_cover_this_process_cpus(self):
        text = nginx.config_text(nginx.TUNED, "/p", 1, 2, None)
        cpus = sorted(os.sched_getaffinity(0))
        want = " ".join(nginx.affinity_masks(2, cpus))
        self.assertIn(f"worker_cpu_affinity {want};", text)

    def test_single_process_has_no_workers_to_bind(self):
        text = nginx.config_text(nginx.TUNED, "/p", 1, 4, [0], master=False)
        self.assertIn("master_process off;\nworker_processes 1;\n", text)
        self.assertNotIn("worker_cpu_affinity", text)
        self.assertIn("  sendfile on;", text)

    def test_record_names_its_placeholders(self):
        text = nginx.record(nginx.TUNED, 4, [0])
        self.assertIn("listen 127.0.0.1:PORT;", text)
        self.assertIn("root PREFIX/html;", text)

    def test_rows_are_shown_by_what_they_set(self):
        self.assertEqual(nginx.shown_as(nginx.NAME), "nginx")
        self.assertEqual(nginx.shown_as(nginx.TUNED), "nginx (sendfile, open_file_cache)")
        self.assertEqual(nginx.shown_as("epoll"), "epoll")


@unittest.skipUnless(os.access(nginx.BINARY, os.X_OK), f"{nginx.BINARY} not installed")
class DebianAcceptsThem(unittest.TestCase):
    """`nginx -t` on each configuration: every directive exists in Debian's build."""

    def check(self, text):
        with tempfile.TemporaryDirectory() as d:
            nginx.prepare(d, 10)
            with open(f"{d}/nginx.conf", "w") as f:
                f.write(text.replace("PREFIX", d).replace("PORT", "1"))
            return subprocess.run([nginx.BINARY, "-t", "-p", d, "-c", f"{d}/nginx.conf"],
                                  capture_output=True, text=True, timeout=20)

    def test_both_configurations(self):
        for name in nginx.CONFIGS:
            for master in (True, False):
                text = nginx.config_text(name, "PREFIX", "PORT", 2, [0], master=master)
                r = self.check(text)
                self.assertEqual(r.returncode, 0, f"{name}, master={master}: {r.stderr}")
                self.assertIn("syntax is ok", r.stderr)

    def test_a_wrong_value_is_refused(self):  # so the test above can fail
        text = nginx.config_text(nginx.TUNED, "PREFIX", "PORT", 2, [0])
        r = self.check(text.replace("open_file_cache max=1000", "open_file_cache valid=1000"))
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("open_file_cache", r.stderr)


class Cli(unittest.TestCase):
    def run_cli(self, *args):
        return subprocess.run([sys.executable, "-m", "tcplab_suite.nginx", *args],
                              cwd=os.path.join(ROOT, "bench"),
                              capture_output=True, text=True, timeout=30)

    def test_writes_the_prefix(self):
        with tempfile.TemporaryDirectory() as tmp:
            d = os.path.join(tmp, "n")
            r = self.run_cli(d, "--port", "8080", "--config", "tuned", "--single-process")
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(f"{d}/nginx.conf") as f:
                self.assertEqual(f.read(), nginx.config_text(nginx.TUNED, d, 8080, 1,
                                                             master=False))
            with open(f"{d}/html/4000") as f:
                body = f.read()
            self.assertEqual(len(body), 4000)
            self.assertEqual(body[:12], "012345678901")
            self.assertTrue(os.path.isdir(f"{d}/logs"))

    def test_bad_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            open(os.path.join(tmp, "x"), "w").close()
            r = self.run_cli(tmp, "--port", "8080")
            self.assertEqual(r.returncode, 2)
            self.assertIn(f"{tmp} is not empty", r.stderr)
            r = self.run_cli(os.path.join(tmp, "n"), "--port", "8080", "--config", "fast")
            self.assertEqual(r.returncode, 2)
            self.assertIn("invalid choice: 'fast'", r.stderr)
            r = self.run_cli(os.path.join(tmp, "n"), "--port", "8080", "--cpus", "0-x")
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad CPU list '0-x'", r.stderr)
            r = self.run_cli(os.path.join(tmp, "n"), "--port", "0")
            self.assertEqual(r.returncode, 2)
            self.assertIn("--port must be 1 to 65535", r.stderr)
            self.assertFalse(os.path.exists(os.path.join(tmp, "n")))


class CompareLoadgen(unittest.TestCase):
    SCRIPT = os.path.join(ROOT, "bench", "compare_loadgen.sh")

    def test_a_wrong_nginx_config_is_refused_before_anything_runs(self):
        r = subprocess.run([self.SCRIPT, "/nonexistent/out.json"], capture_output=True,
                           text=True, timeout=30, env=dict(os.environ, NGINX_CONFIG="fast"))
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stderr, "compare_loadgen: NGINX_CONFIG must be default or tuned, "
                                   "not 'fast'\n")

    def test_the_loadgen_block_names_the_configuration(self):
        from plots import report
        run = {"median": {"req_s": 1.0, "conn_s": 1.0, "p50_ms": 0.1, "p99_ms": 0.2,
                          "cpu_us_per_req": 9.0}}
        run["runs"] = [run["median"]]
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "loadgen.json"
            for config, want in ((None, "nginx's `default` configuration (its defaults: "
                                        "sendfile off, open_file_cache off). Medians of 1 runs"),
                                 ("tuned", "nginx's `tuned` configuration (sendfile on; "
                                           "tcp_nopush on; open_file_cache max=1000 "
                                           "inactive=60s; open_file_cache_valid 60s).")):
                r = {"reps": 1, "cpu_method": "m", "summary": {"keepalive/wrk": run}}
                if config:
                    r["nginx_config"] = config
                path.write_text(json.dumps(r))
                self.assertTrue(report.block_loadgen(path).startswith(want),
                                report.block_loadgen(path)[:200])


def server_row(design, table, req, cpu):
    """A beyond row as run_servers leaves it, with five repetitions around the given medians."""
    summary = {k: {"median": v, "ci95": [v * 0.95, v * 1.05], "n": 5, "coverage": 0.9375}
               for k, v in (("req_per_s", req), ("cpu_us_per_req", cpu), ("p50_us", 100.0),
                            ("p99_us", 400.0))}
    # Repetition k of every server ran in the same stretch: the same drift (1 + (k-3)/100).
    runs = [{"rep": k, "figures": {"req_per_s": req * (1 + (k - 3) / 100),
                                   "cpu_us_per_req": cpu * (1 + (k - 3) / 100)}}
            for k in range(1, 6)]
    return {"variant": nginx.shown_as(design), "design": design, "table": table,
            "summary": summary, "runs": runs,
            "figures": {"req_per_s": req, "cpu_us_per_req": cpu,
                        "p50_us": 100.0, "p99_us": 400.0, "failed": 0}}


class BeyondTables(unittest.TestCase):
    def results(self, with_tuned=True):
        names = ["epoll", nginx.NAME] + ([nginx.TUNED] if with_tuned else [])
        params = {"workers": 4, "clients": 5, "bytes": 4000,
                  "unp": {"connections": 10000, "requests_per_conn": 1},
                  "keepalive": {"connections": 200, "requests_per_conn": 100}}
        if with_tuned:
            params["nginx_configs"] = {n: nginx.record(n, 4, [0]) for n in nginx.CONFIGS}
        cpu = {"epoll": 28.0, nginx.NAME: 41.0, nginx.TUNED: 30.0}
        rows = [server_row(n, t, 20000.0, cpu[n]) for t in beyond.TABLES for n in names]
        return {"workloads": {"beyond": {"params": params, "servers": rows}}}

    def test_both_nginx_rows_their_configs_and_the_verdicts(self):
        lines = beyond.table_lines(self.results(), "unp")
        text = "\n".join(lines)
        self.assertIn("| nginx | 20,000", text)
        self.assertIn("| nginx (sendfile, open_file_cache) | 20,000", text)
        self.assertIn("`sendfile on; tcp_nopush on; open_file_cache max=1000 inactive=60s; "
                      "open_file_cache_valid 60s` and `worker_cpu_affinity 1 1 1 1`", text)
        # Paired: the tuned nginx is 11 µs/req cheaper in every repetition; equal in req/s.
        cpu = next(line for line in lines if "µs CPU/req" in line)
        self.assertTrue(cpu.startswith("- `nginx (sendfile, open_file_cache)` is cheaper than "
                                       "`nginx`: holds: "), cpu)
        self.assertIn("µs CPU/req less [", cpu)
        self.assertIn("n = 5", cpu)
        req = next(line for line in lines if "is faster than" in line)
        self.assertIn(": cannot tell on this machine: ≈ 0 req/s", req)
        self.assertEqual(sum(line.startswith("| nginx") for line in lines), 2)

    def test_a_run_before_the_tuned_row_renders_as_it_did(self):
        lines = beyond.table_lines(self.results(with_tuned=False), "keepalive")
        text = "\n".join(lines)
        self.assertIn("nginx: worker_processes 4, its defaults otherwise.", text)
        self.assertEqual(sum(line.startswith("| nginx") for line in lines), 1)
        self.assertFalse(any(line.startswith("- ") for line in lines))

    def test_report_blocks_render_both_rows(self):
        from plots import report
        block = report.BLOCKS["beyond-keepalive"](self.results(), Path("r"))
        self.assertTrue(block.startswith("**Beyond chapter 30: `keepalive` over HTTP"), block[:60])
        self.assertIn("| nginx | 20,000", block)
        self.assertIn("| nginx (sendfile, open_file_cache) | 20,000", block)

    def test_the_suite_runs_both(self):
        ctx = type("Ctx", (), {"designs": []})()
        self.assertEqual(beyond.beyond_designs(ctx)[-2:], [nginx.NAME, nginx.TUNED])


if __name__ == "__main__":
    unittest.main()


class MeasuredWindow(unittest.TestCase):
    """nginx.measured takes the suite's one window (measure.window) and its quiet guard, as
    every other workload does: a noisy window is measured again, and the run keeps the
    window's noise and CPU split beside the same figures as before."""

    def setUp(self):
        import argparse
        from tcplab_suite import core
        self.tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self.tmp.cleanup)
        args = argparse.Namespace(quick=False, repeat=1, bin=self.tmp.name, server_cpus=[0],
                                  load_cpus=[1], quiet_threshold=None)
        self.ctx = core.Context(args, self.tmp.name, self.tmp.name, [],
                                {"errors": [], "workloads": {}})
        self.loads, self.windows = [], []
        self.noisy = [True, False]
        load = {"counts": {"requests": 400, "failed": 2}, "window_s": 0.5,
                "rates": {"requests_per_s": 800.0, "connections_per_s": 400.0},
                "latency": {"total": {"p50_us": 100.0, "p99_us": 900.0}}}

        def run_load(ctx, port, clients, rpc, nbytes, label=None, **kw):
            self.loads.append((label, kw["connections"]))
            return load, f"raw/{label}.load.json" if label else None

        def window(ctx, srv, measure, quiet=True):
            self.windows.append(quiet)
            result, raw = measure()
            return {"load": result, "load_file": raw, "cpu": {"server": {}},
                    "noise": {"noisy": self.noisy.pop(0), "share": 0.2},
                    "server": {"cpu_user_s": 0.003, "cpu_sys_s": 0.001, "workers": [150, 250]}}
        for name, fake in (("run_load", run_load), ("window", window)):
            real = getattr(nginx, name)
            setattr(nginx, name, fake)
            self.addCleanup(setattr, nginx, name, real)

    def test_a_noisy_window_is_measured_again_with_the_same_figures(self):
        srv = type("Srv", (), {"port": 1})()
        run = nginx.measured(self.ctx, srv, "beyond/unp/epoll/rep1", 4, 200, 1, 4000)
        # one warm-up of a twentieth of the count, then two windows: the first one was noisy
        self.assertEqual(self.loads, [(None, 10), ("beyond/unp/epoll/rep1", 200),
                                      ("beyond/unp/epoll/rep1", 200)])
        self.assertEqual(self.windows, [True, True])
        self.assertIs(run["quiet"], True)
        self.assertEqual(run["noise"]["tries"], [0.2, 0.2])
        self.assertEqual(self.ctx.results["quiet_guard"]["windows_total"], 2)
        f = run["figures"]
        self.assertAlmostEqual(f["cpu_us_per_req"], 10.0)  # 4 ms over 400 requests
        self.assertEqual((f["req_per_s"], f["failed"], f["failed_fraction"], f["workers"]),
                         (800.0, 2, 0.01, [150, 250]))
        self.assertEqual(f["load_file"], "raw/beyond/unp/epoll/rep1.load.json")

    def test_the_stall_window_is_neither_quiet_bounded_nor_measured_again(self):
        from tcplab_suite import measure
        srv = type("Srv", (), {"port": 1})()
        run = measure.guarded(self.ctx, "stall/x", lambda: nginx.http_window(
            self.ctx, srv, "stall/x", 5, 200, 1, 4000, 300, quiet=False), retries=0)
        self.assertEqual(self.windows, [False])
        self.assertIs(run["quiet"], False)
        self.assertEqual(self.ctx.results["quiet_guard"]["kept_noisy"], ["stall/x"])
