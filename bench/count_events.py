#!/usr/bin/python3
"""Counts of perf events per connection (or per request) in a tcplab-server's whole tree.

    /usr/bin/python3 bench/count_events.py DESIGN [--workers 15] [--clients 5]
        [--requests-per-conn 1] [--http] [--connections 500,2500] [--events LIST]
        [--net veth]

prints one line per event: its count per connection (per request with --requests-per-conn
above 1). REPORT.md's hand-written text points here for the counts behind its explanations
(the thread per connection's page faults and TLB flushes, the fcntl lock's wake-ups against
the pool's size, an event loop's calls per kept-alive request).

How it counts: as bench/tcplab_suite/syscalls.py does, by difference of two runs. Each run is
a fresh server on CPU 0 under `perf stat` (its counters inherited by every child and thread),
the same warm-up, then N1 or N2 measured connections from tcplab-load on CPU 1 over loopback,
then SIGTERM; (count2 - count1) / (N2 - N1) is the count per connection, start-up and exit
cancelled. Counts, not timings: they hold on a busy machine. Counts that follow the
interleaving (wake-ups, context switches, futex calls) vary from run to run; run twice.
A software or tracepoint event counts what happened while one of the server's tasks was
current: sched:sched_wakeup counts the wake-ups the server's tasks made (an fcntl unlock's),
not those a packet's softirq made on the client's CPU. Needs the right to trace (root, or
kernel.perf_event_paranoid <= -1).

--net veth (root) runs the server and the load in two network namespaces joined by a veth pair
(tcplab_suite.netns, as `bench/suite.py --net veth` does) and adds two rows: the packets the
server's veth end received (net:netif_receive_skb filtered on its name) in the server's tasks,
and in all tasks (system-wide). Their difference is receive work that ran while another task
was current on the server's CPU (the idle task, or another process): work the server's own CPU
figure leaves out."""

import argparse
import json
import os
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tcplab_suite import core, netns, syscalls  # noqa: E402

EVENTS = ("page-faults,context-switches,sched:sched_wakeup,tlb:tlb_flush,"
          "syscalls:sys_enter_clone3,syscalls:sys_enter_madvise,syscalls:sys_enter_mmap,"
          "syscalls:sys_enter_futex,syscalls:sys_enter_fcntl,syscalls:sys_enter_epoll_pwait,"
          "syscalls:sys_enter_read,raw_syscalls:sys_enter")
RECEIVED = "net:netif_receive_skb"
START_TIMEOUT_S = 20
LOAD_TIMEOUT_S = 300


def parse(text):
    """`perf stat -x,`'s output as {event: count}; events perf could not count are left out."""
    counts = {}
    for line in text.splitlines():
        fields = line.split(",")
        if len(fields) >= 3 and fields[0].isdigit():
            counts[fields[2]] = counts.get(fields[2], 0) + int(fields[0])
    return counts


def per_unit(counts1, counts2, units1, units2):
    """{event: (count2 - count1) / (units2 - units1)} for every event of the second run."""
    if units2 <= units1:
        raise ValueError(f"the second run must have more units ({units1} then {units2})")
    return {e: (counts2[e] - counts1.get(e, 0)) / (units2 - units1) for e in counts2}


