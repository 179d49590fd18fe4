"""Unit tests of bench/lab.py, the lab's checker: for every question, data with the expected
answer is supported, data with a wrong answer is not supported (each tolerance is one a wrong
answer fails), and data the run cannot decide (a finding that cannot tell, a run that was not
quiet, overlapping brackets) makes the check say "cannot tell" rather than pass or fail."""

import json
import os
import shutil
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "bench"))
import lab  # noqa: E402

CANNOT = "cannot tell on this machine"


def unp_entry(variant, slots=None, pc=None, **figures):
    e = {"variant": variant, "design": variant.split("/")[0],
         "summary": {k: {"median": v} for k, v in figures.items()}}
    if slots is not None:
        e["workers_per_slot"] = slots
    if pc is not None:
        e["process_control_us_per_conn"] = {"median": pc}
    return e


def find(fid, verdict="holds", **extra):
    return dict({"id": fid, "verdict": verdict, "estimate": 1.0, "interval": [0.5, 1.5],
                 "unit": "µs/conn", "n": 9, "coverage": 0.961}, **extra)


def results(workloads, findings=(), is_quiet=True, micro=None):
    r = {"workloads": workloads, "findings": list(findings), "quiet": is_quiet}
    if micro:
        r["micro"] = {"benchmarks": [{"name": k, "real_us": v} for k, v in micro.items()]}
    return r


class LabCase(unittest.TestCase):
    def setUp(self):
        self.dirs = []

    def tearDown(self):
        for d in self.dirs:
            shutil.rmtree(d, ignore_errors=True)

    def folder(self, results_json=None, **files):
        d = tempfile.mkdtemp(prefix="lab-unit-")
        self.dirs.append(d)
        if results_json is not None:
            with open(os.path.join(d, "results.json"), "w") as f:
                json.dump(results_json, f)
        for name, content in files.items():
            path = os.path.join(d, name.replace("_json", ".json").replace("_txt", ".txt"))
            with open(path, "w") as f:
                f.write(content if isinstance(content, str) else json.dumps(content))
        return d

    def verdict(self, n, *dirs):
        return lab.evaluate(list(dirs))[n].verdict()

    def assertVerdict(self, n, want, *dirs):
        v = self.verdict(n, *dirs)
        self.assertTrue(v.startswith(want), f"Q{n}: {v!r}, want {want!r}")


# ------------------------------------------------------------------------------- questions

def q1_data(fork_user=150.0, proc_user=0.10):
    return results({"unp": {"entries": [
        unp_entry("fork", cpu_us_per_conn=200.0, cpu_user_us_per_conn=fork_user,
                  server_cpu_user_share=proc_user, server_cpu_system_share=0.6,
                  server_cpu_softirq_share=0.3),
        unp_entry("iterative", cpu_us_per_conn=20.0, cpu_user_us_per_conn=5.0,
                  server_cpu_user_share=0.30, server_cpu_system_share=0.5,
                  server_cpu_softirq_share=0.2)]}})


def q2_data(fork_pc=200.0, ratio="holds", is_quiet=True):
    es = [unp_entry(d, pc=pc, cpu_us_per_conn=pc + 20)
          for d, pc in (("fork", fork_pc), ("thread", 50.0), ("prefork", 5.0),
                        ("prethread-mutex", 10.0))]
    return results({"unp": {"entries": es}},
                   [find("process-control-ratio/prefork", ratio, unit="×"),
                    find("thread-vs-pool", "holds")], is_quiet,
                   micro={"BM_ForkExitWait/heap_mib:0/real_time": 150.0})


def q3_data(verdict="holds", first_free=(50, 30, 10, 5, 5)):
    es = [unp_entry("prefork-fdpass/first-free", list(first_free), cpu_us_per_conn=45.0),
          unp_entry("prefork-fdpass/least-loaded", [20, 20, 21, 19, 20], cpu_us_per_conn=45.0)]
    fs = [find(f"accept-vs-fdpass/{p}/least-loaded", verdict)
          for p in ("prefork", "prefork-fcntl", "prefork-mutex")]
    return results({"unp": {"entries": es}}, fs)


