"""stall: one stuck worker (--stall-worker 0) in the event-loop pools: who keeps sending it
connections (only when named)."""

from .. import designs as D
from .. import nginx
from ..measure import guarded

NAME = "stall"
DEFAULT = False
COST = "about 5 min (3 designs x 5 repetitions; a stalled worker's connections wait out 300 ms each)"
PLANS = {
    "default": {"workers": 4, "clients": 5, "connections": 2000, "timeout_ms": 300},
    "quick": {"workers": 4, "clients": 5, "connections": 200, "timeout_ms": 300},
}
CHARTS = ("beyond_idle_and_stall",)


def stall_designs(ctx):
    return D.names(D.pooled_event_loops(ctx.designs))


def steps(ctx):
    return len(stall_designs(ctx)) * ctx.repeat


def run(ctx):
    p = ctx.plan(PLANS)
    workers = p["workers"] = ctx.workers(p["workers"])
    def go(design, label):
        extra = ["--stall-worker", "0", "--grace-ms", "500"]
        with nginx.server(ctx, design, workers, extra) as s:
            # No warm-up: connections that reach the stalled worker would wait for ever. For
            # the same reason the window is bounded by plain snapshots (the stalled worker's
            # connections never end) and is not measured again when noisy.
            return guarded(ctx, label, lambda: nginx.http_window(
                ctx, s, label, p["clients"], p["connections"], 1, 4000, p["timeout_ms"],
                quiet=False), retries=0)
    nginx.run_servers(ctx, NAME, p, stall_designs(ctx), go, "stall worker 0")


def summary(results):
    s = results.get("workloads", {}).get(NAME)
    if not s:
        return []
    lines = ["", "## One stalled worker (--stall-worker 0)", "",
             f"{s['params']['connections']:,} connections, each given up after "
             f"{s['params']['timeout_ms']} ms.", "",
             "| design | failed | connections per worker | p99 µs |", "|---|---:|---|---:|"]
    for e in s["servers"]:
        f = e.get("figures")
        lines.append(f"| {e['variant']} | " + (
            f"{f['failed']:g} ({f['failed_fraction']:.0%}) | {' '.join(map(str, f['workers']))} "
            f"| {f['p99_us']:,.0f} |" if f else f"error: {e.get('error')} | | |"))
    return lines
