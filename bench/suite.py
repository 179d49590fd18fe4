#!/usr/bin/python3
"""tcplab suite: run every server design under the standard workloads, then write
results/<timestamp>/ with results.json (schema: bench/RESULTS.md), summary.md and the charts.

The entry point only: the suite is the package bench/tcplab_suite/ (core, the design table,
one module per workload in bench/tcplab_suite/workloads/ and their registry).
Standard library only: this runs under Debian's /usr/bin/python3 with python3-matplotlib.
"""

import argparse
import contextlib
import datetime
import os
import shlex
import shutil
import signal
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # for plots.charts
sys.path.insert(0, os.path.join(ROOT, "bench"))  # the package is `tcplab_suite`

from tcplab_suite import core, designs, findings, measure, netns, procfs, summary  # noqa: E402
from tcplab_suite.workloads import REGISTRY, defaults, lab_slices  # noqa: E402

QUICK_NOTE = "--quick: the figures are indicative only (short windows, 1 repetition by default)"


def listing_line(name, w):
    """One workload in --help: when it runs and what it costs (a lab slice: both parts)."""
    if w.DEFAULT == "lab":
        return (f"  {name:<12} {'lab slice':<11} by default {w.LAB_COST};\n"
                f"  {'':<12} {'':<11} when named, the whole workload: {w.COST}")
    return f"  {name:<12} {'default' if w.DEFAULT else 'when named':<11} {w.COST}"