def q4_data(futex=2.4, fdpass_sendmsg=2.0, tracer="strace"):
    per = {"prefork": {"sendmsg": 1.0, "read": 2.0},
           "prefork-fcntl": {"fcntl": 2.0, "sendmsg": 1.0},
           "prefork-mutex": {"futex": futex, "sendmsg": 1.0},
           "prefork-fdpass": {"sendmsg": fdpass_sendmsg, "recvmsg": 1.0}}
    return [{"design": d, "per_connection": p, "tracer": tracer} for d, p in per.items()]


def q4_perf(futex=0.4):
    return [r for r in q4_data(futex, tracer="perf") if r["design"] in ("prefork", "prefork-mutex")]


def q5_data(exclusive=(400, 250, 150, 100, 60, 40)):
    slots = {"prefork": [100, 101, 99, 100, 100, 100], "prefork-epoll-exclusive": list(exclusive),
             "prefork-reuseport": [90, 110, 100, 105, 95, 100],
             "loop-per-thread": [167, 167, 166, 167, 167, 166]}
    return results({"unp": {"entries": [unp_entry(d, s, cpu_us_per_conn=30.0)
                                        for d, s in slots.items()]}})


def herd_find(design, verdict, interval):
    return find(f"herd/{design}", verdict, interval=list(interval), workers=[15, 120],
                unit="µs/conn per worker")


FLAT, WIDE, HERD = (-0.02, 0.03), (-0.05, 0.2), (0.2, 0.4)   # at 40 µs/conn, 15 to 120 workers


def q6_data(fcntl=("holds", (0.1, 0.18)), control=("holds", (0.6, 0.9)),
            prefork=(CANNOT, FLAT), is_quiet=True):
    fs = [herd_find("prefork-fcntl", *fcntl),
          herd_find("prefork-epoll-exclusive/no-exclusive", *control),
          herd_find("prefork", *prefork),
          herd_find("prefork-mutex", "does not hold", (-0.05, -0.01)),
          herd_find("prefork-epoll-exclusive", CANNOT, (-0.01, 0.02))]
    if not is_quiet:
        fs = [dict(f, verdict="not quiet") for f in fs]
    es = [dict(unp_entry(d, cpu_us_per_conn=40.0 + w / 10), workers=w)
          for d in ("prefork", "prefork-fcntl", "prefork-mutex", "prefork-epoll-exclusive",
                    "prefork-epoll-exclusive/no-exclusive") for w in (15, 120)]
    return results({"herd": {"entries": es}}, fs, is_quiet)


PERF = """ Performance counter stats for '{cmd}':

            {tx:,}      net:netif_rx
            {rx:,}      net:netif_receive_skb

       1.002 seconds time elapsed
"""


def q7_text(server_rx=9000, load_rx=2900, pinned=True):
    pin = (lambda cpu: f"taskset -c {cpu} ") if pinned else (lambda cpu: "")
    return (PERF.format(cmd=f"{pin(1)}build/bin/tcplab-load --port 9207", tx=3000, rx=load_rx) +
            PERF.format(cmd=f"{pin(0)}build/bin/tcplab-server epoll --port 9207", tx=10000,
                        rx=server_rx))


def q8_data(fork_bracket=(1000, 2000), epoll_bracket=(4000, 8000), fork_cps=2600.0,
            is_quiet=True):
    def lat(d, b):
        return {"variant": d, "design": d, "mode": "conn",
                "curve": [{"rate": 1000, "status": "ok", "summary": {"p99_us": {"median": 500}}}],
                "capacity": {"bracket": list(b), "censored": "below" if b[0] is None else None}}
    return results({"unp": {"entries": [unp_entry("fork", conn_per_s=fork_cps),
                                        unp_entry("epoll", conn_per_s=10000.0)]},
                    "latency": {"entries": [lat("fork", fork_bracket),
                                            lat("epoll", epoll_bracket)]}}, [], is_quiet)


