"""The registry: every workload the suite can run, in the order it runs them.

A workload is one module here with
    NAME     its name in --workloads and in results["workloads"]
    DEFAULT  True if a plain `bench/suite.py` runs it
    COST     what it takes on a 2-core machine, for --help and README
    PLANS    {"default": {...}, "quick": {...}}: every count and duration it uses
    steps(ctx) -> int          how many progress lines run(ctx) prints
    run(ctx)                   measures, writing ctx.results["workloads"][NAME] (ctx.workload)
    summary(results) -> [str]  its summary.md lines, from results.json alone
    CHARTS   names of chart functions in plots/charts.py (or callables (results, out_dir))
    LOOPBACK_ONLY  (optional) why it cannot run over --net veth, where the suite skips it and
             says so: it connects from the suite's own process or starts nginx on 127.0.0.1.
             Every workload that starts its servers with core.Server and its load with
             core.run_load or core.load_command runs over veth unchanged.
Adding a workload is adding its module and its name below.
"""

import importlib

NAMES = (
    "unp",
    "keepalive",
    "latency",
    "latency-full",
    "herd",
    "concurrency",
    "faults",
    "slowhttp",
    "soak",
    "beyond",
    "work",
    "idle",
    "stall",
    "ballast",
    "syscalls",
    "micro",
)

REGISTRY = {name: importlib.import_module(f"{__name__}.{name}") for name in NAMES}


def defaults():
    return [name for name, w in REGISTRY.items() if w.DEFAULT]
