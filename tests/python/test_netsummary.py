"""Unit tests of bench/tcplab_suite/netsummary.py (loopback against veth, the veth run's facts)
and of the `veth` block of plots/report.py, on a small fixture of two runs of three designs."""

import json
import os
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tcplab_suite import netsummary as N, stats, summary  # noqa: E402
from tcplab_suite.measure import summarize  # noqa: E402
from tcplab_suite.table import add_process_control  # noqa: E402

HOLDS, NOT, CANNOT = stats.HOLDS, stats.DOES_NOT_HOLD, stats.CANNOT_TELL


def split(softirq, system, user=0.1, idle=0.0, own=None, cpus=(0,)):
    """A side's /proc/stat split over a 2 s window of one CPU (200 ticks at USER_HZ 100);
    `own`: the server's process CPU seconds (the generator's go in its figures)."""
    s = {"cpus": list(cpus), "window_s": 2.0, "ticks": 200, "user_hz": 100,
         "shares": {"user": user, "system": system, "softirq": softirq, "irq": 0.0,
                    "idle": idle, "steal": 0.0},
         "busy": 1.0 - idle}
    if own is not None:
        s["process_cpu_s"] = own
    return s


def run(rep, cpu_us, server_si, load_si, shared=False, saturated=()):
    """One repetition: CPU µs/conn, the server's and the generator's softirq share (both
    sides busy throughout, user 0.1, system the rest), each side's processes accounting for
    all the user and system time of its CPU, but the server's only for 0.2 s of it when
    `shared` (something else ran there)."""
    return {"rep": rep, "server": {"connections": 10000}, "load_counts": {"requests": 10000},
            "cpu": {"server": split(server_si, 0.9 - server_si,
                                    own=0.2 if shared else 2 * (1 - server_si)),
                    "load": split(load_si, 0.9 - load_si, cpus=(1,)),
                    "saturated": list(saturated)},
            "figures": {"conn_per_s": 1e6 / cpu_us, "req_per_s": 1e6 / cpu_us,
                        "cpu_us_per_conn": cpu_us, "cpu_user_us_per_conn": cpu_us / 10,
                        "p50_us": 100.0, "p99_us": 300.0, "ctxt_per_conn": 2.0,
                        "load_errors": 0, "server_failures": 0,
                        "load_cpu_us_per_req": 2 * (1 - load_si) * 1e6 / 10000}}


def entry(variant, runs):
    return {"variant": variant, "design": variant, "dispatch": None, "workers": 15,
            "clients": 5, "runs": runs, "summary": summarize(runs)}


VETH_NET = {
    "net": "veth", "topology": "veth pair", "network": "198.18.0.0/15",
    "server": {"namespace": "tcplab-42-srv", "cpus": [0], "rps_cpus": "1", "device": "gen1",
               "rx_devices": ["gen1"], "address": "198.18.0.1"},
    "load_hosts": [{"namespace": "tcplab-42-gen1", "cpus": [1], "rps_cpus": "2",
                    "device": "srv", "rx_devices": ["srv"],
                    "addresses": [f"198.18.1.{i}" for i in range(1, 17)],
                    "source_base": "198.18.1.1", "source_addresses": 16,
                    "sysctl": {"net.ipv4.tcp_tw_reuse": 1}}],
    "offloads": {"tcplab-42-srv/gen1": {"gro": False, "tso": True, "gso": True},
                 "tcplab-42-gen1/srv": {"gro": False, "tso": True, "gso": True}},
    "offloads_note": None, "ipv6": False, "stale_removed": [],
    "skipped_workloads": {"faults": "connects from the suite's own process"},
}


