"""Workloads beyond chapter 30, run by bench/suite.py only when named in --workloads:

  beyond  the four event-loop designs beside the best classic ones and nginx, every server
          driven the same way (tcplab-load --http), under `unp` (1 request per connection)
          and `keepalive` (100 per connection), the same number of workers for all
  work    CPU-bound requests: every request costs --work-us of server CPU (nginx cannot)
  idle    memory held by 10,000 idle connections (each answered once, then silent)
  stall   one stuck worker (--stall-worker 0): who keeps sending it connections

Each writes results["workloads"][NAME] = {"kind": NAME, "params": {...}, "entries": [],
"servers": [...]}: one row per server, {"variant", "design", "figures" or "error"} ("entries"
stays empty: suite.py's finalize() summarises repetitions, and these run once). Charts:
plots/charts.py.
"""

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import tempfile
import time

from bench import suite as S

WORKLOADS = ("beyond", "work", "idle", "stall")
NEW = ["epoll", "prefork-reuseport", "prefork-epoll-exclusive", "loop-per-thread"]
CLASSIC = ["prefork", "prethread-dispatch", "prefork-fdpass"]
NGINX = "/usr/sbin/nginx"

PLANS = {
    "default": {
        "beyond": {"workers": 4, "clients": 5, "bytes": 4000,
                   "unp": {"connections": 10000, "requests_per_conn": 1},
                   "keepalive": {"connections": 200, "requests_per_conn": 100}},
        "work": {"workers": 4, "clients": 8, "bytes": 4000, "work_us": 200,
                 "connections": 400, "requests_per_conn": 10,
                 "designs": ["prefork", "prethread-dispatch", "epoll", "prefork-epoll-exclusive",
                             "loop-per-thread"]},
        "idle": {"workers": 4, "connections": 10000,
                 "designs": ["epoll", "loop-per-thread", "prefork-epoll-exclusive",
                             "prefork-reuseport", "thread"]},
        "stall": {"workers": 4, "clients": 5, "connections": 2000, "timeout_ms": 300,
                  "designs": ["prefork-reuseport", "prefork-epoll-exclusive", "loop-per-thread"]},
    },
    "quick": {
        "beyond": {"workers": 4, "clients": 5, "bytes": 4000,
                   "unp": {"connections": 1000, "requests_per_conn": 1},
                   "keepalive": {"connections": 20, "requests_per_conn": 50}},
        "work": {"workers": 4, "clients": 4, "bytes": 4000, "work_us": 200,
                 "connections": 50, "requests_per_conn": 4,
                 "designs": ["prefork", "epoll", "loop-per-thread"]},
        "idle": {"workers": 4, "connections": 1000, "designs": ["epoll", "loop-per-thread"]},
        "stall": {"workers": 4, "clients": 5, "connections": 200, "timeout_ms": 300,
                  "designs": ["prefork-reuseport", "prefork-epoll-exclusive"]},
    },
}


def _plan(quick):
    return PLANS["quick" if quick else "default"]


def _designs(wanted, names):
    return [d for d in wanted if d in names]


def steps(names, quick, workloads):
    p = _plan(quick)
    n = 0
    if "beyond" in workloads:
        n += 2 * (len(_designs(CLASSIC + NEW, names)) + 1)
    for w in ("work", "idle", "stall"):
        if w in workloads:
            n += len(_designs(p[w]["designs"], names)) + (1 if w == "idle" else 0)
    return n


# --------------------------------------------------------------------------- servers

class ExtraServer(S.Server):
    """suite.Server with extra command-line options."""

    def __init__(self, ctx, design, workers, extra=()):
        super().__init__(ctx.server_bin, design, workers, None, ctx.tmp, ctx.server_pin)
        self.cmd += list(extra)

    def usage(self):
        s = self.snapshot()
        return {"cpu_s": s["cpu_user_s"] + s["cpu_sys_s"], "rss_kb": _proc_usage(self.proc.pid)[1],
                "workers": s.get("workers") or []}


