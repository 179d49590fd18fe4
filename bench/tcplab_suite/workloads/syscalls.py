"""syscalls: the system calls of every design, per connection (one request each) and per
request (keep-alive), counted exactly in the server's whole process tree by
tcplab_suite.syscalls.count_syscalls (perf's syscall tracepoints where permitted, else
strace -f -c; two counted runs, per connection by difference). Counts only: no time from a
traced run enters any figure. With a `unp` result and tcplab-micro's prices in the same
results, summary.md sets the cost model (cost_model.py: floor + sum of count x price) beside
the CPU per connection that `unp` measured untraced. Whole only when named; the default run
holds its lab slice, PLANS["lab"]: per connection, the six designs bench/LAB.md's questions 4
and 13 compare."""

from .. import cost_model
from .. import designs as D
from .. import syscalls as counting
from ..core import Step, StepError

NAME = "syscalls"
DEFAULT = "lab"
COST = "about 6 min, estimated (15 designs, 3 pairs of counted runs each for one request per " \
       "connection and 1 for keep-alive; with 1 pair each, 152 s were measured)"
LAB_COST = ("about 30 s (LAB questions 4 and 13: prefork, prefork-fcntl, prefork-mutex, "
            "prefork-fdpass, epoll and uring, one request per connection only)")
LOOPBACK_ONLY = "its traced server and load are started on 127.0.0.1 by tcplab_suite.syscalls"
MODES = ("conn", "keepalive")
PLANS = {
    # Per connection, each call's median over 3 pairs of counted runs: the event loops' waits
    # vary with how events coincide (uring's io_uring_enter from 0.78 to 1.86 in ten pairs, README).
    "default": {"workers": 15, "tracer": "auto", "top": 6, "modes": {
        "conn": {"requests_per_conn": 1, "connections": [500, 2500], "warmup": 200,
                 "repeat": 3},
        "keepalive": {"requests_per_conn": 100, "connections": [20, 100], "warmup": 30}}},
    "quick": {"workers": 15, "tracer": "auto", "top": 6, "modes": {
        "conn": {"requests_per_conn": 1, "connections": [100, 400], "warmup": 50},
        "keepalive": {"requests_per_conn": 20, "connections": [10, 40], "warmup": 15}}},
    # The default run's slice: what bench/LAB.md's questions 4 (the locks' fcntl and futex,
    # fd passing's extra sendmsg and recvmsg, each against prefork) and 13 (uring against
    # epoll) read, per connection only, each pair counted as the whole workload counts it but
    # one pair only (the default run's budget): its uring figure is one pair's.
    "lab": {"workers": 15, "tracer": "auto", "top": 6, "slice": "lab",
            "designs": ["prefork", "prefork-fcntl", "prefork-mutex", "prefork-fdpass", "epoll",
                        "uring"],
            "modes": {"conn": {"requests_per_conn": 1, "connections": [500, 2500],
                               "warmup": 200}}},
}
FIGURE = {"conn": "per_connection", "keepalive": "per_request"}
OTHER = "other"


def modes(plan):
    """The modes the plan counts, in MODES' order (the lab's slice: per connection only)."""
    return [m for m in MODES if m in plan["modes"]]


def steps(ctx):
    plan = ctx.plan(PLANS)
    return len(D.subset(ctx.designs, plan.get("designs"))) * len(modes(plan))


def run(ctx):
    p = ctx.plan(PLANS)
    if not D.subset(ctx.designs, p.get("designs")):
        return   # a lab slice whose designs --only left out
    workers = p["workers"] = ctx.workers(p["workers"])
    entries = []
    w = ctx.workload(NAME, kind="counts", params=dict(p, quick=ctx.quick), entries=entries)
    try:
        p["tracer"] = counting.choose_tracer(p["tracer"])
    except ValueError as e:
        ctx.fail(NAME, str(e))
        return
    w["tracer"] = p["tracer"]
    base = D.baseline(ctx.designs)
    w["baseline"] = base["name"] if base else None
    for mode in modes(p):
        m = p["modes"][mode]
        for d in D.subset(ctx.designs, p.get("designs")):
            e = {"design": d["name"], "mode": mode, "requests_per_conn": m["requests_per_conn"]}
            entries.append(e)
            policy = (d["dispatch_policies"] or [None])[0]
            extra = ["--dispatch", policy] if policy else []
            if policy:
                e["dispatch"] = policy
            what = f"{d['name']:<26} syscalls {mode:<9} ({p['tracer']})"
            with Step(ctx, f"{NAME}/{d['name']}/{mode}", what, e) as st:
                try:
                    e["counts"] = counting.count_syscalls(
                        ctx.server_bin, ctx.load_bin, d["name"], workers,
                        tuple(m["connections"]), m["requests_per_conn"], ctx.server_cpus,
                        ctx.load_cpus, extra, ctx.tmp, m["warmup"], p["tracer"],
                        m.get("repeat", 1))
                except counting.CountError as exc:
                    raise StepError(str(exc)) from None
                per = e["counts"][FIGURE[mode]]
                st.note = f"{sum(per.values()):.2f} calls per " + \
                    ("connection" if mode == "conn" else "request")


# --------------------------------------------------------------------------- the table

def per_design(w, mode):
    """{design: {syscall: count}} of the designs counted in `mode` (per connection for "conn",
    per request for "keepalive")."""
    return {e["design"]: e["counts"][FIGURE[mode]] for e in w["entries"]
            if e["mode"] == mode and e.get("counts")}


