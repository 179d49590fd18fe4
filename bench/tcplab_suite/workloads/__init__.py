"""The registry: every workload the suite can run, in the order it runs them.

A workload is one module here with
    NAME     its name in --workloads and in results["workloads"]
    DEFAULT  True if a plain `bench/suite.py` runs it; "lab" if a plain run holds only its
             slice PLANS["lab"] (the designs and parts bench/LAB.md's questions read, marked
             "slice": "lab" in its params) and --quick leaves it out; False if only when named
    COST     what it takes on a 2-core machine, for --help and README (LAB_COST: its slice's)
    PLANS    {"default": {...}, "quick": {...}} (and "lab"): every count and duration it uses
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


def defaults(quick=False):
    """The workloads a run without --workloads makes: with --quick, not the lab's slices."""
    return [name for name, w in REGISTRY.items()
            if w.DEFAULT is True or (w.DEFAULT == "lab" and not quick)]


def lab_slices():
    """The workloads whose slice (PLANS["lab"]) the default run holds."""
    return [name for name, w in REGISTRY.items() if w.DEFAULT == "lab"]
