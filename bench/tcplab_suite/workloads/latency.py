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
`generator_bound` (the generator's CPUs saturated while the server's were not); in each
repetition the grid's rates past such a point are not measured (`skipped`). Capacity at the
latency target is the highest offered rate r such that every rate tested up to r met it, a
rate meeting it when its median repetition's p99 stays under `slo_us` on a plain-latency
point (rate_verdicts): the grid brackets it, and `search_steps` geometric bisections, each
measured in every repetition, narrow the bracket (mutilate's --search).

With --load-hosts K every point's offered rate is split between the K generators like its
pool of connections, each on its own Poisson schedule, and their histograms are merged
(core.run_load): independent Poisson arrivals add up to Poisson arrivals at the summed rate,
so the server meets the same load as from one generator, and no generator's own limit caps it.

After the sweep, `latency` alone (not `latency-full`) measures issue 12's benchmark target, the
generator's ceiling (run_ceiling): one tcplab-load on one core offers the fastest design's
closed-loop saturation rate, and 1.2 times it, with under 1 % late sends, or it does not.
Its summary lines and those of the closed loop against the open loop at the same throughput
(closed_open: workload `unp` and, where the results hold it, each level of `concurrency`)
fill REPORT.md's blocks `loadgen-ceiling` and `closed-open`.

This module is also the implementation of `latency-full` (both variants, a finer grid, a
longer search and the suite's --repeat): only the plans differ.
"""

import collections
import json
import math
import os
import shlex
import statistics
import sys

from .. import designs as D
from .. import procstat, stats
from ..core import Generator, Server, Step, StepError, load_command, pin_text, run_load
from ..measure import guarded, noise_note, window
from . import unp

NAME = "latency"
DEFAULT = True
COST = ("about 3 min (15 designs x 3 repetitions x 5 rates, skipped past the first that is "
        "no latency, x 0.7 s, one request per conn., then the generator's ceiling: 177 s "
        "estimated from 238 s measured with 1 s windows)")
MIN_ACHIEVED = 0.95   # achieved / offered below this: the point is not a plain latency
MAX_LATE = 0.01       # late sends above this fraction: likewise
MODES = {"conn": 1, "keepalive": 100}   # requests per connection
PLANS = {
    # Three repetitions of every rate, so that one noisy repetition neither makes nor breaks
    # a rate (rate_verdicts); to pay for them within the default run's budget the windows are
    # 0.7 s (1,750 latencies at the lowest rate: p99 is the 18th largest, the median of three
    # such) and the rates past the first that is no latency are skipped in each repetition.
    # Four grid rates, a factor of 2.5 apart, bracket each design's knee; one bisection, on a
    # fresh server in every repetition, then puts a point inside that bracket (fork's near
    # 4,000/s, most designs' near 25,000/s), where the curve turns up: latency-1 draws it. Its
    # cost is paid by the grid's former lowest rate, 1,000/s, which showed only the same
    # fall of p99 with load as 2,500/s (an idle CPU wakes slowly) and bracketed no knee.
    "default": {"modes": ["conn"], "rates": {"conn": [2500, 6300, 16000, 40000]},
                "duration_s": 0.7,
                "warmup_connections": 200, "clients": 50, "bytes": 4000, "workers": 15,
                "arrivals": "poisson", "slo_us": 1000.0, "search_steps": 1, "repeat": 3},
    "quick": {"modes": ["conn"], "rates": {"conn": [1000, 30000]}, "duration_s": 0.5,
              "warmup_connections": 50,
              "clients": 50, "bytes": 4000, "workers": 15, "arrivals": "poisson",
              "slo_us": 1000.0, "search_steps": 0, "repeat": 1, "designs": 2},
}


ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__)))))


def _chart(workload, name):
    """A chart of plots/latency_charts.py for `workload`, imported only when drawn."""
    def draw(results, out_dir):
        if ROOT not in sys.path:
            sys.path.insert(0, ROOT)
        from plots import latency_charts
        return getattr(latency_charts, name)(results, out_dir, workload)
    draw.__name__ = f"{workload}_{name}"
    return draw


def charts_for(workload):
    return tuple(_chart(workload, n) for n in ("load_curves", "spectrum", "capacity"))


CHARTS = charts_for(NAME)


# --------------------------------------------------------------------------- the logic

OWN_MIN = 0.5  # tcplab-load's own share of its busy CPUs under which their saturation is not its


def classify(figures, cpu, min_achieved=MIN_ACHIEVED, max_late=MAX_LATE):
    """("ok" | "over_capacity" | "generator_bound", [reasons]) for one open-loop point.

    Not ok when the achieved rate is under min_achieved of the offered one or more than
    max_late of the scheduled sends were late. Then it is the generator's only if its own
    CPUs saturated while the server's did not, and by tcplab-load itself (figures'
    load_own_share, its own CPU time over their busy time, at least OWN_MIN; other work on
    them, as a test run beside it, is not the generator's limit); otherwise the server's: its CPUs saturated, or
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
    own = figures.get("load_own_share")
    if "load" in saturated and "server" not in saturated and (own is None or own >= OWN_MIN):
        return "generator_bound", reasons + ["generator CPUs saturated, server CPUs not"]
    if "load" in saturated and "server" not in saturated:
        # Other work took the generator's CPUs (a test run beside it): not tcplab-load's limit.
        reasons.append(f"generator CPUs saturated by other work (tcplab-load's own share "
                       f"{100 * own:.0f} %)")
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


def point_p99(point):
    """A point's p99 for the capacity search (µs), math.inf when it is no plain latency
    (over capacity, generator bound, or skipped after such a point at a lower rate of its
    repetition), None when it failed to measure (left out)."""
    if point.get("status") == "skipped":
        return math.inf
    f = point.get("figures")
    if not f:
        return None
    return f["p99_us"] if point.get("status") == "ok" else math.inf


def rate_verdicts(points, slo_us):
    """Per offered rate tested (grid and search), in rate order, over its repetitions:
    {"rate", "n", "p99_us": [each repetition's, null for one that was no plain latency],
    "median_p99_us" (the upper median; null when that one was no latency), "met"}. A rate met
    the target when its median repetition did: p99 <= slo_us on a plain-latency point, so one
    noisy repetition of three neither makes nor breaks it."""
    by_rate = {}
    for p in points:
        v = point_p99(p)
        if v is not None:
            by_rate.setdefault(p["rate"], []).append(v)
    out = []
    for rate in sorted(by_rate):
        values = by_rate[rate]
        med = statistics.median_high(values)
        out.append({"rate": rate, "n": len(values),
                    "p99_us": [None if math.isinf(v) else v for v in values],
                    "median_p99_us": None if math.isinf(med) else med,
                    "met": med <= slo_us})
    return out


def bracket(points, slo_us):
    """(lo, hi): hi the lowest tested rate that missed the target (rate_verdicts), lo the
    highest rate below it, every rate up to which met it. lo None: even the lowest missed;
    hi None: every rate met it. Failed measurements (no figures) are left out."""
    lo = None
    for v in rate_verdicts(points, slo_us):
        if not v["met"]:
            return lo, v["rate"]
        lo = v["rate"]
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


def capacity(points, slo_us):
    """Capacity at the target: the highest offered rate r such that every tested rate <= r
    met it (rate_verdicts over all repetitions of the grid and the search), with the bracket
    [r, the first rate that missed it]. "censored": "below" when even the lowest rate missed
    it, "above" when none did. "summary" keeps the shape the charts and lab.py read (the
    median is the capacity; no interval: the bracket is its uncertainty), "repetitions" the
    fewest repetitions behind a rate up to the bracket's top."""
    verdicts = rate_verdicts(points, slo_us)
    lo, hi = bracket(points, slo_us)
    censored = None
    if verdicts and lo is None:
        censored = "below"
    elif verdicts and hi is None:
        censored = "above"
    upto = [v["n"] for v in verdicts if hi is None or v["rate"] <= hi]
    return {"slo_us": slo_us, "rate": lo, "bracket": [lo, hi], "censored": censored,
            "rates": verdicts, "repetitions": min(upto) if upto else 0,
            "summary": {"median": lo, "n": min(upto)} if lo is not None else None}


def curve(points, rates):
    """Per offered rate of the grid, over the repetitions: the status (ok only if every
    measured repetition was ok, else the commonest other), and stats.summary of the figures."""
    out = []
    for rate in rates:
        here = [p for p in points if p["rate"] == rate and p.get("figures")]
        skipped = [p for p in points if p["rate"] == rate and p.get("status") == "skipped"]
        if not here:
            out.append({"rate": rate, "n": 0, "status": "skipped" if skipped else "error"})
            continue
        bad = [p["status"] for p in here + skipped if p["status"] != "ok"]
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


def open_extra(plan):
    """The open loop's options besides the rate and the seed (core.run_load adds those, split
    between the generators): the arrivals, and the lateness threshold if the plan sets one."""
    extra = ["--arrivals", plan["arrivals"]]
    if plan.get("late_after_ms"):
        extra += ["--late-after", "%gms" % plan["late_after_ms"]]
    return extra


def open_load(ctx, port, plan, rate, requests_per_conn, seed, label=None, duration_s=None,
              generators=None, threads=None):
    """One open-loop load (core.run_load with --rate, --arrivals, --seed): from every
    generator (--load-hosts K: the rate split between them, their JSON merged), or from
    GENERATORS; with a label its JSON goes to raw/LABEL.load.json and is returned with that
    path relative to the results folder, else (None, None)."""
    return run_load(ctx, port, plan["clients"], requests_per_conn, plan["bytes"], label,
                    duration_s=duration_s or plan["duration_s"], rate=rate, seed=seed,
                    generators=generators, threads=threads, extra=open_extra(plan))


def measure_point(ctx, server, label, plan, rate, requests_per_conn, seed, generators=None,
                  threads=None):
    """One open-loop point on a running, warmed-up server: one window (measure.window), its
    figures and its classification. With GENERATORS the load side is their CPUs alone."""
    w = window(ctx, server, lambda: open_load(ctx, server.port, plan, rate, requests_per_conn,
                                              seed, label, generators=generators,
                                              threads=threads))
    load, d, cpu, probe = w["load"], w["server"], w["cpu"], w["probe"]
    mine = sorted({c for g in generators or () for c in g.cpus})
    if mine and "load" in cpu:
        cpu["load"] = procstat.cpu_split(probe.stat_a, probe.stat_b, mine)
        cpu["saturated"] = [side for side in ("server", "load")
                            if procstat.saturated(cpu[side])]
    figures = point_figures(load)
    for side in ("server", "load"):
        if side in cpu:
            figures[f"{side}_cpu_busy"] = cpu[side]["busy"]
    split = cpu.get("load")
    busy_s = split["busy"] * split["window_s"] * len(split["cpus"]) if split else 0
    own = load.get("cpu") or {}
    if busy_s > 0 and "user_s" in own and "sys_s" in own:
        figures["load_own_share"] = (own["user_s"] + own["sys_s"]) / busy_s
    status, reasons = classify(figures, cpu)
    return {"load_file": w["load_file"], "window_s": load["window_s"],
            "window_ok": load["window_s"] >= plan["duration_s"] * 0.99, "cpu": cpu,
            "server": {k: d[k] for k in ("connections", "requests", "cpu_user_s", "cpu_sys_s")},
            "server_failures": sum(d["failures"].values()),
            "figures": figures, "status": status, "reasons": reasons,
            "noise": w["noise"]}


def point_note(point):
    f = point.get("figures")
    if not f:
        return ""
    note = (f"achieved {f['achieved_per_s']:,.0f}/s, p50 {f['p50_us']:,.0f} µs, "
            f"p99 {f['p99_us']:,.0f} µs (raw {f['raw_p99_us']:,.0f}), "
            f"late {100 * f['late_fraction']:.1f} %")
    if point["status"] != "ok":
        note += f" [{point['status'].replace('_', ' ')}]"
    note += noise_note(point)
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
                        "points": []})
    return out