def q9_data(epoll=5.0):
    sw = {"prefork": 100.0, "prethread-mutex": 98.0, "loop-per-thread": 99.0, "epoll": epoll}
    return results({"keepalive": {"params": {"requests_per_conn": 100},
                                  "entries": [unp_entry(d, ctxt_per_conn=v)
                                              for d, v in sw.items()]}})


def q10_text(conns=40000, failed=0, client=14134, server=0, overflowed=0):
    return ("overflow before: TcpExtTCPTimeWaitOverflow       3364313            0.0\n"
            f"overflow after: TcpExtTCPTimeWaitOverflow       {3364313 + overflowed}     0.0\n"
            f"window 3.275 s: {conns} requests, {conns} connections, {failed} failed, 0 abandoned"
            " at end\n/proc/sys/net/ipv4/tcp_tw_reuse:2\n"
            "/proc/sys/net/ipv4/tcp_tw_reuse_delay:1000\n"
            "/proc/sys/net/ipv4/ip_local_port_range:32768\t60999\n"
            f"client side (dport 9210): {client}\nserver side (sport 9210): {server}\n")


def q11_text(thread_status=134, fdpass_failed=0):
    return ("== prefork-fdpass\n0\n"
            f"window 0.1 s: 2000 requests, 2000 connections, {fdpass_failed} failed\n"
            "  failures and events: worker_died 1, worker_respawned 1\n"
            "server exit status 0\n== prethread-dispatch\n0\n"
            f"server exit status {thread_status}\n")


def q11_faults(thread_alive=False, thread_exit=-6, bystander=True):
    recs = [{"design": "prefork-fdpass", "mode": "crash-request", "server_alive": True,
             "new_client_ok": True, "bystander_ok": bystander, "exit": 0,
             "exit_text": "exit 0"},
            {"design": "prethread-dispatch", "mode": "crash-request",
             "server_alive": thread_alive, "new_client_ok": thread_alive, "exit": thread_exit,
             "exit_text": f"exit {thread_exit}"}]
    return results({"faults": {"scenarios": {"crashes": recs}}})


def q12_text(took=2.09, failed=8, dropped=8, event_took=0.03):
    def part(d, t, f, events):
        return (f"== {d} --workers 4 --io-timeout-ms 1000\nTime taken for tests:   {t} seconds\n"
                f"Complete requests:      2000\nFailed requests:        {f}\n"
                f"  failures and events: {events}\n")
    return (part("prethread-dispatch", took, failed, f"timeout {dropped}") +
            part("prefork-epoll-exclusive", event_took, 0, "none"))


def slowloris(up, seconds, first):
    return {"slowloris_available_fraction": up / seconds, "slowloris_available_s": up,
            "slowloris_seconds": seconds, "slowloris_first_unavailable_s": first}


def q12_slowhttp(prefork=0.33, epoll=1.0, blocking="prefork", event="epoll", back_at=None):
    """A slowhttp run: the blocking pool down from second 4 of 12 (up again from BACK_AT),
    available PREFORK of the time; the event loop EPOLL of it."""
    up = 4 + (12 - back_at if back_at else 0)
    return results({"slowhttp": {"designs": {
        blocking: dict(slowloris(up, 12, 4), slowloris_available_fraction=prefork),
        event: dict(slowloris(5, 5, None), slowloris_available_fraction=epoll)}}})


def q13_data(uring_calls=1.2):
    return [{"design": "epoll", "per_connection": {"accept4": 1.36, "read": 4.55, "close": 1.0,
                                                   "epoll_ctl": 1.0, "sendmsg": 1.0}},
            {"design": "uring", "per_connection": {"io_uring_enter": uring_calls}}]


