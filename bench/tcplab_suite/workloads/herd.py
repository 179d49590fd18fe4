"""herd: server CPU per connection against pool size, for the chapter-30 pools whose workers
call accept() themselves (the design table's flags choose them), and beside them the event-loop
pool whose children share one listener: with EPOLLEXCLUSIVE (one waiter woken a connection)
and, as the positive control, without it (`--no-exclusive`: every idle child's epoll wakes for
each connection and all but one find accept() empty), where the herd is real and its CPU per
connection must grow with the pool. The finding herd/VARIANT is the least-squares slope per
repetition (findings.herd); 9 repetitions of windows of 1 s or more, for the same reason as
unp's (see unp.py)."""

from .. import designs as D
from .. import table

NAME = "herd"
DEFAULT = False
COST = ("about 7 min (4 designs and 2 EPOLLEXCLUSIVE variants x 5 pool sizes x 9 "
        "repetitions x a window of 1 s or more)")
PLANS = {
    "default": {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
                "pool_sizes": [15, 30, 60, 90, 120], "warmup_connections": 1000,
                "min_window_s": 1.0, "repeat": 9},
    "quick": {"clients": 5, "connections": 2000, "requests_per_conn": 1, "bytes": 4000,
              "pool_sizes": [15, 60, 120], "warmup_connections": 100, "min_window_s": 0},
}
CHARTS = ("herd",)
CONTROL = "--no-exclusive"


def control_name(design):
    """The positive control's variant name in the herd's entries."""
    return f"{design}/no-exclusive"


def extra(ctx):
    """(design, variant, server options) of the EPOLLEXCLUSIVE pools and their controls."""
    out = []
    for d in D.shared_listener_loops(ctx.designs):
        out += [(d["name"], d["name"], ()), (d["name"], control_name(d["name"]), (CONTROL,))]
    return out


def steps(ctx):
    plan = ctx.plan(PLANS)
    return ((len(D.herd(ctx.designs)) + len(extra(ctx))) * len(plan["pool_sizes"])
            * table.repetitions(ctx, plan))


def run(ctx):
    if D.herd(ctx.designs) or extra(ctx):
        table.run_herd(ctx, NAME, ctx.plan(PLANS), extra(ctx))


def summary(results):
    return table.herd_lines(results, NAME)