def _tree(pid):
    """pid and its descendants, from /proc/PID/task/*/children."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def _proc_usage(pid):
    """CPU (utime + stime + reaped children, at the tick) and current RSS of a process tree."""
    tick = os.sysconf("SC_CLK_TCK")
    cpu, rss = 0.0, 0
    for p in _tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            cpu += sum(int(x) for x in fields[11:15]) / tick  # utime stime cutime cstime
            with open(f"/proc/{p}/status") as f:
                rss += next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))
        except (OSError, StopIteration):
            pass
    return cpu, rss


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
        if not os.access(NGINX, os.X_OK):
            raise S.StepError(f"{NGINX} not found (apt-get install nginx-light)")
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
        cmd = [NGINX, "-p", d, "-c", f"{d}/nginx.conf"]
        if self.ctx.server_pin is not None:
            cmd = ["taskset", "-c", self.ctx.server_pin] + cmd
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + S.SERVER_START_TIMEOUT_S
        while time.monotonic() < deadline:
            if len(_tree(self.proc.pid)) > self.workers and self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise S.StepError("nginx did not start")

    def _answers(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                s.sendall(f"GET /{self.nbytes} HTTP/1.0\r\n\r\n".encode())
                return b" 200 " in s.recv(100)
        except OSError:
            return False

    def usage(self):
        cpu, rss = _proc_usage(self.proc.pid)
        return {"cpu_s": cpu, "rss_kb": rss, "workers": []}

    def stop(self):
        if self.proc is None or self.exit is not None:
            return
        self.proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            self.exit = self.proc.wait(timeout=S.SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            for p in _tree(self.proc.pid):
                os.kill(p, signal.SIGKILL)
            self.exit = self.proc.wait()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        return False


def _server(ctx, design, workers, extra=(), nbytes=4000):
    if design == "nginx":
        return Nginx(ctx, workers, nbytes)
    return ExtraServer(ctx, design, workers, extra)


# --------------------------------------------------------------------------- load

def _load(ctx, port, label, clients, connections, requests_per_conn, nbytes, timeout_ms=None):
    raw = os.path.join(ctx.raw_dir, label.replace("/", "_") + ".load.json")
    cmd = [ctx.load_bin, "--host", "127.0.0.1", "--port", str(port), "--http",
           "--clients", str(clients), "--connections", str(connections),
           "--requests-per-conn", str(requests_per_conn), "--bytes", str(nbytes),
           "--allow-errors", "--json", raw]
    if timeout_ms:
        cmd += ["--timeout-ms", str(timeout_ms)]
    if ctx.load_pin is not None:
        cmd = ["taskset", "-c", ctx.load_pin] + cmd + ["--cpu", ctx.load_pin]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=S.LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise S.StepError(f"tcplab-load took more than {S.LOAD_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        raise S.StepError(f"tcplab-load exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    with open(raw) as f:
        return json.load(f), os.path.relpath(raw, ctx.out_dir)


def _measured(ctx, server, label, clients, connections, rpc, nbytes, timeout_ms=None):
    """Warm-up, usage A, measured load, usage B: figures of the window, as suite.py does."""
    _load(ctx, server.port, label + "-warmup", clients, max(clients, connections // 20), rpc, nbytes)
    a = server.usage()
    load, raw = _load(ctx, server.port, label, clients, connections, rpc, nbytes, timeout_ms)
    b = server.usage()
    counts = load["counts"]
    requests = max(counts.get("requests", 0), 1)
    lat = load["latency"]["total"]
    return {
        "req_per_s": load["rates"]["requests_per_s"],
        "conn_per_s": load["rates"]["connections_per_s"],
        "cpu_us_per_req": (b["cpu_s"] - a["cpu_s"]) * 1e6 / requests,
        "p50_us": lat["p50_us"], "p99_us": lat["p99_us"],
        "failed": counts.get("failed", 0), "requests": counts.get("requests", 0),
        "workers": [y - (a["workers"][i] if i < len(a["workers"]) else 0)
                    for i, y in enumerate(b["workers"])],
        "load_file": raw,
    }


def _step(ctx, what, label, entry, fn):
    ctx.step += 1
    try:
        entry["figures"] = fn()
    except S.StepError as e:
        entry["error"] = str(e)
        ctx.errors.append({"step": label, "message": str(e)})
    f = entry.get("figures") or {}
    line = f"[{ctx.step}/{ctx.total_steps}] {what}"
    if "error" in entry:
        line += f" ... ERROR: {entry['error']}"
    elif "req_per_s" in f:
        line += (f" ... {f['req_per_s']:,.0f} req/s, {f['cpu_us_per_req']:.1f} µs CPU/req,"
                 f" p99 {f['p99_us']:,.0f} µs, {f['failed']} failed")
    elif "rss_kb_per_conn" in f:
        line += f" ... {f['rss_kb_per_conn']:.1f} KiB/connection"
    print(line, flush=True)


# --------------------------------------------------------------------------- workloads

def _servers(kind, p, results, designs, **fields):
    """Records workload `kind` in results and yields (design, entry) for each server to run;
    the step fills the entry in."""
    out = results["workloads"].setdefault(kind, {"kind": kind, "params": p, "entries": [],
                                                 "servers": []})
    for design in designs:
        e = {"variant": design, "design": design, **fields}
        out["servers"].append(e)
        yield design, e


def run_beyond(ctx, p, names, results):
    for sub in ("unp", "keepalive"):
        for design, e in _servers("beyond", p, results, _designs(CLASSIC + NEW, names) + ["nginx"],
                                  table=sub):
            label = f"beyond/{sub}/{design}"

            def go(design=design, sub=sub, label=label):
                with _server(ctx, design, p["workers"], nbytes=p["bytes"]) as s:
                    return _measured(ctx, s, label, p["clients"], p[sub]["connections"],
                                     p[sub]["requests_per_conn"], p["bytes"])
            _step(ctx, f"{design:<26} beyond/{sub}", label, e, go)


def run_work(ctx, p, names, results):
    for design, e in _servers("work", p, results, _designs(p["designs"], names)):
        label = f"work/{design}"

        def go(design=design, label=label):
            with _server(ctx, design, p["workers"], ["--work-us", str(p["work_us"])]) as s:
                return _measured(ctx, s, label, p["clients"], p["connections"],
                                 p["requests_per_conn"], p["bytes"])
        _step(ctx, f"{design:<26} work {p['work_us']} µs", label, e, go)


def _hold_idle(port, n):
    """n connections, each asked for one byte over HTTP/1.1 and answered, then left open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 100:
        raise S.StepError(f"RLIMIT_NOFILE {hard} is below {n} connections")
    conns = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /1 HTTP/1.1\r\nHost: idle\r\n\r\n")
            conns.append(s)
        for s in conns:
            if b" 200 " not in s.recv(4096):
                raise S.StepError("an idle connection got no answer")
    except OSError as e:
        for s in conns:
            s.close()
        raise S.StepError(f"holding {n} connections: {e}") from None
    return conns