def split_calls(counts, top, baseline=None):
    """The columns of a table or a stacked bar: every call among the `top` commonest of some
    design, commonest over all designs first, and each design's row as {call: count} over them
    plus OTHER (the rest, with the tracer's own "other" folded in). Among calls made equally
    often, those the `baseline` design does not make rank first: what is the design's own.
    counts: {design: {syscall: count}}. Returns (columns, {design: row})."""
    chosen, totals = set(), {}
    common = counts.get(baseline, {})
    for per in counts.values():
        ranked = sorted((n for n in per if n != OTHER),
                        key=lambda n: (-abs(per[n]), n in common, n))
        chosen.update(ranked[:top])
        for n, c in per.items():
            totals[n] = totals.get(n, 0) + abs(c)
    columns = sorted(chosen, key=lambda n: (-totals[n], n))
    rows = {}
    for design, per in counts.items():
        row = {n: per.get(n, 0) for n in columns}
        row[OTHER] = round(sum(c for n, c in per.items() if n not in chosen), 3)
        rows[design] = row
    return columns, rows


def count_table(counts, top, baseline=None):
    """Markdown lines: one row per design, the split_calls columns, OTHER and the total."""
    columns, rows = split_calls(counts, top, baseline)
    lines = ["| design | " + " | ".join(f"`{c}`" for c in columns) + " | other | total |",
             "|---|" + "---:|" * (len(columns) + 2)]
    for design, row in rows.items():
        cells = [f"{row[c]:.2f}" if abs(row[c]) >= 0.005 else "" for c in columns]
        cells.append(f"{row[OTHER]:.2f}" if abs(row[OTHER]) >= 0.005 else "")
        lines.append(f"| {design} | " + " | ".join(cells) +
                     f" | {sum(counts[design].values()):.2f} |")
    return lines


# --------------------------------------------------------------------------- the cost model

def measured_cpu(results, workload="unp"):
    """({design: median CPU µs per connection}, baseline) from a `unp` result: each design's
    first variant (the one its counts were made with), untraced; (None, None) without it."""
    u = results.get("workloads", {}).get(workload)
    if not u or not u.get("entries"):
        return None, None
    measured = {}
    for e in u["entries"]:
        if e.get("summary") and e["design"] not in measured:
            measured[e["design"]] = e["summary"]["cpu_us_per_conn"]["median"]
    return measured, u.get("baseline")


def model_lines(results, w):
    """The cost model beside the measured CPU, or a sentence naming what it needs."""
    counts = per_design(w, "conn")
    measured, baseline = measured_cpu(results)
    micro = results.get("micro") or {}
    prices = cost_model.prices_from_micro(micro) if micro.get("benchmarks") else {}
    need = []
    if measured is None:
        need.append("a `unp` result (--workloads unp,…)")
    elif baseline not in measured:
        need.append(f"the baseline `{baseline}` measured in `unp`")
    if not prices:
        need.append("tcplab-micro's prices (the `micro` workload)")
    if baseline and baseline not in counts and measured is not None:
        need.append(f"the counts of the baseline `{baseline}`")
    lines = ["", "### The cost model: floor + Σ count × price, against the measured CPU", ""]
    if need:
        return lines + ["The model needs, in the same results: " + "; ".join(need) + "."]
    rows = cost_model.model_all(counts, prices, measured[baseline], measured, baseline)
    return lines + [
        f"Floor: `{baseline}`'s CPU µs/conn measured by `unp`; terms: the calls each design "
        "makes per connection beyond the floor's, priced by tcplab-micro (real µs) as "
        "bench/tcplab_suite/cost_model.py says; measured: `unp`'s median, untraced. The "
        "residual is what the model leaves out: wake-ups and context switches beyond those "
        "inside a primitive, cache misses, unbenchmarked calls priced as cheap ones.", ""] + \
        cost_model.table_lines(rows)


def summary(results):
    w = results.get("workloads", {}).get(NAME)
    if not w or not w.get("entries"):
        return []
    p = w["params"]
    lines = ["", "## Workload `syscalls`: system calls per connection and per request", "",
             f"Counted by {w.get('tracer', p['tracer'])} over the server's whole process "
             "tree, by difference of two counted runs (start-up, warm-up and exit cancel "
             "out); exact counts, not timings: no traced run enters a CPU figure. Columns: "
             f"the {p['top']} commonest calls of each design; the rest is \"other\"."]
    if w.get("tracer") == "strace":
        lines.append("strace counts a call when it returns: exit and exit_group (one per "
                     "connection for `fork`'s children) are not in these tables.")
    if p.get("slice") == "lab":
        lines.append("The default run's slice for bench/LAB.md (questions 4 and 13): "
                     f"{', '.join(p['designs'])}, per connection only; `--workloads {NAME}` "
                     "counts every design, keep-alive too.")
    for mode in modes(p):
        counts = per_design(w, mode)
        rpc = p["modes"][mode]["requests_per_conn"]
        c1, c2 = p["modes"][mode]["connections"]
        title = ("### Per connection (one request of 4000 bytes)" if mode == "conn" else
                 f"### Per request (keep-alive: {rpc} requests per connection)")
        lines += ["", title, "", f"{c2 - c1:,} connections by difference ({c1:,} and {c2:,})."]
        if counts:
            lines += [""] + count_table(counts, p["top"], w.get("baseline"))
        failed = [e for e in w["entries"] if e["mode"] == mode and e.get("error")]
        for e in failed:
            lines.append(f"\n{e['design']}: not counted: {e['error']}")
    return lines + model_lines(results, w)


def _chart(results, out_dir):
    """plots/syscall_charts.py's chart, imported only when drawn."""
    from ._plots import chart_module
    return chart_module("syscall_charts").stacked(results, out_dir)


CHARTS = (_chart,)
