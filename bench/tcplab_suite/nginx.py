"""Debian's nginx as one more server beside the designs (workloads beyond and idle), and the
measured HTTP run the workloads beyond chapter 30 share."""

import argparse
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from . import procfs
from .measure import guarded, median_run, noise_note, summarize, window
from .table import fmt_ci
from .core import (SERVER_START_TIMEOUT_S, SERVER_STOP_TIMEOUT_S, Server, Step, StepError,
                   held_interrupts, run_load)

NAME = "nginx"
TUNED = "nginx-tuned"
BINARY = "/usr/sbin/nginx"

# The two configurations, by the name the suite runs them under. Both have a master process and
# N workers, no access log and the same limits. NAME, the default, sets no file-serving
# directive, so nginx's defaults apply (ngx_http_core_module: `sendfile off;`,
# `open_file_cache off;`): per request it opens the file, fstat()s it, pread()s it into a
# buffer, writev()s headers and body and closes it. TUNED is how nginx's users run it: sendfile
# and tcp_nopush as Debian's own /etc/nginx/nginx.conf ships them, the open descriptor and its
# stat kept per worker (open_file_cache; open_file_cache_valid: how often a cached file is
# checked again), and each worker bound to one CPU of the server's (worker_cpu_affinity).
CONFIGS = {
    NAME: {"label": "nginx", "http": []},
    TUNED: {"label": "nginx (sendfile, open_file_cache)",
            "http": ["sendfile on", "tcp_nopush on", "open_file_cache max=1000 inactive=60s",
                     "open_file_cache_valid 60s"],
            "affinity": True},
}


def shown_as(name):
    """The row name a server is shown under: nginx's configurations by what they set."""
    return CONFIGS[name]["label"] if name in CONFIGS else name


def affinity_masks(workers, cpus):
    """worker_cpu_affinity's masks: worker i on CPU cpus[i % len(cpus)] alone (nginx's mask is
    a string of 0s and 1s with CPU 0 rightmost: CPU 2 is "100")."""
    return [format(1 << cpus[i % len(cpus)], "b") for i in range(workers)]


def config_text(name, prefix, port, workers, cpus=None, master=True, host="127.0.0.1"):
    """nginx.conf for configuration `name` (a key of CONFIGS), files under `prefix`, listening on
    host:port with `workers` workers; master=False is one process and no workers (what
    bench/compare_loadgen.sh runs). With a master, TUNED binds worker i to CPU
    cpus[i % len(cpus)] (`cpus`: the server's CPUs; None: those this process may run on)."""
    c = CONFIGS[name]
    lines = ["daemon off;"]
    if not master:
        lines += ["master_process off;", "worker_processes 1;"]
    else:
        lines.append(f"worker_processes {workers};")
        if c.get("affinity"):
            cpus = sorted(cpus or os.sched_getaffinity(0))
            lines.append(f"worker_cpu_affinity {' '.join(affinity_masks(workers, cpus))};")
    lines += ["worker_rlimit_nofile 20000;", f"error_log {prefix}/logs/error.log;",
              f"pid {prefix}/nginx.pid;", "events { worker_connections 16384; }", "http {",
              "  access_log off;", "  keepalive_requests 1000000000;", "  keepalive_timeout 120s;"]
    lines += [f"  {d};" for d in c["http"]]
    lines += [f"  client_body_temp_path {prefix}/body; proxy_temp_path {prefix}/proxy;"
              f" fastcgi_temp_path {prefix}/fastcgi;",
              f"  uwsgi_temp_path {prefix}/uwsgi; scgi_temp_path {prefix}/scgi;",
              f"  server {{ listen {host}:{port}; root {prefix}/html;"
              " default_type application/octet-stream; }", "}", ""]
    return "\n".join(lines)


def record(name, workers, cpus):
    """What results.json keeps of a configuration: its text, with PREFIX and PORT for the
    temporary folder and the port of each run."""
    return config_text(name, "PREFIX", "PORT", workers, cpus)


def prepare(prefix, nbytes):
    """The folders nginx writes to and the file it serves: /NBYTES, byte k being '0' + k % 10
    as every tcplab server sends it."""
    os.makedirs(f"{prefix}/html")
    os.makedirs(f"{prefix}/logs")
    with open(f"{prefix}/html/{nbytes}", "w") as f:
        f.write("".join(str(k % 10) for k in range(nbytes)))