def repeat_count(ctx, plan):
    """The plan's own repetitions (the default workload: 1, to fit its budget), else --repeat."""
    return plan.get("repeat") or ctx.repeat


def plan_steps(ctx, plans):
    plan = ctx.plan(plans)
    per_rep = sum(len(e["rates"]) + plan["search_steps"] for e in entries_for(ctx, plan))
    return per_rep * repeat_count(ctx, plan)


def steps(ctx):
    return plan_steps(ctx, PLANS) + ceiling_steps(ctx)


def run_points(ctx, e, rep, name, plan, workers, rates, kind, first=0):
    """RATES of one entry in one repetition on one fresh server, warmed up once (a start
    error fails them all), each point one Step; the server stopped at the end. In the grid,
    once a point is no plain latency (over capacity or generator bound) the higher rates of
    this repetition are not measured: they are recorded as "skipped" (no latency, and a miss
    for the capacity search), which keeps the sweep within its budget."""
    server = Server(ctx, e["design"], workers, e["dispatch"],  # started lazily
                    plan.get("server_extra", ()))
    start_error, past = None, None
    tag = f"{e['variant']:<24} {e['mode']:<9}"
    try:
        for i, rate in enumerate(rates, first):
            p = {"rep": rep, "rate": rate, "kind": kind}
            label = f"{name}/{e['mode']}/{e['variant']}/{kind}{i}/rep{rep}"
            with Step(ctx, label, f"{tag} {rate:>7,}/s rep {rep}", p) as st:
                if past is not None:
                    p.update(status="skipped",
                             reasons=[f"not measured: {past['status'].replace('_', ' ')} at "
                                      f"{past['rate']:,}/s in this repetition"])
                    st.note = p["reasons"][0]
                else:
                    if start_error:
                        raise start_error
                    if not server.proc:
                        try:
                            server.start()
                            # a counted warm-up always completes, however slow the machine
                            run_load(ctx, server.port, plan["clients"], e["requests_per_conn"],
                                     plan["bytes"], connections=plan["warmup_connections"])
                        except Exception as exc:
                            start_error = exc
                            raise
                    seed = rep + 1000 * (i + 1 + (len(e["rates"]) if kind == "search" else 0))
                    p.update(guarded(ctx, label, lambda: measure_point(
                        ctx, server, label, plan, rate, e["requests_per_conn"], seed)))
                    st.note = point_note(p)
            e["points"].append(p)
            if kind == "grid" and p.get("figures") and p["status"] != "ok" and past is None:
                past = p
    finally:
        server.stop()
    if server.exit not in (0, None):
        ctx.fail(f"{name}/{e['variant']}/rep{rep}",
                 f"server exited with status {server.exit}: {server.stderr_tail()}")


