#!/usr/bin/python3
"""End-to-end test of `bench/suite.py --net veth`: the unp workload of one design with the
server and the load generator in network namespaces of their own, then with two generator
namespaces whose JSON is merged; what results.json records; that the workloads that cannot run
over veth are skipped and say so; that Ctrl-C ends a run with partial results; that without root
the suite says why and carries on over loopback; and that every run leaves no namespace, link
or process behind.

    tests/suite_veth_test.py [BIN_DIR]     (ctest passes CMAKE_RUNTIME_OUTPUT_DIRECTORY)

Needs root (CI runs as root); otherwise it prints "skipped: needs root" and exits 77, which
ctest reports as skipped.
"""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time
import unittest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN_DIR = sys.argv.pop(1) if len(sys.argv) > 1 else os.path.join(ROOT, "build", "bin")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tcplab_suite import netns  # noqa: E402
import veth_support  # noqa: E402
from veth_support import namespaces, reap_orphans, root_links  # noqa: E402

SUITE = os.path.join(ROOT, "bench", "suite.py")
BUDGET_S = 80          # the whole file; ctest's TIMEOUT is above it
RUN_TIMEOUT_S = 40


def our_children():
    """The pids whose parent is this process: as a subreaper, whatever a suite run left
    running becomes ours."""
    me, found = os.getpid(), []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == me and fields[0] != "Z":
            found.append(int(pid))
    return found


def comm(pid):
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return ""


