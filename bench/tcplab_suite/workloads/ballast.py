"""ballast: fork's cost grows with the server (issue 13). `fork`, one pool (`prefork`) and
`thread`, each with its main process holding 0, 16, 64 and 256 MiB it has written
(tcplab-server --ballast-mb) before it serves: CPU per connection, the server CPUs' /proc/stat
split and p99 against the parent's size. A fork copies the parent's page tables and an exit
tears the child's down, once per connection for `fork`; the pool forks once at start and the
threads share the one address space, so theirs should not grow.

One server at a time, so the sweep holds at most the largest ballast (256 MiB; the pool's
children share it copy-on-write and never write it)."""

from .. import designs as D
from .. import procfs, stats
from ..core import Server, Step
from ..measure import measured_run, new_entry, progress_note
from ..table import finalize, fmt_ci, fmt_growth, window_text

NAME = "ballast"
DEFAULT = False
COST = "about 4 min (3 designs x 4 sizes x 5 repetitions x a window of 2 s or more)"
DESIGNS = ("fork", "prefork", "thread")
PLANS = {
    # A count small enough for fork at 256 MiB (milliseconds a connection on a busy machine):
    # the window of at least 2 s, sized from the warm-up's rate, sets the count of the others.
    "default": {"ballast_mb": [0, 16, 64, 256], "clients": 5, "connections": 200,
                "requests_per_conn": 1, "bytes": 4000, "workers": 15,
                "warmup_connections": 50, "min_window_s": 2.0},
    "quick": {"ballast_mb": [0, 64], "clients": 5, "connections": 100, "requests_per_conn": 1,
              "bytes": 4000, "workers": 15, "warmup_connections": 20, "min_window_s": 0},
}


def sweep_designs(ctx):
    """DESIGNS that --only left in, in DESIGNS' order."""
    chosen = set(D.names(ctx.designs))
    return [d for d in DESIGNS if d in chosen]


def steps(ctx):
    return len(sweep_designs(ctx)) * len(ctx.plan(PLANS)["ballast_mb"]) * ctx.repeat


def run(ctx):
    plan = ctx.plan(PLANS)
    workers = ctx.workers(plan["workers"])
    entries = []
    for design in sweep_designs(ctx):
        for mb in plan["ballast_mb"]:
            e = new_entry(design, None, workers, plan["clients"])
            e["ballast_mb"] = mb
            entries.append(e)
    w = ctx.workload(NAME, kind="sweep", x="ballast_mb",
                     params=dict(plan, workers=workers, repeat=ctx.repeat, quick=ctx.quick),
                     entries=entries)
    try:
        # Repetition k of every point before k+1 of any: drift falls on all of them alike.
        for rep in range(1, ctx.repeat + 1):
            for e in entries:
                one_point(ctx, e, rep, plan)
    finally:
        finalize(w)
        add_slopes(w)


def one_point(ctx, entry, rep, plan):
    """One repetition of one (design, ballast) point on a fresh server; the main process's RSS
    once it listens says the ballast is really there."""
    mb = entry["ballast_mb"]
    label = f"{NAME}/{entry['design']}/{mb}MiB/rep{rep}"
    run = {"rep": rep}
    entry["runs"].append(run)
    what = f"{entry['design']:<10} ballast {mb:>4} MiB rep {rep}/{ctx.repeat}"
    with Step(ctx, label, what, run) as st:
        server = Server(ctx, entry["design"], entry["workers"], None, ["--ballast-mb", str(mb)])
        with server:
            parent_rss_kb = procfs.rss_kb(server.pid)
            run.update(measured_run(ctx, server, label, plan, entry=entry))
        server.check_exit()
        run["figures"]["parent_rss_kb"] = parent_rss_kb
        st.note = progress_note(run)


