"""Debian's nginx as one more server beside the designs (workloads beyond and idle), and the
measured HTTP run the workloads beyond chapter 30 share."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import procfs
from .measure import median_run, summarize
from .table import fmt_ci
from .core import (SERVER_START_TIMEOUT_S, SERVER_STOP_TIMEOUT_S, Server, Step, StepError,
                   run_load)

NAME = "nginx"
BINARY = "/usr/sbin/nginx"


class Nginx:
    """Debian's nginx-light from a temporary prefix on a free loopback port: `workers` worker
    processes, no access log, a 4000-byte file at /4000 with tcplab's byte pattern (the
    configuration of bench/compare_loadgen.sh, with a master process and N workers)."""

    def __init__(self, ctx, workers, nbytes):
        self.ctx, self.workers, self.nbytes = ctx, workers, nbytes
        # Its own folder, readable by all: run as root, nginx's workers become "nobody".
        self.dir = tempfile.mkdtemp(prefix="tcplab-nginx-")
        os.chmod(self.dir, 0o755)
        self.proc = None
        self.exit = None

    def __enter__(self):
        if not os.access(BINARY, os.X_OK):
            raise StepError(f"{BINARY} not found (apt-get install nginx-light)")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        d = self.dir
        os.makedirs(f"{d}/html")
        os.makedirs(f"{d}/logs")
        with open(f"{d}/html/{self.nbytes}", "w") as f:
            f.write("".join(str(k % 10) for k in range(self.nbytes)))
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(f"""daemon off;
worker_processes {self.workers};
worker_rlimit_nofile 20000;
error_log {d}/logs/error.log;
pid {d}/nginx.pid;
events {{ worker_connections 16384; }}
http {{
  access_log off;
  keepalive_requests 1000000000;
  keepalive_timeout 120s;
  client_body_temp_path {d}/body; proxy_temp_path {d}/proxy; fastcgi_temp_path {d}/fastcgi;
  uwsgi_temp_path {d}/uwsgi; scgi_temp_path {d}/scgi;
  server {{ listen 127.0.0.1:{self.port}; root {d}/html; default_type application/octet-stream; }}
}}
""")
        cmd = [BINARY, "-p", d, "-c", f"{d}/nginx.conf"]
        if self.ctx.server_pin:
            cmd = ["taskset", "-c", self.ctx.server_pin] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if len(procfs.tree(self.proc.pid)) > self.workers and self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise StepError("nginx did not start")

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(f"GET /{self.nbytes} HTTP/1.0\r\n\r\n".encode())
                return b" 200 " in s.recv(100)
        except OSError:
            return False

    def usage(self):
        return {"cpu_s": procfs.tree_cpu_s(self.proc.pid),
                "rss_kb": procfs.tree_rss_kb(self.proc.pid), "workers": []}

    def stop(self):
        if self.proc is None or self.exit is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            self.exit = self.proc.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for p in procfs.tree(self.proc.pid):
                os.kill(p, signal.SIGKILL)
            self.exit = self.proc.wait()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def server(ctx, design, workers, extra=(), nbytes=4000):
    """nginx, or a tcplab-server design with `extra` options."""
    if design == NAME:
        return Nginx(ctx, workers, nbytes)
    return Server(ctx, design, workers, extra=extra)


def measured(ctx, srv, label, clients, connections, rpc, nbytes, timeout_ms=None):
    """Warm-up, usage A, measured load (tcplab-load --http), usage B: the window's figures."""
    run_load(ctx, srv.port, clients, rpc, nbytes, http=True,
             connections=max(clients, connections // 20))
    a = srv.usage()
    load, raw = run_load(ctx, srv.port, clients, rpc, nbytes, label, http=True,
                         connections=connections, timeout_ms=timeout_ms)
    b = srv.usage()
    counts = load["counts"]
    lat = load["latency"]["total"]
    return {
        "req_per_s": load["rates"]["requests_per_s"],
        "conn_per_s": load["rates"]["connections_per_s"],
        "cpu_us_per_req": (b["cpu_s"] - a["cpu_s"]) * 1e6 / max(counts.get("requests", 0), 1),
        "p50_us": lat["p50_us"], "p99_us": lat["p99_us"],
        "failed": counts.get("failed", 0), "requests": counts.get("requests", 0),
        "failed_fraction": counts.get("failed", 0) / max(connections, 1),
        "load_window_s": load["window_s"],
        "workers": [y - (a["workers"][i] if i < len(a["workers"]) else 0)
                    for i, y in enumerate(b["workers"])],
        "load_file": raw,
    }


def note(f):
    if "req_per_s" in f:
        return (f"{f['req_per_s']:,.0f} req/s, {f['cpu_us_per_req']:.1f} µs CPU/req,"
                f" p99 {f['p99_us']:,.0f} µs, {f['failed']} failed")
    if "rss_kb_per_conn" in f:
        return f"{f['rss_kb_per_conn']:.1f} KiB/connection"
    return ""


def run_servers(ctx, name, p, names, go, what, **fields):
    """Workload `name` on each server of `names`, ctx.repeat interleaved repetitions, a fresh
    server each time: go(design, label) returns one run's figures. Each row of
    results["workloads"][name]["servers"] gets its `runs`, the `summary` of every numeric
    figure (stats.summary) and `figures`: the medians, with the lists of the median run."""
    if not names:
        return
    out = ctx.workload(name, kind=name, params=p, entries=[], servers=[])
    rows = [{"variant": d, "design": d, **fields, "runs": []} for d in names]
    out["servers"] += rows
    try:
        for rep in range(1, ctx.repeat + 1):
            for e in rows:
                label = "/".join([name] + [str(v) for v in fields.values()] + [e["design"]])
                run = {"rep": rep}
                e["runs"].append(run)
                with Step(ctx, f"{label}/rep{rep}",
                          f"{e['design']:<26} {what} rep {rep}/{ctx.repeat}", run) as st:
                    run["figures"] = go(e["design"], f"{label}/rep{rep}")
                    st.note = note(run["figures"])
    finally:
        for e in rows:
            e["summary"] = summarize(e["runs"])
            mid = median_run(e["runs"], "req_per_s" if e["summary"] and
                             "req_per_s" in e["summary"] else "rss_kb_per_conn")
            if mid:
                e["figures"] = dict(mid["figures"], **{k: v["median"]
                                                        for k, v in e["summary"].items()})
            else:
                e["error"] = next((r["error"] for r in e["runs"] if "error" in r), "not run")


def row(e):
    f = e.get("figures")
    if not f:
        return f"| {e['variant']} | error: {e.get('error')} | | | | |"
    s = e.get("summary") or {}

    def ci(key, fmt):
        return fmt_ci(s[key], fmt) if key in s else fmt.format(f[key])
    return (f"| {e['variant']} | {ci('req_per_s', '{:,.0f}')} | {ci('cpu_us_per_req', '{:.1f}')} "
            f"| {ci('p50_us', '{:,.0f}')} | {ci('p99_us', '{:,.0f}')} | {f['failed']:g} |")
