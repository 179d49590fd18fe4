"""slowhttp: slow and hostile clients as their users make them, with Debian's `slowhttptest`,
against every design of the table, the event loops included (whole only when named; the
default run holds its lab slice, PLANS["lab"]: slowloris on the two designs of bench/LAB.md's
question 12).

  slowloris  (-H) CONNECTIONS clients send a request's headers and never the blank line that
             ends them (a further header every -i s); the server drops each --io-timeout-ms
             after its first byte
  slowread   (-X) CONNECTIONS clients ask for `GET /N` with N larger than the server's socket
             buffers can hold (twice net.ipv4.tcp_wmem's maximum at least), then read it -z bytes
             every -n s through a receive buffer of -w..-y bytes: the server's send() blocks

slowhttptest itself judges the service: every -p s it sends a normal request on a probe
connection, and a probe not answered within -p s marks the service unavailable until one is.
Its CSV (-g -o FILE) holds that verdict once a second, and it is what is parsed here (never its
coloured terminal output): the fraction of the seconds the design was available, and the second
it was first unavailable. The first -p seconds are available by construction (no probe can have
timed out yet).

Each run: a fresh server on 127.0.0.1, port 0, with a short --io-timeout-ms; slowhttptest on the
load CPUs against that port only, bounded by -c and -l (and killed by its pid if it overstays);
then the server is stopped and reaped. Without slowhttptest the workload records why and skips.
"""

import json
import os
import re
import shutil
import subprocess

from .. import designs as D
from .. import procfs
from ..core import Server, StepError, held_interrupts, record_step

NAME = "slowhttp"
DEFAULT = "lab"
COST = ("about 3.5 min with 15 designs (every design x slowloris and slow read x 7 s of "
        "slowhttptest, one run each: 219 s measured; --quick: 2 designs x 10 s, under 1 min)")
LAB_COST = ("about 15 s (LAB question 12: slowloris alone, -l 7, on prethread-dispatch and "
            "prefork-epoll-exclusive)")
LOOPBACK_ONLY = "slowhttptest targets 127.0.0.1 only"
TOOL = "slowhttptest"
MODES = ("slowloris", "slowread")
_MODE = {
    "slowloris": {"flag": "-H", "options": {"interval_s": "-i"}},
    "slowread": {"flag": "-X", "options": {"window_min": "-w", "window_max": "-y",
                                           "read_interval_s": "-n", "read_bytes": "-z"}},
}
_COMMON = {"slowloris": {"connections": 200, "rate": 100, "interval_s": 5, "bytes": 100},
           "slowread": {"connections": 100, "rate": 100, "window_min": 512, "window_max": 1024,
                        "read_interval_s": 1, "read_bytes": 32, "bytes": 8 << 20}}
PLANS = {
    "default": {"workers": 4, "io_timeout_ms": 2000, "duration_s": 7, "probe_timeout_s": 2,
                "modes": _COMMON},
    # quick: two designs (a pool whose workers accept, an event loop), a longer run each
    "quick": {"workers": 4, "io_timeout_ms": 2000, "duration_s": 10, "probe_timeout_s": 2,
              "modes": _COMMON, "only_two": True},
    # The default run's slice: bench/LAB.md's question 12, a blocking pool of four and an
    # event-driven pool of four under slowloris (the keep-alive pinning its ab command shows).
    "lab": {"workers": 4, "io_timeout_ms": 2000, "duration_s": 7, "probe_timeout_s": 2,
            "modes": {"slowloris": _COMMON["slowloris"]}, "slice": "lab",
            "designs": ["prethread-dispatch", "prefork-epoll-exclusive"]},
}
CHARTS = ("slowhttp_availability",)


def slow_designs(ctx, plan):
    """Every design of the table, or those the plan names; --quick: the first pool whose
    workers accept and the first event loop (the first two designs if the table has
    neither)."""
    if not plan.get("only_two"):
        return D.names(D.subset(ctx.designs, plan.get("designs")))
    two = D.herd(ctx.designs)[:1] + D.event_loops(ctx.designs)[:1]
    return D.names(two or ctx.designs[:2])


