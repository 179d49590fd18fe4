"""The two table workloads (unp, keepalive) and the two sweeps (herd, concurrency): how they
run with interleaved repetitions, and how their summary.md tables read."""

from . import designs as D
from . import findings, stats
from .core import Server, Step
from .measure import (cdf_points, measured_run, median_run, new_entry, one_run, progress_note,
                      summarize, window_line, window_report)


def fmt_ci(stat, fmt="{:,.1f}"):
    """'median [lo–hi]' with the 95 % interval (stats.summary), or the median alone."""
    if not stat:
        return "–"
    med = fmt.format(stat["median"])
    ci = stat.get("ci95")
    if not ci:
        return med
    lo, hi = fmt.format(ci[0]), fmt.format(ci[1])
    return med if lo == hi else f"{med} [{lo}–{hi}]"


def fmt_diff(stat, fmt="{:,.1f}"):
    """A difference (a cost over a baseline) as a cell: 'median [lo–hi]' when its interval lies
    above zero, '≈ 0 (within ±X)' when the interval holds zero, and 'below baseline by m
    [lo–hi]' when it lies below: never a negative cost."""
    if not stat:
        return "–"
    ci = stat.get("ci95")
    if not ci:
        m = stat["median"]
        return fmt_ci(stat, fmt) if m >= 0 else f"below baseline by {fmt.format(-m)}"
    lo, hi = ci
    if lo == hi == 0:
        return "0"
    if lo <= 0 <= hi:
        return f"≈ 0 (within ±{fmt.format(max(abs(lo), abs(hi)))})"
    if hi < 0:
        return (f"below baseline by {fmt.format(-stat['median'])} "
                f"[{fmt.format(-hi)}–{fmt.format(-lo)}]")
    return fmt_ci(stat, fmt)


def fmt_growth(stat, fmt="{:,.1f}"):
    """A slope that can only be positive (a cost growing with a size) as a cell: 'median
    [lo–hi]' above zero, '≈ 0 (within ±X)' when its interval holds zero, and flagged as noise
    when it lies below zero, where no mechanism puts it."""
    if not stat or not stat.get("ci95"):
        return fmt_ci(stat, fmt)
    lo, hi = stat["ci95"]
    if lo == hi:
        return fmt_ci(stat, fmt)
    if lo <= 0 <= hi:
        return f"≈ 0 (within ±{fmt.format(max(abs(lo), abs(hi)))})"
    if hi < 0:
        return f"noise: {fmt_ci(stat, fmt)} (a fall has no mechanism)"
    return fmt_ci(stat, fmt)


def unexplained_failures(run):
    """The server's failures in a run less the resets of the connections the generator
    abandoned when a timed window ran out (tcplab-load's "abandoned": each of its clients'
    connection in flight, which the server then sees reset): those are the window's end, not
    failures."""
    server = run.get("server") or {}
    failures = server.get("failures") or {}
    abandoned = (run.get("load_counts") or {}).get("abandoned", 0)
    return sum(failures.values()) - min(failures.get("reset", 0), abandoned)


# --------------------------------------------------------------------------- running

def repetitions(ctx, plan):
    """--repeat when it was given, else the plan's own "repeat" (sized for its power and its
    budget, see the workload's COST), else the suite's default."""
    if getattr(ctx.args, "repeat_given", True) or not plan.get("repeat"):
        return ctx.repeat
    return plan["repeat"]


def central_repetitions(ctx, plan):
    """(designs, total): plan["central"] asks for more repetitions of a few designs than of the
    rest, to total `total` (the designs of the comparisons a run must decide); ((), 0) when the
    plan has none or --repeat was given."""
    central = plan.get("central")
    if not central or getattr(ctx.args, "repeat_given", True):
        return (), 0
    return tuple(central["designs"]), central["repeat"]


def run_table(ctx, name, plan):
    """Every variant, `repetitions` times, a fresh server each time; repetition k of every
    variant before repetition k+1 of any, so drift of the machine falls on all of them (and
    repetition k of two variants is a pair: stats.paired). Then the central designs'
    further repetitions (central_repetitions), interleaved the same way among themselves."""
    workers = ctx.workers(plan["workers"])
    repeat = repetitions(ctx, plan)
    central, total = central_repetitions(ctx, plan)
    entries = [new_entry(d, p, workers, plan["clients"]) for d, p in D.variants(ctx.designs)]
    more = [e for e in entries if e["design"] in central]
    base = D.baseline(ctx.designs)
    params = dict(plan, workers=workers, repeat=repeat)
    params.pop("central", None)
    if more and total > repeat:
        params["central"] = {"designs": list(central), "repeat": total}
    w = ctx.workload(name, kind="table", params=params,
                     baseline=base["name"] if base else None, entries=entries)
    try:
        for rep in range(1, max(repeat, total) + 1):
            for e in entries if rep <= repeat else more:
                last = repeat if rep <= repeat else total
                one_run(ctx, e, rep, f"{name}/{e['variant']}/rep{rep}",
                        f"{e['variant']:<26} {name:<10} rep {rep}/{last}", plan)
    finally:
        finalize(w)


