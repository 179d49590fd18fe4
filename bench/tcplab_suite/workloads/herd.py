"""herd: server CPU per connection against pool size, for the chapter-30 pools whose workers
call accept() themselves (the design table's flags choose them)."""

from .. import designs as D
from .. import table

NAME = "herd"
DEFAULT = False
COST = "about 4.5 min (4 designs x 5 pool sizes x 5 repetitions x a 2 s window)"
PLANS = {
    "default": {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
                "pool_sizes": [15, 30, 60, 90, 120], "warmup_connections": 1000, "min_window_s": 2.0},
    "quick": {"clients": 5, "connections": 2000, "requests_per_conn": 1, "bytes": 4000,
              "pool_sizes": [15, 60, 120], "warmup_connections": 100, "min_window_s": 0},
}
CHARTS = ("herd",)


def steps(ctx):
    return len(D.herd(ctx.designs)) * len(ctx.plan(PLANS)["pool_sizes"]) * ctx.repeat


def run(ctx):
    if D.herd(ctx.designs):
        table.run_herd(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.herd_lines(results, NAME)