def modes(plan):
    """The modes the plan runs, in MODES' order (the lab's slice: slowloris alone)."""
    return [m for m in MODES if m in plan["modes"]]


def installed():
    return shutil.which(TOOL)


def steps(ctx):
    plan = ctx.plan(PLANS)
    if not slow_designs(ctx, plan):
        return 0   # a lab slice whose designs --only left out
    if not installed():
        return 1
    return len(slow_designs(ctx, plan)) * len(modes(plan))


# --------------------------------------------------------------------------- slowhttptest's CSV

def parse_csv(text):
    """slowhttptest's -g CSV ("Seconds,Closed,Pending,Connected,Service Available", one row a
    second; the last column is the connection target while the probe is answered, 0 while not)
    as [{"s", "closed", "pending", "connected", "available"}]; columns found by their header.
    ValueError if it is not that CSV."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        raise ValueError("empty slowhttptest CSV")
    header = [h.strip().lower() for h in lines[0].split(",")]
    for need in ("seconds", "service available"):
        if need not in header:
            raise ValueError(f"slowhttptest CSV without a {need!r} column: {lines[0]!r}")
    rows = []
    for line in lines[1:]:
        cells = line.split(",")
        if len(cells) != len(header):
            raise ValueError(f"slowhttptest CSV row {line!r} has {len(cells)} columns, "
                             f"its header {len(header)}")
        v = dict(zip(header, (int(c) for c in cells)))
        rows.append({"s": v["seconds"], "closed": v.get("closed"), "pending": v.get("pending"),
                     "connected": v.get("connected"), "available": v["service available"] > 0})
    return rows


def availability(rows):
    """Per second from 0 to the last row's second, the verdict of the last row at or before it
    (slowhttptest writes a row when its loop runs in a new second, and may miss one); the
    fraction of those seconds available and the first second unavailable (None: never)."""
    if not rows:
        return {"timeline": [], "seconds": 0, "available_s": 0, "available_fraction": None,
                "first_unavailable_s": None}
    by_second = {r["s"]: r["available"] for r in rows}
    timeline, state = [], rows[0]["available"]
    for s in range(rows[-1]["s"] + 1):
        state = by_second.get(s, state)
        timeline.append(state)
    up = sum(timeline)
    return {"timeline": timeline, "seconds": len(timeline), "available_s": up,
            "available_fraction": up / len(timeline),
            "first_unavailable_s": next((s for s, ok in enumerate(timeline) if not ok), None)}


# --------------------------------------------------------------------------- one run

def exit_status(output):
    """The reason slowhttptest gives for ending ("Hit test time limit", "No open connections
    left"...), from its terminal output without the colour codes; None if absent."""
    m = re.search(r"Exit status:\s*([^\n]+)", re.sub(r"\x1b\[[0-9;]*m", "", output))
    return m.group(1).strip() if m else None


def wmem_max():
    """net.ipv4.tcp_wmem's maximum: how far the kernel lets a send buffer grow (None unread)."""
    try:
        with open("/proc/sys/net/ipv4/tcp_wmem") as f:
            return int(f.read().split()[2])
    except (OSError, ValueError, IndexError):
        return None


def response_bytes(mode, q):
    """The N of `GET /N`: slow read asks for more than twice what a send buffer can grow to,
    so that the server's writes block on the reader, not on nothing."""
    if mode != "slowread":
        return q["bytes"]
    w = wmem_max()
    return max(q["bytes"], 2 * w) if w else q["bytes"]


def command(ctx, mode, port, plan, prefix, nbytes):
    """slowhttptest's command line against 127.0.0.1:PORT, its CSV to PREFIX.csv."""
    q = plan["modes"][mode]
    cmd = [TOOL, _MODE[mode]["flag"], "-c", str(q["connections"]), "-r", str(q["rate"]),
           "-l", str(plan["duration_s"]), "-p", str(plan["probe_timeout_s"])]
    for key, flag in _MODE[mode]["options"].items():
        cmd += [flag, str(q[key])]
    cmd += ["-g", "-o", prefix, "-u", f"http://127.0.0.1:{port}/{nbytes}"]
    if ctx.load_pin:
        cmd = ["taskset", "-c", ctx.load_pin] + cmd
    return cmd


def one_run(ctx, design, workers, mode, plan):
    nbytes = response_bytes(mode, plan["modes"][mode])
    extra = ["--io-timeout-ms", str(plan["io_timeout_ms"]), "--max-bytes", str(nbytes),
             "--grace-ms", "500"]
    stem = f"slowhttp_{design}_{mode}"
    prefix = os.path.join(ctx.tmp, stem)
    r = {"design": design, "mode": mode, "bytes": nbytes}
    with Server(ctx, design, workers, extra=extra) as srv:
        r["fds_before"] = procfs.settled_fds(srv.pid)
        cmd = command(ctx, mode, srv.port, plan, prefix, nbytes)
        r["command"] = " ".join(cmd)
        with open(prefix + ".out", "w+") as out:
            with held_interrupts():  # inside Popen a KeyboardInterrupt would lose the pid
                proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                        stderr=subprocess.STDOUT, cwd=ctx.tmp)
            try:
                proc.wait(timeout=plan["duration_s"] + 30)
            except subprocess.TimeoutExpired:
                raise StepError(f"{TOOL} ran past -l {plan['duration_s']} s + 30 s") from None
            finally:
                if proc.poll() is None:
                    proc.kill()  # ours: the pid Popen started (taskset execs slowhttptest)
                    proc.wait()
            out.seek(0)
            output = out.read()
            tail = output[-300:]
        if proc.returncode != 0:
            raise StepError(f"{TOOL} exited {proc.returncode}: {tail}")
        try:
            with open(prefix + ".csv") as f:
                text = f.read()
        except OSError as e:
            raise StepError(f"{TOOL} wrote no CSV ({e}): {tail}") from None
        r["alive"] = srv.alive()
        r["fds_after"] = procfs.settled_fds(srv.pid) if r["alive"] else None
    r["exit"] = srv.exit
    r["server"] = server_counts(srv.stats_path)
    r["ended"] = exit_status(output)
    r["all_closed"] = r["ended"] == "No open connections left"
    with open(os.path.join(ctx.raw_dir, stem + ".csv"), "w") as f:
        f.write(text)
    r["csv"] = os.path.relpath(os.path.join(ctx.raw_dir, stem + ".csv"), ctx.out_dir)
    r["rows"] = parse_csv(text)
    r.update(availability(r["rows"]))
    return r


