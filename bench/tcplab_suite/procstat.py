"""Per-CPU accounting from /proc/stat: the unbiased user / system / softirq / irq / idle split
of the CPUs a server (or the load generator) is pinned to (issue 16, item 1).

What the counters count
-----------------------
Each timer tick (CONFIG_HZ a second; 250 on this machine's kernel) calls
account_process_tick() (kernel/sched/cputime.c) on the CPU it lands on, and that books the
whole tick, TICK_NSEC, to exactly one field of that CPU's kernel_cpustat:
- user (or nice, for a task with nice > 0): the tick interrupted user mode;
- system: kernel mode in task context (system calls, page faults, ksoftirqd's own code);
- softirq: the tick landed while a softirq was being served (in_serving_softirq()), in
  whatever task it runs on, ksoftirqd included (account_system_time() picks the index);
- irq: it landed inside another hard interrupt;
- idle or iowait: the idle task was running (iowait when a task on that runqueue waits for
  block I/O, account_idle_time());
- steal: time the hypervisor reports stolen (steal_account_process_time(), CONFIG_PARAVIRT)
  is taken off the tick first.
So the busy fields are samples of the whole CPU, one every 1/CONFIG_HZ s, whoever runs: they
carry no per-process bias. That is the difference from getrusage() and /proc/PID/stat, whose
user/system split cputime_adjust() scales from the same ticks *per task*: a task that got no
system tick has all of its runtime booked as user (a fork child that lives 150 µs), which is
why the per-process split is only a teaching contrast.

Three refinements, from the same sources:
- With CONFIG_IRQ_TIME_ACCOUNTING and sched_clock_irqtime on, irqtime_account_irq() measures
  hard and soft interrupt time with sched_clock and the tick books only the rest
  (irqtime_account_process_tick()). This kernel has it off: softirq and irq are tick samples.
- On a NO_HZ kernel an idle CPU stops its tick, and fs/proc/stat.c's get_idle_time() and
  get_iowait_time() print the idle time measured by the tick-sched code
  (get_cpu_idle_time_us()) instead: idle is measured, the busy fields are sampled.
- Guest time is already in user: account_guest_time() adds it to CPUTIME_USER (CPUTIME_NICE)
  as well as CPUTIME_GUEST (CPUTIME_GUEST_NICE), and show_stat() prints both as they are. So
  the guest columns are read but never added to the total.

Units: show_stat() in fs/proc/stat.c prints each cumulative nanosecond counter through
nsec_to_clock_t(), i.e. in USER_HZ units (sysconf(_SC_CLK_TCK), 100), truncated. The delta of
one field between two reads is therefore off by less than one USER_HZ tick.

What this does not fix: /proc/stat counts the whole CPU, so the split is the server's only if
nothing else ran on its CPUs during the window (the caller must check and say so otherwise);
and on loopback, loopback_xmit() -> netif_rx() queues each packet on the *sending* CPU, so
receive softirq is charged to the sender's CPU, not the receiver's.

Standard library only (Debian's /usr/bin/python3).
"""

import functools
import gzip
import math
import os
import re
import time

FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal", "guest",
          "guest_nice")
# The fields that partition a CPU's time: guest and guest_nice are already inside user/nice.
PARTITION = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")
SHARES = ("user", "system", "softirq", "irq", "idle", "steal")
ASSUMED_HZ = 100
Z95 = 1.96

_CPU_LINE = re.compile(r"cpu(\d+)\s")
_CONFIG_HZ = re.compile(r"^CONFIG_HZ=(\d+)\s*$", re.MULTILINE)


def user_hz():
    """The unit of /proc/stat: USER_HZ ticks a second, as sysconf(_SC_CLK_TCK) reports it."""
    return os.sysconf("SC_CLK_TCK")


def read_stat(path="/proc/stat"):
    """One read of the per-CPU lines of /proc/stat.

    Returns {"time": time.monotonic() just after the read, "user_hz": the unit,
    "cpus": {cpu number: {field: cumulative USER_HZ ticks for each of FIELDS}}}.
    Older kernels print fewer columns; the missing ones read 0.
    """
    with open(path) as f:
        text = f.read()
    now = time.monotonic()
    cpus = {}
    for number, line in enumerate(text.splitlines(), 1):
        m = _CPU_LINE.match(line)
        if not m:
            continue
        columns = line.split()[1:]
        try:
            values = [int(c) for c in columns]
        except ValueError:
            raise ValueError(f"{path}:{number}: not a line of tick counts: {line!r}") from None
        if not 4 <= len(values) <= len(FIELDS):
            raise ValueError(f"{path}:{number}: {len(values)} columns, expected 4 to "
                             f"{len(FIELDS)}: {line!r}")
        values += [0] * (len(FIELDS) - len(values))
        cpus[int(m.group(1))] = dict(zip(FIELDS, values))
    if not cpus:
        raise ValueError(f"{path}: no per-CPU lines (cpu0, cpu1, ...)")
    return {"time": now, "user_hz": user_hz(), "cpus": cpus}