def results(net, entries, command="bench/suite.py"):
    add_process_control(entries, "iterative")
    return {"schema": 1, "started": "2026-12-02T01:00:00", "duration_s": 100.0,
            "interrupted": False, "command_line": command,
            "machine": {"cpu_model": "test CPU", "cpus": 2, "usable_cpus": 2, "system": "Linux",
                        "kernel": "6.1", "loadavg_start": [0.5, 0.5, 0.5],
                        "loadavg_end": [0.6, 0.6, 0.6]},
            "pinning": {"server": "0", "load": "1"}, "config": {"quick": False, "repeat": 3},
            "designs": [{"name": e["variant"], "description": "d"} for e in entries],
            "net": net, "errors": [], "charts": [],
            "workloads": {"unp": {"kind": "table", "baseline": "iterative", "entries": entries,
                                  "params": {"clients": 5, "requests_per_conn": 1, "bytes": 4000,
                                             "connections": 5000, "min_window_s": 2.0,
                                             "workers": 15, "repeat": 3}}}}


REPS5 = (1, 2, 3, 4, 5)


def loopback_run(reps=(1, 2, 3)):
    # epoll < iterative < fork, all apart; the server's softirq 0.20-0.22 of all samples,
    # the generator's 0.30-0.32.
    return results({"net": "loopback"}, [
        entry("iterative", [run(k, 20 + k, 0.19 + k / 100, 0.29 + k / 100) for k in reps]),
        entry("fork", [run(k, 95 + 5 * k, 0.19 + k / 100, 0.29 + k / 100) for k in reps]),
        entry("epoll", [run(k, 14.5 + k / 2, 0.19 + k / 100, 0.29 + k / 100,
                            saturated=("load",)) for k in reps]),
    ])


def veth_run(epoll_us=(26, 27, 28), reps=(1, 2, 3)):
    # iterative and fork cost more; epoll overlaps iterative (25-27 against 26-28) by default.
    # The server's softirq falls to 0.09-0.13 but for fork's (the same 0.20-0.22); epoll's
    # third run shared its CPUs and has no server split. The generator's 0.10-0.12.
    return results(VETH_NET, [
        entry("iterative", [run(k, 24 + k, 0.07 + k / 50, 0.09 + k / 100) for k in reps]),
        entry("fork", [run(k, 115 + 5 * k, 0.19 + k / 100, 0.09 + k / 100) for k in reps]),
        entry("epoll", [run(k, us, 0.07 + k / 50, 0.09 + k / 100, shared=k == 3)
                        for k, us in zip(reps, epoll_us)]),
    ], command="bench/suite.py --net veth --workloads unp")


def body(lines):
    return "\n".join(lines)


class Shares(unittest.TestCase):
    def test_shares_are_of_busy_time_and_skip_shared_runs(self):
        e = veth_run()["workloads"]["unp"]["entries"][2]  # epoll
        s = N.side_shares(e, "server")
        self.assertEqual(s["runs"], 2)
        self.assertAlmostEqual(s["softirq"]["median"], 0.10)
        self.assertAlmostEqual(s["user"]["median"], 0.1)
        self.assertEqual(N.shares_text(s, 3), "10/80/10 (2 of 3 runs)")
        load = N.side_shares(e, "load")
        self.assertEqual(load["runs"], 3)
        self.assertEqual(N.shares_text(load, 3), "10/79/11")

    def test_busy_us_per_conn_from_the_server_cpus(self):
        e = loopback_run()["workloads"]["unp"]["entries"][0]
        b = N.busy_us_per_conn(e)  # all busy: 2 s * 1 CPU / 10000 connections
        self.assertAlmostEqual(b["median"], 200.0)
        self.assertEqual(b["n"], 3)

    def test_alone_counts_user_and_system_beyond_the_sides_own_processes(self):
        r = run(1, 20, 0.5, 0.1)
        r["cpu"]["server"]["shared"] = True  # measure's rule, not this one: ignored
        self.assertTrue(N.alone(r, "server"))  # softirq booked to the idle task is no other's
        self.assertTrue(N.alone(r, "load"))
        # 1.0 s of the server CPU's 2 s is user + system; 0.85 s its own: 0.15 s others', 7.5 %
        r["cpu"]["server"]["process_cpu_s"] = 0.85
        self.assertTrue(N.alone(r, "server"))
        r["cpu"]["server"]["process_cpu_s"] = 0.69  # 0.31 s others', 15.5 % of the busy 2 s
        self.assertFalse(N.alone(r, "server"))
        r["figures"]["load_cpu_us_per_req"] = 100.0  # 1 s of the generator's 1.8 s
        self.assertFalse(N.alone(r, "load"))
        r = run(1, 20, 0.2, 0.3)
        r["cpu"]["load"]["cpus"] = [0]
        self.assertFalse(N.alone(r, "server"))
        self.assertFalse(N.alone(r, "load"))
        del r["cpu"]["server"]["process_cpu_s"]
        self.assertIsNone(N.own_cpu_s(r, "server"))

    def test_no_split_gives_a_dash(self):
        e = entry("x", [{"rep": 1, "error": "failed"}])
        self.assertIsNone(N.side_shares(e, "server"))
        self.assertIsNone(N.busy_us_per_conn(e))
        self.assertEqual(N.shares_text(None, 1), "–")