def run_herd(ctx, name, plan, extra=()):
    """Each herd design at each pool size, interleaved the same way; EXTRA: (design, variant,
    server options) swept beside them (herd.py's EPOLLEXCLUSIVE pair and positive control)."""
    repeat = repetitions(ctx, plan)
    entries = [new_entry(d["name"], None, size, plan["clients"])
               for d in D.herd(ctx.designs) for size in plan["pool_sizes"]]
    for design, variant, options in extra:
        for size in plan["pool_sizes"]:
            entries.append(dict(new_entry(design, None, size, plan["clients"]),
                                variant=variant, server_extra=list(options)))
    w = ctx.workload(name, kind="sweep", x="workers", params=dict(plan, repeat=repeat),
                     entries=entries)
    try:
        for rep in range(1, repeat + 1):
            for e in entries:
                one_run(ctx, e, rep, f"{name}/{e['variant']}/w{e['workers']}/rep{rep}",
                        f"{e['variant']:<26} herd {e['workers']:>4} workers rep {rep}/{repeat}",
                        plan, e.get("server_extra", ()))
    finally:
        finalize(w)


def run_concurrency(ctx, name, plan):
    """One server per variant and repetition; every concurrency level measured on it in turn."""
    workers = ctx.workers(plan["workers"])
    by_variant = {}
    entries = []
    for d, p in D.variants(ctx.designs):
        by_variant[(d, p)] = [new_entry(d, p, workers, level) for level in plan["levels"]]
        entries += by_variant[(d, p)]
    w = ctx.workload(name, kind="sweep", x="clients",
                     params=dict(plan, workers=workers, repeat=ctx.repeat), entries=entries)
    try:
        for rep in range(1, ctx.repeat + 1):
            for (d, p), levels in by_variant.items():
                server, start_error = None, None
                try:
                    for e in levels:
                        run = {"rep": rep}
                        e["runs"].append(run)
                        label = f"{name}/{e['variant']}/c{e['clients']}/rep{rep}"
                        with Step(ctx, label, f"{e['variant']:<26} conc. {e['clients']:>4} "
                                  f"clients rep {rep}/{ctx.repeat}", run) as st:
                            if start_error:
                                raise start_error
                            if server is None:
                                server = Server(ctx, d, workers, p)
                                try:
                                    server.start()
                                except Exception as exc:
                                    start_error = exc
                                    raise
                            run.update(measured_run(ctx, server, label, plan,
                                                    clients=e["clients"],
                                                    duration_s=plan["duration_s"]))
                            st.note = progress_note(run)
                finally:
                    if server is not None:
                        server.stop()
                if server is not None and server.exit not in (0, None):
                    msg = f"server exited with status {server.exit}: {server.stderr_tail()}"
                    for e in levels:
                        if "error" not in e["runs"][-1]:
                            ctx.fail(f"{name}/{e['variant']}/rep{rep}", msg, e["runs"][-1])
    finally:
        finalize(w)


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
        if workload["params"].get("process_control", True):
            add_process_control(workload["entries"], workload["baseline"])
        else:  # keep-alive: the iterative server's connections wait for each other there
            for e in workload["entries"]:
                e["process_control_us_per_conn"] = None
    if workload["kind"] == "table":
        for entry in workload["entries"]:
            entry["server_cpu_split_pooled"] = pooled_split(entry["runs"])
    workload["windows"] = window_report(workload["entries"],
                                        workload["params"].get("min_window_s", 0))


def pooled_split(runs):
    """The server CPUs' /proc/stat split over all of a variant's repetitions at once: each
    window's shares weighted by its tick samples, so short windows add up to the ticks a long
    one would have had (a window of 0.8 s has some 80 samples a CPU at 100 Hz, a share to
    about ±10 points alone). Only the windows where the server had its CPUs to itself count.
    {"user", "system", "softirq": shares of busy time, "samples", "runs"} or None."""
    weights, samples, used = {"user": 0.0, "system": 0.0, "softirq": 0.0, "busy": 0.0}, 0, 0
    for r in runs:
        split = (r.get("cpu") or {}).get("server")
        if not r.get("figures") or not split or split.get("shared") or "shares" not in split:
            continue
        n = split.get("samples") or 0
        for k in ("user", "system", "softirq"):
            weights[k] += split["shares"][k] * n
        weights["busy"] += split["busy"] * n
        samples += n
        used += 1
    if not used or weights["busy"] <= 0:
        return None
    return {**{k: weights[k] / weights["busy"] for k in ("user", "system", "softirq")},
            "samples": samples, "runs": used}


