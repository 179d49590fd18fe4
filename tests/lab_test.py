#!/usr/bin/python3
"""bench/LAB.md's commands, each run in its quick form, and bench/lab.py check on their output.

    tests/lab_test.py BIN_DIR

Every question's one command is read from LAB.md (the ```sh block under its "## N." heading)
and run with bash from the source tree, changed only where QUICK says: smaller sizes (the
printed `--repeat 3` or `--repeat 5` becomes `--quick`; fewer connections, requests and bytes;
a 1 s idle timeout for the 10 s one), and, for every command, BIN_DIR for build/bin (and
`--bin BIN_DIR` for the suite), a temporary folder for results/lab, and a free port outside
the ephemeral range for the printed one. Each substitution must find its text, so the
commands and this test cannot drift apart. Each command must exit 0 and print (or write) what
its question asks about; then bench/lab.py check must evaluate every question that ran, find
the deterministic ones (11, 12) supported, and say "not supported" for a run whose figures
contradict question 1. LAB.md's prose keeps to 100 columns. Questions whose tool (strace, ab,
nc, perf) or design (question 13's uring) is missing are skipped and named; if none could run
the test exits 77 (skipped). tests/python/test_lab.py checks each question's claims on right
and wrong data.
"""

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LAB = os.path.join(ROOT, "bench", "LAB.md")
LABPY = os.path.join(ROOT, "bench", "lab.py")
SUITE_REPEAT = ("--repeat 3", "--quick")
PAIRED_REPEAT = ("--repeat 5", "--quick")   # the questions answered by paired findings

# Per question: the substitutions of its quick form, and the tools it needs beyond bash.
QUICK = {
    1: [SUITE_REPEAT],
    2: [PAIRED_REPEAT],
    3: [PAIRED_REPEAT],
    4: [("--tracer strace", "--tracer strace --connections 100,300"),
        ("--tracer perf", "--tracer perf --connections 100,300")],
    5: [SUITE_REPEAT],
    6: [PAIRED_REPEAT],
    7: [("--requests-per-conn 100", "--requests-per-conn 10")],
    8: [SUITE_REPEAT],
    9: [SUITE_REPEAT],
    10: [("--connections 40000", "--connections 3000")],
    11: [("--connections 2000", "--connections 200")],
    12: [("-n 20000", "-n 2000"), ("--io-timeout-ms 10000", "--io-timeout-ms 1000")],
    13: [("--tracer strace", "--tracer strace --connections 100,300")],
}
TOOLS = {4: ["strace", "perf"], 7: ["perf", "taskset"], 10: ["ss"], 11: ["nc"], 12: ["ab"],
         13: ["strace"]}
# Questions that need designs this build or kernel may not have (tcplab-server --list).
DESIGNS = {13: ["uring"]}
# What each command must print (stdout and stderr) or write under the results folder.
PRINTS = {
    1: ("q1/summary.md", ["getrusage user %", "| fork |", "| iterative |"]),
    2: ("q2/summary.md", ["process control", "| thread |", "BM_ForkExitWait"]),
    3: ("q3/summary.md", ["prefork-fdpass/first-free", "Connections per worker"]),
    4: (None, ["fcntl", "prefork-fcntl", "strace"]),
    5: ("q5/summary.md", ["Connections per worker", "prefork-epoll-exclusive"]),
    6: ("q6/summary.md", ["prefork-fcntl", "prefork-mutex", "no-exclusive", "workers"]),
    7: ("q7.txt", ["net:netif_receive_skb", "tcplab-server epoll", "tcplab-load --port"]),
    8: ("q8/summary.md", ["fork", "epoll", "capacity"]),
    9: ("q9/summary.md", ["keepalive", "loop-per-thread"]),
    10: ("q10.txt", ["client side", "server side", "tcp_tw_reuse", "failed"]),
    11: ("q11.txt", ["== prefork-fdpass", "worker_respawned", "server exit status"]),
    12: ("q12.txt", ["Time taken for tests", "Complete requests", "== prefork-epoll-exclusive"]),
    13: (None, ["uring", "epoll"]),
}
TIMEOUT_S = 180


