#!/usr/bin/python3
"""Fills the generated blocks of REPORT.md from one suite results folder.

    /usr/bin/python3 plots/report.py results/<timestamp> [--report REPORT.md]

Every number in REPORT.md comes from a run: the blocks between
<!-- BEGIN generated:NAME --> and <!-- END generated:NAME --> are rewritten from
results.json through the same summary functions that write summary.md (each workload's
summary() in bench/tcplab_suite/workloads/), and every claim is a verdict from
bench/tcplab_suite/stats.py; the prose around them is written by hand and names no measured
figure. The charts are copied into plots/report/ so that REPORT.md can show them.
"""
import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from tcplab_suite import designs as D  # noqa: E402  (after the path)
from tcplab_suite import choose, findings, nginx, stats, table  # noqa: E402
from tcplab_suite import netsummary, summary  # noqa: E402
from tcplab_suite.workloads import REGISTRY  # noqa: E402

# Stevens, UNP vol. 1, 3rd ed., Fig. 30.1: process-control CPU seconds over 5000 connections
# (the design's CPU minus the iterative server's), as the issue quotes it; the findings hold it.
STEVENS_3RD = findings.BOOK_FIG30_1

# UNP vol. 1, 2nd ed., Fig. 27.1: the same quantity on Solaris, Digital Unix and BSD/OS, as
# design -> (solaris, dunix, bsdos), None where the book has no figure. Not transcribed yet: no
# copy of the book was at hand to check them against, and a figure from memory is not a source.
# Fill it from the book and the table grows the three columns.
STEVENS_2ND = {}

def load(folder):
    return json.loads((folder / "results.json").read_text())


def entry(workload, variant):
    for e in workload.get("entries", []):
        if e["variant"] == variant:
            return e
    return None


def med(e, figure):
    if not e or not e.get("summary") or not e["summary"].get(figure):
        return None
    return e["summary"][figure]["median"]


def fmt(x, digits=1):
    return "—" if x is None else f"{x:,.{digits}f}"


NO_DATA = "_(this run has no data for this block)_"


def block(lines, keep_heading=False):
    """Summary lines as a REPORT block: the first '## ' heading dropped (or kept in bold),
    further ones in bold, leading blank lines gone."""
    out, first = [], True
    for line in lines:
        if line.startswith("## "):
            if not first or keep_heading:
                out.append(f"**{line[3:]}**")
            first = False
            continue
        out.append(line)
    text = "\n".join(out).strip()
    return text or NO_DATA


def design_row(data, name):
    return next((d for d in data.get("designs", []) if d["name"] == name), None)


def variant_for(data, design):
    """The variant that stands for a design: its first dispatch policy, if it has any."""
    d = design_row(data, design)
    return D.first_variant(d) if d else design


def loadavg(values):
    return "—" if not values else ", ".join(f"{v:.2f}" for v in values)


def network(data):
    """The network the run used, as results.json's `net` records it."""
    net = data.get("net") or {}
    if net.get("net") == "veth":
        return (f"veth ({net.get('topology')}: the server and {len(net.get('load_hosts', []))} "
                "load generator(s) in network namespaces of their own)")
    if net.get("requested") == "veth":
        return f"loopback (--net veth was asked for but unavailable: {net.get('unavailable')})"
    return "loopback" if net else "loopback (the run predates the `net` record)"


# The command that fills REPORT.md, as it was typed (main() sets it; the run block names it).
REPORT_COMMAND = None


