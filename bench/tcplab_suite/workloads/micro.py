"""micro: tcplab-micro (Google Benchmark), the price of each primitive, once, pinned to the
load generator's CPUs. Its figures go to results["micro"] (not under "workloads")."""

import json
import os
import subprocess

from ..core import Step, StepError

NAME = "micro"
DEFAULT = True
COST = "about 10 s (every benchmark, the median of 3 repetitions of 0.05 s)"
PLANS = {
    # 28 benchmarks x 3 repetitions x 0.05 s, and Google Benchmark's own runs to find the
    # iteration counts: 10 s where 0.1 s a repetition took 16 s (one loaded 2-core machine,
    # back to back; 14 s quiet). The slowest price the cost model uses (fork, ~180 µs) is
    # still the median of 3 x ~280 iterations; for tighter prices run tcplab-micro by hand
    # with a longer --benchmark_min_time.
    "default": {"args": ["--benchmark_min_time=0.05", "--benchmark_repetitions=3",
                         "--benchmark_report_aggregates_only=true"]},
    "quick": {"args": ["--benchmark_min_time=0.05"]},
}
CHARTS = ("microbenchmarks",)
SCALE_TO_US = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}


def steps(ctx):
    return 1 if os.access(ctx.micro_bin, os.X_OK) else 0


def run(ctx):
    if not steps(ctx):
        return
    out = os.path.join(ctx.out_dir, "micro.json")
    cmd = [ctx.micro_bin, f"--benchmark_out={out}", "--benchmark_out_format=json"]
    cmd += ctx.plan(PLANS)["args"]
    if ctx.load_pin:
        cmd = ["taskset", "-c", ctx.load_pin] + cmd
    result = {"file": "micro.json", "command": cmd, "benchmarks": []}
    ctx.results["micro"] = result
    with Step(ctx, "micro", "tcplab-micro", result) as st:
        try:
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        except subprocess.TimeoutExpired:
            raise StepError("tcplab-micro took more than 300 s") from None
        if proc.returncode != 0:
            raise StepError(f"tcplab-micro exited {proc.returncode}: {proc.stderr.strip()[-300:]}")
        with open(out) as f:
            data = json.load(f)
        for b in data.get("benchmarks", []):
            if b.get("error_occurred"):
                result["benchmarks"].append({"name": b.get("run_name", b["name"]),
                                             "error": b.get("error_message", "")})
                continue
            agg = b.get("aggregate_name")
            if agg not in (None, "median"):
                continue
            scale = SCALE_TO_US.get(b.get("time_unit", "ns"), 1e-3)
            result["benchmarks"].append({"name": b.get("run_name", b["name"]),
                                         "real_us": b["real_time"] * scale,
                                         "cpu_us": b["cpu_time"] * scale,
                                         "statistic": agg or "single run"})
        st.note = f"{len(result['benchmarks'])} benchmarks"


def summary(results):
    micro = results.get("micro")
    if not micro:
        return []
    lines = ["", "## Microbenchmarks (tcplab-micro)", "", "| benchmark | real µs | CPU µs |",
             "|---|---:|---:|"]
    for b in micro["benchmarks"]:
        if "error" in b:
            lines.append(f"| {b['name']} | error: {b['error']} | |")
        else:
            lines.append(f"| {b['name']} | {b['real_us']:.3f} | {b['cpu_us']:.3f} |")
    if micro.get("error"):
        lines.append(f"\nError: {micro['error']}")
    return lines
