"""The design table, as `tcplab-server --list --json` publishes it, and every set of designs a
workload runs, derived from the table's flags (no design is named here).

Each design is a dict: name, summary, unp (the UNP section, null beyond chapter 30), workers
("processes", "threads" or "none"), pooled, event_loop, accepts ("main" or "workers"),
accept_lock ("fcntl", "mutex" or null), dispatch_policies (list), reuseport, io_uring, and
available with its unavailable_reason (null when available): whether the design can run on this
machine (an io_uring design cannot where io_uring is disabled or blocked).
"""

import json
import subprocess

SCHEMA = "tcplab-designs/1"


def load(server_bin):
    """The table from the server itself; ValueError with the reason if it cannot be read."""
    try:
        out = subprocess.run([server_bin, "--list", "--json"], capture_output=True, text=True,
                             timeout=10, check=True).stdout
        table = json.loads(out)
    except (OSError, subprocess.SubprocessError, ValueError) as e:
        raise ValueError(f"{server_bin} --list --json: {e}") from None
    if table.get("schema") != SCHEMA:
        raise ValueError(f"{server_bin} --list --json: schema {table.get('schema')!r}, "
                         f"expected {SCHEMA!r}")
    for d in table["designs"]:
        d["description"] = d["summary"]  # results.json's older name for it
    return table["designs"]


def split_available(designs):
    """(the designs that can run here, {name: why not} for the others). A table from before the
    `available` key has every design available."""
    runnable = [d for d in designs if d.get("available", True)]
    skipped = {d["name"]: d.get("unavailable_reason") or "unavailable"
               for d in designs if not d.get("available", True)}
    return runnable, skipped


def variants(designs):
    """(design, dispatch) for every variant measured: one per dispatch policy where a design
    has them, else (design, None)."""
    out = []
    for d in designs:
        out += [(d["name"], p) for p in d["dispatch_policies"]] or [(d["name"], None)]
    return out


def variant_name(design, dispatch):
    return f"{design}/{dispatch}" if dispatch else design


def first_variant(d):
    """The variant that stands for a design in a one-line comparison (its first policy)."""
    return variant_name(d["name"], (d["dispatch_policies"] or [None])[0])


def names(designs):
    return [d["name"] for d in designs]


def subset(designs, wanted):
    """The rows of DESIGNS named in WANTED, in the table's order (None: all of them): a plan's
    own choice of designs, within what --only and this machine left."""
    return list(designs) if wanted is None else [d for d in designs if d["name"] in wanted]


def baseline(designs):
    """The design the others are measured against: one process, no workers, no event loop
    (Stevens' iterative server); None if --only left it out."""
    return next((d for d in designs if d["workers"] == "none" and not d["event_loop"]), None)


def chapter30(designs):
    """Stevens' nine designs of UNP ch. 30."""
    return [d for d in designs if d["unp"]]


def herd(designs):
    """Chapter-30 pools whose workers call accept() themselves: where a herd can form."""
    return [d for d in chapter30(designs) if d["pooled"] and d["accepts"] == "workers"]


def shared_listener_loops(designs):
    """Event-loop pools whose workers all wait on the one listener (EPOLLEXCLUSIVE, not
    SO_REUSEPORT): the herd workload sweeps them beside the chapter-30 pools, and with
    --no-exclusive, where every waiter wakes for each connection, as its positive control."""
    return [d for d in event_loops(designs) if d["pooled"] and d["accepts"] == "workers"
            and not d["reuseport"]]


def processes(designs):
    """Chapter-30 designs whose workers are processes: kill -9 of one has a meaning."""
    return [d for d in chapter30(designs) if d["workers"] == "processes"]


def dispatchers(designs):
    """Chapter-30 pools whose main process or thread accepts and hands connections out."""
    return [d for d in chapter30(designs) if d["pooled"] and d["accepts"] == "main"]


def classic(designs):
    """The chapter-30 pools without an accept lock: the fastest classic shapes."""
    return [d for d in chapter30(designs) if d["pooled"] and d["accept_lock"] is None]


def event_loops(designs):
    return [d for d in designs if d["event_loop"]]


def io_uring(designs):
    """The designs built on io_uring."""
    return [d for d in designs if d.get("io_uring")]


def thread_per_connection(designs):
    return [d for d in designs if d["workers"] == "threads" and not d["pooled"]]


def pooled_event_loops(designs):
    """Event loops with several workers: one of them can stall while the others serve."""
    return [d for d in event_loops(designs) if d["pooled"]]
