"""latency: open-loop latency against offered load on every design (issue 12).

A closed-loop client waits for each answer before it asks again, so a slow server slows its
own load down and the queueing a user would meet never shows (Schroeder, Wierman and
Harchol-Balter, "Open versus closed", NSDI '06). Here tcplab-load sends on a schedule
(`--rate R`, Poisson arrivals) whatever the server does, and latency counts from the
scheduled time (`total`, corrected for coordinated omission) beside the raw one (`total_raw`).

Every design meets the same absolute offered rates, a geometric grid from light load to past
the fastest design's saturation, so the curves compare at equal load. A point is read as a
latency only if the generator kept its schedule and the server kept up: achieved < 95 % of the
offered rate, or more than 1 % late sends, marks it `over_capacity` (the server's) or
`generator_bound` (the generator's CPUs saturated while the server's were not). Capacity at
the latency target is the highest offered rate whose p99 stays under `slo_us` with the point
not over capacity: the grid brackets it, and `search_steps` geometric bisections narrow the
bracket (mutilate's --search); repetitions give its interval (stats.summary).

This module is also the implementation of `latency-full` (both variants, a finer grid, a
longer search and the suite's --repeat): only the plans differ.
"""

import json
import math
import os
import subprocess
import sys

from .. import designs as D
from .. import procfs, procstat, stats
from ..core import LOAD_TIMEOUT_S, Server, Step, StepError, load_command
from ..measure import cpu_accounting, delta

NAME = "latency"
DEFAULT = True
COST = "about 2.5 min (13 designs x (4 rates + 1 bisection) x 2 s, one request per conn.)"
MIN_ACHIEVED = 0.95   # achieved / offered below this: the point is not a plain latency
MAX_LATE = 0.01       # late sends above this fraction: likewise
MODES = {"conn": 1, "keepalive": 100}   # requests per connection
PLANS = {
    "default": {"modes": ["conn"], "rates": {"conn": [1000, 3400, 12000, 40000]},
                "duration_s": 2.0,
                "warmup_s": 0.3, "clients": 50, "bytes": 4000, "workers": 15,
                "arrivals": "poisson", "slo_us": 1000.0, "search_steps": 1, "repeat": 1},
    "quick": {"modes": ["conn"], "rates": {"conn": [1000, 30000]}, "duration_s": 0.5,
              "warmup_s": 0.1,
              "clients": 50, "bytes": 4000, "workers": 15, "arrivals": "poisson",
              "slo_us": 1000.0, "search_steps": 0, "repeat": 1, "designs": 2},
}


def _chart(workload, name):
    """A chart of plots/latency_charts.py for `workload`, imported only when drawn."""
    def draw(results, out_dir):
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
            os.path.abspath(__file__)))))
        if root not in sys.path:
            sys.path.insert(0, root)
        from plots import latency_charts
        return getattr(latency_charts, name)(results, out_dir, workload)
    draw.__name__ = f"{workload}_{name}"
    return draw


def charts_for(workload):
    return tuple(_chart(workload, n) for n in ("load_curves", "spectrum", "capacity"))


CHARTS = charts_for(NAME)


# --------------------------------------------------------------------------- the logic

def classify(figures, cpu, min_achieved=MIN_ACHIEVED, max_late=MAX_LATE):
    """("ok" | "over_capacity" | "generator_bound", [reasons]) for one open-loop point.

    Not ok when the achieved rate is under min_achieved of the offered one or more than
    max_late of the scheduled sends were late. Then it is the generator's only if its own
    CPUs saturated while the server's did not; otherwise the server's: its CPUs saturated, or
    the generator was idle enough to keep time and still waited for connections (a late send
    waits for a free pooled connection, i.e. for the server) or saw the rate fall."""
    reasons = []
    if figures["achieved_fraction"] < min_achieved:
        reasons.append(f"achieved {100 * figures['achieved_fraction']:.0f} % of offered")
    if figures["late_fraction"] > max_late:
        reasons.append(f"{100 * figures['late_fraction']:.1f} % late sends")
    if not reasons:
        return "ok", []
    saturated = (cpu or {}).get("saturated") or []
    if "load" in saturated and "server" not in saturated:
        return "generator_bound", reasons + ["generator CPUs saturated, server CPUs not"]
    if "server" in saturated:
        reasons.append("server CPUs saturated")
    elif cpu is None or "error" in cpu:
        reasons.append("no per-CPU split (not pinned): taken as the server's")
    else:
        reasons.append("neither side's CPUs saturated: sends waited for the server")
    return "over_capacity", reasons