def block_run(data, folder):
    m = data["machine"]
    again = REPORT_COMMAND or f"/usr/bin/python3 plots/report.py results/{folder.name}"
    return "\n".join([
        f"- results folder: `{folder.name}` (suite started {data['started']}, took {data['duration_s']:.0f} s)",
        f"- machine: {m.get('cpu_model')}, {m.get('cpus')} CPUs; kernel {m.get('kernel')}",
        f"- load average (1, 5, 15 min) at start and end: {loadavg(m.get('loadavg_start'))} / "
        f"{loadavg(m.get('loadavg_end'))}",
    ] + summary.quiet_line(data) + [
        f"- network: {network(data)}",
        f"- pinning: server on CPU {data['pinning'].get('server')}, load generator on CPU {data['pinning'].get('load')}",
        f"- command: `{data['command_line']}`, then `{again}`",
        f"- failed steps: {len(data['errors'])}" + "".join(f"\n  - `{e['step']}`: {e['message']}" for e in data["errors"]),
    ] + (["- **--quick run: its figures are indicative only**"] if data["config"].get("quick") else []))


def block_fig301(data):
    unp = data["workloads"].get("unp", {})
    second = bool(STEVENS_2ND)
    rows = ["| design | CPU µs/conn (median) | process control µs/conn | × 5000 conn = s | Stevens 3rd ed. s / 5000 conn |"
            + (" 2nd ed. Solaris | 2nd ed. Digital Unix | 2nd ed. BSD/OS |" if second else ""),
            "|---|---:|---:|---:|---:|" + ("---:|---:|---:|" if second else "")]
    base = unp.get("baseline") or "iterative"
    for design in [base] + list(STEVENS_3RD):
        e = entry(unp, variant_for(data, design))
        pc = e.get("process_control_us_per_conn") if e else None
        rows.append(f"| `{design}` | {fmt(med(e, 'cpu_us_per_conn'))} | "
                    f"{'0 (baseline)' if design == base else table.fmt_diff(pc)} | "
                    f"{pc_seconds(pc) if design != base else '0'} | "
                    f"{'0 (baseline)' if design == base else fmt(STEVENS_3RD[design], 2)} |"
                    + ("".join(f" {fmt(v, 1)} |" for v in STEVENS_2ND.get(design, (None,) * 3)) if second else ""))
    return "\n".join(rows)


def pc_seconds(pc, connections=findings.BOOK_CONNECTIONS):
    """Process control scaled to the book's 5000 connections, in seconds, as table.fmt_diff
    shows a difference: never a negative cost."""
    if not pc:
        return "—"
    scaled = {"median": pc["median"] * connections / 1e6,
              "ci95": [x * connections / 1e6 for x in pc["ci95"]] if pc.get("ci95") else None}
    return table.fmt_diff(scaled, "{:,.3f}")


def per_rep(e, figure):
    """{repetition: figure} over the runs of an entry that succeeded."""
    return {r["rep"]: r["figures"][figure] for r in (e or {}).get("runs", []) if r.get("figures")}


def combine(verdicts):
    """One verdict from several: all the same, else cannot tell (not quiet wins)."""
    kinds = set(verdicts)
    if stats.NOT_QUIET in kinds:
        return stats.NOT_QUIET
    return kinds.pop() if len(kinds) == 1 else stats.CANNOT_TELL


def run_findings(data):
    return data.get("findings") if data.get("findings") is not None else findings.compute(data)


def claim_group(fs, prefix, head, book_head=None):
    """One claim over the findings whose id starts with `prefix`: every one holds, every one
    does not, else cannot tell; with book_head, the same over their verdict_book."""
    group = [f for f in fs if f["id"].startswith(prefix)]
    if not group:
        return None
    text = f"- **{head}: {combine([f['verdict'] for f in group])}** ({findings.tally(group)})"
    book = [f["verdict_book"] for f in group if f.get("verdict_book")]
    if book_head and book:
        text += f"; {book_head}: {combine(book)}"
    return text + "; the paired estimates are in [the findings](#what-this-run-found)."