def server_counts(path):
    """The server's own count of the run, from the summary it writes on exit (--stats-json):
    connections it accepted, requests it answered, connections it dropped for the timeout and
    that reset; None if it wrote none (it did not exit cleanly)."""
    try:
        with open(path) as f:
            s = json.load(f)
    except (OSError, ValueError):
        return None
    return {"connections": s.get("connections"), "requests": s.get("requests"),
            "timeouts": s.get("failures", {}).get("timeout"),
            "resets": s.get("failures", {}).get("reset")}


def by_design(runs):
    """{design: {MODE_available_fraction, MODE_first_unavailable_s, MODE_available_s,
    MODE_seconds}} for REPORT's tables."""
    out = {}
    for r in runs:
        d = out.setdefault(r["design"], {})
        for key in ("available_s", "seconds"):
            d[f"{r['mode']}_{key}"] = r[key]
        d[f"{r['mode']}_available_fraction"] = r["available_fraction"]
        d[f"{r['mode']}_first_unavailable_s"] = r["first_unavailable_s"]
    return out


def run(ctx):
    plan = ctx.plan(PLANS)
    if not slow_designs(ctx, plan):
        return   # a lab slice whose designs --only left out
    workers = plan["workers"] = ctx.workers(plan["workers"])
    w = ctx.workload(NAME, kind="slowhttp", params=plan, entries=[], runs=[], designs={},
                     tcp_wmem_max=wmem_max(), skipped=None)
    if not installed():
        w["skipped"] = (f"{TOOL} is not installed (Debian package {TOOL}; .ci/setup "
                        "installs it)")
        ctx.step += 1
        print(f"[{ctx.step}/{ctx.total_steps}] slowhttp ... skipped: {w['skipped']}", flush=True)
        return
    for d in slow_designs(ctx, plan):
        for mode in modes(plan):
            record_step(ctx, f"slowhttp/{d}/{mode}", f"{d:<26} slowhttptest {mode}", w["runs"],
                        lambda: one_run(ctx, d, workers, mode, plan),
                        lambda r: f"available {100 * r['available_fraction']:.0f} % of "
                                  f"{r['seconds']} s, first unavailable: "
                                  f"{_s(r['first_unavailable_s'])}; {r['ended']}")
    w["designs"] = by_design(w["runs"])