class Compare(unittest.TestCase):
    def setUp(self):
        self.lines = N.compare_lines(loopback_run(), veth_run(), "20261202-loop", "veth-1")
        self.text = body(self.lines)

    def claim(self, start):
        found = [line for line in self.lines if line.startswith("- **" + start)]
        self.assertEqual(len(found), 1, start)
        return found[0]

    def test_table_rows_both_ways(self):
        self.assertIn("| `fork` | 105.0 [100.0–110.0] | 125.0 [120.0–130.0] "
                      "| 83.0 [79.0–87.0] | 99.0 [95.0–103.0] | 200.0 | 200.0 "
                      "| 9,524 [9,091–10,000] | 8,000 [7,692–8,333] |", self.lines)
        self.assertIn("| `epoll` | 10/69/21 | 10/80/10 (2 of 3 runs) | 10/59/31 | 10/79/11 "
                      "| load 3/3 | – |", self.lines)

    def test_server_softirq_verdicts_per_design(self):
        c = self.claim("The server's softirq share rises over veth")
        self.assertIn(f"rises over veth (it now pays for its own receive path, and no longer "
                      f"for the client's): {CANNOT}.**", c)
        self.assertIn(f"{NOT} for 2 of 3 (`iterative` 21.0 → 11.0 %, `epoll` 21.0 → 10.0 %)", c)
        self.assertIn(f"{CANNOT} for 1 of 3 (`fork` 21.0 → 21.0 %)", c)

    def test_load_softirq_and_cpu_claims(self):
        # The fixture's generator softirq share falls (0.30-0.32 -> 0.10-0.12): the claim that
        # it rises does not hold there.
        self.assertIn(f"rises over veth too (RPS steers to its CPU the responses and FINs that "
                      f"loopback received on the server's CPU): {NOT}.** Loopback → veth, "
                      f"medians: {NOT} for 3 of 3", self.claim("The load generator's softirq share"))
        c = self.claim("CPU per connection (the server's own accounting)")
        self.assertIn(f"{HOLDS} for 3 of 3 (`iterative` 22.0 → 26.0 µs, `fork` 105.0 → 125.0 µs, "
                      "`epoll` 15.5 → 27.0 µs)", c)
        self.assertIn(f"busy time per connection is higher over veth: {CANNOT}.**",
                      self.claim("The server CPUs' busy time"))

    def test_three_repetitions_order_nothing(self):
        # Orders within a run are paired; three pairs give [min, max] at 75 %: no verdict.
        c = self.claim("The ranking by CPU per connection holds both ways")
        self.assertIn(f"both ways: {CANNOT}.** Of the 3 pairs of designs, loopback orders 0 "
                      "(paired intervals apart)", c)
        self.assertIn("`epoll` 15.5 ≈ `iterative` 22.0 ≈ `fork` 105.0; over veth: "
                      "`iterative` 26.0 ≈ `epoll` 27.0 ≈ `fork` 125.0.", c)

    def test_ranking_with_one_pair_veth_cannot_order(self):
        c = next(line for line in N.compare_lines(loopback_run(REPS5), veth_run(
            (26, 25, 28, 27, 24), reps=REPS5), "a", "b") if line.startswith("- **The ranking"))
        self.assertIn(f"both ways: {CANNOT}.** Of the 3 pairs of designs, loopback orders 3 "
                      "(paired intervals apart); veth keeps 2 of them, reverses 0 and cannot "
                      "tell 1 (`epoll` < `iterative` over loopback).", c)
        self.assertIn("Order over loopback (µs/conn, medians; `<`: the neighbours' paired "
                      "interval lies apart from zero, `≈`: it does not): `epoll` 16.0 < "
                      "`iterative` 23.0 < `fork` 110.0; over veth: `epoll` 26.0 ≈ "
                      "`iterative` 27.0 < `fork` 130.0.", c)

    def test_a_side_never_alone_is_said(self):
        veth = veth_run()
        for e in veth["workloads"]["unp"]["entries"]:
            for r in e["runs"]:
                r["cpu"]["server"]["process_cpu_s"] = 0.1
        lines = N.compare_lines(loopback_run(), veth, "a", "b")
        self.assertIn("| `fork` | 10/69/21 | – | 10/59/31 | 10/79/11 | – | – |", lines)
        self.assertIn(f"- **The server CPUs' busy time per connection is higher over veth: "
                      f"{CANNOT}.** No design has the figure in both runs: in every run of one "
                      "of them something else ran on that side's CPUs.", lines)

    def test_ranking_reversed(self):
        lines = N.compare_lines(loopback_run(REPS5), veth_run((30, 31, 32, 33, 34), reps=REPS5),
                                "a", "b")
        c = next(line for line in lines if line.startswith("- **The ranking"))
        self.assertIn(f"both ways: {NOT}.**", c)
        self.assertIn("reverses 1 (`epoll` < `iterative` over loopback) and cannot tell 0.", c)

    def test_run_facts_of_the_veth_run(self):
        for fact in ("- topology: veth pair, addresses from 198.18.0.0/15",
                     "- server: namespace `tcplab-42-srv`, 198.18.0.1 on `gen1`; RPS `rps_cpus` "
                     "= 1 (CPU 0) on `gen1`",
                     "- load host: namespace `tcplab-42-gen1`, source addresses 198.18.1.1 … "
                     "198.18.1.16 (16) on `srv`; RPS `rps_cpus` = 2 (CPU 1) on `srv`; "
                     "`net.ipv4.tcp_tw_reuse=1`",
                     "- offloads (`ethtool -k`): `tcplab-42-srv/gen1` GRO off, GSO on, TSO on; "
                     "`tcplab-42-gen1/srv` GRO off, GSO on, TSO on",
                     "- skipped over veth: `faults` (connects from the suite's own process)"):
            self.assertIn(fact, self.text)
        self.assertIn("over veth, `veth-1` (`bench/suite.py --net veth --workloads unp`, "
                      "started 2026-12-02T01:00:00, 3 repetition(s), load average 0.50", self.text)

    def test_repetitions_are_the_unp_plans(self):
        run = {"config": {"repeat": 5}, "workloads": {"unp": {"params": {
            "repeat": 9, "central": {"designs": ["prefork", "prefork-fdpass"], "repeat": 18}}}}}
        self.assertEqual(N.repetitions_text(run),
                         "9 repetition(s), 18 of prefork, prefork-fdpass")
        self.assertEqual(N.repetitions_text({"config": {"repeat": 3}, "workloads": {}}),
                         "3 repetition(s)")

    def test_wrong_runs_are_clear_errors(self):
        loop, veth = loopback_run(), veth_run()
        with self.assertRaisesRegex(ValueError, "main run must be the loopback one"):
            N.compare_lines(veth, veth, "v", "v")
        fell_back = dict(loop, net={"net": "loopback", "requested": "veth",
                                    "unavailable": "needs root"})
        with self.assertRaisesRegex(ValueError, r"v did not run over veth \(it carried on over "
                                                r"loopback: needs root\)"):
            N.compare_lines(loop, fell_back, "l", "v")
        empty = dict(veth, workloads={})
        with self.assertRaisesRegex(ValueError, "v has no `unp` workload with figures"):
            N.compare_lines(loop, empty, "l", "v")