def claim_ranking(unp, figure="cpu_us_per_conn", unit="µs/conn", quiet=True):
    """The designs in order of `figure`, each neighbour pair compared paired (repetition k of
    one against repetition k of the other): '<' where the paired interval lies above zero
    (the order holds), '≈' where it does not (cannot tell)."""
    es = sorted((e for e in unp.get("entries", []) if e.get("summary")),
                key=lambda e: e["summary"][figure]["median"])
    if len(es) < 2:
        return None
    text = f"`{es[0]['variant']}` {fmt(es[0]['summary'][figure]['median'])}"
    apart = 0
    for a, b in zip(es, es[1:]):
        xs, ys, reps = stats.pairs(per_rep(b, figure), per_rep(a, figure))
        v = stats.verdict_paired(xs, ys, "a>b")["verdict"] if reps else stats.CANNOT_TELL
        apart += v == stats.HOLDS
        sign = "<" if v == stats.HOLDS else "≈"
        text += f" {sign} `{b['variant']}` {fmt(b['summary'][figure]['median'])}"
    verdict = "" if quiet else " (not quiet: no order is drawn)"
    return (f"- **Ranking by CPU per connection ({unit}, medians; `<`: the paired interval of "
            f"the neighbours' difference lies above zero, the order holds; `≈`: it does not, "
            f"cannot tell on this machine), {apart} of {len(es) - 1} neighbouring orders "
            f"hold{verdict}:** {text}.")


def block_claims(data):
    unp = data["workloads"].get("unp", {})
    if not unp:
        return "_(this run has no `unp` workload)_"
    fs = run_findings(data)
    out = [c for c in (
        claim_group(fs, "process-control-ratio/",
                    "Pools cut `fork`'s process control tenfold or more, every pool",
                    "at least as much as Stevens measured for the same pool"),
        claim_group(fs, "accept-vs-fdpass/", "Children calling accept() themselves are "
                    "cheaper than the parent passing descriptors (CPU per connection)"),
        claim_group(fs, "herd/", "Thundering herd: CPU per connection grows with the pool"),
        claim_ranking(unp, quiet=findings.quiet(data))) if c]
    return "\n".join(out)


def block_findings(data):
    """The student part's answers: one sentence per central question and per event loop,
    from the run's findings."""
    return block(findings.central_lines(data))


def block_choose(data):
    """The decision table: what a user knows of the workload against the designs worth
    choosing, every cell measured by this run (or an --extra run) or "not measured"."""
    return block(choose.lines(data))


def block_findings_all(data):
    """Every finding as its sentence, and the central comparisons' interval widths."""
    return block(findings.lines(data))


def micro_medians(data):
    micro = data.get("micro") or {}
    return {b["name"]: b["real_us"] for b in micro.get("benchmarks", [])}


def block_micro(data):
    m = micro_medians(data)
    if not m:
        return "_(this run has no microbenchmark data: build/bin/tcplab-micro was not there)_"
    rows = ["| primitive (Google Benchmark) | median real time, µs |", "|---|---:|"]
    rows += [f"| `{name}` | {fmt(us, 2)} |" for name, us in sorted(m.items())]
    return "\n".join(rows)


def lookup(m, name):
    """The median of benchmark `name`, matching a prefix (Google Benchmark appends /args and
    /real_time to names)."""
    if name in m:
        return m[name]
    for key, value in m.items():
        if key.startswith(name + "/") or key.startswith(name + "_"):
            return value
    return None


def block_cost_model(data):
    """The one cost model (bench/tcplab_suite/cost_model.py: floor + the calls each design makes
    beyond the floor's, from the `syscalls` workload, priced by tcplab-micro), beside `unp`."""
    w = data["workloads"].get("syscalls")
    if not w or not w.get("entries"):
        return "_(needs the `syscalls` workload: pass its results folder with --extra)_"
    return block(REGISTRY["syscalls"].model_lines(data, w))