def fail(msg):
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def lab_commands():
    """{N: command} from LAB.md: the one ```sh block under each '## N.' heading."""
    text = open(LAB).read()
    out = {}
    for m in re.finditer(r"^## (\d+)\. [^\n]*\n(.*?)(?=^## |\Z)", text, re.M | re.S):
        blocks = re.findall(r"```sh\n(.*?)```", m.group(2), re.S)
        if len(blocks) != 1 or len(blocks[0].strip().splitlines()) != 1:
            fail(f"LAB.md question {m.group(1)}: want exactly one one-line ```sh command")
        out[int(m.group(1))] = blocks[0].strip()
    return out


def free_port():
    """A port below the ephemeral range that nothing holds, TIME_WAIT included: bind() without
    SO_REUSEADDR fails while any socket has it, so no TIME_WAIT socket of an earlier load can
    already have it as its local port (question 10 counts those)."""
    for _ in range(200):
        port = random.randint(20000, 32000)
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", port))
            return port
        except OSError:
            continue
        finally:
            s.close()
    fail("no free port in 20000-32000")


def perf_may_trace():
    """perf stat of a tracepoint: root, or kernel.perf_event_paranoid -1."""
    if os.geteuid() == 0:
        return True
    try:
        return int(open("/proc/sys/kernel/perf_event_paranoid").read()) <= -1
    except (OSError, ValueError):
        return False


def runnable_designs(bin_dir):
    """The designs `tcplab-server --list` names and does not mark unavailable here."""
    p = subprocess.run([os.path.join(bin_dir, "tcplab-server"), "--list"], capture_output=True,
                       text=True, timeout=30)
    return {line.split()[0] for line in p.stdout.splitlines()
            if line.strip() and "unavailable" not in line}


def quick_form(n, cmd, bin_dir, out_dir):
    for old, new in QUICK[n]:
        if old not in cmd:
            fail(f"question {n}: the quick form replaces {old!r}, not in: {cmd}")
        cmd = cmd.replace(old, new)
    ports = set(re.findall(r"\b(92\d\d)\b", cmd))
    if len(ports) > 1:
        fail(f"question {n}: more than one port in {cmd}")
    for p in ports:
        cmd = re.sub(rf"\b{p}\b", str(free_port()), cmd)
    if "bench/suite.py" in cmd:
        cmd = cmd.replace("bench/suite.py", f"bench/suite.py --bin {bin_dir}", 1)
    cmd = cmd.replace("--bin build/bin", f"--bin {bin_dir}")
    cmd = re.sub(r"(?<![\w/])build/bin/", bin_dir.rstrip("/") + "/", cmd)
    return cmd.replace("results/lab", out_dir)