def add_process_control(entries, baseline):
    """Stevens' subtraction: design CPU/conn minus the baseline's CPU/conn, repetition by
    repetition (interleaved repetitions pair up), summarised with stats.summary."""
    base = next((e for e in entries if e["variant"] == baseline and e.get("summary")), None)
    for e in entries:
        e["process_control_us_per_conn"] = None
        if base is None or not e.get("summary"):
            continue
        base_by_rep = {r["rep"]: r["figures"]["cpu_us_per_conn"] for r in base["runs"]
                       if r.get("figures")}
        diffs = [r["figures"]["cpu_us_per_conn"] - base_by_rep[r["rep"]] for r in e["runs"]
                 if r.get("figures") and r["rep"] in base_by_rep]
        if diffs:
            e["process_control_us_per_conn"] = stats.summary(diffs)


# --------------------------------------------------------------------------- summary.md

def window_text(p):
    return f" and a window of at least {p['min_window_s']} s" if p.get("min_window_s") else \
        " (short windows: --quick, indicative only)"


def central_phrase(p):
    """'18 of prefork, prefork-fdpass': the further repetitions of a table plan's central
    designs (run_table), or "" when it has none."""
    c = p.get("central")
    return f"{c['repeat']} of {', '.join(c['designs'])}" if c else ""


def central_text(p):
    return f" ({central_phrase(p)}, whose comparisons the run must decide)" if \
        p.get("central") else ""


def table_lines(results, name):
    w = results["workloads"].get(name)
    if not w:
        return []
    p = w["params"]
    show_pc = p.get("process_control", name != "keepalive")
    lines = ["", f"## Workload `{name}`", "",
             f"{p['clients']} concurrent clients, {p['requests_per_conn']} request(s) of "
             f"{p['bytes']} bytes per connection, "
             + (f"{p['duration_s']} s measured per run" if p.get("duration_s") else
                f"at least {p['connections']:,} measured connections per run{window_text(p)}")
             + ", "
             f"{p['workers']} workers for pooled designs, {p.get('repeat', 1)} interleaved "
             "repetition(s)" + central_text(p) + "; median [95 % interval]. "
             + (f"Process control = CPU/conn minus the {w['baseline']} server's CPU/conn, "
                "repetition by repetition (Stevens' subtraction; ≈ 0 where its interval holds "
                "zero). " if show_pc else
                "No process control here: with keep-alive the iterative server's connections "
                "wait for one another, so subtracting its CPU per connection means nothing; "
                "CPU per request compares the designs. ")
             + "CPU split: the server CPUs' /proc/stat (user / system / softirq "
             "share of busy time), its ticks pooled over the variant's repetitions whose server "
             "had its CPUs to itself; getrusage's user share beside it is the per-process "
             "split, a teaching contrast only."
             + (" A timed window abandons each client's connection in flight at its end and "
                "the server sees it reset: those are not counted as server failures."
                if p.get("duration_s") else ""), "",
             "| design | conn/s | req/s | "
             + ("CPU µs/conn | process control µs/conn" if show_pc else
                "CPU µs/req | CPU µs/conn")
             + " | /proc/stat user/sys/softirq % | getrusage user % | p50 µs | p99 µs "
             "| ctxt sw/conn | saturated | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"]
    if "windows" in w:
        lines[4:4] = ["", window_line(w["windows"])]
    for e in w["entries"]:
        s = e.get("summary")
        errs = sum(1 for r in e["runs"] if r.get("error"))
        if not s:
            lines.append(f"| {e['variant']} | – | – | – | – | – | – | – | – | – | – | "
                         f"{errs} failed run(s) |")
            continue
        err_text = []
        if errs:
            err_text.append(f"{errs} failed run(s)")
        if s["load_errors"]["max"]:
            err_text.append(f"{s['load_errors']['max']:.0f} failed requests")
        failures = max((unexplained_failures(r) for r in e["runs"] if r.get("figures")),
                       default=0)
        if failures:
            err_text.append(f"{failures:.0f} server failures")
        short = sum(1 for r in e["runs"] if r.get("figures") and not r.get("window_ok", True))
        if short:
            err_text.append(f"{short} window(s) below {p['min_window_s']} s")
        split = "–"
        pooled = e.get("server_cpu_split_pooled")
        if pooled:
            split = "/".join(f"{100 * pooled[k]:.0f}" for k in ("user", "system", "softirq"))
        elif "server_cpu_user_share" in s:
            split = "/".join(f"{100 * s[f'server_cpu_{k}_share']['median']:.0f}"
                             for k in ("user", "system", "softirq"))
        rusage = 100 * s["cpu_user_us_per_conn"]["median"] / max(s["cpu_us_per_conn"]["median"],
                                                               1e-9)
        lines.append(
            f"| {e['variant']} | {fmt_ci(s['conn_per_s'], '{:,.0f}')} "
            f"| {fmt_ci(s['req_per_s'], '{:,.0f}')} | "
            + (f"{fmt_ci(s['cpu_us_per_conn'])} | {fmt_diff(e.get('process_control_us_per_conn'))}"
               if show_pc else f"{fmt_ci(s['cpu_us_per_req'], '{:,.2f}')} | "
               f"{fmt_ci(s['cpu_us_per_conn'])}")
            + f" | {split} | {rusage:.0f} "
            f"| {fmt_ci(s['p50_us'], '{:,.0f}')} | {fmt_ci(s['p99_us'], '{:,.0f}')} "
            f"| {fmt_ci(s['ctxt_per_conn'], '{:.2f}')} | {saturation(e['runs'])} "
            f"| {', '.join(err_text) or '0'} |")
    return lines