class Nginx:
    """Debian's nginx-light from a temporary prefix on a free loopback port: configuration
    `name` (CONFIGS) with `workers` worker processes and a 4000-byte file at /4000 with
    tcplab's byte pattern, the master (and so every worker) under taskset on the server CPUs.
    `wrap` goes in front of the command (tests: strace -f); it must exec or follow nginx, and
    nginx is stopped through the pid in its pid file."""

    def __init__(self, ctx, workers, nbytes, name=NAME, wrap=()):
        self.ctx, self.workers, self.nbytes, self.name = ctx, workers, nbytes, name
        self.wrap = list(wrap)
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
        prepare(d, self.nbytes)
        with open(f"{d}/nginx.conf", "w") as f:
            f.write(config_text(self.name, d, self.port, self.workers, self.ctx.server_cpus))
        cmd = [BINARY, "-p", d, "-c", f"{d}/nginx.conf"]
        if self.ctx.server_pin:
            cmd = ["taskset", "-c", self.ctx.server_pin] + cmd
        try:
            with held_interrupts():  # inside Popen a KeyboardInterrupt would lose the pid
                self.proc = subprocess.Popen(self.wrap + cmd, stdin=subprocess.DEVNULL,
                                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while time.monotonic() < deadline:
                if len(self.worker_pids()) >= self.workers and self._answers():
                    return self
                time.sleep(0.05)
        except BaseException:  # Ctrl-C while it starts: __exit__ will not run
            self.__exit__()
            raise
        self.__exit__()
        raise StepError("nginx did not start")

    def master_pid(self):
        """The master's pid: the one started, or (wrapped) the one in nginx's pid file."""
        if not self.wrap:
            return self.proc.pid
        try:
            with open(f"{self.dir}/nginx.pid") as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def worker_pids(self):
        pid = self.master_pid()
        return procfs.children(pid) if pid else []

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(f"GET /{self.nbytes} HTTP/1.0\r\n\r\n".encode())
                return b" 200 " in s.recv(100)
        except OSError:
            return False

    @property
    def pid(self):
        return self.proc.pid

    def snapshot(self):
        """What nginx has of a tcplab-server's accounting: its tree's CPU, at the tick."""
        user, system = procfs.tree_times(self.proc.pid)
        return {"cpu_user_s": user, "cpu_sys_s": system}

    quiet_snapshot = snapshot  # nginx keeps no count of active connections to wait for

    def stop(self):
        if self.proc is None or self.exit is not None:
            return
        with held_interrupts():  # a second Ctrl-C must not leave it running
            master = self.master_pid()
            if master and self.proc.poll() is None:
                os.kill(master, signal.SIGQUIT)  # nginx's graceful stop
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
    """nginx in one of its CONFIGS, or a tcplab-server design with `extra` options."""
    if design in CONFIGS:
        return Nginx(ctx, workers, nbytes, design)
    return Server(ctx, design, workers, extra=extra)


def measured(ctx, srv, label, clients, connections, rpc, nbytes, timeout_ms=None):
    """Warm-up, then the window (measure.window, measured again while noisy: guarded) of
    tcplab-load --http: the run record, {"figures", "cpu", "noise", "quiet"}."""
    run_load(ctx, srv.port, clients, rpc, nbytes, http=True,
             connections=max(clients, connections // 20))
    return guarded(ctx, label, lambda: http_window(ctx, srv, label, clients, connections, rpc,
                                                   nbytes, timeout_ms))


def http_window(ctx, srv, label, clients, connections, rpc, nbytes, timeout_ms=None,
                quiet=True):
    """One window of tcplab-load --http on srv: {"figures", "cpu", "noise"}."""
    w = window(ctx, srv, lambda: run_load(ctx, srv.port, clients, rpc, nbytes, label, http=True,
                                          connections=connections, timeout_ms=timeout_ms),
               quiet=quiet)
    load, d = w["load"], w["server"]
    counts = load["counts"]
    lat = load["latency"]["total"]
    return {"cpu": w["cpu"], "noise": w["noise"], "figures": {
        "req_per_s": load["rates"]["requests_per_s"],
        "conn_per_s": load["rates"]["connections_per_s"],
        "cpu_us_per_req": (d["cpu_user_s"] + d["cpu_sys_s"]) * 1e6
        / max(counts.get("requests", 0), 1),
        "p50_us": lat["p50_us"], "p99_us": lat["p99_us"],
        "failed": counts.get("failed", 0), "requests": counts.get("requests", 0),
        "failed_fraction": counts.get("failed", 0) / max(connections, 1),
        "load_window_s": load["window_s"], "workers": d["workers"], "load_file": w["load_file"],
    }}


def note(f):
    if "req_per_s" in f:
        return (f"{f['req_per_s']:,.0f} req/s, {f['cpu_us_per_req']:.1f} µs CPU/req,"
                f" p99 {f['p99_us']:,.0f} µs, {f['failed']} failed")
    if "rss_kb_per_conn" in f:
        return f"{f['rss_kb_per_conn']:.1f} KiB/connection"
    return ""


def run_servers(ctx, name, p, names, go, what, **fields):
    """Workload `name` on each server of `names`, ctx.repeat interleaved repetitions, a fresh
    server each time: go(design, label) returns one run's record ({"figures", ...}). Each row of
    results["workloads"][name]["servers"] gets its `runs`, the `summary` of every numeric
    figure (stats.summary) and `figures`: the medians, with the lists of the median run."""
    if not names:
        return
    out = ctx.workload(name, kind=name, params=p, entries=[], servers=[])
    rows = [{"variant": shown_as(d), "design": d, **fields, "runs": []} for d in names]
    out["servers"] += rows
    try:
        for rep in range(1, ctx.repeat + 1):
            for e in rows:
                label = "/".join([name] + [str(v) for v in fields.values()] + [e["design"]])
                run = {"rep": rep}
                e["runs"].append(run)
                with Step(ctx, f"{label}/rep{rep}",
                          f"{e['design']:<26} {what} rep {rep}/{ctx.repeat}", run) as st:
                    run.update(go(e["design"], f"{label}/rep{rep}"))
                    st.note = note(run["figures"]) + noise_note(run)
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


CHOICES = {"default": NAME, "tuned": TUNED}


def main(argv=None):
    """`python3 -m tcplab_suite.nginx DIR --port P --config default|tuned [--single-process]`
    (from bench/): writes DIR/nginx.conf, DIR/html/BYTES and DIR/logs, for a script that runs
    nginx itself (bench/compare_loadgen.sh)."""
    ap = argparse.ArgumentParser(prog="python3 -m tcplab_suite.nginx",
                                 description="Writes an nginx prefix folder: nginx.conf for one "
                                             "of the suite's configurations and the file it "
                                             "serves. Run nginx with -p DIR -c DIR/nginx.conf.")
    ap.add_argument("dir", help="an empty or missing folder")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--config", choices=CHOICES, default="default",
                    help="default: nginx's own defaults; tuned: "
                    + "; ".join(CONFIGS[TUNED]["http"]) + "; worker_cpu_affinity (with workers)")
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--cpus", help="the CPUs tuned binds the workers to, e.g. 0 or 0-1 "
                                   "(default: those this process may run on)")
    ap.add_argument("--single-process", action="store_true",
                    help="master_process off: one process serves, no workers")
    ap.add_argument("--bytes", type=int, default=4000, help="the file's size (served at /BYTES)")
    args = ap.parse_args(argv)
    try:
        cpus = procfs.cpu_list(args.cpus) if args.cpus else None
    except ValueError as e:
        ap.error(str(e))
    if not 0 < args.port < 65536 or args.workers < 1 or args.bytes < 0:
        ap.error("--port must be 1 to 65535, --workers at least 1, --bytes at least 0")
    if os.path.exists(args.dir) and os.listdir(args.dir):
        ap.error(f"{args.dir} is not empty")
    os.makedirs(args.dir, exist_ok=True)
    prefix = os.path.abspath(args.dir)
    prepare(prefix, args.bytes)
    with open(f"{prefix}/nginx.conf", "w") as f:
        f.write(config_text(CHOICES[args.config], prefix, args.port, args.workers, cpus,
                            master=not args.single_process))


if __name__ == "__main__":
    main()
