"""herd: server CPU per connection against pool size, for the chapter-30 pools whose workers
call accept() themselves (the design table's flags choose them). The finding herd/DESIGN is
the least-squares slope per repetition (findings.herd); 9 repetitions of windows of 1 s or
more, for the same reason as unp's (see unp.py)."""

from .. import designs as D
from .. import table

NAME = "herd"
DEFAULT = False
COST = "about 6 min (4 designs x 5 pool sizes x 9 repetitions x a window of 1 s or more)"
PLANS = {
    "default": {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
                "pool_sizes": [15, 30, 60, 90, 120], "warmup_connections": 1000,
                "min_window_s": 1.0, "repeat": 9},
    "quick": {"clients": 5, "connections": 2000, "requests_per_conn": 1, "bytes": 4000,
              "pool_sizes": [15, 60, 120], "warmup_connections": 100, "min_window_s": 0},
}
CHARTS = ("herd",)


def steps(ctx):
    plan = ctx.plan(PLANS)
    return len(D.herd(ctx.designs)) * len(plan["pool_sizes"]) * table.repetitions(ctx, plan)


def run(ctx):
    if D.herd(ctx.designs):
        table.run_herd(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.herd_lines(results, NAME)