# --------------------------------------------------------------------------- summary.md

def _s(v):
    return "never" if v is None else f"{v} s"


def _ran(r):
    if not r:
        return "–"
    return f"{r['seconds']} s" + (" (all closed)" if r.get("all_closed") else "")


def _counts(r):
    c = (r or {}).get("server")
    return f"{c['connections']} / {c['timeouts']}" if c else "–"


def _pct(v):
    return "–" if v is None else f"{100 * v:.0f} %"


def summary(results):
    w = results.get("workloads", {}).get(NAME)
    if not w:
        return []
    p = w["params"]
    lines = ["", f"## Slow clients with slowhttptest (`--workloads {NAME}`)", ""]
    if w.get("skipped"):
        return lines + [f"Skipped: {w['skipped']}."]
    settings = []
    if "slowloris" in p["modes"]:
        lo = p["modes"]["slowloris"]
        settings.append(f"slowloris -c {lo['connections']} -r {lo['rate']} -i "
                        f"{lo['interval_s']}")
    if "slowread" in p["modes"]:
        rd = p["modes"]["slowread"]
        nread = next((r["bytes"] for r in w["runs"] if r["mode"] == "slowread"), rd["bytes"])
        settings.append(f"slow read -c {rd['connections']} of {nread:,} bytes, -w "
                        f"{rd['window_min']} -y {rd['window_max']} -n {rd['read_interval_s']} "
                        f"-z {rd['read_bytes']}")
    if p.get("slice") == "lab":
        lines += [f"The default run's slice for bench/LAB.md (question 12): slowloris on "
                  f"{', '.join(p['designs'])}; `--workloads {NAME}` runs every design, slow "
                  "read too.", ""]
    lines += [f"slowhttptest's own verdict per second (a probe request every "
              f"{p['probe_timeout_s']} s, unanswered within it: unavailable), -l "
              f"{p['duration_s']}; " + "; ".join(settings) + f"; {p['workers']} workers, "
              f"--io-timeout-ms {p['io_timeout_ms']}.",
              "\"all closed\": the server closed every slow connection and slowhttptest "
              "stopped early.", "", "| design | slowloris available | first unavailable | slow read available "
              "| first unavailable | ran (slowloris, slow read) | server: connections / timeouts "
              "(slowloris, slow read) | alive after, descriptors before → after |",
              "|---|---:|---:|---:|---:|---|---|---|"]
    runs = {(r["design"], r["mode"]): r for r in w["runs"]}
    for d in dict.fromkeys(r["design"] for r in w["runs"]):
        a, b = runs.get((d, "slowloris"), {}), runs.get((d, "slowread"), {})
        alive = all(x.get("alive", True) for x in (a, b))
        lines.append(f"| {d} | {_pct(a.get('available_fraction'))} | "
                     f"{_s(a.get('first_unavailable_s')) if a else '–'} | "
                     f"{_pct(b.get('available_fraction'))} | "
                     f"{_s(b.get('first_unavailable_s')) if b else '–'} | "
                     f"{_ran(a)}, {_ran(b)} | {_counts(a)}, {_counts(b)} | "
                     f"{'yes' if alive else '**no**'}, "
                     + ", ".join(f"{x.get('fds_before')} → {x.get('fds_after')}" for x in (a, b)
                                 if x) + " |")
    return lines
