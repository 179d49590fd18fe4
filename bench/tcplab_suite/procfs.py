"""The suite's one reader of /proc/PID and one parser of CPU lists: a process tree, who its
children are, what they hold and how much CPU they used.

Every function answers for processes that may be gone by the time it looks: a vanished
process counts as nothing, never as an error. (Debian's python3-psutil would do the same; it
is not needed for these few files.)
"""

import os
import time


def cpu_list(text):
    """'0', '0,2', '0-3' or '0-1,4' (taskset's and /sys's CPU lists) as a sorted list of CPU
    numbers; ValueError if malformed."""
    cpus = set()
    for part in text.split(","):
        lo, dash, hi = part.strip().partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ValueError(f"bad CPU list {text!r} (e.g. 0, 0,2 or 0-3)")
        cpus.update(range(int(lo), int(hi if dash else lo) + 1))
    if not cpus:
        raise ValueError(f"empty CPU list {text!r}")
    return sorted(cpus)


def cpu_model():
    """The first "model name" of /proc/cpuinfo, or None."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return None


def stat(pid, tid=None):
    """The fields of /proc/PID/stat (or /proc/PID/task/TID/stat) after the command name:
    [0] state, [1] ppid, [11:15] utime stime cutime cstime in clock ticks; None if gone."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    try:
        with open(path) as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return fields if len(fields) > 14 else None


def alive(pid):
    """Whether pid runs; a zombie (ended, not yet reaped) counts as gone."""
    fields = stat(pid)
    return fields is not None and fields[0] != "Z"


def _ticks(pid, first, last):
    fields = stat(pid)
    return sum(int(x) for x in fields[first:last]) if fields else 0


def children(pid):
    """The direct children of pid, from /proc/PID/task/*/children."""
    kids = set()
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                kids.update(int(k) for k in f.read().split())
    except OSError:
        pass
    return sorted(kids)


def tree(pid):
    """pid and all its descendants."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo += children(p)
    return out


def parent_of(pid):
    fields = stat(pid)
    return int(fields[1]) if fields else None


def tree_tasks(pid):
    """Every thread of pid and of its descendants: sorted [(tid, state, ns on CPU)] (the state
    from its stat, the time from its schedstat)."""
    tasks = []
    for p in tree(pid):
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue  # ended meanwhile
        for tid in tids:
            fields = stat(p, tid)
            try:
                with open(f"/proc/{p}/task/{tid}/schedstat") as f:
                    ran = int(f.read().split()[0])
            except (OSError, IndexError, ValueError):
                continue
            if fields:
                tasks.append((int(tid), fields[0], ran))
    return sorted(tasks)


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def tree_fds(pid):
    return sum(fd_count(p) for p in tree(pid))


def _status(pid, key):
    """The value of KEY in /proc/PID/status ("VmRSS", "SigCgt"…), or None."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return line.split()[1]
    except (OSError, IndexError):
        pass
    return None


def rss_kb(pid):
    return int(_status(pid, "VmRSS") or 0)


def catches(pid, signum):
    """Whether pid has a handler installed for SIGNUM (SigCgt): a server that does will stop
    on it cleanly, one that does not yet (still starting) would die by its default action."""
    caught = _status(pid, "SigCgt")
    return caught is not None and bool(int(caught, 16) >> (signum - 1) & 1)


def tree_rss_kb(pid):
    return sum(rss_kb(p) for p in tree(pid))


def tree_times(pid):
    """CPU of a process tree at the tick, in seconds: (user, system), each with the reaped
    children's (utime + cutime, stime + cstime)."""
    tick = os.sysconf("SC_CLK_TCK")
    user = system = 0
    for p in tree(pid):
        fields = stat(p)
        if fields:
            user += int(fields[11]) + int(fields[13])
            system += int(fields[12]) + int(fields[14])
    return user / tick, system / tick


def pids_named(names):
    """The pids whose comm is one of `names` (kernel threads like ksoftirqd/0 included)."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as f:
                    if f.read().strip() in names:
                        out.append(int(entry))
            except OSError:
                pass
    return out


def cpu_s(pids):
    """utime + stime of these processes (without their children), in seconds."""
    return sum(_ticks(p, 11, 13) for p in pids) / os.sysconf("SC_CLK_TCK")


def settled_fds(pid, limit_s=3.0):
    """The tree's descriptor count once it has not changed for 100 ms (or after limit_s)."""
    deadline = time.monotonic() + limit_s
    last = tree_fds(pid)
    while time.monotonic() < deadline:
        time.sleep(0.1)
        now = tree_fds(pid)
        if now == last:
            return now
        last = now
    return last