def block_stevens(path):
    """bench/stevens_compare.py's JSON: each design beside its twin from the book's server/."""
    if not path:
        return NO_DATA
    d = json.loads(Path(path).read_text())
    c = d["config"]
    rows = [f"Made by `bench/stevens_compare.py UNPV13E --reps {c['reps']} --loops {c['loops']}` "
            f"({c['children']} client children × {c['loops']} connections × {c['bytes']} bytes; "
            f"CPU from a cgroup {d['cgroup']['version']} per server tree; median of {c['reps']} "
            "interleaved repetitions, [min, max]).", "",
            "| design | Stevens' C µs/conn | tcplab µs/conn | tcplab / Stevens |",
            "|---|---:|---:|---:|"]
    for r in d["rows"]:
        cell = lambda x: f"{fmt(x['median'])} [{fmt(x['min'])}, {fmt(x['max'])}]"
        rows.append(f"| `{r['design']}` | {cell(r['stevens'])} | {cell(r['tcplab'])} | "
                    f"{fmt(r['ratio'], 2)} |")
    return "\n".join(rows)


def block_syscalls(data):
    """The count tables of the `syscalls` workload, without its cost model (block cost-model)."""
    w = data["workloads"].get("syscalls")
    if not w or not w.get("entries"):
        return block([])
    lines = REGISTRY["syscalls"].summary(data)
    return block(lines[:len(lines) - len(REGISTRY["syscalls"].model_lines(data, w))])


def block_veth(data, folder):
    """The `unp` workload of this (loopback) run beside that of the --veth run
    (bench/tcplab_suite/netsummary.py, which a veth run's summary.md shares)."""
    if not VETH:
        return NO_DATA  # the block stays as an earlier pair of runs left it
    return block(netsummary.compare_lines(data, load(VETH), folder.name, VETH.name))


