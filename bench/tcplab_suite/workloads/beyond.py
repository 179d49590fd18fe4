"""beyond: the event-loop designs beside the lock-free chapter-30 pools and nginx, every server
driven the same way (tcplab-load --http) under `unp` (1 request per connection) and
`keepalive` (100 per connection), the same number of workers for all (only when named)."""

from .. import designs as D
from .. import nginx

NAME = "beyond"
DEFAULT = False
COST = "about 2 min (2 tables x 8 servers x 5 repetitions; --quick 15 s)"
LOOPBACK_ONLY = "nginx, one of its servers, listens on 127.0.0.1"
PLANS = {
    "default": {"workers": 4, "clients": 5, "bytes": 4000,
                "unp": {"connections": 10000, "requests_per_conn": 1},
                "keepalive": {"connections": 200, "requests_per_conn": 100}},
    "quick": {"workers": 4, "clients": 5, "bytes": 4000,
              "unp": {"connections": 1000, "requests_per_conn": 1},
              "keepalive": {"connections": 20, "requests_per_conn": 50}},
}
TABLES = ("unp", "keepalive")
CHARTS = ("beyond",)


def beyond_designs(ctx):
    return D.names(D.classic(ctx.designs) + D.event_loops(ctx.designs)) + [nginx.NAME]


def steps(ctx):
    return len(TABLES) * len(beyond_designs(ctx)) * ctx.repeat


def run(ctx):
    p = ctx.plan(PLANS)
    workers = p["workers"] = ctx.workers(p["workers"])
    for sub in TABLES:
        def go(design, label, sub=sub):
            with nginx.server(ctx, design, workers, nbytes=p["bytes"]) as s:
                return nginx.measured(ctx, s, label, p["clients"], p[sub]["connections"],
                                      p[sub]["requests_per_conn"], p["bytes"])
        nginx.run_servers(ctx, NAME, p, beyond_designs(ctx), go, f"beyond/{sub}", table=sub)


def table_lines(results, sub):
    b = results.get("workloads", {}).get(NAME)
    if not b:
        return []
    p = b["params"]
    return ["", f"## Beyond chapter 30: `{sub}` over HTTP, nginx beside the designs", "",
            f"{p['clients']} clients, {p[sub]['requests_per_conn']} request(s) of "
            f"{p['bytes']} bytes per connection, {p[sub]['connections']:,} connections, "
            f"{p['workers']} workers (nginx: worker_processes {p['workers']}); every "
            "server driven by tcplab-load --http.", "",
            "| server | req/s | CPU µs/req | p50 µs | p99 µs | failed |",
            "|---|---:|---:|---:|---:|---:|"] + \
        [nginx.row(e) for e in b["servers"] if e["table"] == sub]


def summary(results):
    return [line for sub in TABLES for line in table_lines(results, sub)]
