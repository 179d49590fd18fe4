"""idle: the memory 10,000 idle connections hold (each answered once, then silent), on the
event loops, a thread per connection, and nginx (only when named)."""

import resource
import socket
import time

from .. import designs as D
from .. import nginx, procfs
from ..core import StepError

NAME = "idle"
DEFAULT = False
COST = "about 1 min (6 servers x 5 repetitions x 10,000 connections)"
LOOPBACK_ONLY = "its idle connections are the suite's own sockets, and nginx listens on 127.0.0.1"
PLANS = {
    "default": {"workers": 4, "connections": 10000},
    "quick": {"workers": 4, "connections": 1000},
}
CHARTS = ("beyond_idle_and_stall",)


def idle_designs(ctx):
    return D.names(D.event_loops(ctx.designs) + D.thread_per_connection(ctx.designs)) + \
        [nginx.NAME]


def steps(ctx):
    return len(idle_designs(ctx)) * ctx.repeat


def hold_idle(port, n):
    """n connections, each asked for one byte over HTTP/1.1 and answered, then left open."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < n + 100:
        raise StepError(f"RLIMIT_NOFILE {hard} is below {n} connections")
    conns = []
    try:
        for _ in range(n):
            s = socket.create_connection(("127.0.0.1", port), timeout=10)
            s.sendall(b"GET /1 HTTP/1.1\r\nHost: idle\r\n\r\n")
            conns.append(s)
        for s in conns:
            if b" 200 " not in s.recv(4096):
                raise StepError("an idle connection got no answer")
    except (OSError, StepError) as e:
        for s in conns:
            s.close()
        raise StepError(f"holding {n} connections: {e}") from None
    return conns


def run(ctx):
    p = ctx.plan(PLANS)
    workers = p["workers"] = ctx.workers(p["workers"])
    def go(design, label):
        with nginx.server(ctx, design, workers, ["--io-timeout-ms", "600000"], nbytes=1) as s:
            time.sleep(0.2)
            before = procfs.tree_rss_kb(s.pid)
            conns = hold_idle(s.port, p["connections"])
            time.sleep(0.5)
            after = procfs.tree_rss_kb(s.pid)
            for c in conns:
                c.close()
        return {"figures": {"rss_kb_idle_server": before, "rss_kb_held": after,
                            "rss_kb_per_conn": (after - before) / p["connections"]}}
    nginx.run_servers(ctx, NAME, p, idle_designs(ctx), go, f"idle x{p['connections']}")


def summary(results):
    i = results.get("workloads", {}).get(NAME)
    if not i:
        return []
    lines = ["", f"## Memory of {i['params']['connections']:,} idle connections", "",
             "| server | RSS before, KiB | RSS holding them, KiB | KiB per connection |",
             "|---|---:|---:|---:|"]
    for e in i["servers"]:
        f = e.get("figures")
        lines.append(f"| {e['variant']} | " + (
            f"{f['rss_kb_idle_server']:,.0f} | {f['rss_kb_held']:,.0f} | {f['rss_kb_per_conn']:.1f} |"
            if f else f"error: {e.get('error')} | | |"))
    return lines