def block_loadgen(path):
    if not path or not path.exists():
        return NO_DATA  # the block stays as an earlier bench/compare_loadgen.sh run left it
    r = json.loads(path.read_text())
    names = {"keepalive": "keep-alive, 50 connections, 5 s", "perconn": "one request per connection, 5 clients, 20,000",
             "sources": "tcplab-server prefork, one request per connection, 5 clients, 40,000"}
    config = r.get("nginx_config", "default")  # runs before NGINX_CONFIG had nginx's defaults
    served = ("its defaults: sendfile off, open_file_cache off" if config == "default" else
              "; ".join(nginx.CONFIGS[nginx.CHOICES[config]]["http"]))
    rows = [f"nginx's `{config}` configuration ({served}). "
            f"Medians of {r['reps']} runs, rates with their min–max; generator CPU: {r['cpu_method']}; core busy: that CPU over "
            "the generator's wall-clock time.", "",
            "| workload | generator | req/s | conn/s | p50 ms | p99 ms | generator CPU µs/req | of which user | of which system | core busy |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    def with_range(v, field):  # "median (min–max)" over the runs
        values = [run[field] for run in v["runs"]]
        return f"{fmt(v['median'][field], 0)} ({fmt(min(values), 0)}–{fmt(max(values), 0)})"

    for key, v in r["summary"].items():
        workload, tool = key.split("/")
        m = v["median"]
        busy = m.get("core_busy")
        rows.append(f"| {names.get(workload, workload)} | {tool} | {with_range(v, 'req_s')} | {with_range(v, 'conn_s')} | "
                    f"{fmt(m['p50_ms'], 3)} | {fmt(m['p99_ms'], 3)} | {fmt(m['cpu_us_per_req'], 2)} | "
                    f"{fmt(m.get('user_us_per_req'), 2)} | {fmt(m.get('sys_us_per_req'), 2)} | "
                    f"{'—' if busy is None else f'{busy:.0%}'} |")
    rows += ["", "| ratio (same run) | value | target |", "|---|---:|---|"]
    targets = {"keepalive_req_s_tcplab_over_wrk": "≥ 1.0", "keepalive_cpu_tcplab_over_wrk": "≤ 1.0",
               "perconn_conn_s_tcplab_over_ab": "≥ 1.5", "perconn_cpu_tcplab_over_ab": "(lower is better)",
               "perconn_bound_ab_cpu_over_tcplab_sys": "(the most conn/s could gain were user time free)",
               "sources_conn_s_16_over_1": "(above 1: one address held the generator back)",
               "sources_cpu_16_over_1": "(below 1: the port scan it saves)"}
    for key, value in r.get("ratios", {}).items():
        rows.append(f"| `{key}` | {fmt(value, 3)} | {targets.get(key, '')} |")
    calls = r.get("perconn_tcplab_cpu_by_call_pct")
    if calls:
        rows += ["", "tcplab-load's CPU with a connection per request, by system call "
                 "(`perf record -g`, share of all samples, kernel work the call caused included):", "",
                 "| " + " | ".join(calls) + " |", "|" + "---:|" * len(calls),
                 "| " + " | ".join(f"{v:.1f} %" for v in calls.values()) + " |"]
    return "\n".join(rows)


def workload_block(name, keep_heading=False):
    return lambda d, f: block(REGISTRY[name].summary(d), keep_heading)


BLOCKS = {
    "run": lambda d, f: block_run(d, f),
    "fig30-1": lambda d, f: block_fig301(d),
    "claims": lambda d, f: block_claims(d),
    "findings": lambda d, f: block_findings(d),
    "choose": lambda d, f: block_choose(d),
    "findings-all": lambda d, f: block_findings_all(d),
    "unp": lambda d, f: block(table.table_lines(d, "unp")),
    "keepalive": workload_block("keepalive"),
    "workers": lambda d, f: block(table.workers_lines(d, "unp")),
    "herd": workload_block("herd"),
    "concurrency": workload_block("concurrency"),
    "micro": lambda d, f: block_micro(d),
    "cost-model": lambda d, f: block_cost_model(d),
    "loadgen": lambda d, f: block_loadgen(LOADGEN),
    "veth": lambda d, f: block_veth(d, f),
    "extra-runs": None,  # extra_runs_block(kept), once the others are filled
    "faults": workload_block("faults", keep_heading=True),
    "soak": workload_block("soak", keep_heading=True),
    "slowhttp": workload_block("slowhttp", keep_heading=True),
    "beyond-unp": lambda d, f: block(REGISTRY["beyond"].table_lines(d, "unp"), True),
    "beyond-keepalive": lambda d, f: block(REGISTRY["beyond"].table_lines(d, "keepalive"), True),
    "work": workload_block("work", keep_heading=True),
    "idle": workload_block("idle", keep_heading=True),
    "stall": workload_block("stall", keep_heading=True),
    "latency": lambda d, f: block(REGISTRY["latency"].summary_lines(d, "latency")),
    "loadgen-ceiling": lambda d, f: block(REGISTRY["latency"].ceiling_lines(d)),
    "closed-open": lambda d, f: block(REGISTRY["latency"].closed_open_lines(d)),
    "ballast": workload_block("ballast"),
    "syscalls": lambda d, f: block_syscalls(d),
    "stevens": lambda d, f: block_stevens(STEVENS),
}
LOADGEN = None
STEVENS = None   # bench/stevens_compare.py's JSON
VETH = None      # a results folder of bench/suite.py --net veth, for the veth block
EXTRA = []       # further results folders (faults, beyond…) whose workloads fill their blocks


def extra_runs_block(kept):
    def make(data, folder):
        lines = [f"- `{x.name}`: `{load(x)['command_line']}`" for x in EXTRA]
        if kept:
            lines.append("- not regenerated (no run given here has their data), as an earlier run "
                         "of the suite left them: " + ", ".join(f"`{k}`" for k in kept))
        return "\n".join(lines) or "_(none)_"
    return make


def lab_slice(w):
    """True for a workload the default run holds only as the lab's slice (params.slice)."""
    return isinstance(w, dict) and (w.get("params") or {}).get("slice") == "lab"


def merged(data, extras):
    """The main run's results with the workloads only the extra runs have added to them; an
    extra run's whole workload replaces the main run's lab slice of it (a default run holds
    `syscalls`, `faults` and `slowhttp` only for bench/LAB.md's questions)."""
    data = dict(data, workloads=dict(data["workloads"]))
    added = False
    for x in extras:
        for name, w in x["workloads"].items():
            here = data["workloads"].get(name)
            if here is None or (lab_slice(here) and not lab_slice(w)):
                data["workloads"][name] = w
                added = True
    if added:  # the findings of the workloads together (herd/ from a herd run): quiet if all were
        data["quiet"] = all(r.get("quiet", True) for r in [data] + list(extras))
        data["findings"] = findings.compute(data)
    return data


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path, help="a suite results folder (results/<timestamp>)")
    ap.add_argument("--report", type=Path, default=ROOT / "REPORT.md")
    ap.add_argument("--charts", type=Path, default=ROOT / "plots" / "report")
    ap.add_argument("--loadgen", type=Path, help="bench/compare_loadgen.sh's JSON")
    ap.add_argument("--stevens", type=Path, help="bench/stevens_compare.py's JSON (its --json)")
    ap.add_argument("--veth", type=Path, metavar="DIR",
                    help="a results folder of `bench/suite.py --net veth` (at least --workloads "
                         "unp), whose unp workload the veth block sets beside this run's")
    ap.add_argument("--extra", type=Path, action="append", default=[],
                    help="another results folder (e.g. --workloads faults) whose workloads fill "
                         "the faults and beyond blocks; may be repeated (the first named that "
                         "holds a workload gives its data and its charts)")
    ap.add_argument("--redraw", action="store_true",
                    help="redraw each folder's charts with this plots/charts.py before copying "
                         "them (a run made by older code carries older charts)")
    args = ap.parse_args()
    global REPORT_COMMAND
    REPORT_COMMAND = " ".join(["/usr/bin/python3 plots/report.py"] + sys.argv[1:])
    global LOADGEN, EXTRA, STEVENS, VETH
    LOADGEN = args.loadgen
    STEVENS = args.stevens
    EXTRA = args.extra
    VETH = args.veth
    if not (args.results / "results.json").exists():
        sys.exit(f"report.py: no results.json in {args.results}")
    data = merged(load(args.results), [load(x) for x in EXTRA])
    if VETH:
        if not (VETH / "results.json").exists():
            sys.exit(f"report.py: --veth {VETH}: no results.json there")
        try:  # the block would fail the same way; say it before anything is written
            netsummary.compare_lines(data, load(VETH), args.results.name, VETH.name)
        except ValueError as e:
            sys.exit(f"report.py: --veth: {e}")
    text = args.report.read_text()
    kept = []
    # extra-runs last: it names the blocks that no run given here could fill
    for name, make in sorted(BLOCKS.items(), key=lambda kv: kv[0] == "extra-runs"):
        if name == "extra-runs":
            make = extra_runs_block(kept)
        pattern = re.compile(rf"(<!-- BEGIN generated:{re.escape(name)} -->\n).*?(<!-- END generated:{re.escape(name)} -->)", re.S)
        if pattern.search(text):
            body = make(data, args.results)
            if body == NO_DATA:
                kept.append(name)  # an earlier run's block stays, with its source in extra-runs
                continue
            text = pattern.sub(lambda mm: mm.group(1) + body + "\n" + mm.group(2), text)
    args.report.write_text(text)
    args.charts.mkdir(parents=True, exist_ok=True)
    # An extra run's charts replace the main run's; of two extra runs, the first named wins, as
    # its data does in merged(): so the last copied is the first named.
    for folder in [args.results] + EXTRA[::-1]:
        if args.redraw:
            sys.path.insert(0, str(ROOT))
            from plots import charts
            charts.draw_all(folder / "results.json", folder)
        for png in sorted(folder.glob("*.png")):
            shutil.copy2(png, args.charts / png.name)
    print(f"report.py: REPORT.md blocks filled from {args.results}; charts copied to {args.charts}"
          + (f"; kept as they were: {', '.join(kept)}" if kept else ""))


if __name__ == "__main__":
    main()
