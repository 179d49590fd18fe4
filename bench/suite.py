#!/usr/bin/python3
"""tcplab suite: run every server design under the standard workloads, then write
results/<timestamp>/ with results.json (schema: bench/RESULTS.md), summary.md and the charts.

Each measured step starts a fresh tcplab-server (pinned to CPU 0) on port 0 with its own
control socket, warms it up, takes a snapshot of its accounting, runs tcplab-load (pinned to
CPU 1), takes a second snapshot, and stops the server with SIGTERM. Server figures are the
difference of the two snapshots, so start-up and warm-up are left out.

Standard library only: this runs under Debian's /usr/bin/python3 with python3-matplotlib.
"""

import argparse
import datetime
import json
import math
import os
import platform
import select
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

SCHEMA = "tcplab-suite/1"
DISPATCH_POLICIES = ("least-loaded", "round-robin", "first-free")
HERD_DESIGNS = ("prefork", "prefork-fcntl", "prefork-mutex", "prethread-mutex")
WORKLOADS = ("unp", "keepalive", "herd", "concurrency")
# Run only when named in --workloads (bench/faults.py): faults ~5 min (--quick < 1 min); soak long.
EXTRA_WORKLOADS = ("faults", "soak")
# Also only when named (bench/beyond.py): the event-loop designs beside nginx, --work-us,
# 10,000 idle connections, one stalled worker.
BEYOND_WORKLOADS = ("beyond", "work", "idle", "stall")

# Every count and duration of a run lives here, for the default and the --quick suite.
# The default is sized to finish in under three minutes (about 150 s) on a two-core machine.
PLANS = {
    "default": {
        "unp": {"clients": 5, "connections": 20000, "requests_per_conn": 1, "bytes": 4000,
                "workers": 15, "warmup_connections": 500},
        "keepalive": {"clients": 5, "connections": 200, "requests_per_conn": 100, "bytes": 4000,
                      "workers": 15, "warmup_connections": 20},
        "herd": {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
                 "pool_sizes": [15, 30, 45, 60, 75, 90, 105, 120], "warmup_connections": 200,
                 "repeat": 1},
        "concurrency": {"levels": [1, 2, 4, 8, 16, 32, 64], "duration_s": 0.3,
                        "warmup_s": 0.1, "requests_per_conn": 1, "bytes": 4000, "workers": 15,
                        "repeat": 1},
    },
    "quick": {
        "unp": {"clients": 5, "connections": 3000, "requests_per_conn": 1, "bytes": 4000,
                "workers": 15, "warmup_connections": 100},
        "keepalive": {"clients": 5, "connections": 50, "requests_per_conn": 100, "bytes": 4000,
                      "workers": 15, "warmup_connections": 5},
        "herd": {"clients": 5, "connections": 2000, "requests_per_conn": 1, "bytes": 4000,
                 "pool_sizes": [15, 60, 120], "warmup_connections": 50, "repeat": 1},
        "concurrency": {"levels": [1, 4, 16, 64], "duration_s": 0.15, "warmup_s": 0.05,
                        "requests_per_conn": 1, "bytes": 4000, "workers": 15, "repeat": 1},
    },
}

SERVER_START_TIMEOUT_S = 10
SERVER_STOP_TIMEOUT_S = 15   # the server's own grace is --grace-ms 3000
LOAD_TIMEOUT_S = 120
CONTROL_TIMEOUT_S = 15


class StepError(Exception):
    """A failure of one measured step: recorded in results, and the suite goes on."""


# --------------------------------------------------------------------------- the machine

def machine_info():
    model = platform.processor() or "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu_model": model, "kernel": platform.release(), "system": platform.system(),
            "cpus": os.cpu_count(), "usable_cpus": len(os.sched_getaffinity(0)),
            "python": platform.python_version(), "loadavg_start": list(os.getloadavg())}


def designs_from_server(server_bin):
    """The design table, as `tcplab-server --list` prints it: the one source of descriptions."""
    out = subprocess.run([server_bin, "--list"], capture_output=True, text=True, timeout=10,
                         check=True).stdout
    designs = []
    for line in out.splitlines():
        if line.strip():
            name, _, description = line.strip().partition(" ")
            designs.append({"name": name, "description": description.strip()})
    return designs


# --------------------------------------------------------------------------- one server