def run_idle(ctx, p, names, results):
    for design, e in _servers("idle", p, results, _designs(p["designs"], names) + ["nginx"]):
        def go(design=design):
            with _server(ctx, design, p["workers"], ["--io-timeout-ms", "600000"], nbytes=1) as s:
                time.sleep(0.2)
                before = s.usage()["rss_kb"]
                conns = _hold_idle(s.port, p["connections"])
                time.sleep(0.5)
                after = s.usage()["rss_kb"]
                for c in conns:
                    c.close()
            return {"rss_kb_idle_server": before, "rss_kb_held": after,
                    "rss_kb_per_conn": (after - before) / p["connections"]}
        _step(ctx, f"{design:<26} idle x{p['connections']}", f"idle/{design}", e, go)


def run_stall(ctx, p, names, results):
    for design, e in _servers("stall", p, results, _designs(p["designs"], names)):
        label = f"stall/{design}"

        def go(design=design, label=label):
            extra = ["--stall-worker", "0", "--grace-ms", "500"]
            with _server(ctx, design, p["workers"], extra) as s:
                a = s.usage()
                load, raw = _load(ctx, s.port, label, p["clients"], p["connections"], 1, 4000,
                                  p["timeout_ms"])
                b = s.usage()
            c = load["counts"]
            return {"req_per_s": load["rates"]["requests_per_s"], "cpu_us_per_req": 0.0,
                    "p50_us": load["latency"]["total"]["p50_us"],
                    "p99_us": load["latency"]["total"]["p99_us"],
                    "failed": c.get("failed", 0), "requests": c.get("requests", 0),
                    "failed_fraction": c.get("failed", 0) / max(p["connections"], 1),
                    "workers": [y - (a["workers"][i] if i < len(a["workers"]) else 0)
                                for i, y in enumerate(b["workers"])],
                    "load_file": raw}
        _step(ctx, f"{design:<26} stall worker 0", label, e, go)