class SuiteOverVeth(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory(prefix="suite_veth-")
        self.out = os.path.join(self.tmp.name, "results")
        self.links_before = root_links()

    def tearDown(self):
        self.tmp.cleanup()

    def command(self, *extra):
        return ["/usr/bin/python3", SUITE, "--quick", "--only", "epoll", "--no-charts",
                "--bin", BIN_DIR, "--out", self.out, *extra]

    def check_nothing_left(self, pid):
        reap_orphans()
        self.assertEqual({n for n in namespaces() if n.startswith(f"tcplab-{pid}-")}, set())
        self.assertLessEqual(root_links(), self.links_before, "a link was left in the root "
                             "namespace")
        self.assertEqual(our_children(), [], "a process of the run was left running")

    def suite(self, *extra):
        """Runs the suite to its end: its pid, stdout and results.json."""
        proc = subprocess.Popen(self.command(*extra), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.returncode, 0, out + err)
        self.assertIn("done in", out)
        self.check_nothing_left(proc.pid)
        with open(os.path.join(self.out, "results.json")) as f:
            return proc.pid, out, json.load(f)

    def unp_run(self, results, hosts):
        """The one measured run of epoll under unp, and its load JSON."""
        (entry,) = results["workloads"]["unp"]["entries"]
        self.assertEqual(entry["variant"], "epoll")
        (run,) = entry["runs"]
        self.assertNotIn("error", run)
        self.assertGreater(run["figures"]["conn_per_s"], 0)
        self.assertGreater(run["figures"]["cpu_us_per_conn"], 0)
        self.assertEqual(run["figures"]["load_errors"], 0)
        with open(os.path.join(self.out, run["load_file"])) as f:
            load = json.load(f)
        self.assertEqual(load["counts"]["connections"], run["connections_asked"])
        # Each connection reached the server, and so did each generator's probe connection
        # (tcplab-load makes one before it starts); quiet snapshots bound the window.
        self.assertEqual(run["server"]["connections"], run["connections_asked"] + hosts)
        return run, load

    def test_unp_over_one_veth_pair_and_faults_skipped(self):
        pid, out, results = self.suite("--net", "veth", "--workloads", "unp,faults")
        self.assertEqual(results["errors"], [])
        net = results["net"]
        self.assertEqual((net["net"], net["topology"]), ("veth", "veth pair"))
        self.assertEqual(net["server"]["namespace"], f"tcplab-{pid}-srv")
        self.assertEqual(net["server"]["address"], netns.SERVER_ADDRESS)
        self.assertEqual([h["namespace"] for h in net["load_hosts"]], [f"tcplab-{pid}-gen1"])
        self.assertEqual(list(net["skipped_workloads"]), ["faults"])
        self.assertIn("skipped over veth: faults (its clients are the suite's own Python "
                      "sockets to 127.0.0.1); run it with --net loopback", out)
        self.assertNotIn("faults", results["workloads"])
        self.assertEqual((results["config"]["net"], results["config"]["load_hosts"]),
                         ("veth", 1))
        _, load = self.unp_run(results, 1)
        self.assertEqual(load["config"]["host"], netns.SERVER_ADDRESS)
        self.assertEqual((load["config"]["source_base"], load["config"]["source_addresses"]),
                         ("198.18.1.1", 16))
        self.assertEqual(load["config"]["clients"], 5)
        with open(os.path.join(self.out, "summary.md")) as f:
            md = f.read()
        self.assertIn(f"- network: veth (veth pair), server in namespace tcplab-{pid}-srv "
                      f"on {netns.SERVER_ADDRESS}, 1 load host(s)", md)
        # The veth run's own section (bench/tcplab_suite/netsummary.py): its facts and a row of
        # both sides' CPU shares for the one design.
        self.assertIn(f"- load host: namespace `tcplab-{pid}-gen1`, source addresses 198.18.1.1 "
                      "… 198.18.1.16 (16) on `srv`; RPS `rps_cpus` = 2 (CPU 1) on `srv`; "
                      "`net.ipv4.tcp_tw_reuse=1`", md)
        section = md.split("## Both sides' CPUs (`unp`)", 1)[1]
        # A side's split is '–' when something else ran on its CPUs (a busy machine).
        self.assertRegex(section.split("\n## ", 1)[0], r"\n\| epoll \| (\d+/\d+/\d+|–) \| "
                         r"(\d+/\d+/\d+|–) \| ([\d.,]+|–) \| ")

    def test_two_load_hosts_merged(self):
        pid, _, results = self.suite("--net", "veth", "--load-hosts", "2", "--workloads", "unp")
        self.assertEqual(results["errors"], [])
        net = results["net"]
        self.assertEqual(net["topology"], "bridge")
        self.assertEqual([h["namespace"] for h in net["load_hosts"]],
                         [f"tcplab-{pid}-gen1", f"tcplab-{pid}-gen2"])
        self.assertEqual([h["source_base"] for h in net["load_hosts"]],
                         ["198.18.1.1", "198.18.2.1"])
        run, load = self.unp_run(results, 2)
        # One tcplab-load per generator (3 + 2 of the 5 clients), added up by `merge`.
        self.assertEqual(len(load["merged_from"]), 2)
        self.assertEqual(load["config"]["clients"], 5)
        self.assertEqual(load["config"]["connections"], run["connections_asked"])

    def test_ctrl_c_tears_down_and_writes_partial_results(self):
        proc = subprocess.Popen(self.command("--net", "veth", "--workloads", "unp",
                                             "--repeat", "3"),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        names = {f"tcplab-{proc.pid}-srv", f"tcplab-{proc.pid}-gen1"}
        line = ""
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while "[1/3]" not in line and time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 1)
            line = proc.stdout.readline() if ready else line
            if proc.poll() is not None:
                break
        self.assertEqual(namespaces() & names, names, "the namespaces were not up mid-run")
        # The server serving at the signal: it must end by the suite's SIGTERM, with its
        # summary, before the namespaces go (TwoHosts' own handler used to remove them first,
        # SIGKILLing it inside: exit -9 and no summary).
        server_pids = self.wait_for_server(f"tcplab-{proc.pid}-srv")
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.returncode, 1, out + err)
        self.assertIn("interrupted: writing partial results", out)
        self.check_nothing_left(proc.pid)
        with open(os.path.join(self.out, "results.json")) as f:
            results = json.load(f)
        self.assertTrue(results["interrupted"])
        self.assertEqual(results["net"]["net"], "veth")
        stopped = results.get("interrupted_server")
        self.assertIsNotNone(stopped, out + err)
        self.assertIn(stopped["pid"], server_pids)
        self.assertEqual((stopped["design"], stopped["exit"], stopped["summary"]),
                         ("epoll", 0, True), out + err)

    def wait_for_server(self, namespace):
        """The pids in NAMESPACE once a server runs there (one whose first step has begun)."""
        deadline = time.monotonic() + RUN_TIMEOUT_S
        while time.monotonic() < deadline:
            pids = [int(p) for p in subprocess.run(["ip", "netns", "pids", namespace],
                                                   capture_output=True, text=True).stdout.split()]
            if any(comm(p) == "tcplab-server" for p in pids):
                return pids
            time.sleep(0.02)
        self.fail(f"no tcplab-server in {namespace}")

    def test_not_root_carries_on_over_loopback(self):
        os.chmod(self.tmp.name, 0o777)
        proc = subprocess.run(self.command("--net", "veth", "--workloads", ""),
                              capture_output=True, text=True, timeout=RUN_TIMEOUT_S,
                              user=65534, group=65534, extra_groups=[])
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertIn("suite.py: --net veth is not available here (needs root: ", proc.stdout)
        self.assertIn("carrying on over loopback", proc.stdout)
        with open(os.path.join(self.out, "results.json")) as f:
            net = json.load(f)["net"]
        self.assertEqual((net["net"], net["requested"]), ("loopback", "veth"))
        self.assertRegex(net["unavailable"], r"^needs root: ")

    def test_load_hosts_needs_veth(self):
        proc = subprocess.run(self.command("--load-hosts", "2"), capture_output=True,
                              text=True, timeout=RUN_TIMEOUT_S)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("--load-hosts needs --net veth", proc.stderr)
        self.assertFalse(os.path.exists(self.out))


def main():
    return veth_support.main("suite_veth_test", BUDGET_S)


if __name__ == "__main__":
    sys.exit(main())