class Server:
    """One tcplab-server on 127.0.0.1, port 0, with its control socket in a temp dir.
    Use as a context manager: leaving the block always stops and reaps the process."""

    def __init__(self, server_bin, design, workers, dispatch, tmpdir, pin):
        self.control = os.path.join(tmpdir, "control.sock")
        self.stats_path = os.path.join(tmpdir, "stats.json")
        self.stderr_path = os.path.join(tmpdir, "server.stderr")
        for path in (self.control, self.stats_path):
            if os.path.exists(path):
                os.unlink(path)
        cmd = [server_bin, design, "--host", "127.0.0.1", "--port", "0",
               "--workers", str(workers), "--control", self.control,
               "--stats-json", self.stats_path]
        if dispatch:
            cmd += ["--dispatch", dispatch]
        if pin is not None:
            cmd = ["taskset", "-c", pin] + cmd
        self.cmd = cmd
        self.proc = None
        self.port = None
        self.exit = None

    def __enter__(self):
        self._stderr = open(self.stderr_path, "w")
        self.proc = subprocess.Popen(self.cmd, stdout=subprocess.PIPE, stderr=self._stderr,
                                     stdin=subprocess.DEVNULL)
        line = self._read_line(SERVER_START_TIMEOUT_S)
        if not line.startswith("listening on 127.0.0.1:"):
            self.stop()
            raise StepError(f"server did not start: {line!r}; stderr: {self.stderr_tail()}")
        self.port = int(line.rsplit(":", 1)[1])
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def _read_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        data = b""
        while b"\n" not in data:
            left = deadline - time.monotonic()
            if left <= 0:
                return "(no 'listening' line within %ds)" % timeout
            ready, _, _ = select.select([fd], [], [], left)
            if ready:
                chunk = os.read(fd, 4096)
                if not chunk:
                    return "(exited with status %s)" % self.proc.wait(timeout=5)
                data += chunk
        return data.split(b"\n", 1)[0].decode(errors="replace").strip()

    def snapshot(self):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(CONTROL_TIMEOUT_S)
            try:
                s.connect(self.control)
                s.sendall(b"snapshot\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            except OSError as e:
                raise StepError(f"control socket: {e}") from None
        try:
            return json.loads(data)
        except ValueError:
            raise StepError(f"control socket answered {data[:200]!r}") from None

    def quiet_snapshot(self, limit_s=3.0):
        """A snapshot taken once the server is quiet: nothing being served (`active` 0) and the
        connection count unchanged over 10 ms. A client's last connections are counted when the
        server sees them end, which can be a little after the client has finished; a window
        bounded by quiet snapshots holds exactly the connections made inside it."""
        deadline = time.monotonic() + limit_s
        prev = None
        while True:
            snap = self.snapshot()
            if snap.get("active", 0) == 0 and prev is not None and \
                    prev.get("connections") == snap.get("connections"):
                return snap
            if time.monotonic() >= deadline:
                return snap
            prev = snap
            time.sleep(0.01)

    def stop(self):
        """SIGTERM, wait, keep the exit status; SIGKILL only if it will not go."""
        if self.proc is None or self.exit is not None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit = self.proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            self.exit = "killed after %ds" % SERVER_STOP_TIMEOUT_S
        self.proc.stdout.close()
        self._stderr.close()

    def stderr_tail(self):
        try:
            with open(self.stderr_path, errors="replace") as f:
                return f.read()[-400:].strip()
        except OSError:
            return ""


# --------------------------------------------------------------------------- one load run

def run_load(ctx, port, clients, requests_per_conn, nbytes, connections=None, duration_s=None,
             json_path=None):
    cmd = [ctx.load_bin, "--host", "127.0.0.1", "--port", str(port), "--clients", str(clients),
           "--requests-per-conn", str(requests_per_conn), "--bytes", str(nbytes),
           "--allow-errors"]
    if connections is not None:
        cmd += ["--connections", str(connections)]
    if duration_s is not None:
        cmd += ["--duration", "%gs" % duration_s]
    if json_path:
        cmd += ["--json", json_path]
    if ctx.load_pin is not None:
        cmd = ["taskset", "-c", ctx.load_pin] + cmd + ["--cpu", ctx.load_pin]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise StepError(f"tcplab-load took more than {LOAD_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        raise StepError(f"tcplab-load exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    if json_path:
        with open(json_path) as f:
            return json.load(f)
    return None


def delta(a, b):
    """Server accounting over the measurement window: snapshot B minus snapshot A."""
    d = {}
    for key in ("monotonic_s", "cpu_user_s", "cpu_sys_s", "voluntary_ctxt_switches",
                "involuntary_ctxt_switches", "processes_created", "threads_created",
                "connections", "requests", "bytes_sent"):
        d[key] = b.get(key, 0) - a.get(key, 0)
    wa, wb = a.get("workers") or [], b.get("workers") or []
    d["workers"] = [y - (wa[i] if i < len(wa) else 0) for i, y in enumerate(wb)]
    for group in ("failures", "events"):
        ga, gb = a.get(group) or {}, b.get(group) or {}
        d[group] = {k: gb.get(k, 0) - ga.get(k, 0) for k in gb}
    d["peak_rss_max_kb"] = b.get("peak_rss_max_kb")
    d["peak_rss_sum_kb"] = b.get("peak_rss_sum_kb")
    return d


def run_figures(load, server):
    """The per-run figures every table and chart is drawn from."""
    conns = max(server["connections"], 1)
    reqs = max(server["requests"], 1)
    lat = load["latency"]["total"]
    user_us = server["cpu_user_s"] * 1e6
    sys_us = server["cpu_sys_s"] * 1e6
    ctxt = server["voluntary_ctxt_switches"] + server["involuntary_ctxt_switches"]
    return {
        "conn_per_s": load["rates"]["connections_per_s"],
        "req_per_s": load["rates"]["requests_per_s"],
        "cpu_user_us_per_conn": user_us / conns,
        "cpu_sys_us_per_conn": sys_us / conns,
        "cpu_us_per_conn": (user_us + sys_us) / conns,
        "cpu_us_per_req": (user_us + sys_us) / reqs,
        "ctxt_per_conn": ctxt / conns,
        "vol_ctxt_per_conn": server["voluntary_ctxt_switches"] / conns,
        "invol_ctxt_per_conn": server["involuntary_ctxt_switches"] / conns,
        "p50_us": lat["p50_us"],
        "p99_us": lat["p99_us"],
        "p99_9_us": lat["p99_9_us"],
        "load_errors": load["counts"]["failed"],
        "server_failures": sum(server["failures"].values()),
        "load_cpu_us_per_req": load["cpu"]["us_per_request"],
    }


def summarize(runs):
    """Median, min and max of every figure over the runs that succeeded."""
    good = [r["figures"] for r in runs if r.get("figures")]
    if not good:
        return None
    return {k: {"median": statistics.median(f[k] for f in good),
                "min": min(f[k] for f in good), "max": max(f[k] for f in good)}
            for k in good[0]}


def median_run(runs):
    """The successful run whose conn/s is the median one (the lower middle for even counts)."""
    good = sorted((r for r in runs if r.get("figures")), key=lambda r: r["figures"]["conn_per_s"])
    return good[(len(good) - 1) // 2] if good else None


def cdf_points(runs, max_points=200):
    """The latency CDF of all runs pooled, from the load generator's histogram buckets:
    [[upper edge µs, fraction ≤ it], ...], thinned to at most max_points."""
    counts = {}
    for r in runs:
        for lo, hi, n in r.get("latency_buckets_ns") or []:
            counts[hi] = counts.get(hi, 0) + n
    total = sum(counts.values())
    if not total:
        return []
    points, seen = [], 0
    for hi in sorted(counts):
        seen += counts[hi]
        points.append([hi / 1000.0, seen / total])
    if len(points) > max_points:
        # keep the tail exactly; thin the body evenly in probability
        keep, last_p = [], -1.0
        for us, p in points:
            if p - last_p >= 1.0 / max_points or p > 0.99:
                keep.append([us, p])
                last_p = p
        points = keep
    return points


# --------------------------------------------------------------------------- steps

class Context:
    def __init__(self, args, out_dir):
        self.server_bin = os.path.join(args.bin, "tcplab-server")
        self.load_bin = os.path.join(args.bin, "tcplab-load")
        self.micro_bin = os.path.join(args.bin, "tcplab-micro")
        self.out_dir = out_dir
        self.raw_dir = os.path.join(out_dir, "raw")
        os.makedirs(self.raw_dir, exist_ok=True)
        self.tmp = tempfile.mkdtemp(prefix="tcplab-suite-")
        two = len(os.sched_getaffinity(0)) >= 2 and shutil.which("taskset")
        self.server_pin = "0" if two else None
        self.load_pin = "1" if two else None
        self.errors = []
        self.step = 0
        self.total_steps = 0

    def progress(self, what, figures=None, error=None):
        width = len(str(self.total_steps))
        line = f"[{self.step:>{width}}/{self.total_steps}] {what}"
        if error:
            line += f" ... ERROR: {error}"
        elif figures:
            line += (f" ... {figures['conn_per_s']:,.0f} conn/s, {figures['req_per_s']:,.0f} req/s,"
                     f" {figures['cpu_us_per_conn']:.1f} µs CPU/conn,"
                     f" p99 {figures['p99_us']:.0f} µs")
        print(line, flush=True)


def variant_name(design, dispatch):
    return f"{design}/{dispatch}" if dispatch else design


def measured_run(ctx, server, label, clients, requests_per_conn, nbytes, connections=None,
                 duration_s=None, warmup_connections=None, warmup_s=None):
    """Warm-up, snapshot A, measured load, snapshot B, on a running server."""
    if warmup_connections:
        run_load(ctx, server.port, clients, requests_per_conn, nbytes,
                 connections=warmup_connections)
    if warmup_s:
        run_load(ctx, server.port, clients, requests_per_conn, nbytes, duration_s=warmup_s)
    a = server.quiet_snapshot()
    raw = os.path.join(ctx.raw_dir, label.replace("/", "_") + ".load.json")
    load = run_load(ctx, server.port, clients, requests_per_conn, nbytes,
                    connections=connections, duration_s=duration_s, json_path=raw)
    b = server.quiet_snapshot()
    d = delta(a, b)
    return {"server": d, "load_file": os.path.relpath(raw, ctx.out_dir),
            "load_window_s": load["window_s"], "load_counts": load["counts"],
            "latency_buckets_ns": load["latency"]["total"]["buckets_ns"],
            "figures": run_figures(load, d)}


def record_failure(ctx, run, label, message):
    run["error"] = message
    ctx.errors.append({"step": label, "message": message})


def finish_server(ctx, server, runs, label):
    """After the server has stopped: a non-zero exit status is an error of each of its runs."""
    if server is not None and server.exit not in (0, None):
        msg = f"server exited with status {server.exit}: {server.stderr_tail()}"
        for run in runs:
            if "error" not in run:
                record_failure(ctx, run, label, msg)
                run.pop("figures", None)


def run_table_workload(ctx, name, plan, variants, repeat, entries):
    """unp or keepalive: each variant, `repeat` times, a fresh server each time."""
    for design, dispatch in variants:
        vname = variant_name(design, dispatch)
        entry = {"variant": vname, "design": design, "dispatch": dispatch,
                 "workers": plan["workers"], "clients": plan["clients"], "runs": []}
        entries.append(entry)
        for rep in range(1, repeat + 1):
            ctx.step += 1
            label = f"{name}/{vname}/rep{rep}"
            what = f"{vname:<26} {name:<10} rep {rep}/{repeat}"
            run = run_once(ctx, entry["runs"], label, rep, design, plan["workers"], dispatch, plan)
            ctx.progress(what, run.get("figures"), run.get("error"))


def run_once(ctx, runs, label, rep, design, workers, dispatch, plan):
    """One measured repetition of `plan` on a fresh server, appended to `runs` even when it
    fails or Ctrl-C interrupts it (a failure is recorded in the run, not raised)."""
    run = {"rep": rep}
    server = None
    try:
        server = Server(ctx.server_bin, design, workers, dispatch, ctx.tmp, ctx.server_pin)
        with server:
            run.update(measured_run(ctx, server, label, plan["clients"], plan["requests_per_conn"],
                                    plan["bytes"], connections=plan["connections"],
                                    warmup_connections=plan["warmup_connections"]))
    except StepError as e:
        record_failure(ctx, run, label, str(e))
    finally:
        runs.append(run)
    finish_server(ctx, server, [run], label)
    return run


def finalize(workload):
    """Summaries of every entry, from the runs that exist (also after an interruption)."""
    for entry in workload["entries"]:
        entry["summary"] = summarize(entry["runs"])
        if workload["kind"] == "table":
            mid = median_run(entry["runs"])
            entry["workers_per_slot"] = mid["server"]["workers"] if mid else []
            entry["latency_cdf"] = cdf_points(entry["runs"])
        for run in entry["runs"]:
            run.pop("latency_buckets_ns", None)  # kept in raw/, pooled into latency_cdf
    if workload["kind"] == "table":
        add_process_control(workload["entries"], workload["baseline"])


def add_process_control(entries, baseline="iterative"):
    """Stevens' subtraction: design CPU/conn minus the iterative server's CPU/conn (medians;
    min and max subtract the baseline median too)."""
    base = next((e for e in entries if e["variant"] == baseline and e.get("summary")), None)
    for e in entries:
        if base is None or not e.get("summary"):
            e["process_control_us_per_conn"] = None
            continue
        b = base["summary"]["cpu_us_per_conn"]["median"]
        s = e["summary"]["cpu_us_per_conn"]
        e["process_control_us_per_conn"] = {k: s[k] - b for k in ("median", "min", "max")}


def run_herd(ctx, plan, designs, entries):
    repeat = plan["repeat"]
    for design in designs:
        for size in plan["pool_sizes"]:
            entry = {"variant": design, "design": design, "dispatch": None, "workers": size,
                     "clients": plan["clients"], "runs": []}
            entries.append(entry)
            for rep in range(1, repeat + 1):
                ctx.step += 1
                label = f"herd/{design}/w{size}/rep{rep}"
                run = run_once(ctx, entry["runs"], label, rep, design, size, None, plan)
                run.pop("latency_buckets_ns", None)
                ctx.progress(f"{design:<26} herd       {size:>3} workers", run.get("figures"),
                             run.get("error"))


def run_concurrency(ctx, plan, variants, entries):
    """One server per variant and repetition; every concurrency level measured on it in turn."""
    repeat = plan["repeat"]
    for design, dispatch in variants:
        vname = variant_name(design, dispatch)
        by_level = {}
        for level in plan["levels"]:
            by_level[level] = {"variant": vname, "design": design, "dispatch": dispatch,
                               "workers": plan["workers"], "clients": level, "runs": []}
            entries.append(by_level[level])
        for rep in range(1, repeat + 1):
            server = None
            runs = []
            try:
                server = Server(ctx.server_bin, design, plan["workers"], dispatch, ctx.tmp,
                                ctx.server_pin)
                with server:
                    for level in plan["levels"]:
                        ctx.step += 1
                        label = f"concurrency/{vname}/c{level}/rep{rep}"
                        run = {"rep": rep}
                        try:
                            run.update(measured_run(ctx, server, label, level,
                                                    plan["requests_per_conn"], plan["bytes"],
                                                    duration_s=plan["duration_s"],
                                                    warmup_s=plan["warmup_s"]))
                        except StepError as e:
                            record_failure(ctx, run, label, str(e))
                        run.pop("latency_buckets_ns", None)
                        runs.append(run)
                        by_level[level]["runs"].append(run)
                        ctx.progress(f"{vname:<26} conc. {level:>4} clients", run.get("figures"),
                                     run.get("error"))
            except StepError as e:
                record_failure(ctx, {"rep": rep}, f"concurrency/{vname}/rep{rep}", str(e))
                ctx.step += len(plan["levels"]) - len(runs)
                ctx.progress(f"{vname:<26} concurrency", error=str(e))
            finish_server(ctx, server, runs, f"concurrency/{vname}/rep{rep}")


def run_micro(ctx, quick):
    """tcplab-micro (Google Benchmark), once, pinned to the load generator's CPU."""
    if not os.access(ctx.micro_bin, os.X_OK):
        return None
    out = os.path.join(ctx.out_dir, "micro.json")
    cmd = [ctx.micro_bin, f"--benchmark_out={out}", "--benchmark_out_format=json"]
    cmd += (["--benchmark_min_time=0.05"] if quick else
            ["--benchmark_min_time=0.2", "--benchmark_repetitions=3",
             "--benchmark_report_aggregates_only=true"])
    if ctx.load_pin is not None:
        cmd = ["taskset", "-c", ctx.load_pin] + cmd
    ctx.step += 1
    result = {"file": "micro.json", "command": cmd, "benchmarks": []}
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        if proc.returncode != 0:
            raise StepError(f"tcplab-micro exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        with open(out) as f:
            data = json.load(f)
    except (StepError, subprocess.TimeoutExpired, OSError, ValueError) as e:
        ctx.errors.append({"step": "micro", "message": str(e)})
        ctx.progress("tcplab-micro", error=str(e))
        result["error"] = str(e)
        return result
    scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}
    for b in data.get("benchmarks", []):
        if b.get("error_occurred"):
            result["benchmarks"].append({"name": b.get("run_name", b["name"]),
                                         "error": b.get("error_message", "")})
            continue
        agg = b.get("aggregate_name")
        if agg not in (None, "median"):
            continue
        result["benchmarks"].append({
            "name": b.get("run_name", b["name"]),
            "real_us": b["real_time"] * scale.get(b.get("time_unit", "ns"), 1e-3),
            "cpu_us": b["cpu_time"] * scale.get(b.get("time_unit", "ns"), 1e-3),
            "statistic": agg or "single run"})
    ctx.progress(f"tcplab-micro: {len(result['benchmarks'])} benchmarks")
    return result


# --------------------------------------------------------------------------- summary.md

def sweep_rows(entries, key, values, metric, fmt="{:,.1f}"):
    """One table row per design: `metric` (median, min–max) at each value of `key`."""
    rows = []
    for name in dict.fromkeys(e["variant"] for e in entries):
        cells = []
        for value in values:
            e = next((x for x in entries if x["variant"] == name and x[key] == value), None)
            cells.append(fmt_range(e["summary"][metric], fmt) if e and e.get("summary") else "–")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def fmt_range(stat, fmt="{:,.1f}"):
    if stat is None:
        return "–"
    med, lo, hi = (fmt.format(stat[k]) for k in ("median", "min", "max"))
    return med if lo == hi else f"{med} ({lo}–{hi})"


def write_summary(results, path):
    m = results["machine"]
    lines = ["# tcplab suite results", "",
             f"- started {results['started']}, took {results['duration_s']:.0f} s"
             + (" — **interrupted, partial results**" if results["interrupted"] else ""),
             f"- machine: {m['cpu_model']}, {m['cpus']} CPUs ({m['usable_cpus']} usable), "
             f"{m['system']} {m['kernel']}; load average (1 min) {m['loadavg_start'][0]:.2f} "
             f"at the start, {m.get('loadavg_end', [float('nan')])[0]:.2f} at the end "
             "(other work on the machine skews every figure)",
             f"- pinning: server on CPU {results['pinning']['server']}, "
             f"load generator on CPU {results['pinning']['load']}"
             if results["pinning"]["server"] is not None else
             "- pinning: none (fewer than two CPUs or no taskset)",
             f"- command: `{results['command_line']}`",
             f"- figures are medians of {results['config']['repeat']} repetitions with "
             "(min–max) when they differ; server CPU and context switches are the server's "
             "whole process tree over the measurement window (warm-up excluded).", "",
             "## Designs", "", "| design | what it does |", "|---|---|"]
    for d in results["designs"]:
        lines.append(f"| {d['name']} | {d['description']} |")

    for wname in ("unp", "keepalive"):
        w = results["workloads"].get(wname)
        if not w:
            continue
        p = w["params"]
        lines += ["", f"## Workload `{wname}`", "",
                  f"{p['clients']} concurrent clients, {p['requests_per_conn']} request(s) of "
                  f"{p['bytes']} bytes per connection, {p['connections']:,} measured connections "
                  f"per run, {p['workers']} workers for pooled designs. Process control = "
                  "CPU/conn minus the iterative server's CPU/conn (Stevens' subtraction).", "",
                  "| design | conn/s | req/s | CPU µs/conn (user + sys) | process control µs/conn "
                  "| p50 µs | p99 µs | ctxt sw/conn | errors |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for e in w["entries"]:
            s = e.get("summary")
            errs = sum(1 for r in e["runs"] if r.get("error"))
            if not s:
                lines.append(f"| {e['variant']} | – | – | – | – | – | – | – | "
                             f"{errs} failed run(s) |")
                continue
            err_text = []
            if errs:
                err_text.append(f"{errs} failed run(s)")
            if s["load_errors"]["max"]:
                err_text.append(f"{s['load_errors']['max']:.0f} failed requests")
            if s["server_failures"]["max"]:
                err_text.append(f"{s['server_failures']['max']:.0f} server failures")
            cpu = (f"{fmt_range(s['cpu_us_per_conn'])} = {s['cpu_user_us_per_conn']['median']:.1f}"
                   f" + {s['cpu_sys_us_per_conn']['median']:.1f}")
            lines.append(
                f"| {e['variant']} | {fmt_range(s['conn_per_s'], '{:,.0f}')} "
                f"| {fmt_range(s['req_per_s'], '{:,.0f}')} | {cpu} "
                f"| {fmt_range(e.get('process_control_us_per_conn'))} "
                f"| {fmt_range(s['p50_us'], '{:,.0f}')} | {fmt_range(s['p99_us'], '{:,.0f}')} "
                f"| {fmt_range(s['ctxt_per_conn'], '{:.2f}')} | {', '.join(err_text) or '0'} |")

    unp = results["workloads"].get("unp")
    pooled = [e for e in (unp or {}).get("entries", []) if len(e.get("workers_per_slot", [])) > 1]
    if pooled:
        n = max(len(e["workers_per_slot"]) for e in pooled)
        lines += ["", "## Connections per worker (`unp`, the median repetition)", "",
                  "Stevens' distribution table: how many of the measured connections each worker "
                  "slot served.", "",
                  "| slot | " + " | ".join(e["variant"] for e in pooled) + " |",
                  "|---:|" + "---:|" * len(pooled)]
        for i in range(n):
            cells = [str(e["workers_per_slot"][i]) if i < len(e["workers_per_slot"]) else ""
                     for e in pooled]
            lines.append(f"| {i} | " + " | ".join(cells) + " |")
        lines.append("| total | " + " | ".join(str(sum(e["workers_per_slot"])) for e in pooled)
                     + " |")

    herd = results["workloads"].get("herd")
    if herd and herd["entries"]:
        sizes = herd["params"]["pool_sizes"]
        lines += ["", "## Sweep `herd`: server CPU µs per connection against pool size", "",
                  f"{herd['params']['connections']:,} connections per point, "
                  f"{herd['params']['repeat']} repetition(s).", "",
                  "| design | " + " | ".join(f"{n} workers" for n in sizes) + " |",
                  "|---|" + "---:|" * len(sizes)]
        lines += sweep_rows(herd["entries"], "workers", sizes, "cpu_us_per_conn")

    conc = results["workloads"].get("concurrency")
    if conc and conc["entries"]:
        levels = conc["params"]["levels"]
        for metric, title, f in (("conn_per_s", "connections per second", "{:,.0f}"),
                                 ("p99_us", "p99 latency, µs", "{:,.0f}")):
            lines += ["", f"## Sweep `concurrency`: {title} against concurrent clients", "",
                      f"{conc['params']['duration_s']} s measured per point, "
                      f"{conc['params']['repeat']} repetition(s).", "",
                      "| design | " + " | ".join(f"{c} clients" for c in levels) + " |",
                      "|---|" + "---:|" * len(levels)]
            lines += sweep_rows(conc["entries"], "clients", levels, metric, f)

    micro = results.get("micro")
    if micro:
        lines += ["", "## Microbenchmarks (tcplab-micro)", "", "| benchmark | real µs | CPU µs |",
                  "|---|---:|---:|"]
        for b in micro["benchmarks"]:
            if "error" in b:
                lines.append(f"| {b['name']} | error: {b['error']} | |")
            else:
                lines.append(f"| {b['name']} | {b['real_us']:.3f} | {b['cpu_us']:.3f} |")

    from bench import faults
    lines += faults.summary_lines(results)
    from bench import beyond
    lines += beyond.summary_lines(results)
    lines += ["", "## Errors", ""]
    if results["errors"]:
        lines += [f"- `{e['step']}`: {e['message']}" for e in results["errors"]]
    else:
        lines.append("None.")
    if results.get("charts"):
        lines += ["", "## Charts", ""]
        lines += [f"![{c}]({c}.png)" for c in results["charts"]]
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


# --------------------------------------------------------------------------- main

def parse_args(argv):
    p = argparse.ArgumentParser(
        prog="suite.py",
        description="Run every tcplab server design under the standard workloads and write "
                    "results/<timestamp>/ with results.json, summary.md and the charts.",
        epilog="Workloads: unp (1 request/conn, Stevens' ch. 30 measurement), keepalive "
               "(100 requests/conn), herd (pool-size sweep), concurrency (client-count sweep). "
               "The default takes about 2.5 minutes on two cores; --quick about 30 s.")
    p.add_argument("--quick", action="store_true",
                   help="classroom version: fewer connections, 1 repetition, tiny sweeps")
    p.add_argument("--only", metavar="DESIGNS",
                   help="comma list of designs to run (default: all of `tcplab-server --list`)")
    p.add_argument("--workloads", metavar="LIST", default=",".join(WORKLOADS),
                   help="comma list of %s (default: all of these), or also %s "
                        "(bench/faults.py) or %s (bench/beyond.py), only when named"
                        % (", ".join(WORKLOADS), ", ".join(EXTRA_WORKLOADS),
                           ", ".join(BEYOND_WORKLOADS)))
    p.add_argument("--repeat", type=int, metavar="N",
                   help="repetitions of unp and keepalive (default 3, --quick 1)")
    p.add_argument("--out", metavar="DIR",
                   help="results folder (default: results/<timestamp> under the source tree)")
    p.add_argument("--bin", metavar="DIR", default=os.path.join(ROOT, "build", "bin"),
                   help="where tcplab-server, tcplab-load and tcplab-micro are "
                        "(default: %(default)s)")
    p.add_argument("--no-charts", action="store_true", help="skip drawing the charts")
    args = p.parse_args(argv)
    if args.repeat is None:
        args.repeat = 1 if args.quick else 3
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    args.workloads = [w for w in args.workloads.split(",") if w]
    for w in args.workloads:
        if w not in WORKLOADS + EXTRA_WORKLOADS + BEYOND_WORKLOADS:
            p.error(f"unknown workload {w!r}; choose from "
                    f"{', '.join(WORKLOADS + EXTRA_WORKLOADS + BEYOND_WORKLOADS)}")
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # Ctrl-C must reach us even when a script started us in the background with SIGINT ignored.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    for tool in ("tcplab-server", "tcplab-load"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            sys.exit(f"suite.py: {os.path.join(args.bin, tool)} not found; build first "
                     "(cmake --build build) or give --bin DIR")
    started = datetime.datetime.now()
    out_dir = args.out or os.path.join(ROOT, "results", started.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    ctx = Context(args, out_dir)

    designs = designs_from_server(ctx.server_bin)
    names = [d["name"] for d in designs]
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            sys.exit(f"suite.py: unknown design(s) {', '.join(unknown)}; "
                     f"known: {', '.join(names)}")
        names = [n for n in names if n in wanted]
    variants = []
    for n in names:
        if n == "prefork-fdpass":
            variants += [(n, policy) for policy in DISPATCH_POLICIES]
        else:
            variants.append((n, None))
    plan = PLANS["quick" if args.quick else "default"]
    herd_designs = [n for n in HERD_DESIGNS if n in names]

    # Count the steps first, for the progress lines.
    total = 0
    for w in args.workloads:
        if w in ("unp", "keepalive"):
            total += len(variants) * args.repeat
        elif w == "herd":
            total += len(herd_designs) * len(plan["herd"]["pool_sizes"]) * plan["herd"]["repeat"]
        elif w == "concurrency":
            c = plan["concurrency"]
            total += len(variants) * len(c["levels"]) * c["repeat"]
    if os.access(ctx.micro_bin, os.X_OK):
        total += 1
    from bench import faults
    total += faults.steps(names, args.quick, args.workloads)
    from bench import beyond
    total += beyond.steps(names, args.quick, args.workloads)
    ctx.total_steps = total

    results = {
        "schema": SCHEMA, "started": started.isoformat(timespec="seconds"), "finished": None,
        "duration_s": None, "interrupted": False,
        "command": [sys.executable, os.path.abspath(__file__)] + argv,
        "command_line": shlex.join(["bench/suite.py"] + argv),
        "machine": machine_info(),
        "pinning": {"server": ctx.server_pin, "load": ctx.load_pin},
        "config": {"quick": args.quick, "repeat": args.repeat, "workloads": args.workloads,
                   "designs": names, "bin": os.path.abspath(args.bin)},
        "designs": [d for d in designs if d["name"] in names],
        "workloads": {}, "micro": None, "errors": ctx.errors, "charts": [], "timings_s": {},
    }
    print(f"tcplab suite → {out_dir}  ({total} steps; server on CPU {ctx.server_pin}, "
          f"load on CPU {ctx.load_pin})", flush=True)
    t0 = time.monotonic()
    try:
        for w in args.workloads:
            started = time.monotonic()
            if w in ("unp", "keepalive"):
                params = dict(plan[w])
                entry = {"kind": "table", "params": params, "baseline": "iterative",
                         "entries": []}
                results["workloads"][w] = entry
                run_table_workload(ctx, w, params, variants, args.repeat, entry["entries"])
            elif w == "herd" and herd_designs:
                entry = {"kind": "sweep", "x": "workers", "params": dict(plan["herd"]),
                         "entries": []}
                results["workloads"][w] = entry
                run_herd(ctx, plan["herd"], herd_designs, entry["entries"])
            elif w == "concurrency":
                entry = {"kind": "sweep", "x": "clients", "params": dict(plan["concurrency"]),
                         "entries": []}
                results["workloads"][w] = entry
                run_concurrency(ctx, plan["concurrency"], variants, entry["entries"])
            elif w in EXTRA_WORKLOADS:
                faults.run(ctx, names, args.quick, [w], results)
            elif w in BEYOND_WORKLOADS:
                beyond.run(ctx, names, args.quick, [w], results)
            results["timings_s"][w] = round(time.monotonic() - started, 1)
        started = time.monotonic()
        results["micro"] = run_micro(ctx, args.quick)
        results["timings_s"]["micro"] = round(time.monotonic() - started, 1)
    except KeyboardInterrupt:
        # The Server context managers have already stopped and reaped the current server.
        results["interrupted"] = True
        print("\ninterrupted: writing partial results", flush=True)
    finally:
        shutil.rmtree(ctx.tmp, ignore_errors=True)
        for workload in results["workloads"].values():
            finalize(workload)

    results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["duration_s"] = time.monotonic() - t0
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    results_path = os.path.join(out_dir, "results.json")
    with open(results_path, "w") as f:
        json.dump(results, f, indent=1)
    if not args.no_charts:
        try:
            from plots import charts
            results["charts"] = charts.draw_all(results_path, out_dir)
        except Exception as e:  # a chart that cannot be drawn must not lose the results
            ctx.errors.append({"step": "charts", "message": f"{type(e).__name__}: {e}"})
            print(f"charts: {type(e).__name__}: {e}", file=sys.stderr)
        with open(results_path, "w") as f:
            json.dump(results, f, indent=1)
    write_summary(results, os.path.join(out_dir, "summary.md"))
    print(f"done in {results['duration_s']:.0f} s: {out_dir}/summary.md "
          f"({len(ctx.errors)} error(s))", flush=True)
    return 1 if results["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