class SummaryMd(unittest.TestCase):
    def test_a_veth_run_shows_its_network_and_both_sides(self):
        text = body(summary.lines(veth_run()))
        self.assertIn("## Network: veth", text)
        self.assertIn("`net.ipv4.tcp_tw_reuse=1`", text)
        self.assertIn("## Both sides' CPUs (`unp`)", text)
        self.assertIn("| epoll | 10/80/10 (2 of 3 runs) | 10/79/11 | 200.0 | – |", text)

    def test_a_loopback_run_has_no_such_section(self):
        text = body(summary.lines(loopback_run()))
        self.assertNotIn("## Network: veth", text)
        self.assertNotIn("Both sides", text)


class ReportBlock(unittest.TestCase):
    """plots/report.py --veth DIR fills the `veth` block and nothing else of a REPORT."""

    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.loop = self.folder("loop", loopback_run())
        self.veth = self.folder("veth-x", veth_run())
        self.report = os.path.join(self.dir.name, "REPORT.md")
        with open(self.report, "w") as f:
            f.write("# R\n\n<!-- BEGIN generated:veth -->\nold\n<!-- END generated:veth -->\n"
                    "tail\n")

    def folder(self, name, data):
        path = os.path.join(self.dir.name, name)
        os.makedirs(path)
        with open(os.path.join(path, "results.json"), "w") as f:
            json.dump(data, f)
        return path

    def report_py(self, *args):
        return subprocess.run([sys.executable, os.path.join(ROOT, "plots", "report.py"),
                               self.loop, "--report", self.report,
                               "--charts", os.path.join(self.dir.name, "charts"), *args],
                              capture_output=True, text=True, timeout=60)

    def read(self):
        with open(self.report) as f:
            return f.read()

    def test_block_filled_from_both_runs(self):
        p = self.report_py("--veth", self.veth)
        self.assertEqual(p.returncode, 0, p.stderr)
        text = self.read()
        expected = "\n".join(N.compare_lines(loopback_run(), veth_run(), "loop", "veth-x")[2:])
        expected = expected.replace("## The veth run's network", "**The veth run's network**")
        self.assertEqual(text, "# R\n\n<!-- BEGIN generated:veth -->\n" + expected
                         + "\n<!-- END generated:veth -->\ntail\n")

    def test_without_veth_the_block_is_kept(self):
        p = self.report_py()
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("kept as they were: veth", p.stdout)
        self.assertIn("<!-- BEGIN generated:veth -->\nold\n", self.read())

    def test_a_run_that_fell_back_to_loopback_is_refused(self):
        fell = self.folder("fell", dict(loopback_run(), net={
            "net": "loopback", "requested": "veth", "unavailable": "needs root: ..."}))
        p = self.report_py("--veth", fell)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("report.py: --veth: fell did not run over veth (it carried on over "
                      "loopback: needs root: ...)", p.stderr)
        self.assertIn("old", self.read())
        p = self.report_py("--veth", os.path.join(self.dir.name, "nowhere"))
        self.assertIn("report.py: --veth", p.stderr)
        self.assertIn("no results.json there", p.stderr)


if __name__ == "__main__":
    unittest.main()
