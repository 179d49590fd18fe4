"""One measured run on a running server, its figures, and their summary over repetitions:
shared by the workloads that measure designs with tcplab-load (unp, keepalive, herd,
concurrency)."""

import os

from . import procfs, procstat, stats
from .core import Server, Step, run_load
from .designs import variant_name


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


def run_figures(load, server, cpu=None):
    """The per-run figures every table and chart is drawn from. `cpu` is the server CPUs'
    /proc/stat split over the window (procstat.cpu_split), when there is one."""
    conns = max(server["connections"], 1)
    reqs = max(server["requests"], 1)
    lat = load["latency"]["total"]
    user_us = server["cpu_user_s"] * 1e6
    sys_us = server["cpu_sys_s"] * 1e6
    ctxt = server["voluntary_ctxt_switches"] + server["involuntary_ctxt_switches"]
    f = {
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
    if cpu and cpu.get("shares") and not cpu.get("shared"):
        # The server CPUs' own tick samples, not the per-process split (see bench/RESULTS.md).
        for share in ("user", "system", "softirq"):
            f[f"server_cpu_{share}_share"] = cpu["shares"][share] / max(cpu["busy"], 1e-9)
    return f


def summarize(runs):
    """stats.summary of every figure over the runs that succeeded (median, CI, n, min, max)."""
    good = [r["figures"] for r in runs if r.get("figures")]
    if not good:
        return None
    keys = [k for k, v in good[0].items() if isinstance(v, (int, float)) and
            not isinstance(v, bool) and all(k in f for f in good)]
    return {k: stats.summary([f[k] for f in good]) for k in keys}


def median_run(runs, figure="conn_per_s"):
    """The successful run whose `figure` is the median one (the lower middle for even counts)."""
    good = sorted((r for r in runs if r.get("figures")), key=lambda r: r["figures"][figure])
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


def histogram(values, bins):
    """[[lo, hi, count], ...] over `bins` equal bins from min to max (all in one if equal)."""
    if not values:
        return []
    lo, hi = min(values), max(values)
    if lo == hi:
        return [[lo, hi, len(values)]]
    width = (hi - lo) / bins
    counts = [0] * bins
    for v in values:
        counts[min(int((v - lo) / width), bins - 1)] += 1
    return [[lo + i * width, lo + (i + 1) * width, n] for i, n in enumerate(counts)]


def sized_connections(plan, warmup, min_window_s):
    """How many connections make the measured window last min_window_s: the warm-up's rate
    times the window, with a 35 % margin (a warm-up runs on a cold server and can be a third
    slower or faster than the load after it), never fewer than the plan's count (Stevens' shape
    keeps its clients, requests and bytes; only the count grows)."""
    rate = warmup["rates"]["connections_per_s"] if warmup else 0
    need = int(rate * min_window_s * 1.35) + 1
    step = max(plan["clients"], 1)
    return max(plan["connections"], -(-need // step) * step)


def cpu_accounting(ctx, a, b, server_cpu_s, softirqd_s=0.0):
    """Both sides' /proc/stat split over the window (procstat.cpu_split), which side saturated
    (busy >= 95 %), and whether the server was alone on its CPUs: its own CPU time, with the
    time those CPUs' ksoftirqd threads spent on the packets, is at least 85 % of their busy time,
    and the generator is pinned elsewhere. When it was not, the split is not the server's, and
    run_figures leaves it out."""
    if not ctx.server_cpus or not ctx.load_cpus:
        return {"error": "not pinned: no per-CPU split"}
    out = {"server": procstat.cpu_split(a, b, ctx.server_cpus),
           "load": procstat.cpu_split(a, b, ctx.load_cpus)}
    s = out["server"]
    busy_s = s["busy"] * s["window_s"] * len(s["cpus"])
    s["process_cpu_s"] = server_cpu_s
    s["ksoftirqd_cpu_s"] = softirqd_s
    s["process_share_of_busy"] = (server_cpu_s + softirqd_s) / busy_s if busy_s > 0 else None
    s["shared"] = bool(set(ctx.server_cpus) & set(ctx.load_cpus)) or \
        (s["process_share_of_busy"] or 0) < 0.85
    out["saturated"] = [side for side in ("server", "load") if procstat.saturated(out[side])]
    return out


def measured_run(ctx, server, label, plan, clients=None, duration_s=None):
    """Warm-up, snapshot A, measured load, snapshot B, on a running server, with /proc/stat
    read around the load. Count-based plans (no duration) are sized from the warm-up's rate so
    the window lasts plan["min_window_s"]; the window is checked and kept as load_window_s."""
    clients = clients or plan["clients"]
    rpc, nbytes = plan["requests_per_conn"], plan["bytes"]
    min_window = plan.get("min_window_s", 0)
    duration_s = duration_s or plan.get("duration_s")
    connections = None
    if duration_s is None:
        # A counted warm-up always completes, however slow the machine; its rate sizes the run.
        warm, warm_file = run_load(ctx, server.port, clients, rpc, nbytes, label + "-warmup",
                                   connections=plan["warmup_connections"])
        os.unlink(os.path.join(ctx.out_dir, warm_file))
        connections = sized_connections(plan, warm, min_window)
    else:
        run_load(ctx, server.port, clients, rpc, nbytes, duration_s=plan["warmup_s"])
    softirqd = procfs.pids_named({f"ksoftirqd/{c}" for c in ctx.server_cpus})
    a = server.quiet_snapshot()
    softirqd_a = procfs.cpu_s(softirqd)
    stat_a = procstat.read_stat()
    load, raw = run_load(ctx, server.port, clients, rpc, nbytes, label, connections=connections,
                         duration_s=duration_s)
    stat_b = procstat.read_stat()
    softirqd_s = procfs.cpu_s(softirqd) - softirqd_a
    b = server.quiet_snapshot()
    d = delta(a, b)
    cpu = cpu_accounting(ctx, stat_a, stat_b, d["cpu_user_s"] + d["cpu_sys_s"], softirqd_s)
    run = {"server": d, "load_file": raw, "connections_asked": connections,
           "load_window_s": load["window_s"], "window_ok": load["window_s"] >= min_window,
           "load_counts": load["counts"], "cpu": cpu,
           "latency_buckets_ns": load["latency"]["total"]["buckets_ns"],
           "figures": run_figures(load, d, cpu.get("server"))}
    return run


def progress_note(run):
    f = run.get("figures")
    if not f:
        return ""
    note = (f"{f['conn_per_s']:,.0f} conn/s, {f['req_per_s']:,.0f} req/s, "
            f"{f['cpu_us_per_conn']:.1f} µs CPU/conn, p99 {f['p99_us']:.0f} µs")
    sat = (run.get("cpu") or {}).get("saturated")
    if sat:
        note += f" [{' and '.join(sat)} CPU saturated]"
    return note


def new_entry(design, dispatch, workers, clients):
    return {"variant": variant_name(design, dispatch), "design": design, "dispatch": dispatch,
            "workers": workers, "clients": clients, "runs": []}


def one_run(ctx, entry, rep, label, what, plan, server_extra=()):
    """One repetition on a fresh server, appended to entry["runs"] whatever happens."""
    run = {"rep": rep}
    entry["runs"].append(run)
    with Step(ctx, label, what, run) as st:
        server = Server(ctx, entry["design"], entry["workers"], entry["dispatch"], server_extra)
        with server:
            run.update(measured_run(ctx, server, label, plan, clients=entry["clients"]))
        server.check_exit()
        st.note = progress_note(run)
    return run