def parse_args(argv):
    listing = "\n".join(listing_line(name, w) for name, w in REGISTRY.items())
    p = argparse.ArgumentParser(
        prog="suite.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run every tcplab server design under the standard workloads and write "
                    "results/<timestamp>/ with results.json, summary.md and the charts.",
        epilog="Workloads (time on two cores, at each plan's own interleaved repetitions and "
               "windows):\n" + listing +
               f"\nThe default runs {', '.join(defaults())}: {', '.join(lab_slices())} only as "
               "the lab's slices (the designs and parts of them that bench/LAB.md's questions "
               "read, so that `bench/lab.py check` answers 10 of its 13 questions from the "
               "default run), the others whole; about 9 minutes in all on a quiet 2-core "
               "machine. --quick runs "
               f"{', '.join(defaults(quick=True))} (1 repetition, short windows, indicative "
               "figures, no lab slices) in under a minute.")
    p.add_argument("--quick", action="store_true",
                   help="classroom version: fewer connections, 1 repetition, short windows; "
                        "its figures are indicative only")
    p.add_argument("--only", metavar="DESIGNS",
                   help="comma list of designs to run (default: all of `tcplab-server --list`)")
    p.add_argument("--workloads", metavar="LIST",
                   help="comma list of workloads, each run whole unless --lab-slices (default: "
                        f"{','.join(defaults())}, of which {', '.join(lab_slices())} only as "
                        f"the lab's slices; with --quick {','.join(defaults(quick=True))}); "
                        "the others run only when named: "
                        + ", ".join(n for n in REGISTRY if n not in defaults()))
    p.add_argument("--lab-slices", action="store_true",
                   help="run " + ", ".join(lab_slices()) + " as the default run does, as the "
                        "lab's slices, even when --workloads names them: e.g. "
                        f"`--workloads {','.join(lab_slices())} --lab-slices` answers "
                        "bench/LAB.md's questions 4, 11, 12 and 13 in under a minute")
    p.add_argument("--repeat", type=int, metavar="N",
                   help="interleaved repetitions of the measured workloads (default: each "
                        "workload's plan: unp, keepalive and herd 9, unp 18 for prefork, prefork-fcntl, "
                        "prefork-mutex and prefork-fdpass, latency 3, else 5; --quick 1)")
    p.add_argument("--server-cpus", metavar="LIST", default="0",
                   help="CPUs the servers are pinned to, e.g. 0 or 0-3 (default: %(default)s)")
    p.add_argument("--load-cpus", metavar="LIST", default="1",
                   help="CPUs tcplab-load (and tcplab-micro) are pinned to (default: %(default)s)")
    p.add_argument("--workers", type=int, metavar="N",
                   help="pool size of pooled designs (default: each workload's, times the "
                        "number of server CPUs)")
    p.add_argument("--load-threads", type=int, metavar="N",
                   help="tcplab-load threads (default: one per load CPU of each generator)")
    p.add_argument("--out", metavar="DIR",
                   help="results folder (default: results/<timestamp> under the source tree)")
    p.add_argument("--bin", metavar="DIR", default=os.path.join(ROOT, "build", "bin"),
                   help="where tcplab-server, tcplab-load and tcplab-micro are "
                        "(default: %(default)s)")
    p.add_argument("--net", choices=("loopback", "veth"), default="loopback",
                   help="loopback (the default), or veth: the servers in a network namespace "
                        "of their own on 198.18.0.1 and the load generator in another, joined "
                        "by veth, each side's receive work steered to its own CPUs "
                        "(bench/tcplab_suite/netns.py); needs root, else the run says so and "
                        "carries on over loopback. The workloads that connect from the suite "
                        "itself or start a server of their own on 127.0.0.1 (" + ", ".join(
                            n for n, w in REGISTRY.items() if getattr(w, "LOOPBACK_ONLY", None))
                   + ") are skipped over veth")
    p.add_argument("--load-hosts", type=int, metavar="K", default=1,
                   help="with --net veth: K generator namespaces on a bridge, one tcplab-load "
                        "on each at once (the clients and connections split between them, "
                        "their JSON merged with `tcplab-load merge`), each on its share of "
                        "--load-cpus, or all sharing them when there are fewer than K; an "
                        "open loop's rate is split the same way, each on a Poisson schedule "
                        "of its own (default: %(default)s)")
    p.add_argument("--quiet-threshold", type=float, metavar="PCT",
                   default=100 * measure.QUIET_THRESHOLD,
                   help="the quiet-machine guard: a window in which other work used more than "
                        "PCT %% of the pinned CPUs' time (beyond the tick sampling's own error) "
                        f"is measured again, up to {measure.QUIET_RETRIES} more times "
                        f"({measure.QUICK_QUIET_RETRIES} with --quick); a run that stays noisy "
                        "is marked not quiet and draws no verdict. 100 turns the guard off: "
                        "nothing is measured again, and the run, not checked, draws no "
                        "verdict either (default: %(default)g)")
    p.add_argument("--no-charts", action="store_true", help="skip drawing the charts")
    args = p.parse_args(argv)
    if not 1 <= args.load_hosts <= netns.MAX_LOAD_HOSTS:
        p.error(f"--load-hosts must be 1..{netns.MAX_LOAD_HOSTS}")
    if args.load_hosts > 1 and args.net != "veth":
        p.error("--load-hosts needs --net veth (over loopback there is one host)")
    args.repeat_given = args.repeat is not None  # else a workload's plan may choose its own
    if args.repeat is None:
        args.repeat = 1 if args.quick else 5
    if args.repeat < 1:
        p.error("--repeat must be at least 1")
    if not 0 <= args.quiet_threshold <= 100:
        p.error("--quiet-threshold must be a percentage, 0 to 100")
    args.quiet_threshold /= 100.0
    for opt in ("workers", "load_threads"):
        if getattr(args, opt) is not None and getattr(args, opt) < 1:
            p.error(f"--{opt.replace('_', '-')} must be at least 1")
    # A workload named here runs whole, unless --lab-slices; one that runs only because it is
    # a default runs the lab's slice of it where it has one (core.Context.plan).
    named = args.workloads is not None
    if args.lab_slices and args.quick:
        p.error("--lab-slices and --quick: the slices have no quick form")
    args.workloads = ([w for w in args.workloads.split(",") if w] if named
                      else defaults(quick=args.quick))
    args.lab_slices = [w for w in args.workloads if w in lab_slices()
                       and (args.lab_slices or not (named or args.quick))]
    for w in args.workloads:
        if w not in REGISTRY:
            p.error(f"unknown workload {w!r}; choose from {', '.join(REGISTRY)}")
    try:
        args.server_cpus = procfs.cpu_list(args.server_cpus)
        args.load_cpus = procfs.cpu_list(args.load_cpus)
    except ValueError as e:
        p.error(str(e))
    usable = os.sched_getaffinity(0)
    for cpu in args.server_cpus + args.load_cpus:
        if cpu not in usable:
            p.error(f"CPU {cpu} is not usable here (usable: {sorted(usable)})")
    if len(usable) < 2 or not shutil.which("taskset"):
        args.server_cpus, args.load_cpus = [], []  # no pinning on one CPU or without taskset
    return args


