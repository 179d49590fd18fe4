"""beyond: the event-loop designs beside the lock-free chapter-30 pools and nginx (in its default
configuration and as its users run it: nginx.CONFIGS), every server driven the same way
(tcplab-load --http) under `unp` (1 request per connection) and `keepalive` (100 per
connection), the same number of workers for all (only when named)."""

from .. import designs as D
from .. import nginx
from .. import findings

NAME = "beyond"
DEFAULT = False
COST = "about 1 min (2 tables x 9 servers x 5 repetitions; --quick 15 s)"
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
    return D.names(D.classic(ctx.designs) + D.event_loops(ctx.designs)) + list(nginx.CONFIGS)


def steps(ctx):
    return len(TABLES) * len(beyond_designs(ctx)) * ctx.repeat


def run(ctx):
    p = ctx.plan(PLANS)
    workers = p["workers"] = ctx.workers(p["workers"])
    # Both nginx configurations as run (PREFIX and PORT stand for each run's folder and port).
    p["nginx_configs"] = {n: nginx.record(n, workers, ctx.server_cpus) for n in nginx.CONFIGS}
    for sub in TABLES:
        def go(design, label, sub=sub):
            with nginx.server(ctx, design, workers, nbytes=p["bytes"]) as s:
                return nginx.measured(ctx, s, label, p["clients"], p[sub]["connections"],
                                      p[sub]["requests_per_conn"], p["bytes"])
        nginx.run_servers(ctx, NAME, p, beyond_designs(ctx), go, f"beyond/{sub}", table=sub)


def nginx_lines(p):
    """What the two nginx rows ran, from the plan's record of their configurations."""
    tuned = nginx.CONFIGS[nginx.TUNED]
    masks = next((line for line in p.get("nginx_configs", {}).get(nginx.TUNED, "").split("\n")
                  if line.startswith("worker_cpu_affinity")), None)
    if masks is None:  # a run from before the tuned row
        return f"nginx: worker_processes {p['workers']}, its defaults otherwise."
    return (f"`{nginx.shown_as(nginx.NAME)}`: worker_processes {p['workers']}, its defaults "
            "otherwise (sendfile off, open_file_cache off: the file opened and read per request);"
            f" `{tuned['label']}`: the same plus `" + "; ".join(tuned["http"]) + "` and `"
            + masks.rstrip(";") + "` (worker i on one server CPU), as its users run it.")


def nginx_verdicts(rows):
    """The tuned nginx against the default, paired: repetition k of one against repetition k
    of the other (findings.paired_entries), the difference with its interval and verdict."""
    by = {e["design"]: e for e in rows}
    a, b = by.get(nginx.TUNED), by.get(nginx.NAME)
    if not a or not b:
        return []
    names = (nginx.shown_as(nginx.TUNED), nginx.shown_as(nginx.NAME))
    out = []
    for key, claim, unit, what in (("cpu_us_per_req", "a<b", "µs CPU/req", "cheaper"),
                                   ("req_per_s", "a>b", "req/s", "faster")):
        p = findings.paired_entries(a, b, key, claim)
        if p:
            d = p["diff"]
            out.append(f"- `{names[0]}` is {what} than `{names[1]}`: {p['verdict']}: "
                       f"{findings.amount(d['estimate'], d['ci95'], unit)}"
                       f"{findings.percent(findings.ratio_of(p))}"
                       f" (paired, n = {p['n']}).")
    return out


def table_lines(results, sub):
    b = results.get("workloads", {}).get(NAME)
    if not b:
        return []
    p = b["params"]
    rows = [e for e in b["servers"] if e["table"] == sub]
    verdicts = nginx_verdicts(rows)
    return ["", f"## Beyond chapter 30: `{sub}` over HTTP, nginx beside the designs", "",
            f"{p['clients']} clients, {p[sub]['requests_per_conn']} request(s) of "
            f"{p['bytes']} bytes per connection, {p[sub]['connections']:,} connections, "
            f"{p['workers']} workers; every server driven by tcplab-load --http. "
            + nginx_lines(p), "",
            "| server | req/s | CPU µs/req | p50 µs | p99 µs | failed |",
            "|---|---:|---:|---:|---:|---:|"] + [nginx.row(e) for e in rows] + \
        ([""] + verdicts if verdicts else [])


def summary(results):
    return [line for sub in TABLES for line in table_lines(results, sub)]