def passes(point, slo_us):
    """A point meets the target: measured, a plain latency (ok) and p99 (corrected) <= slo."""
    f = point.get("figures")
    return bool(f) and point.get("status") == "ok" and f["p99_us"] <= slo_us


def bracket(points, slo_us):
    """(lo, hi) over points sorted by offered rate: hi the first rate that fails the target,
    lo the highest passing rate below it. lo None: even the lowest failed; hi None: all pass.
    Failed measurements (no figures) are skipped."""
    lo = None
    for p in sorted((p for p in points if p.get("figures")), key=lambda p: p["rate"]):
        if not passes(p, slo_us):
            return lo, p["rate"]
        lo = p["rate"]
    return lo, None


def bisect_rate(lo, hi):
    """The next rate to try between a passing lo and a failing hi: their geometric mean (the
    grid is geometric), rounded; None when there is nothing left between them."""
    if lo is None or hi is None:
        return None
    r = round(math.sqrt(lo * hi))
    return r if lo < r < hi else None


def geometric_grid(lo, hi, n):
    """n rates from lo to hi, evenly spaced on a log scale, rounded to 2 significant digits."""
    if n < 2:
        return [lo]
    out = []
    for i in range(n):
        r = lo * (hi / lo) ** (i / (n - 1))
        digits = max(0, int(math.floor(math.log10(r))) - 1)
        out.append(int(round(r, -digits)))
    return out


def capacity(searches, slo_us):
    """Capacity at the target from each repetition's search [{"rep", "lo", "hi"}]: the
    repetitions' passing rates summarised (stats.summary), the median bracket, and whether the
    answer lies outside the grid ("below": even the lowest rate failed; "above": none did)."""
    los = [s["lo"] for s in searches if s["lo"] is not None]
    his = [s["hi"] for s in searches if s["hi"] is not None]
    censored = None
    if searches and len(los) < len(searches) / 2:
        censored = "below"
    elif searches and len(his) < len(searches) / 2:
        censored = "above"
    return {"slo_us": slo_us, "searches": searches, "censored": censored,
            "summary": stats.summary(los) if los else None,
            "bracket": [stats.summary(los)["median"] if los else None,
                        stats.summary(his)["median"] if his else None]}


def curve(points, rates):
    """Per offered rate of the grid, over the repetitions: the status (ok only if every
    measured repetition was ok, else the commonest other), and stats.summary of the figures."""
    out = []
    for rate in rates:
        here = [p for p in points if p["rate"] == rate and p.get("figures")]
        if not here:
            out.append({"rate": rate, "n": 0, "status": "error"})
            continue
        bad = [p["status"] for p in here if p["status"] != "ok"]
        status = max(set(bad), key=bad.count) if bad else "ok"
        figs = [p["figures"] for p in here]
        out.append({"rate": rate, "n": len(here), "status": status,
                    "summary": {k: stats.summary([f[k] for f in figs]) for k in figs[0]
                                if all(k in f for f in figs)}})
    return out


# --------------------------------------------------------------------------- measuring

def point_figures(load):
    """An open-loop point's figures from tcplab-load's JSON: corrected (total) and raw
    (total_raw) percentiles, the achieved rate, lateness, failures. achieved_fraction is the
    share of the sends scheduled in the window that were answered, so the offered rate's own
    Poisson noise (±2 % over 2000 sends) stays out of the 95 % test; requests still in flight
    when the window closed are neither answered nor refused and are left out, up to the pool
    of connections (more than that were queued, and a queued send is a late one)."""
    lat, late, counts = load["latency"], load["lateness"], load["counts"]
    in_flight = min(counts["abandoned"], load["config"]["clients"])
    f = {"offered_per_s": load["config"]["rate"],
         "achieved_per_s": load["rates"]["requests_per_s"],
         "achieved_fraction": counts["requests"] / max(late["scheduled"] - in_flight, 1),
         "conn_per_s": load["rates"]["connections_per_s"],
         "late": late["late"], "scheduled": late["scheduled"],
         "late_fraction": late["late_fraction"], "late_max_us": late["max_us"],
         "failed": counts["failed"], "abandoned": counts["abandoned"],
         "load_cpu_us_per_req": load["cpu"]["us_per_request"]}
    for kind, prefix in (("total", ""), ("total_raw", "raw_")):
        for p in ("p50", "p90", "p99", "p99_9", "max"):
            f[f"{prefix}{p}_us"] = lat[kind][f"{p}_us"]
    return f