def run_plan(ctx, name, plans):
    """Every entry (design x variant), repetition k of all before k+1 of any, on a fresh
    server per entry and repetition: first the grid, then each step of the search, whose
    rate is the geometric mean of the bracket over every repetition so far (capacity), and
    is measured in every repetition too."""
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
                run_points(ctx, e, rep, name, plan, workers, e["rates"], "grid")
        for i in range(plan["search_steps"]):
            todo = {id(e): bisect_rate(*bracket(e["points"], plan["slo_us"])) for e in entries}
            for rep in range(1, repeat + 1):
                for e in entries:
                    rate = todo[id(e)]
                    if rate is not None:
                        run_points(ctx, e, rep, name, plan, workers, [rate], "search", i)
                        continue
                    lo, hi = bracket(e["points"], plan["slo_us"])
                    with Step(ctx, f"{name}/{e['variant']}/search{i}/rep{rep}",
                              f"{e['variant']:<24} {e['mode']:<9} search rep {rep}") as st:
                        st.note = "nothing to narrow: " + (
                            "even the lowest rate misses the target" if lo is None else
                            "no rate misses it" if hi is None else "bracket closed")
    finally:
        finalize(w)


def finalize(w):
    """Per entry its curve and its capacity; per variant the common rate of the spectrum:
    the highest grid rate at which every design's point is a plain latency."""
    p = w["params"]
    for e in w["entries"]:
        e["curve"] = curve(e["points"], e["rates"])
        e["searched"] = curve(e["points"], sorted({q["rate"] for q in e["points"]
                                                   if q.get("kind") == "search"}))
        e["capacity"] = capacity(e["points"], p["slo_us"])
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
    run_ceiling(ctx, ctx.results["workloads"][NAME])


# --------------------------------------------------------------------------- the ceiling

# Issue 12's benchmark target: "In open loop, tcplab-load on one core offers at least the
# saturation rate of the fastest design with under 1 % late sends." The saturation rate is the
# closed loop's in unp's shape (5 clients, one 4000-byte request per connection): unp's median
# when it ran earlier in the same suite, else one closed-loop window measured here by the same
# one-core generator. Then tcplab-load alone on one CPU, one thread, offers that rate and a
# little more to the same design, open loop, `repeat` interleaved times.
CEILING_PLANS = {
    "default": {"factors": [1.0, 1.2], "repeat": 5, "duration_s": 1.0, "warmup_connections": 200,
                "closed_s": 2.0, "clients": 50, "bytes": 4000, "arrivals": "poisson",
                "workers": 15},
    "quick": {"factors": [1.0, 1.2], "repeat": 1, "duration_s": 0.5, "warmup_connections": 50,
              "closed_s": 0.5, "clients": 50, "bytes": 4000, "arrivals": "poisson",
              "workers": 15},
}