def saturation(runs):
    """'load 3/5' when the generator's CPUs were saturated in 3 of 5 runs, and so on."""
    counts = {}
    for r in runs:
        for side in (r.get("cpu") or {}).get("saturated", []):
            counts[side] = counts.get(side, 0) + 1
    return ", ".join(f"{side} {n}/{len(runs)}" for side, n in counts.items()) or "none"


def workers_lines(results, name="unp"):
    w = results["workloads"].get(name)
    pooled = [e for e in (w or {}).get("entries", []) if len(e.get("workers_per_slot", [])) > 1]
    if not pooled:
        return []
    n = max(len(e["workers_per_slot"]) for e in pooled)
    lines = ["", f"## Connections per worker (`{name}`, the median repetition)", "",
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
    return lines


def sweep_rows(entries, key, values, metric, fmt="{:,.1f}"):
    """One table row per design: `metric` (median [CI]) at each value of `key`."""
    rows = []
    for name in dict.fromkeys(e["variant"] for e in entries):
        cells = []
        for value in values:
            e = next((x for x in entries if x["variant"] == name and x[key] == value), None)
            cells.append(fmt_ci(e["summary"][metric], fmt) if e and e.get("summary") else "–")
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def herd_lines(results, name="herd"):
    herd = results["workloads"].get(name)
    if not herd or not herd["entries"]:
        return []
    p = herd["params"]
    sizes = p["pool_sizes"]
    lines = ["", "## Sweep `herd`: server CPU µs per connection against pool size", "",
             f"At least {p['connections']:,} connections per point{window_text(p)}, "
             f"{p['repeat']} interleaved repetition(s); median [95 % interval].", ""]
    if "windows" in herd:
        lines += [window_line(herd["windows"]), ""]
    lines += ["| design | " + " | ".join(f"{n} workers" for n in sizes) + " |",
              "|---|" + "---:|" * len(sizes)]
    lines += sweep_rows(herd["entries"], "workers", sizes, "cpu_us_per_conn")
    slopes = [f for f in (results.get("findings") or findings.compute(results))
              if f["id"].startswith("herd/")]
    if slopes:
        lines += ["", "Slope of CPU per connection per worker (least squares, one per "
                  "repetition; the interval of those slopes): "
                  + "; ".join(findings.short(f) for f in slopes) + "."]
    return lines


def concurrency_lines(results, name="concurrency"):
    conc = results["workloads"].get(name)
    if not conc or not conc["entries"]:
        return []
    p = conc["params"]
    levels = p["levels"]
    lines = []
    for metric, title, f in (("conn_per_s", "connections per second", "{:,.0f}"),
                             ("p99_us", "p99 latency, µs", "{:,.0f}")):
        lines += ["", f"## Sweep `concurrency`: {title} against concurrent clients", "",
                  f"{p['duration_s']} s measured per point, {p['repeat']} interleaved "
                  "repetition(s); median [95 % interval].", "",
                  "| design | " + " | ".join(f"{c} clients" for c in levels) + " |",
                  "|---|" + "---:|" * len(levels)]
        lines += sweep_rows(conc["entries"], "clients", levels, metric, f)
    return lines


def table_steps(ctx, plan=None):
    plan = plan or {}
    central, total = central_repetitions(ctx, plan)
    repeat = repetitions(ctx, plan)
    more = sum(1 for d, _ in D.variants(ctx.designs) if d in central)
    return len(D.variants(ctx.designs)) * repeat + more * max(total - repeat, 0)