def hz(paths=None):
    """CONFIG_HZ, the tick rate behind the samples, and where it came from: (250,
    "/proc/config.gz"). Looks in /proc/config.gz, then /boot/config-$(uname -r); if neither
    says, returns (100, "assumed 100: ...") and the caller should print that source."""
    if paths is None:
        paths = ("/proc/config.gz", f"/boot/config-{os.uname().release}")
    for path in paths:
        try:
            opener = gzip.open if path.endswith(".gz") else open
            with opener(path, "rt") as f:
                m = _CONFIG_HZ.search(f.read())
        except (OSError, EOFError, UnicodeDecodeError):
            continue
        if m and int(m.group(1)) > 0:
            return int(m.group(1)), path
    return ASSUMED_HZ, f"assumed {ASSUMED_HZ}: no CONFIG_HZ in {' or '.join(paths)}"


_read_hz = hz  # cpu_split's parameter `hz` hides the function


@functools.lru_cache(maxsize=1)
def _config_hz():
    return _read_hz()[0]


def error_pp(samples, ticks, ncpus=1):
    """A 95 % bound, in percentage points, on any share of `samples` tick samples.

    Sampling: a share p estimated from n samples has a binomial standard error
    sqrt(p(1-p)/n), largest at p = 1/2, so 1.96 * 0.5 / sqrt(n) bounds every share.
    Quantization: a share moves in steps of 1/n, and /proc/stat truncates each CPU's field to
    whole USER_HZ ticks, which moves a share by up to ncpus/ticks (ticks: the window in
    USER_HZ units over all ncpus); the larger of the two is added.
    The ticks are periodic, not random, so this holds for work that does not beat with the
    tick; short windows on an otherwise idle CPU are also measured, not sampled (NO_HZ idle),
    which makes the bound conservative there.
    """
    n = max(samples, 1)
    return 100.0 * (Z95 * 0.5 / math.sqrt(n) + max(1.0 / n, ncpus / max(ticks, 1)))


def _shares(d):
    """The six shares of a CPU-time delta (USER_HZ ticks by field), and its total."""
    total = sum(d[f] for f in PARTITION)
    return {"user": (d["user"] + d["nice"]) / total, "system": d["system"] / total,
            "softirq": d["softirq"] / total, "irq": d["irq"] / total,
            "idle": (d["idle"] + d["iowait"]) / total, "steal": d["steal"] / total}, total


def _delta(a, b, cpu):
    if cpu not in a["cpus"] or cpu not in b["cpus"]:
        have = sorted(set(a["cpus"]) & set(b["cpus"]))
        raise ValueError(f"cpu {cpu} is not in both reads of /proc/stat (present: {have})")
    d = {f: b["cpus"][cpu][f] - a["cpus"][cpu][f] for f in FIELDS}
    backwards = [f for f in FIELDS if d[f] < 0]
    if backwards:
        raise ValueError(f"cpu {cpu}: {', '.join(backwards)} went backwards between the reads "
                         "(CPU hot-unplugged, or the reads swapped)")
    if sum(d[f] for f in PARTITION) == 0:
        raise ValueError(f"cpu {cpu}: no ticks between the two reads of /proc/stat "
                         f"({b['time'] - a['time']:.3f} s apart): the window is too short")
    return d