def ceiling_steps(ctx, plans=CEILING_PLANS):
    plan = ctx.plan(plans)
    return 1 + plan["repeat"] * len(plan["factors"])


def fastest(results, name=NAME):
    """The design to drive and its closed-loop saturation rate: unp's fastest variant by median
    conn/s, with that summary (source "unp"), when unp ran; else the variant whose sweep (one
    request per connection) served the most requests/s at any point, its rate still to be
    measured (source "measured", saturation None). None when neither has a figure."""
    table = results.get("workloads", {}).get("unp") or {}
    measured = [e for e in table.get("entries", [])
                if (e.get("summary") or {}).get("conn_per_s")]
    if measured:
        e = max(measured, key=lambda e: e["summary"]["conn_per_s"]["median"])
        p = table.get("params", {})
        return {"variant": e["variant"], "design": e["design"], "dispatch": e["dispatch"],
                "source": "unp", "saturation": e["summary"]["conn_per_s"],
                "closed": {"clients": p.get("clients"), "bytes": p.get("bytes"),
                           "requests_per_conn": p.get("requests_per_conn")}}
    best = None
    for e in (results.get("workloads", {}).get(name) or {}).get("entries", []):
        served = [p["figures"]["achieved_per_s"] for p in e["points"] if p.get("figures")]
        if e["mode"] == "conn" and served and (best is None or max(served) > best[0]):
            best = (max(served), e)
    if best is None:
        return None
    e = best[1]
    return {"variant": e["variant"], "design": e["design"], "dispatch": e["dispatch"],
            "source": "measured", "saturation": None}


def one_core(gen):
    """GEN confined to the first of its CPUs (an unpinned one as it is)."""
    if not gen.cpus:
        return gen
    return Generator(gen.name, gen.prefix, gen.cpus[:1], pin_text(gen.cpus[:1]),
                     gen.source_args)


def shown_command(cmd):
    """A command line for REPORT: the suite's control-socket and stats-file options left out,
    paths inside the source tree relative to it."""
    out, skip = [], False
    for arg in cmd:
        if skip:
            skip = False
        elif arg in ("--control", "--stats-json"):
            skip = True
        else:
            out.append(os.path.relpath(arg, ROOT) if arg.startswith(ROOT + os.sep) else arg)
    return shlex.join(out)


def run_ceiling(ctx, w, plans=CEILING_PLANS):
    """The target's measurement, into w["ceiling"]: one Step for the saturation rate (the
    server started and warmed up, the closed loop measured if unp did not run), then
    repetition by repetition every factor x that rate offered by one tcplab-load on one core
    (the first generator's first CPU, one thread), on the same server."""
    plan = ctx.plan(plans)
    gen = one_core(ctx.generators[0])
    rec = w["ceiling"] = {"params": dict(plan, max_late=MAX_LATE, min_achieved=MIN_ACHIEVED,
                                         quick=ctx.quick),
                          "generator": {"name": gen.name, "cpus": gen.cpus}, "points": []}
    pick = fastest(ctx.results)
    server = None
    try:
        with Step(ctx, "latency/ceiling/saturation", "loadgen ceiling: saturation rate",
                  rec) as st:
            if pick is None:
                raise StepError("no design has a figure: neither unp nor the sweep measured one")
            rec.update(pick)
            shape = unp.PLANS["quick" if ctx.quick else "default"]
            rec.setdefault("closed", {"clients": shape["clients"], "bytes": shape["bytes"],
                                      "requests_per_conn": 1})
            server = Server(ctx, pick["design"], ctx.workers(plan["workers"]), pick["dispatch"])
            server.start()
            closed = rec["closed"]
            run_load(ctx, server.port, closed["clients"], 1, closed["bytes"],
                     connections=plan["warmup_connections"], generators=[gen], threads=1)
            if rec["saturation"] is None:
                load, raw = run_load(ctx, server.port, closed["clients"], 1, closed["bytes"],
                                     "latency/ceiling/closed", duration_s=plan["closed_s"],
                                     generators=[gen], threads=1)
                rec["saturation"] = stats.summary([load["rates"]["connections_per_s"]])
                rec["closed_load_file"] = raw
            rec["rate"] = round(rec["saturation"]["median"])
            rec["server_command"] = shown_command(server.cmd)
            rec["load_command"] = shown_command(load_command(
                ctx, server.port, plan["clients"], 1, plan["bytes"],
                duration_s=plan["duration_s"], threads=1, generator=gen,
                extra=open_extra(plan) + ["--rate", "%g" % rec["rate"], "--seed", "1"]))
            st.note = (f"{pick['variant']}: {rec['rate']:,} conn/s closed loop "
                       f"({'unp' if pick['source'] == 'unp' else 'measured here'})")
        for rep in range(1, plan["repeat"] + 1):
            for i, factor in enumerate(plan["factors"]):
                p = {"rep": rep, "factor": factor}
                label = f"latency/ceiling/x{factor:g}/rep{rep}"
                with Step(ctx, label, f"loadgen ceiling {factor:g} x saturation rep {rep}",
                          p) as st:
                    if "rate" not in rec:
                        st.note = "not measured: no saturation rate"
                        continue
                    p["rate"] = round(rec["rate"] * factor)
                    p.update(guarded(ctx, label, lambda: measure_point(
                        ctx, server, label, plan, p["rate"], 1, 100 * rep + i,
                        generators=[gen], threads=1)))
                    p["figures"]["load_own_share"] = own_share(ctx, p)
                    st.note = point_note(p)
                rec["points"].append(p)
    finally:
        if server is not None:
            server.stop()
            if server.exit not in (0, None):
                ctx.fail("latency/ceiling", f"server exited with status {server.exit}: "
                         f"{server.stderr_tail()}")
        rec["verdicts"] = {f"{f:g}": ceiling_verdict(rec, f) for f in plan["factors"]}