class Questions(LabCase):
    def test_q1_split(self):
        self.assertVerdict(1, "supported", self.folder(q1_data()))
        # getrusage's split agreeing with /proc/stat's: the claim the question is about fails
        self.assertVerdict(1, "not supported", self.folder(q1_data(fork_user=20.0)))
        shared = q1_data(proc_user=None)
        for e in shared["workloads"]["unp"]["entries"]:
            for k in ("user", "system", "softirq"):
                e["summary"].pop(f"server_cpu_{k}_share")
        v = self.verdict(1, self.folder(shared))
        self.assertTrue(v.startswith("cannot tell") and "was shared" in v, v)

    def test_q2_process_control(self):
        self.assertVerdict(2, "supported", self.folder(q2_data()))
        self.assertVerdict(2, "not supported", self.folder(q2_data(ratio="does not hold")))
        self.assertVerdict(2, "not supported", self.folder(q2_data(fork_pc=60.0)))
        self.assertVerdict(2, "cannot tell", self.folder(q2_data(ratio=CANNOT)))
        self.assertVerdict(2, "cannot tell", self.folder(q2_data(fork_pc=60.0,
                                                                 is_quiet=False)))

    def test_q3_locks_from_findings(self):
        self.assertVerdict(3, "supported", self.folder(q3_data()))
        self.assertVerdict(3, "not supported", self.folder(q3_data("does not hold")))
        self.assertVerdict(3, "not supported", self.folder(q3_data(first_free=(20, 20, 20))))
        self.assertVerdict(3, "cannot tell", self.folder(q3_data(CANNOT)))
        self.assertVerdict(3, "cannot tell", self.folder(q3_data("not quiet")))

    def test_q4_syscalls_ask_what_differs(self):
        def run(strace=None, perf=None):
            files = {"q4_json": strace or q4_data()}
            if perf is not False:
                files["q4-perf_json"] = perf or q4_perf()
            return self.folder(**files)
        self.assertVerdict(4, "supported", run())
        self.assertVerdict(4, "supported", run(perf=False))
        # below zero by difference: the two runs met different contention, no verdict
        v = self.verdict(4, run(perf=q4_perf(futex=-1.95)))
        self.assertTrue(v.startswith("cannot tell") and "different contention" in v, v)
        # no futex call at all: a lock that never enters the kernel, even contended
        self.assertVerdict(4, "not supported", run(perf=q4_perf(futex=0.0)))
        self.assertVerdict(4, "not supported", run(strace=q4_data(futex=0.0), perf=False))
        # a sendmsg per connection is every design's answer, not the hand-off
        self.assertVerdict(4, "not supported", run(strace=q4_data(fdpass_sendmsg=1.0)))
        # fcntl's calls are the code's: two per connection, whatever the tracer
        bad = q4_data()
        bad[1]["per_connection"]["fcntl"] = 0.4
        self.assertVerdict(4, "not supported", run(strace=bad))
        suite = results({"syscalls": {"entries": [{"mode": "conn", "counts": c}
                                                  for c in q4_data(futex=0.4, tracer="perf")]}})
        self.assertVerdict(4, "supported", self.folder(suite))

    def test_q5_wakeups(self):
        self.assertVerdict(5, "supported", self.folder(q5_data()))
        self.assertVerdict(5, "not supported",
                           self.folder(q5_data(exclusive=(100, 100, 100, 100, 100, 100))))
        noisy = q5_data(exclusive=(100, 100, 100, 100, 100, 100))
        noisy["quiet"] = False
        self.assertVerdict(5, "cannot tell", self.folder(noisy))
        quick = q5_data(exclusive=(100, 100, 100, 100, 100, 100))
        quick["config"] = {"quick": True}
        self.assertVerdict(5, "cannot tell", self.folder(quick))

    def test_q6_herd_includes_fcntl_and_the_control(self):
        self.assertVerdict(6, "supported", self.folder(q6_data()))
        # prefork-fcntl flat, its interval ruling out a tenth: the design that grows is not
        # let off
        self.assertVerdict(6, "not supported", self.folder(q6_data(fcntl=(CANNOT, FLAT))))
        # prefork growing by more than a quarter of a connection: a herd where there is none
        self.assertVerdict(6, "not supported", self.folder(q6_data(prefork=("holds", HERD))))
        # the control does not grow: the sweep cannot show a herd, flatness proves nothing
        v = self.verdict(6, self.folder(q6_data(control=(CANNOT, WIDE))))
        self.assertTrue(v.startswith("cannot tell") and "positive control" in v, v)
        # an interval too wide to call prefork flat, or fcntl growing
        self.assertVerdict(6, "cannot tell", self.folder(q6_data(prefork=(CANNOT, WIDE))))
        self.assertVerdict(6, "cannot tell", self.folder(q6_data(fcntl=(CANNOT, WIDE))))
        # three repetitions: [min, max] at 75 %, no verdict whatever it shows
        few = q6_data(prefork=(CANNOT, HERD))
        for f in few["findings"]:
            f.update(n=3, coverage=0.75)
        v = self.verdict(6, self.folder(few))
        self.assertTrue(v.startswith("cannot tell") and "cannot carry" in v, v)
        v = self.verdict(6, self.folder(q6_data(is_quiet=False)))
        self.assertTrue(v.startswith("cannot tell") and "not quiet" in v, v)

    def test_q7_softirq_pinned_with_ksoftirqd_allowance(self):
        self.assertVerdict(7, "supported", self.folder(q7_txt=q7_text()))
        self.assertVerdict(7, "supported", self.folder(q7_txt=q7_text(pinned=False)))
        # receive work done where the receiving socket's owner runs: each equals the other's
        self.assertVerdict(7, "not supported",
                           self.folder(q7_txt=q7_text(server_rx=3000, load_rx=10000)))
        # most of it left to ksoftirqd: below half its own transmits
        self.assertVerdict(7, "not supported", self.folder(q7_txt=q7_text(server_rx=4000)))

    def test_q8_capacity_brackets(self):
        self.assertVerdict(8, "supported", self.folder(q8_data()))
        # fork's knee after epoll's
        self.assertVerdict(8, "not supported",
                           self.folder(q8_data(fork_bracket=(20000, 30000))))
        # a closed loop below what the open loop serves within 1 ms
        self.assertVerdict(8, "not supported", self.folder(q8_data(fork_cps=900.0)))
        # inside the bracket (the quick grid: 1,000 met, 30,000 missed): cannot tell
        v = self.verdict(8, self.folder(q8_data(fork_bracket=(1000, 30000),
                                                epoll_bracket=(4000, 30000))))
        self.assertTrue(v.startswith("cannot tell") and "too coarse" in v, v)
        # both below the grid (the data that passed as 0 <= 0): the brackets overlap
        v = self.verdict(8, self.folder(q8_data(fork_bracket=(None, 1000),
                                                epoll_bracket=(None, 1000))))
        self.assertTrue(v.startswith("cannot tell") and "overlap" in v, v)
        self.assertVerdict(8, "cannot tell", self.folder(q8_data(is_quiet=False)))
        quick = q8_data(fork_bracket=(1000, 30000), epoll_bracket=(None, 1000))
        quick["config"] = {"quick": True}
        v = self.verdict(8, self.folder(quick))
        self.assertTrue(v.startswith("cannot tell") and "--quick" in v, v)

    def test_q9_switches(self):
        self.assertVerdict(9, "supported", self.folder(q9_data()))
        self.assertVerdict(9, "not supported", self.folder(q9_data(epoll=80.0)))

    def test_q10_time_wait_can_be_wrong(self):
        self.assertVerdict(10, "supported", self.folder(q10_txt=q10_text()))
        # one TIME_WAIT socket per port: no reuse, or every port rather than connect()'s half
        self.assertVerdict(10, "not supported", self.folder(q10_txt=q10_text(client=28000)))
        # only the last second's connections
        self.assertVerdict(10, "not supported", self.folder(q10_txt=q10_text(client=3000)))
        self.assertVerdict(10, "not supported", self.folder(q10_txt=q10_text(failed=11768)))
        self.assertVerdict(10, "not supported", self.folder(q10_txt=q10_text(server=14000)))
        # the machine's TIME_WAIT table full during the run: short counts cannot tell
        v = self.verdict(10, self.folder(q10_txt=q10_text(client=300, overflowed=9000)))
        self.assertTrue(v.startswith("cannot tell") and "overflowed" in v, v)
        self.assertVerdict(10, "not supported",
                           self.folder(q10_txt=q10_text(server=14000, overflowed=9000)))
        # fewer connections than ports cannot show reuse: those claims stay unevaluated
        claims = lab.evaluate([self.folder(q10_txt=q10_text(conns=3000, client=3000))])[10]
        self.assertEqual([ok for _, ok in claims.items], [True, True, True, None, None])

    def test_q11_crash_from_text_or_faults(self):
        self.assertVerdict(11, "supported", self.folder(q11_txt=q11_text()))
        self.assertVerdict(11, "not supported", self.folder(q11_txt=q11_text(thread_status=0)))
        self.assertVerdict(11, "not supported", self.folder(q11_txt=q11_text(fdpass_failed=3)))
        self.assertVerdict(11, "supported", self.folder(q11_faults()))
        self.assertVerdict(11, "not supported",
                           self.folder(q11_faults(thread_alive=True, thread_exit=0)))
        # the crash took the connection beside it along: no isolation
        self.assertVerdict(11, "not supported", self.folder(q11_faults(bystander=False)))

    def test_q12_from_the_data(self):
        self.assertVerdict(12, "supported", self.folder(q12_txt=q12_text()))
        # nine rounds of the timeout for eight dropped connections (two rounds of four)
        self.assertVerdict(12, "not supported", self.folder(q12_txt=q12_text(took=9.1)))
        self.assertVerdict(12, "not supported", self.folder(q12_txt=q12_text(failed=0)))
        self.assertVerdict(12, "not supported", self.folder(q12_txt=q12_text(event_took=2.0)))
        self.assertVerdict(12, "supported", self.folder(q12_slowhttp()))
        self.assertVerdict(12, "not supported", self.folder(q12_slowhttp(prefork=1.0)))
        self.assertVerdict(12, "not supported", self.folder(q12_slowhttp(epoll=0.3)))
        # down, then up again: a pool that served its backlog out of order
        self.assertVerdict(12, "not supported", self.folder(q12_slowhttp(back_at=8)))
        # the default run's slice: the two designs of the ab command
        piece = dict(blocking="prethread-dispatch", event="prefork-epoll-exclusive")
        self.assertVerdict(12, "supported", self.folder(q12_slowhttp(**piece)))
        self.assertVerdict(12, "not supported", self.folder(q12_slowhttp(prefork=0.9,
                                                                         **piece)))
        self.assertVerdict(12, "not supported", self.folder(q12_slowhttp(epoll=0.5, **piece)))

    def test_q13_uring_only_when_it_ran(self):
        self.assertVerdict(13, "supported", self.folder(q13_json=q13_data()))
        self.assertVerdict(13, "not supported", self.folder(q13_json=q13_data(uring_calls=9.0)))
        self.assertVerdict(13, "no data", self.folder(q13_json=q13_data()[:1]))