def load_cpu_lists(cpus, hosts):
    """Each generator's CPUs: its own contiguous share of CPUS when there are enough, else all
    of them shared."""
    if len(cpus) < hosts:
        return [cpus]
    shares = core.split(len(cpus), hosts)
    return [cpus[sum(shares[:k]):sum(shares[:k + 1])] for k in range(hosts)]


def open_net(args, stack):
    """With --net veth: the namespaces (netns.TwoHosts), up until STACK closes, and their
    description for results["net"]; without root, the reason, and loopback. (None, {...})
    for loopback."""
    if args.net == "loopback":
        return None, {"net": "loopback"}
    usable = sorted(os.sched_getaffinity(0))  # unpinned: each side's packets on any CPU
    # handle_signals=False: Ctrl-C and SIGTERM stay the suite's own (core.interrupt), so they
    # unwind as a KeyboardInterrupt: the server is stopped by SIGTERM (and prints its summary)
    # in its `with Server`, and only then are the namespaces removed, here, with interrupts
    # held. TwoHosts' own handlers would remove the namespaces first, SIGKILLing the server in
    # them from inside the signal handler.
    net = netns.TwoHosts(load_hosts=args.load_hosts, server_cpus=args.server_cpus or usable,
                         load_cpus=load_cpu_lists(args.load_cpus or usable, args.load_hosts),
                         handle_signals=False)
    stack.callback(take_down, net)  # before up(): a partial set-up is removed too
    try:
        with core.held_interrupts():
            net.up()
    except netns.NetnsUnavailable as e:
        print(f"suite.py: --net veth is not available here ({e}); carrying on over loopback",
              flush=True)
        return None, {"net": "loopback", "requested": "veth", "unavailable": str(e)}
    except netns.NetnsError as e:
        sys.exit(f"suite.py: --net veth: {e}")
    return net, net.describe()


def take_down(net):
    """The namespaces go, whole: a Ctrl-C meanwhile waits for the end (the teardown is bounded
    in time), then interrupts."""
    with core.held_interrupts():
        problems = net.down(raise_errors=False)
    if problems:
        print("netns: teardown: " + "; ".join(problems), file=sys.stderr)