OWN_SHARE = 0.85   # tcplab-load's own CPU under this share of its busy core: the core was shared


def own_share(ctx, point):
    """tcplab-load's own CPU time (user + system, its JSON's `cpu`) as a share of its CPUs'
    busy time over the window (/proc/stat): about 0.95 on a core of its own (on loopback the
    receive work of the packets it sends runs in its system calls), lower when other work ran
    there too. None without a per-CPU split."""
    split = (point.get("cpu") or {}).get("load")
    if not split or not point.get("load_file"):
        return None
    with open(os.path.join(ctx.out_dir, point["load_file"])) as f:
        cpu = json.load(f)["cpu"]
    busy_s = split["busy"] * split["window_s"] * len(split["cpus"])
    return (cpu["user_s"] + cpu["sys_s"]) / busy_s if busy_s > 0 else None


def ceiling_verdict(rec, factor=1.0, max_late=MAX_LATE):
    """Whether one core of tcplab-load offered FACTOR x the saturation rate with under max_late
    late sends, from the late fractions of the repetitions (stats.verdict_ratio against
    max_late): holds when their interval lies under it; does not hold when it lies at or
    above it and the generator's core was saturated in every repetition (the generator fell
    behind); cannot tell otherwise: the interval straddles it, one repetition gives none, the
    sends were late with the core not saturated (they waited for a free connection, i.e. for
    the server), or the generator had no core of its own (unpinned, or other work took more
    than 1 - OWN_SHARE of its core's busy time)."""
    here = [p for p in rec.get("points", []) if p.get("factor") == factor and p.get("figures")]
    if not here:
        return {"verdict": stats.CANNOT_TELL, "why": "nothing was measured at this rate",
                "n": 0}
    late = stats.summary([p["figures"]["late_fraction"] for p in here])
    out = {"late_fraction": late, "n": len(here)}
    if not rec.get("generator", {}).get("cpus"):
        return dict(out, verdict=stats.CANNOT_TELL,
                    why="the generator was not pinned, so not on one core")
    outcome = stats.verdict_ratio(late, "<", max_late)["verdict"]
    limit = f"{100 * max_late:g} %"
    shares = [p["figures"].get("load_own_share") for p in here]
    shared = [x for x in shares if x is not None and x < OWN_SHARE]
    if outcome != stats.HOLDS and shared:
        return dict(out, verdict=stats.CANNOT_TELL,
                    why=f"the generator's core was shared with other work: tcplab-load's own "
                        f"CPU was {100 * min(shared):.0f} % of its busy time in one repetition "
                        f"at least (under {100 * OWN_SHARE:g} %)")
    if outcome == stats.HOLDS:
        why = f"the late fraction's interval over the repetitions lies under {limit}"
    elif outcome == stats.DOES_NOT_HOLD and all(
            "load" in (p.get("cpu") or {}).get("saturated", []) for p in here):
        why = (f"the late fraction's interval lies at or above {limit} and the generator's core "
               "was saturated in every repetition")
    elif outcome == stats.DOES_NOT_HOLD:
        outcome = stats.CANNOT_TELL
        why = (f"the late fraction's interval lies at or above {limit}, but the generator's "
               "core was not saturated in every repetition: the late sends waited for a free "
               "connection, i.e. for the server, which set the pace")
    elif late["ci95"] is None:
        why = "one repetition gives no interval"
    else:
        why = f"the late fraction's interval straddles {limit}"
    return dict(out, verdict=outcome, why=why)


def _spread(values, scale=1.0, fmt="{:,.0f}", unit=""):
    """'median [min–max]' of the values times SCALE (the median alone for one value)."""
    from ..table import fmt_ci
    values = [v for v in values if v is not None]
    if not values:
        return "–"
    return fmt_ci(stats.summary([scale * v for v in values]), fmt + unit)