def default_run(wrong=None):
    """A default run's results.json (README command 1): unp, keepalive, latency and micro
    whole, the lab's slices of syscalls (per connection, six designs), faults (a crashing
    handler on two) and slowhttp (slowloris on two). WRONG: {question: data} to put a wrong
    answer in place of the right one (4 holds 13's counts too)."""
    parts = {1: q1_data(), 2: q2_data(), 3: q3_data(), 5: q5_data(), 8: q8_data(),
             9: q9_data(), 11: q11_faults(),
             12: q12_slowhttp(blocking="prethread-dispatch", event="prefork-epoll-exclusive"),
             4: results({"syscalls": {"params": {"slice": "lab"}, "entries": [
                 {"mode": "conn", "counts": c}
                 for c in q4_data(futex=0.4, tracer="perf") + q13_data()]}})}
    parts.update(wrong or {})
    out = results({}, micro={"BM_ForkExitWait/heap_mib:0/real_time": 150.0})
    for part in parts.values():
        for name, w in part["workloads"].items():
            have = out["workloads"].setdefault(name, {k: v for k, v in w.items()
                                                      if k != "entries"})
            for e in w.get("entries", []):
                same = next((x for x in have.setdefault("entries", [])
                             if "variant" in e and x.get("variant") == e["variant"]), None)
                if same is None:
                    have["entries"].append(e)
                else:   # the same design in two questions' data: one entry with both
                    for k, v in e.items():
                        same[k] = dict(same.get(k) or {}, **v) if isinstance(v, dict) else v
        out["findings"] += part["findings"]
    return out