def open_load(ctx, port, plan, rate, requests_per_conn, seed, label=None, duration_s=None):
    """One open-loop tcplab-load run (core's load command plus --rate, --arrivals, --seed);
    with a label its JSON goes to raw/LABEL.load.json and is returned with that path relative
    to the results folder. core.run_load takes no extra options, hence this."""
    raw = os.path.join(ctx.raw_dir, label.replace("/", "_") + ".load.json") if label else None
    cmd = load_command(ctx, port, plan["clients"], requests_per_conn, plan["bytes"],
                       duration_s=duration_s or plan["duration_s"], json_path=raw)
    cmd += ["--rate", "%g" % rate, "--arrivals", plan["arrivals"], "--seed", str(seed)]
    if plan.get("late_after_ms"):
        cmd += ["--late-after", "%gms" % plan["late_after_ms"]]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=LOAD_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        raise StepError(f"tcplab-load took more than {LOAD_TIMEOUT_S}s") from None
    if proc.returncode != 0:
        raise StepError(f"tcplab-load exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
    if not raw:
        return None, None
    with open(raw) as f:
        return json.load(f), os.path.relpath(raw, ctx.out_dir)


def measure_point(ctx, server, label, plan, rate, requests_per_conn, seed):
    """One open-loop point on a running, warmed-up server: quiet snapshot, /proc/stat of both
    sides, the load, the same again; its figures and its classification."""
    softirqd = procfs.pids_named({f"ksoftirqd/{c}" for c in ctx.server_cpus})
    a = server.quiet_snapshot()
    softirqd_a = procfs.cpu_s(softirqd)
    stat_a = procstat.read_stat()
    load, raw = open_load(ctx, server.port, plan, rate, requests_per_conn, seed, label)
    stat_b = procstat.read_stat()
    softirqd_s = procfs.cpu_s(softirqd) - softirqd_a
    b = server.quiet_snapshot()
    d = delta(a, b)
    cpu = cpu_accounting(ctx, stat_a, stat_b, d["cpu_user_s"] + d["cpu_sys_s"], softirqd_s)
    figures = point_figures(load)
    for side in ("server", "load"):
        if side in cpu:
            figures[f"{side}_cpu_busy"] = cpu[side]["busy"]
    status, reasons = classify(figures, cpu)
    return {"load_file": raw, "window_s": load["window_s"],
            "window_ok": load["window_s"] >= plan["duration_s"] * 0.99, "cpu": cpu,
            "server": {k: d[k] for k in ("connections", "requests", "cpu_user_s", "cpu_sys_s")},
            "server_failures": sum(d["failures"].values()),
            "figures": figures, "status": status, "reasons": reasons}


def point_note(point):
    f = point.get("figures")
    if not f:
        return ""
    note = (f"achieved {f['achieved_per_s']:,.0f}/s, p50 {f['p50_us']:,.0f} µs, "
            f"p99 {f['p99_us']:,.0f} µs (raw {f['raw_p99_us']:,.0f}), "
            f"late {100 * f['late_fraction']:.1f} %")
    if point["status"] != "ok":
        note += f" [{point['status'].replace('_', ' ')}]"
    return note


def entries_for(ctx, plan):
    chosen = ctx.designs[:plan["designs"]] if plan.get("designs") else ctx.designs
    out = []
    for mode in plan["modes"]:
        for d in chosen:
            dispatch = (d["dispatch_policies"] or [None])[0]
            out.append({"variant": D.variant_name(d["name"], dispatch), "design": d["name"],
                        "dispatch": dispatch, "mode": mode,
                        "requests_per_conn": MODES[mode], "rates": plan["rates"][mode],
                        "points": [], "searches": []})
    return out


def repeat_count(ctx, plan):
    """The plan's own repetitions (the default workload: 1, to fit its budget), else --repeat."""
    return plan.get("repeat") or ctx.repeat


def plan_steps(ctx, plans):
    plan = ctx.plan(plans)
    per_rep = sum(len(e["rates"]) + plan["search_steps"] for e in entries_for(ctx, plan))
    return per_rep * repeat_count(ctx, plan)


def steps(ctx):
    return plan_steps(ctx, PLANS)


def run_sweep(ctx, server, e, rep, name, plan, workers):
    """The grid and then the search of one entry on one server; a start error fails them all.
    Every point is one Step (a search step with nothing to narrow says so, measuring nothing)."""
    seed = rep
    start_error = None
    tag = f"{e['variant']:<24} {e['mode']:<9}"

    def point(rate, kind, i):
        nonlocal start_error, seed
        seed += 1000
        p = {"rep": rep, "rate": rate, "kind": kind}
        label = f"{name}/{e['mode']}/{e['variant']}/{kind}{i}/rep{rep}"
        with Step(ctx, label, f"{tag} {rate:>7,}/s rep {rep}", p) as st:
            if start_error:
                raise start_error
            if not server.proc:
                try:
                    server.start()
                    open_load(ctx, server.port, plan, e["rates"][0], e["requests_per_conn"],
                              seed, duration_s=plan["warmup_s"])
                except Exception as exc:
                    start_error = exc
                    raise
            p.update(measure_point(ctx, server, label, plan, rate, e["requests_per_conn"],
                                   seed))
            st.note = point_note(p)
        e["points"].append(p)
        return p

    grid = [point(rate, "grid", i) for i, rate in enumerate(e["rates"])]
    lo, hi = bracket(grid, plan["slo_us"])
    for i in range(plan["search_steps"]):
        rate = bisect_rate(lo, hi)
        if rate is None:
            with Step(ctx, f"{name}/{e['variant']}/search{i}/rep{rep}",
                      f"{tag} search rep {rep}") as st:
                st.note = "nothing to narrow: " + ("even the lowest rate misses the target"
                                                   if lo is None else "no rate misses it"
                                                   if hi is None else "bracket closed")
            continue
        p = point(rate, "search", i)
        if p.get("figures"):
            lo, hi = (rate, hi) if passes(p, plan["slo_us"]) else (lo, rate)
    e["searches"].append({"rep": rep, "lo": lo, "hi": hi})


def run_plan(ctx, name, plans):
    """Every entry (design x variant), repetition k of all before k+1 of any; one fresh
    server per entry and repetition, warmed up once, then the grid and the search."""
    plan = ctx.plan(plans)
    workers = ctx.workers(plan["workers"])
    repeat = repeat_count(ctx, plan)
    entries = entries_for(ctx, plan)
    w = ctx.workload(name, kind="latency", entries=entries,
                     params=dict(plan, workers=workers, repeat=repeat,
                                 min_achieved=MIN_ACHIEVED, max_late=MAX_LATE,
                                 quick=ctx.quick))
    try:
        for rep in range(1, repeat + 1):
            for e in entries:
                server = Server(ctx, e["design"], workers, e["dispatch"],  # started lazily
                                plan.get("server_extra", ()))
                try:
                    run_sweep(ctx, server, e, rep, name, plan, workers)
                finally:
                    server.stop()
                if server.exit not in (0, None):
                    ctx.fail(f"{name}/{e['variant']}/rep{rep}",
                             f"server exited with status {server.exit}: {server.stderr_tail()}")
    finally:
        finalize(w)


def finalize(w):
    """Per entry its curve and its capacity; per variant the common rate of the spectrum:
    the highest grid rate at which every design's point is a plain latency."""
    p = w["params"]
    for e in w["entries"]:
        e["curve"] = curve(e["points"], e["rates"])
        e["capacity"] = capacity(e["searches"], p["slo_us"])
    w["spectrum_rate"], w["spectrum_all_ok"] = {}, {}
    for mode in p["modes"]:
        mine = [e for e in w["entries"] if e["mode"] == mode]
        common = [c["rate"] for c in (mine[0]["curve"] if mine else [])
                  if all(any(x["rate"] == c["rate"] and x["status"] == "ok" for x in e["curve"])
                         for e in mine)]
        w["spectrum_rate"][mode] = max(common) if common else p["rates"][mode][0]
        w["spectrum_all_ok"][mode] = bool(common)


def run(ctx):
    run_plan(ctx, NAME, PLANS)


# --------------------------------------------------------------------------- summary.md

def _cell(c, key):
    if c["status"] == "error":
        return "error"
    s = c["summary"][key]
    text = f"{s['median']:,.0f}"
    if c["n"] > 1 and s.get("ci95") and s["ci95"][0] != s["ci95"][1]:
        text += f" [{s['ci95'][0]:,.0f}–{s['ci95'][1]:,.0f}]"
    if c["status"] == "ok":
        return text
    fs = c["summary"]
    return (f"*{c['status'].replace('_', ' ')}* ({100 * fs['achieved_fraction']['median']:.0f} % "
            f"served, {100 * fs['late_fraction']['median']:.0f} % late)")


def summary_lines(results, name):
    from ..table import fmt_ci
    w = results.get("workloads", {}).get(name)
    if not w or not w.get("entries"):
        return []
    p = w["params"]
    window = (f"{p['duration_s']:g} s windows" if not p.get("quick") else
              f"{p['duration_s']:g} s windows (--quick: indicative only)")
    lines = []
    for mode in p["modes"]:
        mine = [e for e in w["entries"] if e["mode"] == mode]
        rates = p["rates"][mode]
        lines += ["", f"## Workload `{name}`: open-loop latency against offered load "
                  f"({MODES[mode]} request(s) per connection)", "",
                  f"Offered rates {', '.join(f'{r:,}' for r in rates)} requests/s "
                  f"({p['arrivals']} arrivals) for every design, {window}, {p['bytes']} bytes, "
                  f"a pool of {p['clients']} connections, {p['repeat']} repetition(s). Each "
                  "cell: p50 / p99 in µs from the scheduled send (corrected for coordinated "
                  "omission), raw p99 from the actual send after it. A point where fewer than "
                  f"{100 * p['min_achieved']:.0f} % of the offered requests were served or more "
                  f"than {100 * p['max_late']:.0f} % of the sends were late is no latency: it "
                  "reads *over capacity* (the server's) or *generator bound*.", "",
                  "| design | " + " | ".join(f"{r:,}/s" for r in rates) + " |",
                  "|---|" + "---:|" * len(rates)]
        for e in mine:
            cells = []
            for c in e["curve"]:
                if c["status"] != "ok":
                    cells.append(_cell(c, "p99_us"))
                    continue
                cells.append(f"{_cell(c, 'p50_us')} / {_cell(c, 'p99_us')} "
                             f"(raw {_cell(c, 'raw_p99_us')})")
            lines.append(f"| {e['variant']} | " + " | ".join(cells) + " |")
        lines += ["", f"### Capacity at p99 ≤ {p['slo_us']:,.0f} µs ({MODES[mode]} request(s) "
                  "per connection)", "",
                  f"The highest offered rate whose p99 met the target on a plain-latency point: "
                  f"bracketed by the grid, then {p['search_steps']} geometric bisection(s); "
                  "median [95 % interval] over the repetitions, and the bracket [passed, "
                  "failed] of the search.", "",
                  "| design | capacity, requests/s | bracket | repetitions |",
                  "|---|---:|---|---:|"]
        for e in mine:
            cap = e["capacity"]
            lo, hi = cap["bracket"]
            if cap["censored"] == "below":
                text = f"< {rates[0]:,} (the lowest rate missed it)"
            elif cap["censored"] == "above":
                text = f"≥ {rates[-1]:,} (no rate missed it)"
            else:
                text = fmt_ci(cap["summary"], "{:,.0f}")
            br = f"{lo:,.0f} – {hi:,.0f}" if lo is not None and hi is not None else "–"
            lines.append(f"| {e['variant']} | {text} | {br} | {len(cap['searches'])} |")
    return lines


def summary(results):
    return summary_lines(results, NAME)