def ceiling_lines(results, name=NAME):
    """The target's block for summary.md and REPORT.md: where the rate came from, a row per
    factor over the repetitions, the verdicts, and the commands."""
    rec = (results.get("workloads", {}).get(name) or {}).get("ceiling")
    if not rec:
        return []
    p = rec["params"]
    lines = ["", "## One core of tcplab-load against the fastest design (issue 12's target)",
             ""]
    if "rate" not in rec:
        return lines + [f"Not measured: {rec.get('error', 'no saturation rate')}."]
    sat, closed = rec["saturation"], rec["closed"]
    shape = (f"closed loop, {closed['clients']} clients, {closed['requests_per_conn']} "
             f"request(s) of {closed['bytes']} bytes per connection")
    if rec["source"] == "unp":
        ci = sat.get("ci95")
        where = (f"workload `unp` of this run ({shape}; median of {sat['n']} repetitions"
                 + (f", [{ci[0]:,.0f}–{ci[1]:,.0f}]" if ci else "") + ")")
    else:
        where = (f"one closed-loop window of {p['closed_s']:g} s measured here ({shape}, "
                 "the same one-core generator; `unp` did not run)")
    cpus = rec["generator"]["cpus"]
    core = (f"alone on CPU {pin_text(cpus)}, one thread" if cpus else
            "unpinned (no CPU of its own)")
    lines += [f"Fastest design: `{rec['variant']}`, {rec['rate']:,} connections/s from {where}. "
              f"tcplab-load then ran {core}"
              + (f" in the generator namespace {rec['generator']['name']}"
                 if rec["generator"]["name"] != "loopback" else "")
              + f", open loop ({p['arrivals']} arrivals, one request per connection, a pool of "
              f"{p['clients']} connections, {p['duration_s']:g} s windows"
              + (", --quick: indicative only" if p.get("quick") else "")
              + f") at each multiple of that rate, {p['repeat']} interleaved repetition(s) on "
              "one server. A send is late when it started more than "
              f"{p.get('late_after_ms') or 1:g} ms after its scheduled time. Cells: median "
              "[min–max] over the repetitions.", "",
              "| offered, requests/s | × saturation | achieved, requests/s | late sends | "
              "largest delay, µs | generator core busy | tcplab-load's share of it | "
              "server CPUs busy | plain latency |",
              "|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for factor in p["factors"]:
        here = [x for x in rec["points"] if x.get("factor") == factor and x.get("figures")]
        if not here:
            lines.append(f"| {round(rec['rate'] * factor):,} | {factor:g} | – | – | – | – | – "
                         "| – | not measured |")
            continue
        fs = [x["figures"] for x in here]
        ok = sum(x["status"] == "ok" for x in here)
        others = sorted({x["status"].replace("_", " ") for x in here if x["status"] != "ok"})
        lines.append(
            f"| {here[0]['rate']:,} | {factor:g} | "
            f"{_spread([f['achieved_per_s'] for f in fs])} | "
            f"{_spread([f['late_fraction'] for f in fs], 100, '{:.2f}', ' %')} | "
            f"{_spread([f['late_max_us'] for f in fs])} | "
            f"{_spread([f.get('load_cpu_busy') for f in fs], 100, '{:.0f}', ' %')} | "
            f"{_spread([f.get('load_own_share') for f in fs], 100, '{:.0f}', ' %')} | "
            f"{_spread([f.get('server_cpu_busy') for f in fs], 100, '{:.0f}', ' %')} | "
            f"{ok} of {len(here)}" + (f" ({', '.join(others)})" if others else "") + " |")
    lines.append("")
    for factor in p["factors"]:
        v = rec.get("verdicts", {}).get(f"{factor:g}")
        if not v:
            continue
        rate = round(rec["rate"] * factor)
        what = ("the saturation rate of the fastest design" if factor == 1.0 else
                f"{factor:g} × that rate")
        late = [x["figures"]["late_fraction"] for x in rec["points"]
                if x.get("factor") == factor and x.get("figures")]
        figures = f"; late sends {_spread(late, 100, '{:.2f}', ' %')}, n = {v['n']}" if late else ""
        lines.append(f"- **One core of tcplab-load offers {what} ({rate:,}/s) with under "
                     f"{100 * p['max_late']:g} % late sends: {v['verdict']}** "
                     f"({v['why']}{figures}).")
    lines += ["", f"Command of the points: `{rec['load_command']}` against the server "
              f"`{rec['server_command']}` (its port is new each run; each point has a seed of "
              f"its own), run by `{results.get('command_line', 'bench/suite.py')}`."]
    return lines


# --------------------------------------------------------------------------- closed vs open

def _at(points, x, key):
    """The value of KEY at throughput X on the log-log line through the two (throughput,
    figures) POINTS."""
    (x0, f0), (x1, f1) = points
    if x1 == x0 or f0[key] <= 0 or f1[key] <= 0:
        return f0[key]
    t = math.log(x / x0) / math.log(x1 / x0)
    return math.exp(math.log(f0[key]) + t * (math.log(f1[key]) - math.log(f0[key])))


EQUAL_WITHIN = 0.05   # a plain point this close to the closed loop's throughput is "at" it
CLOSED_FROM = ("unp", "concurrency")   # the workloads whose closed-loop points closed_open takes


def _same_shape(closed, sweep):
    """Whether a closed-loop workload's PARAMS match the sweep's (one request per connection,
    the same bytes); a figure either leaves out is taken to match."""
    sizes = (closed.get("bytes"), sweep.get("bytes"))
    return closed.get("requests_per_conn", 1) == 1 and (None in sizes or sizes[0] == sizes[1])


def closed_points(results, name=NAME):
    """Per variant, every closed-loop point of the workloads CLOSED_FROM that the results hold
    with the sweep's shape (workload `unp`, and `concurrency` where an extra run brought it):
    its workload, clients and median conn/s, p50 and p99, fewest clients first."""
    sweep = (results.get("workloads", {}).get(name) or {}).get("params") or {}
    points = {}
    for workload in CLOSED_FROM:
        w = results.get("workloads", {}).get(workload) or {}
        if not _same_shape(w.get("params") or {}, sweep):
            continue
        for e in w.get("entries", []):
            s = e.get("summary") or {}
            if not all(s.get(k) for k in ("conn_per_s", "p50_us", "p99_us")):
                continue
            points.setdefault(e["variant"], []).append(
                {"workload": workload,
                 "clients": e.get("clients", (w.get("params") or {}).get("clients")),
                 "closed": {k: s[k]["median"] for k in ("conn_per_s", "p50_us", "p99_us")}})
    for mine in points.values():
        mine.sort(key=lambda p: (p["clients"] or 0, p["workload"]))
    return points


def open_at(measured, t):
    """The open loop at throughput T from the sweep's MEASURED points (rate, status, figures),
    rate order: closed_open()'s "open" record."""
    plain = sorted(((f["achieved_per_s"], {"rate": rate, "p50_us": f["p50_us"],
                                           "p99_us": f["p99_us"]})
                    for rate, status, f in measured if status == "ok"),
                   key=lambda pt: pt[0])
    below = [pt for pt in plain if pt[0] <= t]
    above = [pt for pt in plain if pt[0] > t]
    if below and above:
        pair = (below[-1], above[0])
        return {"how": "interpolated", "between": [pt[1]["rate"] for pt in pair],
                **{k: _at(pair, t, k) for k in ("p50_us", "p99_us")}}
    if not plain:
        return {"how": "none"}
    x, f = below[-1] if below else above[0]
    o = {"how": "nearest", "side": "above" if below else "below", "rate": f["rate"],
         "achieved_per_s": x, "within": abs(x / t - 1) <= EQUAL_WITHIN,
         "p50_us": f["p50_us"], "p99_us": f["p99_us"]}
    if below:
        nxt = [(rate, status) for rate, status, _ in measured
               if rate > f["rate"] and status != "ok"]
        o["next"] = {"rate": nxt[0][0], "status": nxt[0][1]} if nxt else None
    return o


def at_equal(row):
    """Whether ROW compares at equal throughput: interpolated, or a plain point within
    EQUAL_WITHIN of it."""
    o = row["open"]
    return o["how"] == "interpolated" or (o["how"] == "nearest" and o["within"])


def closed_open(results, name=NAME):
    """Per design in the sweep (one request per connection), a row per closed-loop point of
    closed_points() (fewest clients first): the closed loop's throughput T (median conn/s),
    p50 and p99, its "workload" and "clients", beside the open loop's at T. Only plain
    latency points (status ok) count, grid rates (medians over the repetitions) and search
    points alike, placed at their achieved rate. "how" says what the open-loop figures are:
    "interpolated" on log-log axes between the two plain points around T; "nearest", the plain
    point nearest T when none lies on its other side ("side": "above" when T is past every
    plain point, with "next" the lowest rate above it that was measured and not a plain
    latency, and its status; "below" when T is under them all; "within": it is within
    EQUAL_WITHIN of T); "none" without a plain point."""
    closed = closed_points(results, name)
    rows = []
    for e in (results.get("workloads", {}).get(name) or {}).get("entries", []):
        if e["mode"] != "conn" or not closed.get(e["variant"]):
            continue
        grid = [(c["rate"], c["status"], {k: c["summary"][k]["median"] for k in
                                          ("achieved_per_s", "p50_us", "p99_us")})
                for c in e.get("curve", []) if c.get("summary")]
        search = [(p["rate"], p["status"], p["figures"]) for p in e.get("points", [])
                  if p.get("kind") == "search" and p.get("figures")]
        measured = sorted(grid + search, key=lambda m: m[0])
        for c in closed[e["variant"]]:
            rows.append({"variant": e["variant"], **c,
                         "open": open_at(measured, c["closed"]["conn_per_s"])})
    return rows


def _by_clients(rows):
    """'7 with 1 client, 2 with 4': how many of ROWS had each number of clients."""
    counts = collections.Counter(r["clients"] for r in rows)
    levels = sorted(counts, key=lambda k: (k is None, k or 0))
    return ", ".join(f"{counts[k]} with {'–' if k is None else k}"
                     + ((" client" if k == 1 else " clients") if i == 0 else "")
                     for i, k in enumerate(levels))


def closed_open_lines(results, name=NAME):
    """The closed-open block: the table of closed_open() and one sentence comparing them. The
    table shows `unp`'s row of every design (the suite's headline closed loop, which other
    blocks quote) and only those other closed-loop points that compare at equal throughput;
    a line after it counts the others, which the sentence counts too."""
    rows = closed_open(results, name)
    if not rows:
        return []
    ws = results.get("workloads", {})
    k = (ws.get("unp", {}).get("params") or {}).get("clients")
    others = [r for r in rows if r["workload"] != "unp"]
    levels = sorted({r["clients"] for r in others})
    lines = ["", "## Closed loop against open loop at the same throughput", "",
             f"Closed loop: workload `unp` ({f'{k} clients' if k else 'its clients'}, each "
             "waiting for its answer before it connects again; median conn/s and latency from "
             "connect to the last byte)"
             + (" and workload `concurrency` (the same closed loop with "
                f"{', '.join(map(str, levels))} clients, from the run that measured it)"
                if others else "")
             + f". Open loop: workload `{name}`, one request per connection, latency from the "
             "scheduled send, at the closed loop's throughput: interpolated on log-log axes "
             "between the two plain-latency points of the sweep (grid or search) around it, or "
             "the nearest plain point where none lies on its far side, at its achieved rate. "
             "Points over capacity or generator bound are not latencies and never used."
             + (" Rows: `unp`'s of every design, and the `concurrency` points that compare at "
                "equal throughput (fewest clients first)." if others else ""), "",
             "| design | closed loop: clients (workload) | closed loop, conn/s | closed p50 µs | "
             "closed p99 µs | open p50 µs | open p99 µs | open-loop figures |",
             "|---|---:|---:|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["workload"] != "unp" and not at_equal(r):
            continue
        c, o = r["closed"], r["open"]
        if o["how"] == "interpolated":
            source = f"interpolated between {o['between'][0]:,} and {o['between'][1]:,}/s"
        elif o["how"] == "nearest" and o["side"] == "above":
            nxt = o.get("next")
            source = (f"nearest plain point, {o['rate']:,}/s offered ({o['achieved_per_s']:,.0f}"
                      "/s served" + (f", within {100 * EQUAL_WITHIN:g} %" if o["within"] else "")
                      + "); above it " + (f"{nxt['rate']:,}/s was "
                                          f"{nxt['status'].replace('_', ' ')}" if nxt else
                                          "nothing was measured"))
        elif o["how"] == "nearest":
            source = (f"nearest plain point, {o['rate']:,}/s offered ({o['achieved_per_s']:,.0f}"
                      "/s served" + (f", within {100 * EQUAL_WITHIN:g} %" if o["within"] else "")
                      + "), the sweep's lowest")
        else:
            source = "no plain point in the sweep"
        cells = (f"{o['p50_us']:,.0f} | {o['p99_us']:,.0f}" if o["how"] != "none" else "– | –")
        clients = f"{r['clients']}" if r["clients"] is not None else "–"
        lines.append(f"| {r['variant']} | {clients} (`{r['workload']}`) | "
                     f"{c['conn_per_s']:,.0f} | {c['p50_us']:,.0f} | {c['p99_us']:,.0f} | "
                     f"{cells} | {source} |")
    hidden = [r for r in others if not at_equal(r)]
    if hidden:
        why = {"past every plain point of their design's sweep":
               sum(r["open"]["how"] == "nearest" and r["open"]["side"] == "above"
                   for r in hidden),
               "under its lowest": sum(r["open"]["how"] == "nearest" and
                                       r["open"]["side"] == "below" for r in hidden),
               "with no plain point in it": sum(r["open"]["how"] == "none" for r in hidden)}
        lines += ["", f"Not shown: {len(hidden)} of these designs' {len(others)} `concurrency` points "
                  f"({_by_clients(hidden)}), which do not compare at equal "
                  "throughput: " + ", ".join(f"{n} {text}" for text, n in why.items() if n)
                  + "."]
    lines += ["", closed_open_sentence(rows)]
    return lines


def closed_open_sentence(rows):
    """One sentence from the rows: at equal throughput (interpolated rows and plain points
    within EQUAL_WITHIN), how the open loop's p99 and p50 stand against the closed loop's; and
    for how many closed-loop points the throughput lay past every plain open-loop point. With
    `unp`'s rows alone it counts designs, else closed-loop points (and says by how many
    clients)."""
    equal = [r for r in rows if at_equal(r)]
    interpolated = sum(r["open"]["how"] == "interpolated" for r in equal)
    past = [r for r in rows if r["open"]["how"] == "nearest" and r["open"]["side"] == "above"
            and not r["open"]["within"]]
    unp_only = all(r.get("workload", "unp") == "unp" for r in rows)
    parts = []
    if equal:
        ratios = sorted(r["open"]["p99_us"] / r["closed"]["p99_us"] for r in equal)
        higher99 = sum(x > 1 for x in ratios)
        higher50 = sum(r["open"]["p50_us"] > r["closed"]["p50_us"] for r in equal)
        how = (f"{interpolated} interpolated, {len(equal) - interpolated} at a plain point "
               f"within {100 * EQUAL_WITHIN:g} %")
        which = (f"{len(equal)} design(s): {how}" if unp_only else
                 f"{len(equal)} of {len(rows)} closed-loop points, from "
                 f"{len({r['variant'] for r in equal})} design(s): "
                 f"{_by_clients(equal)}; {how}")
        parts.append(
            f"At equal throughput ({which}) the open loop's p99 was above the closed loop's "
            f"for {higher99} of {len(equal)} (open / closed p99 {ratios[0]:.2f}–"
            f"{ratios[-1]:.2f}, median {statistics.median(ratios):.2f}) and its p50 for "
            f"{higher50}")
    else:
        parts.append(("No design's closed-loop throughput" if unp_only else
                      "No closed-loop point's throughput")
                     + " lay between two plain open-loop points or within "
                     f"{100 * EQUAL_WITHIN:g} % of one, so none compares at equal throughput")
    if past:
        parts.append(
            f"for {len(past)} of {len(rows)}" + ("" if unp_only else " closed-loop points")
            + " the closed loop's throughput lay past every rate "
            "at which the open loop was still a plain latency: offered on a schedule, that "
            "rate was not served as a plain latency (over capacity or generator bound) or lay "
            "beyond the sweep, so the closed loop's latency there is "
            "one an open-loop user at that rate would not get (the nearest plain point, at a "
            "lower throughput, stands beside it)")
    return "; ".join(parts) + "."


# --------------------------------------------------------------------------- summary.md

def _cell(c, key):
    if c["status"] == "error":
        return "error"
    if c["status"] == "skipped":
        return "*not measured* (no latency at a lower rate)"
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
                  "The highest offered rate r such that every rate tested up to r met the "
                  "target: a rate meets it when its median repetition's p99 does, on a "
                  "plain-latency point. Bracketed by the grid, then "
                  f"{p['search_steps']} geometric bisection(s) measured in every repetition; "
                  "the bracket is [the last rate that met it, the first that missed it], with "
                  "that first miss's p99 over the repetitions (– where it was no latency).", "",
                  "| design | capacity, requests/s | bracket | first miss, p99 µs "
                  "| repetitions |",
                  "|---|---:|---|---|---:|"]
        for e in mine:
            cap = e["capacity"]
            lo, hi = cap["bracket"]
            if cap["censored"] == "below":
                text = f"< {rates[0]:,} (the lowest rate missed it)"
            elif cap["censored"] == "above":
                text = f"≥ {rates[-1]:,} (no rate missed it)"
            else:
                text = f"{lo:,.0f}"
            br = "–" if lo is None and hi is None else \
                " – ".join("…" if x is None else f"{x:,.0f}" for x in (lo, hi))
            miss = next((v for v in cap.get("rates", []) if v["rate"] == hi), None)
            miss = ", ".join("–" if x is None else f"{x:,.0f}" for x in miss["p99_us"]) \
                if miss else "–"
            lines.append(f"| {e['variant']} | {text} | {br} | {miss} "
                         f"| {cap.get('repetitions', 0)} |")
    return lines


def summary(results):
    return summary_lines(results, NAME) + ceiling_lines(results) + closed_open_lines(results)
