"""work: CPU-bound requests — every request costs --work-us of server CPU (nginx cannot), on
the lock-free chapter-30 pools and the event loops (only when named)."""

from .. import designs as D
from .. import nginx

NAME = "work"
DEFAULT = False
COST = "about 35 s (7 designs x 5 repetitions)"
PLANS = {
    "default": {"workers": 4, "clients": 8, "bytes": 4000, "work_us": 200,
                "connections": 400, "requests_per_conn": 10},
    "quick": {"workers": 4, "clients": 4, "bytes": 4000, "work_us": 200,
              "connections": 50, "requests_per_conn": 4},
}
CHARTS = ()


def work_designs(ctx):
    return D.names(D.classic(ctx.designs) + D.event_loops(ctx.designs))


def steps(ctx):
    return len(work_designs(ctx)) * ctx.repeat


def run(ctx):
    p = ctx.plan(PLANS)
    workers = p["workers"] = ctx.workers(p["workers"])
    def go(design, label):
        with nginx.server(ctx, design, workers, ["--work-us", str(p["work_us"])]) as s:
            return nginx.measured(ctx, s, label, p["clients"], p["connections"],
                                  p["requests_per_conn"], p["bytes"])
    nginx.run_servers(ctx, NAME, p, work_designs(ctx), go, f"work {p['work_us']} µs")


def summary(results):
    w = results.get("workloads", {}).get(NAME)
    if not w:
        return []
    return ["", f"## CPU-bound requests: --work-us {w['params']['work_us']}", "",
            "| design | req/s | CPU µs/req | p50 µs | p99 µs | failed |",
            "|---|---:|---:|---:|---:|---:|"] + [nginx.row(e) for e in w["servers"]]