def cpu_split(a, b, cpus, hz=None):
    """The CPU split of the CPUs in `cpus` between two `read_stat` results a (before) and b.

    Returns {"cpus": sorted list, "window_s": b.time - a.time, "ticks": the window in USER_HZ
    ticks summed over the CPUs, "user_hz", "samples": the same window in tick samples at
    CONFIG_HZ (the count behind the shares), "hz", "hz_source", "shares": {"user" (user+nice),
    "system", "softirq", "irq", "idle" (idle+iowait), "steal"} as fractions of all samples
    (summing to 1), "busy": 1 - idle, "error_pp": 95 % bound on any share in percentage
    points (see error_pp()), "per_cpu": {cpu: {the six shares, "busy", "samples",
    "error_pp"}}}. `hz` None reads CONFIG_HZ with hz(); a number given is used as is.
    """
    cpus = sorted(set(cpus))
    if not cpus:
        raise ValueError("cpu_split needs at least one CPU")
    if hz is None:
        rate, source = _read_hz()
    else:
        if isinstance(hz, bool) or not isinstance(hz, int) or hz <= 0:
            raise ValueError(f"hz must be a positive whole number of ticks a second, not {hz!r}")
        rate, source = hz, "given"
    unit = b.get("user_hz") or user_hz()
    per_cpu, total = {}, {f: 0 for f in FIELDS}
    for cpu in cpus:
        d = _delta(a, b, cpu)
        shares, ticks = _shares(d)
        samples = round(ticks * rate / unit)
        per_cpu[cpu] = dict(shares, busy=1.0 - shares["idle"], samples=samples,
                            error_pp=error_pp(samples, ticks))
        for f in FIELDS:
            total[f] += d[f]
    shares, ticks = _shares(total)
    samples = round(ticks * rate / unit)
    return {"cpus": cpus, "window_s": b["time"] - a["time"], "ticks": ticks, "user_hz": unit,
            "samples": samples, "hz": rate, "hz_source": source, "shares": shares,
            "busy": 1.0 - shares["idle"], "error_pp": error_pp(samples, ticks, len(cpus)),
            "per_cpu": per_cpu}


def saturated(split, threshold=0.95):
    """Whether the CPUs of a cpu_split were saturated: their busy share (over all of them
    together) at least `threshold`. For one CPU of several, pass split["per_cpu"][cpu]."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError(f"threshold must lie in (0, 1], not {threshold!r}")
    return split["busy"] >= threshold


def foreign_cpu(a, b, cpus, own_s):
    """The CPU time on `cpus` between two read_stat results that none of the measured
    processes used: the quiet-machine guard's figure (issue 20, item 3).

    busy_s is every field but idle and iowait (user, nice, system, softirq, irq, steal), in
    seconds of USER_HZ ticks. own_s is the CPU seconds of the processes measured there (the
    server's tree, or the load generator, each CPU's ksoftirqd, the suite itself), precise
    clocks or 10 ms ticks. softirq and irq are the packets' own work: on loopback much of the
    receive softirq runs in no process (it interrupts the idle task), and when it runs in a
    process it is already in that process's system time, so subtracting both makes foreign_s a
    lower bound on what other processes used. steal (a hypervisor's other guests) stays in it.

    Returns {"cpus", "window_s" (the CPUs' whole time, ticks / USER_HZ), "busy_s", "own_s",
    "softirq_s", "irq_s", "steal_s", "foreign_s" (may come out below zero by sampling),
    "share" (foreign_s / window_s), "error" (a 95 % bound on share from the tick sampling of
    busy_s and /proc/stat's truncation: error_pp / 100)}."""
    cpus = sorted(set(cpus))
    if not cpus:
        raise ValueError("foreign_cpu needs at least one CPU")
    total = {f: 0 for f in FIELDS}
    for cpu in cpus:
        d = _delta(a, b, cpu)
        for f in FIELDS:
            total[f] += d[f]
    unit = b.get("user_hz") or user_hz()
    ticks = sum(total[f] for f in PARTITION)
    rate = b.get("hz") or _config_hz()
    seconds = {f: total[f] / unit for f in FIELDS}
    window_s = ticks / unit
    busy_s = window_s - seconds["idle"] - seconds["iowait"]
    foreign_s = busy_s - own_s - seconds["softirq"] - seconds["irq"]
    return {"cpus": cpus, "window_s": window_s, "busy_s": busy_s, "own_s": own_s,
            "softirq_s": seconds["softirq"], "irq_s": seconds["irq"],
            "steal_s": seconds["steal"], "foreign_s": foreign_s,
            "share": foreign_s / window_s,
            "error": error_pp(round(ticks * rate / unit), ticks, len(cpus)) / 100.0}


def noisy(side, threshold):
    """Whether a foreign_cpu result is above `threshold` (a share of the CPUs' time) beyond
    its own sampling error: share - error > threshold."""
    return side["share"] - side["error"] > threshold


def loadavg(path="/proc/loadavg"):
    """/proc/loadavg: {"loadavg": [1, 5, 15 min], "running": runnable tasks now, "tasks"}."""
    with open(path) as f:
        fields = f.read().split()
    running, tasks = fields[3].split("/")
    return {"loadavg": [float(x) for x in fields[:3]], "running": int(running),
            "tasks": int(tasks)}