def run_workloads(args, out_dir, table, results, net, workloads):
    """Every workload in turn; Ctrl-C ends the run with partial results."""
    tmp = tempfile.mkdtemp(prefix="tcplab-suite-")
    ctx = core.Context(args, out_dir, tmp, table, results, net)
    ctx.total_steps = sum(REGISTRY[w].steps(ctx) for w in workloads)
    where = f"over veth, {len(ctx.generators)} load host(s)" if net else "over loopback"
    print(f"tcplab suite → {out_dir}  ({ctx.total_steps} steps {where}; server on CPU "
          f"{ctx.server_pin}, load on CPU {ctx.load_pin})", flush=True)
    if args.quick:
        print(QUICK_NOTE, flush=True)
    try:
        for w in workloads:
            began = time.monotonic()
            ctx.check_stalls(w)
            REGISTRY[w].run(ctx)
            results["timings_s"][w] = round(time.monotonic() - began, 1)
        ctx.check_stalls("end")
    except KeyboardInterrupt:
        # The Server context managers have already stopped and reaped the current server, by
        # SIGTERM: how it ended, and whether it wrote its summary, go into results.json.
        results["interrupted"] = True
        srv = ctx.current_server
        if srv is not None and srv.proc is not None:
            results["interrupted_server"] = {"design": srv.design, "pid": srv.pid,
                                             "exit": srv.exit,
                                             "summary": srv.final_summary() is not None}
        print("\ninterrupted: writing partial results", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    # Ctrl-C must reach us even when a script started us in the background with SIGINT ignored;
    # SIGTERM (kill, a CI timeout) ends the run the same way: the current server is stopped and
    # reaped, the namespaces are removed and the partial results are written.
    signal.signal(signal.SIGINT, core.interrupt)
    signal.signal(signal.SIGTERM, core.interrupt)
    for tool in ("tcplab-server", "tcplab-load"):
        if not os.access(os.path.join(args.bin, tool), os.X_OK):
            sys.exit(f"suite.py: {os.path.join(args.bin, tool)} not found; build first "
                     "(cmake --build build) or give --bin DIR")
    try:
        table = designs.load(os.path.join(args.bin, "tcplab-server"))
    except ValueError as e:
        sys.exit(f"suite.py: {e}")
    names = designs.names(table)
    if args.only:
        wanted = [n.strip() for n in args.only.split(",") if n.strip()]
        unknown = [n for n in wanted if n not in names]
        if unknown:
            sys.exit(f"suite.py: unknown design(s) {', '.join(unknown)}; "
                     f"known: {', '.join(names)}")
        table = [d for d in table if d["name"] in wanted]
        names = designs.names(table)
    # A design that cannot run here (io_uring disabled or blocked) is skipped, and why recorded.
    table, skipped_designs = designs.split_available(table)
    for name, why in skipped_designs.items():
        print(f"skipped design {name}: {why}", flush=True)
    names = designs.names(table)

    started = datetime.datetime.now()
    out_dir = args.out or os.path.join(ROOT, "results", started.strftime("%Y%m%d-%H%M%S"))
    os.makedirs(out_dir, exist_ok=True)
    results = {
        "schema": core.SCHEMA, "started": started.isoformat(timespec="seconds"),
        "finished": None, "duration_s": None, "interrupted": False,
        "command": [sys.executable, os.path.abspath(__file__)] + argv,
        "command_line": shlex.join(["bench/suite.py"] + argv),
        "machine": core.machine_info(),
        "pinning": {"server": core.pin_text(args.server_cpus) or None,
                    "load": core.pin_text(args.load_cpus) or None,
                    "server_cpus": args.server_cpus, "load_cpus": args.load_cpus},
        "config": {"quick": args.quick, "repeat": args.repeat, "workloads": args.workloads,
                   "lab_slices": args.lab_slices,
                   "designs": names, "bin": os.path.abspath(args.bin),
                   "workers": args.workers, "load_threads": args.load_threads,
                   "net": args.net, "load_hosts": args.load_hosts,
                   "quiet_threshold": args.quiet_threshold},
        "designs": table, "skipped_designs": skipped_designs, "workloads": {}, "micro": None,
        "errors": [], "charts": [],
        "timings_s": {},
    }
    t0 = time.monotonic()
    with contextlib.ExitStack() as stack:
        net, results["net"] = open_net(args, stack)
        workloads = list(args.workloads)
        if net:
            skipped = {w: REGISTRY[w].LOOPBACK_ONLY for w in workloads
                       if getattr(REGISTRY[w], "LOOPBACK_ONLY", None)}
            results["net"]["skipped_workloads"] = skipped
            for w, why in skipped.items():
                print(f"skipped over veth: {w} ({why}); run it with --net loopback", flush=True)
            workloads = [w for w in workloads if w not in skipped]
        run_workloads(args, out_dir, table, results, net, workloads)

    results["finished"] = datetime.datetime.now().isoformat(timespec="seconds")
    results["duration_s"] = time.monotonic() - t0
    results["machine"]["loadavg_end"] = list(os.getloadavg())
    try:
        results["findings"] = findings.compute(results)
    except Exception as e:  # a finding that cannot be computed must not lose the results
        results["findings"] = []
        results["errors"].append({"step": "findings", "message": f"{type(e).__name__}: {e}"})
    results_path = os.path.join(out_dir, "results.json")
    core.write_results(results, results_path)
    if not args.no_charts:
        try:
            from plots import charts
            results["charts"] = charts.draw_all(results_path, out_dir)
        except Exception as e:  # a chart that cannot be drawn must not lose the results
            results["errors"].append({"step": "charts", "message": f"{type(e).__name__}: {e}"})
            print(f"charts: {type(e).__name__}: {e}", file=sys.stderr)
        core.write_results(results, results_path)
    summary.write(results, os.path.join(out_dir, "summary.md"))
    print(f"done in {results['duration_s']:.0f} s: {out_dir}/summary.md "
          f"({len(results['errors'])} error(s))" + (f"; {QUICK_NOTE}" if args.quick else ""),
          flush=True)
    return 1 if results["interrupted"] else 0


if __name__ == "__main__":
    sys.exit(main())