def run(ctx, names, quick, workloads, results):
    p = _plan(quick)
    runners = {"beyond": run_beyond, "work": run_work, "idle": run_idle, "stall": run_stall}
    for w in workloads:
        if w in runners:
            runners[w](ctx, dict(p[w]), names, results)


# --------------------------------------------------------------------------- summary.md

def summary_lines(results):
    lines = []
    ws = results.get("workloads", {})
    b = ws.get("beyond")
    if b:
        p = b["params"]
        for sub in ("unp", "keepalive"):
            lines += ["", f"## Beyond chapter 30: `{sub}` over HTTP, nginx beside the designs", "",
                      f"{p['clients']} clients, {p[sub]['requests_per_conn']} request(s) of "
                      f"{p['bytes']} bytes per connection, {p[sub]['connections']:,} connections, "
                      f"{p['workers']} workers (nginx: worker_processes {p['workers']}); every "
                      "server driven by tcplab-load --http.", "",
                      "| server | req/s | CPU µs/req | p50 µs | p99 µs | failed |",
                      "|---|---:|---:|---:|---:|---:|"]
            lines += [_row(e) for e in b["servers"] if e["table"] == sub]
    w = ws.get("work")
    if w:
        lines += ["", f"## CPU-bound requests: --work-us {w['params']['work_us']}", "",
                  "| design | req/s | CPU µs/req | p50 µs | p99 µs | failed |",
                  "|---|---:|---:|---:|---:|---:|"]
        lines += [_row(e) for e in w["servers"]]
    i = ws.get("idle")
    if i:
        lines += ["", f"## Memory of {i['params']['connections']:,} idle connections", "",
                  "| server | RSS before, KiB | RSS holding them, KiB | KiB per connection |",
                  "|---|---:|---:|---:|"]
        for e in i["servers"]:
            f = e.get("figures")
            lines.append(f"| {e['variant']} | " + (
                f"{f['rss_kb_idle_server']:,} | {f['rss_kb_held']:,} | {f['rss_kb_per_conn']:.1f} |"
                if f else f"error: {e.get('error')} | | |"))
    s = ws.get("stall")
    if s:
        lines += ["", "## One stalled worker (--stall-worker 0)", "",
                  f"{s['params']['connections']:,} connections, each given up after "
                  f"{s['params']['timeout_ms']} ms.", "",
                  "| design | failed | connections per worker | p99 µs |", "|---|---:|---|---:|"]
        for e in s["servers"]:
            f = e.get("figures")
            lines.append(f"| {e['variant']} | " + (
                f"{f['failed']} ({f['failed_fraction']:.0%}) | {' '.join(map(str, f['workers']))} "
                f"| {f['p99_us']:,.0f} |" if f else f"error: {e.get('error')} | | |"))
    return lines


def _row(e):
    f = e.get("figures")
    if not f:
        return f"| {e['variant']} | error: {e.get('error')} | | | | |"
    return (f"| {e['variant']} | {f['req_per_s']:,.0f} | {f['cpu_us_per_req']:.1f} | "
            f"{f['p50_us']:,.0f} | {f['p99_us']:,.0f} | {f['failed']} |")