def add_slopes(w):
    """Per design: the growth of CPU per connection and of p99 per 100 MiB of ballast, a
    least-squares slope per repetition over the sizes, summarised (stats.slope_summary).
    Only repetitions with every size measured count."""
    sizes = w["params"]["ballast_mb"]
    w["slopes"] = {}
    for design in dict.fromkeys(e["design"] for e in w["entries"]):
        points = [e for e in w["entries"] if e["design"] == design]
        out = {}
        for figure in ("cpu_us_per_conn", "p99_us"):
            by_rep = {}
            for e in points:
                for r in e["runs"]:
                    if r.get("figures"):
                        by_rep.setdefault(r["rep"], {})[e["ballast_mb"]] = r["figures"][figure]
            full = [[100 * ys[mb] for mb in sizes] for ys in by_rep.values()
                    if all(mb in ys for mb in sizes)]
            xs = [float(mb) for mb in sizes]
            out[figure + "_per_100mib"] = \
                stats.slope_summary(xs, full) if full and len(set(xs)) > 1 else None
        w["slopes"][design] = out


def split_text(s):
    """'user/system/softirq' percent of the server CPUs' busy time, or '–'."""
    if not s or "server_cpu_user_share" not in s:
        return "–"
    return "/".join(f"{100 * s[f'server_cpu_{k}_share']['median']:.0f}"
                    for k in ("user", "system", "softirq"))


def errors_text(entry):
    s = entry.get("summary")
    out = []
    failed = sum(1 for r in entry["runs"] if r.get("error"))
    if failed:
        out.append(f"{failed} failed run(s)")
    if s and s["load_errors"]["max"]:
        out.append(f"{s['load_errors']['max']:.0f} failed requests")
    return ", ".join(out) or "0"


def summary_lines(results):
    w = results.get("workloads", {}).get(NAME)
    if not w or not w.get("entries"):
        return []
    p = w["params"]
    lines = ["", "## Workload `ballast`: fork's cost against the parent's size", "",
             f"The main process writes --ballast-mb MiB before it serves; {p['clients']} "
             f"clients, one request of {p['bytes']} bytes per connection, at least "
             f"{p['connections']:,} measured connections per point{window_text(p)}, "
             f"{p['workers']} workers for the pool, {p['repeat']} interleaved repetition(s); "
             "median [95 % interval]. CPU split: the server CPUs' /proc/stat "
             "(user / system / softirq % of busy time).", "",
             "| design | ballast MiB | parent RSS MiB | conn/s | CPU µs/conn | /proc/stat "
             "user/sys/softirq % | p99 µs | errors |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for e in w["entries"]:
        s = e.get("summary")
        if not s:
            lines.append(f"| {e['design']} | {e['ballast_mb']} | – | – | – | – | – | "
                         f"{errors_text(e)} |")
            continue
        lines.append(
            f"| {e['design']} | {e['ballast_mb']} "
            f"| {s['parent_rss_kb']['median'] / 1024:,.0f} "
            f"| {fmt_ci(s['conn_per_s'], '{:,.0f}')} | {fmt_ci(s['cpu_us_per_conn'])} "
            f"| {split_text(s)} | {fmt_ci(s['p99_us'], '{:,.0f}')} | {errors_text(e)} |")
    slopes = w.get("slopes") or {}
    if slopes:
        lines += ["", "Growth per 100 MiB of ballast (least-squares slope over the sizes, one "
                  "per repetition; median [95 % interval]; ≈ 0 where the interval holds zero, "
                  "noise where it lies below):", "",
                  "| design | CPU µs/conn per 100 MiB | p99 µs per 100 MiB |", "|---|---:|---:|"]
        for design, sl in slopes.items():
            lines.append(f"| {design} | {fmt_growth(sl.get('cpu_us_per_conn_per_100mib'))} "
                         f"| {fmt_growth(sl.get('p99_us_per_100mib'), '{:,.0f}')} |")
    return lines


def summary(results):
    return summary_lines(results)


def _chart(results, out_dir):
    """plots/ballast_charts.py's chart, imported only when drawn."""
    from ._plots import chart_module
    return chart_module("ballast_charts").cpu_and_p99(results, out_dir)


CHARTS = (_chart,)
