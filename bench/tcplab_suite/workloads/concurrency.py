"""concurrency: throughput and p99 latency against the number of concurrent clients."""

from .. import designs as D
from .. import table

NAME = "concurrency"
DEFAULT = False
COST = "about 11 min (15 variants x 4 levels x 5 repetitions x 2 s)"
PLANS = {
    "default": {"levels": [1, 4, 16, 64], "duration_s": 2.0, "warmup_s": 0.2,
                "requests_per_conn": 1, "bytes": 4000, "workers": 15},
    "quick": {"levels": [1, 4, 16, 64], "duration_s": 0.15, "warmup_s": 0.05,
              "requests_per_conn": 1, "bytes": 4000, "workers": 15},
}
CHARTS = ("concurrency",)


def steps(ctx):
    return len(D.variants(ctx.designs)) * len(ctx.plan(PLANS)["levels"]) * ctx.repeat


def run(ctx):
    table.run_concurrency(ctx, NAME, ctx.plan(PLANS))


def summary(results):
    return table.concurrency_lines(results, NAME)