def run(n, cmd):
    """Run cmd in a session of its own; whatever it leaves behind (a server whose kill it never
    reached) is killed with that session before the verdict."""
    t0 = time.monotonic()
    p = subprocess.Popen(["bash", "-c", cmd], cwd=ROOT, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        out, err = p.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        out, err = None, None
    finally:
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    if out is None:
        p.communicate()
        fail(f"question {n}: still running after {TIMEOUT_S} s: {cmd}")
    took = time.monotonic() - t0
    if p.returncode != 0:
        fail(f"question {n}: exit {p.returncode}: {cmd}\n--- stdout\n{out[-3000:]}\n"
             f"--- stderr\n{err[-3000:]}")
    return out + err, took


def check(out_dir):
    p = subprocess.run(["/usr/bin/python3", LABPY, "check", out_dir], capture_output=True,
                       text=True, timeout=60)
    verdicts = dict(re.findall(r"^Q(\d+): (.*)$", p.stdout, re.M))
    return p.returncode, {int(k): v for k, v in verdicts.items()}, p.stdout + p.stderr


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    bin_dir = os.path.abspath(sys.argv[1])
    commands = lab_commands()
    if not 8 <= len(commands) <= 13 or sorted(commands) != list(range(1, len(commands) + 1)):
        fail(f"LAB.md has questions {sorted(commands)}; want 8 to 13, numbered from 1")
    long_lines = [k + 1 for k, line in enumerate(open(LAB).read().splitlines())
                  if len(line) > 100 and not line.startswith(("|", "mkdir", "/usr/bin"))]
    if long_lines:
        fail(f"LAB.md: lines over 100 columns (not a table row or a command): {long_lines}")
    designs = runnable_designs(bin_dir)
    if sorted(commands) != sorted(QUICK):
        fail(f"LAB.md's questions {sorted(commands)} and this test's {sorted(QUICK)} differ")
    out_dir = tempfile.mkdtemp(prefix="tcplab-lab-")
    ran, skipped = [], []
    try:
        for n, cmd in sorted(commands.items()):
            missing = [t for t in TOOLS.get(n, []) if not shutil.which(t)]
            if "perf" in TOOLS.get(n, []) and not perf_may_trace():
                missing.append("right to perf's tracepoints (root)")
            missing += [f"design {d} here" for d in DESIGNS.get(n, []) if d not in designs]
            if missing:
                skipped.append(f"{n} (no {', '.join(missing)})")
                continue
            output, took = run(n, quick_form(n, cmd, bin_dir, out_dir))
            rel, needles = PRINTS[n]
            text = output
            if rel:
                path = os.path.join(out_dir, rel)
                if not os.path.exists(path):
                    fail(f"question {n}: wrote no {rel}\n{output[-2000:]}")
                text += open(path, errors="replace").read()
            for needle in needles:
                if needle not in text:
                    fail(f"question {n}: {needle!r} is not in what it printed or wrote\n"
                         f"{text[-3000:]}")
            ran.append(n)
            print(f"question {n}: ok in {took:.1f} s", flush=True)
        if not ran:
            print(f"skipped: every question needs a missing tool: {skipped}")
            return 77

        rc, verdicts, text = check(out_dir)
        print(text)
        refused = [n for n, v in verdicts.items() if v.startswith("not supported")]
        if refused:   # the figures behind a refusal, to tell a noisy run from a wrong claim
            key = subprocess.run(["/usr/bin/python3", LABPY, "key", out_dir],
                                 capture_output=True, text=True, timeout=60).stdout
            for n in refused:
                m = re.search(rf"^Q{n}\. .*?(?=^Q\d+\. |\Z)", key, re.M | re.S)
                print(m.group(0) if m else f"Q{n}: no key")
        if rc != 0:
            fail(f"lab.py check exit {rc}")
        for n in ran:
            v = verdicts.get(n, "no data in this run")
            if v.startswith("no data"):
                fail(f"lab.py check found no data for question {n}, which ran: {v}")
        for n in (11, 12):
            if n in ran and not verdicts[n].startswith("supported"):
                fail(f"question {n} is deterministic, yet: {verdicts[n]}")

        # A run that contradicts question 1 (getrusage's split made to match /proc/stat's)
        # is not supported; a folder with nothing of the lab's is an error.
        if 1 in ran:
            bad = tempfile.mkdtemp(dir=out_dir)
            with open(os.path.join(out_dir, "q1", "results.json")) as f:
                r = json.load(f)
            for e in r["workloads"]["unp"]["entries"]:
                if e["design"] == "fork":   # both splits: 10 % user, 90 % system
                    sm = e["summary"]
                    sm["cpu_user_us_per_conn"]["median"] = 0.1 * sm["cpu_us_per_conn"]["median"]
                    for k, v in (("user", 0.1), ("system", 0.9), ("softirq", 0.0)):
                        sm[f"server_cpu_{k}_share"] = {"median": v}
            with open(os.path.join(bad, "results.json"), "w") as f:
                json.dump(r, f)
            _, v, text = check(bad)
            if not v.get(1, "").startswith("not supported") or "fails: fork: getrusage" not in text:
                fail(f"a contradicting run is not refused:\n{text}")
        empty = tempfile.mkdtemp(dir=out_dir)
        rc, _, text = check(empty)
        if rc != 1 or "0 of" not in text:
            fail(f"an empty folder: exit {rc}, want 1\n{text}")
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    if skipped:
        print(f"skipped questions: {', '.join(skipped)}")
    print(f"ok: questions {ran} ran in their quick form and lab.py check evaluated them")
    return 0


if __name__ == "__main__":
    sys.exit(main())
