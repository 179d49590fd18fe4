"""stall: one stuck worker (--stall-worker 0) in the event-loop pools: who keeps sending it
connections (only when named)."""

from .. import designs as D
from .. import nginx
from ..core import run_load

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
            a = s.usage()
            # No warm-up: connections that reach the stalled worker would wait for ever.
            load, raw = run_load(ctx, s.port, p["clients"], 1, 4000, label, http=True,
                                 connections=p["connections"], timeout_ms=p["timeout_ms"])
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
