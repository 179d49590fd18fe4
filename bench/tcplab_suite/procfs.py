"""One /proc walker for a process tree: who its children are, and what they hold.

Every function answers for processes that may be gone by the time it looks: a vanished
process counts as nothing, never as an error.
"""

import os
import time


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
    try:
        with open(f"/proc/{pid}/stat") as f:
            return int(f.read().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return None


def fd_count(pid):
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def tree_fds(pid):
    return sum(fd_count(p) for p in tree(pid))


def rss_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree_rss_kb(pid):
    return sum(rss_kb(p) for p in tree(pid))


def tree_cpu_s(pid):
    """CPU of a process tree at the tick: utime + stime + reaped children's, in seconds."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += sum(int(x) for x in fields[11:15])  # utime stime cutime cstime
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


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
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for p in pids:
        try:
            with open(f"/proc/{p}/stat") as f:
                total += sum(int(x) for x in f.read().rsplit(")", 1)[1].split()[11:13])
        except (OSError, IndexError, ValueError):
            pass
    return total / tick


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