def counted_run(args, connections, net=None):
    """One fresh server under perf stat: the warm-up, `connections` measured ones, SIGTERM.
    Returns {event: count} over the whole run and the server's whole tree. Over veth (NET, a
    netns.TwoHosts) the packets the server's veth end received are two rows: in the server's
    tasks, and in all tasks (a system-wide count made while the load ran)."""
    host = net.server.address if net else "127.0.0.1"
    received = ["-e", RECEIVED, "--filter", f'name == "{net.server.device}"'] if net else []
    with tempfile.TemporaryDirectory(prefix="tcplab-count-") as d:
        out, everywhere = os.path.join(d, "perf.txt"), os.path.join(d, "all.txt")
        cmd = (net.prefix(net.server) if net else []) + [
            "taskset", "-c", "0", "perf", "stat", "-x,", "-e", args.events] + received + [
            "-o", out, "--", os.path.join(args.bin, "tcplab-server"), args.design,
            "--host", host, "--port", "0", "--workers", str(args.workers)]
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.DEVNULL, start_new_session=True)
        system = None
        try:
            line = core.first_line(proc, START_TIMEOUT_S)
            if not line.startswith(f"listening on {host}:"):
                raise RuntimeError(f"{args.design} did not start: {line!r}")
            port = int(line.rsplit(":", 1)[1])
            server = syscalls._traced_pid(proc.pid)
            gen = core.loopback_generator([1])
            if net:
                gen = core.Generator("veth", net.prefix(net.loads[0]), [1], "1",
                                     net.loads[0].load_args())
                system = subprocess.Popen(["perf", "stat", "-x,", "-a", "-o", everywhere] +
                                          received, start_new_session=True)
            load_json = os.path.join(d, "load.json")
            for n in (args.warmup, connections):
                load = core.tcplab_load(os.path.join(args.bin, "tcplab-load"), host, port,
                                        args.clients, args.requests_per_conn, 4000, gen,
                                        connections=n, json_path=load_json, http=args.http)
                subprocess.run(load, capture_output=True, timeout=LOAD_TIMEOUT_S)
                with open(load_json) as f:
                    got = json.load(f)["counts"]
                if got.get("connections") != n or got.get("failed"):
                    raise RuntimeError(f"tcplab-load: wanted {n} connections, got {got}")
            syscalls._wait_quiet(server)
            os.kill(server, signal.SIGTERM)
            proc.wait(timeout=60)
        except BaseException:
            syscalls._kill_group(proc)
            raise
        finally:
            proc.stdout.close()
            if system:  # it counts until SIGINT
                system.send_signal(signal.SIGINT)
                system.wait(timeout=30)
        with open(out) as f:
            counts = parse(f.read())
        if net:
            counts[RECEIVED + ", in the server's tasks"] = counts.pop(RECEIVED, 0)
            with open(everywhere) as f:
                counts[RECEIVED + ", in all tasks"] = parse(f.read()).get(RECEIVED, 0)
        return counts


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("design")
    ap.add_argument("--bin", default="build/bin", help="folder of tcplab-server, tcplab-load")
    ap.add_argument("--workers", type=int, default=15, help="pool size (default 15)")
    ap.add_argument("--clients", type=int, default=5, help="concurrent clients (default 5)")
    ap.add_argument("--requests-per-conn", type=int, default=1,
                    help="requests per connection (default 1; above 1 counts are per request)")
    ap.add_argument("--http", action="store_true", help="HTTP/1.1 instead of the line protocol")
    ap.add_argument("--connections", default="500,2500",
                    help="N1,N2 measured connections of the two runs (default 500,2500)")
    ap.add_argument("--warmup", type=int, default=200, help="warm-up connections (default 200)")
    ap.add_argument("--events", default=EVENTS, help="perf events, comma-separated")
    ap.add_argument("--net", choices=("loopback", "veth"), default="loopback",
                    help="veth (root): two namespaces joined by a veth pair, and the packets "
                    "the server's end receives counted in its tasks and in all")
    args = ap.parse_args(argv)
    n1, n2 = (int(x) for x in args.connections.split(","))
    if args.net == "veth":
        with netns.TwoHosts(load_hosts=1, server_cpus=[0], load_cpus=[[1]],
                            prefix="tcplabcount") as net:
            per = per_unit(counted_run(args, n1, net), counted_run(args, n2, net), n1, n2)
    else:
        per = per_unit(counted_run(args, n1), counted_run(args, n2), n1, n2)
    unit = "request" if args.requests_per_conn > 1 else "connection"
    print(f"{args.design}, {args.workers} workers, {args.clients} clients, "
          f"{args.requests_per_conn} request(s) per connection{', HTTP' if args.http else ''}; "
          f"per {unit}, by difference of {n1} and {n2} connections:")
    for event, count in per.items():
        print(f"  {event.removeprefix('syscalls:sys_enter_'):<44} "
              f"{count / args.requests_per_conn:9.3f}")


if __name__ == "__main__":
    main()