class DefaultRun(LabCase):
    """Issue 23: `bench/lab.py check` on a default run evaluates at least 10 questions."""

    def test_the_default_run_answers_all_but_the_herd_and_the_two_one_off_commands(self):
        checked = lab.evaluate([self.folder(default_run())])
        verdicts = {n: c.verdict() for n, c in checked.items()}
        self.assertEqual({n for n, v in verdicts.items() if v.startswith("no data")},
                         {6, 7, 10}, verdicts)
        self.assertEqual({n for n, v in verdicts.items() if v.startswith("supported")},
                         set(lab.QUESTIONS) - {6, 7, 10}, verdicts)

    def test_a_wrong_answer_in_a_slice_fails_its_question(self):
        for n, wrong in ((4, results({"syscalls": {"entries": [
                             {"mode": "conn", "counts": c}
                             for c in q4_data(fdpass_sendmsg=1.0, tracer="perf")]}})),
                         (11, q11_faults(thread_alive=True, thread_exit=0)),
                         (12, q12_slowhttp(prefork=1.0, blocking="prethread-dispatch",
                                           event="prefork-epoll-exclusive")),
                         (13, results({"syscalls": {"entries": [
                             {"mode": "conn", "counts": c}
                             for c in q4_data(tracer="perf") + q13_data(uring_calls=9.0)]}}))):
            with self.subTest(question=n):
                self.assertVerdict(n, "not supported",
                                   self.folder(default_run({4 if n == 13 else n: wrong})))


class Checker(LabCase):
    def test_several_folders_each_question_from_the_first_that_has_it(self):
        default = self.folder(q9_data())
        named = self.folder(q6_data(fcntl=(CANNOT, FLAT)))
        self.assertVerdict(9, "supported", default, named)
        self.assertVerdict(6, "not supported", default, named)
        self.assertVerdict(6, "no data", default)

    def test_a_finding_claim_maps_every_verdict(self):
        c = lab.Claims()
        self.assertIs(c.finding("x", find("a", "holds")), True)
        self.assertIs(c.finding("x", find("a", "does not hold")), False)
        self.assertIs(c.finding("x", find("a", "does not hold"), want="does not hold"), True)
        self.assertIsInstance(c.finding("x", find("a", CANNOT)), str)
        self.assertIsInstance(c.finding("x", find("a", "not quiet")), str)
        self.assertIsNone(c.finding("x", None))
        self.assertEqual(c.verdict(), "not supported")

    def test_every_question_has_a_test_here(self):
        tested = {int(name[6:].split("_")[0]) for name in dir(Questions)
                  if name.startswith("test_q")}
        self.assertEqual(tested, set(lab.QUESTIONS))


if __name__ == "__main__":
    unittest.main()
