#!/usr/bin/python3
"""The diagrams of REPORT.md, written as plain SVG text (no plotting library, no other tool).

    plots/diagrams.py [--bin DIR] [--out DIR]

writes into DIR (default plots/report/):

  design-NAME.svg      one per design of `tcplab-server --list --json`: its processes and threads,
                       the listening and connected sockets, the lock, queue or socketpair between
                       them, and where to read it in paradigms/ and common/, down to the function
  diagram-legend.svg   what the shapes of the design diagrams mean
  fdpass-sequence.svg  prefork-fdpass handing one connection to a child, call by call
  wait-queues.svg      whom the kernel wakes for a new connection: processes in accept(), epoll
                       without and with EPOLLEXCLUSIVE, SO_REUSEPORT

A design's picture is chosen from its flags in the design table (who serves, who accepts, the
lock, an event loop, reuseport), as bench/tcplab_suite/designs.py derives the workloads' sets:
no design is named here, and a design whose flags fit no picture is an error. Every pointer
into the sources is checked (the file exists and names the function), so a renamed function
fails here rather than in a reader's hands. The output depends only on the table and this file:
a second run writes the same bytes (tests/diagrams_test.py compares it with the committed files).
"""

import argparse
import os
import sys
from xml.sax.saxutils import escape

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))
from tcplab_suite import designs as design_table  # noqa: E402

# --- drawing -----------------------------------------------------------------------------------

SANS = "'DejaVu Sans',Verdana,Arial,sans-serif"
MONO = "'DejaVu Sans Mono',Menlo,Consolas,monospace"
STYLE = f"""
text{{font-family:{SANS};font-size:11px;fill:#222}}
.code{{font-family:{MONO};font-size:9.5px}}
.small{{font-size:9px;fill:#444}}
.tiny{{font-size:8px;fill:#333}}
.title{{font-size:13px;font-weight:bold}}
.sub{{font-size:10px;fill:#666}}
.bold{{font-weight:bold}}
.cap{{font-family:{MONO};font-size:9px;fill:#555}}
.bg{{fill:#fff}}
.proc{{fill:#e8f0fb;stroke:#3b6db3;stroke-width:1.5}}
.outer{{fill:#f6f9fe;stroke:#3b6db3;stroke-width:1.5}}
.thread{{fill:#fff7e6;stroke:#c98a1b;stroke-width:1.2;stroke-dasharray:4 2}}
.sock{{fill:#f3e8fa;stroke:#7a3e9d;stroke-width:1.3}}
.group{{fill:none;stroke:#7a3e9d;stroke-width:1;stroke-dasharray:3 2}}
.slot{{fill:#fff;stroke:#7a3e9d;stroke-width:0.8}}
.full{{fill:#7a3e9d;stroke:#7a3e9d;stroke-width:0.8}}
.conn{{fill:#dff3e6;stroke:#2e8b57;stroke-width:1.2}}
.lock{{fill:#fbe3e3;stroke:#b03a3a;stroke-width:1.3}}
.nolock{{fill:#fff;stroke:#999;stroke-width:1;stroke-dasharray:3 3}}
.chan{{fill:#e0f2f1;stroke:#00796b;stroke-width:1.2}}
.frame{{fill:#fcfcfc;stroke:#bbb;stroke-width:1}}
.note{{fill:#fffbe6;stroke:#d8c96a;stroke-width:0.8}}
.asleep{{fill:#f2f2f2;stroke:#999;stroke-width:1}}
.woken{{fill:#dff3e6;stroke:#2e8b57;stroke-width:2}}
.busy{{fill:#e8f0fb;stroke:#3b6db3;stroke-width:1}}
.wire{{stroke:#333;stroke-width:1.2;fill:none}}
.teal{{stroke:#00796b;stroke-width:1.2;fill:none}}
.green{{stroke:#2e8b57;stroke-width:1.8;fill:none}}
.thin{{stroke:#777;stroke-width:0.8;fill:none}}
.dash{{stroke-dasharray:4 3}}
.life{{stroke:#999;stroke-width:1;stroke-dasharray:5 4;fill:none}}
"""
# Arrow heads, one per stroke colour; a line names one with marker-end="url(#ID)".
MARKERS = {"k": "#333", "t": "#00796b", "g": "#2e8b57", "m": "#777"}


def num(v):
    """A coordinate as the shortest exact text: 12, 12.5 (the output must not vary by float)."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


# The size and family of each text class (as STYLE sets them), to estimate widths by.
FONTS = {"small": (9, False), "tiny": (8, False), "cap": (9, True), "code": (9.5, True), "title": (13, False),
         "sub": (10, False)}


def font_of(cls):
    """(size, mono) of a text of class `cls` ("small bold" is small's)."""
    return FONTS.get((cls or "").split(" ")[0], (11, False))


def text_width(s, size, mono=False):
    """A generous estimate of the width of `s` in DejaVu at `size` px (the widest likely font)."""
    return len(s) * size * (0.61 if mono else 0.6)


def wrap(s, width, size, mono=False):
    """`s` broken at spaces into lines no wider than `width` px (by text_width)."""
    lines, line = [], ""
    for word in s.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate, size, mono) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line] if line else lines


def attribute(v):
    return num(v) if isinstance(v, (int, float)) else escape(str(v), {'"': "&quot;"})


class Svg:
    """An SVG document built element by element, in a fixed order: same calls, same bytes."""

    def __init__(self, width, height, title):
        self.width, self.height, self.title = width, height, title
        self.parts = []

    def add(self, tag, body=None, **attrs):
        """<tag k="v" ...>body</tag>; class_ is class, text_anchor is text-anchor."""
        a = "".join(f' {k.rstrip("_").replace("_", "-")}="{attribute(v)}"' for k, v in attrs.items())
        self.parts.append(f"<{tag}{a}/>" if body is None else f"<{tag}{a}>{escape(body)}</{tag}>")

    def rect(self, x, y, w, h, cls, rx=4):
        self.add("rect", x=x, y=y, width=w, height=h, rx=rx, class_=cls)

    def circle(self, cx, cy, r, cls):
        self.add("circle", cx=cx, cy=cy, r=r, class_=cls)

    def text(self, x, y, s, cls=None, anchor="start"):
        attrs = {"x": x, "y": y}
        if cls:
            attrs["class_"] = cls
        if anchor != "start":
            attrs["text_anchor"] = anchor
        self.add("text", s, **attrs)

    def lines(self, x, y, rows, cls=None, anchor="start", step=12):
        for i, s in enumerate(rows):
            self.text(x, y + i * step, s, cls, anchor)

    def line(self, x1, y1, x2, y2, cls="wire", head="k", tail=None):
        attrs = {"x1": x1, "y1": y1, "x2": x2, "y2": y2, "class_": cls}
        if head:
            attrs["marker_end"] = f"url(#{head})"
        if tail:
            attrs["marker_start"] = f"url(#{tail}s)"
        self.add("line", **attrs)

    def render(self):
        markers = "".join(
            f'<marker id="{k}{s}" viewBox="0 0 10 10" refX="{rx}" refY="5" markerWidth="7" '
            f'markerHeight="7" orient="auto"><path d="{d}" fill="{c}"/></marker>'
            for k, c in MARKERS.items()
            for s, rx, d in (("", 9, "M0,0 L10,5 L0,10 z"), ("s", 1, "M10,0 L0,5 L10,10 z")))
        head = (f'<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" '
                f'width="{num(self.width)}" '
                f'height="{num(self.height)}" viewBox="0 0 {num(self.width)} {num(self.height)}">')
        return "\n".join([head, f"<title>{escape(self.title)}</title>",
                          f"<style>{STYLE}</style>", f"<defs>{markers}</defs>",
                          f'<rect class="bg" x="0" y="0" width="{num(self.width)}" '
                          f'height="{num(self.height)}"/>', *self.parts, "</svg>", ""])


# --- pointers into the sources -----------------------------------------------------------------

def checked(pointers):
    """[(path, [function, ...])] as given, once each path exists under the root and names each
    function (its last `::` part followed by "("); ValueError otherwise."""
    for path, functions in pointers:
        full = os.path.join(ROOT, path)
        if not os.path.isfile(full):
            raise ValueError(f"{path}: no such file (a diagram points to it)")
        with open(full, encoding="utf-8") as f:
            source = f.read()
        for fn in functions:
            if fn.split("::")[-1] + "(" not in source:
                raise ValueError(f"{path} has no function {fn} (a diagram points to it)")
    return pointers


def caption(svg, y, pointers, width):
    """The pointers as code lines from y; a long list of functions goes on indented. Returns
    the y below the last line."""
    for path, functions in pointers:
        words = f"{path}: {', '.join(functions)}".split(" ")
        line = ""
        for word in words:
            candidate = f"{line} {word}" if line else word
            if line and text_width(candidate, 9, mono=True) > width:
                svg.text(10, y, line, "cap")
                y += 11
                line = "    " + word
            else:
                line = candidate
        svg.text(10, y, line, "cap")
        y += 11
    return y


# --- the design diagrams -----------------------------------------------------------------------

W = 400
LX, LY, LW, LH = 40, 70, 84, 70          # the listening socket
MX, MW = 146, 96                          # the middle column: lock, parent, main thread, queue
WX, WW, WH = 270, 122, 42                 # the workers' column
SLOTS = (40, 92, 152)                     # the workers' tops: 0, 1 and N-1
MID = LY + LH / 2                         # the listener's middle, where connections leave it
BODY_END = 204


def listener(svg, x=LX, y=LY, w=LW, h=LH, label=("listening", "socket")):
    svg.rect(x, y, w, h, "sock")
    svg.lines(x + w / 2, y + 15, list(label), anchor="middle", step=13)
    svg.text(x + w / 2, y + h - 24, "accept queue", "small", "middle")
    for i in range(5):
        svg.rect(x + w / 2 - 32 + i * 13, y + h - 18, 10, 10, "full" if i < 2 else "slot", rx=1)


def clients_arrow(svg, y=MID):
    svg.text(4, y - 6, "clients", "small")
    svg.line(4, y, LX, y)


def worker_names(d, per_connection=False):
    kind = "child" if d["workers"] == "processes" else "thread"
    if per_connection:
        return [f"{kind} {i}" for i in ("1", "2", "k")]
    return [f"{kind} {i}" for i in ("0", "1", "N-1")]


def workers(svg, d, per_connection=False, note=None):
    """The workers' column: three boxes and the dots between the second and the last. Each has
    a connected socket, or (event loops) an epoll and the connections it watches."""
    cls = "proc" if d["workers"] == "processes" else "thread"
    for top, name in zip(SLOTS, worker_names(d, per_connection)):
        svg.rect(WX, top, WW, WH, cls)
        svg.text(WX + 8, top + 16, name, "bold")
        if d["event_loop"]:
            svg.rect(WX + 8, top + 23, 38, 14, "chan", rx=3)
            svg.text(WX + 27, top + 33.5, "epoll", "small", "middle")
            for i in range(3):
                cx = WX + 64 + i * 20
                svg.line(WX + 46, top + 30, cx - 6, top + 30, "thin", head=None)
                svg.circle(cx, top + 30, 6, "conn")
        else:
            svg.circle(WX + WW - 17, top + WH / 2, 12, "conn")
            svg.text(WX + WW - 17, top + WH / 2 + 3, "conn", "tiny", "middle")
            if note:
                svg.text(WX + 8, top + 31, note, "small")
    for i in range(3):
        svg.circle(WX + WW / 2, SLOTS[1] + WH + 8 + i * 5, 1.3, "full")


def slot_mid(i):
    return SLOTS[i] + WH / 2


def fan(svg, x, y, cls="wire", head="k", tail=None, to_epoll=False):
    """Lines from (x, y) to each worker's left side (or to its epoll box)."""
    for top in SLOTS:
        if to_epoll:
            svg.line(x, y, WX, top + 30, cls, head, tail)
        else:
            svg.line(x, y, WX, top + WH / 2, cls, head, tail)


def one_process(svg, label="one process"):
    """The box around a design whose workers are threads of one process (the listener, a kernel
    object the process holds a descriptor to, stays outside)."""
    svg.rect(MX - 6, 26, W - MX + 2, 180, "outer", rx=6)
    svg.text(MX + 2, 38, label, "small bold")


def start(svg, d):
    """What every pooled or per-connection picture begins with: the box of the one process when
    the workers are threads, the listener and the clients' arrow. True if they are processes."""
    processes = d["workers"] == "processes"
    if not processes:
        one_process(svg)
    listener(svg)
    clients_arrow(svg)
    return processes


def parent_band(svg, rows=("forks the N children,", "replaces one that dies")):
    """The parent of a pool whose children accept: it only supervises."""
    svg.rect(LX, 168, MX + MW - 6 - LX, 30, "proc")
    svg.text(LX + 8, 187, "parent", "bold")
    svg.lines(LX + 60, 180, list(rows), "small", step=11)


def gate(svg, d):
    """The accept lock the trunk from the listener passes through; dashed when there is none."""
    x, w, y, h = MX + 8, MW - 24, MID - 20, 40
    svg.text(MX + MW / 2 - 8, y - 8, "accept()", "code", "middle")
    if d["accept_lock"] is None:
        svg.rect(x, y, w, h, "nolock")
        svg.text(x + w / 2, y + 24, "no lock", anchor="middle")
        below = ["the kernel wakes", "one accept() waiter"]
    else:
        svg.rect(x, y, w, h, "lock")
        name, how = {
            "fcntl": (["fcntl()", "record lock"], ["F_SETLKW on a", "temporary file"]),
            "mutex": (["pthread", "mutex"], ["robust, shared", "(MAP_SHARED)"])
            if d["workers"] == "processes" else (["mutex"], ["a std::mutex of", "the one process"]),
        }[d["accept_lock"]]
        svg.lines(x + w / 2, y + 16, name, anchor="middle", step=13)
        below = how
    svg.lines(x + w / 2, y + h + 13, below, "small", "middle", step=11)
    return x, w


def draw_accept_pool(svg, d):
    """prefork and its locks, prethread-mutex: the workers take turns in accept()."""
    processes = start(svg, d)
    x, w = gate(svg, d)
    svg.line(LX + LW, MID, x, MID, head=None)
    fan(svg, x + w, MID)
    workers(svg, d, note="accept, serve")
    if not processes:
        svg.rect(MX + 2, 168, 104, 30, "thread")
        svg.text(MX + 10, 181, "main thread", "bold")
        svg.text(MX + 10, 193, "waits for a stop", "small")
    else:
        parent_band(svg)


def draw_handoff(svg, d):
    """prefork-fdpass, prethread-dispatch, loop-per-thread: one accepts, hands to the workers."""
    processes = start(svg, d)
    if processes:  # prefork-fdpass: a socketpair per child
        top, h = 62, 90
        svg.line(LX + LW, MID, MX, MID)
        svg.rect(MX, top, MW, h, "proc")
        svg.text(MX + 8, top + 16, "parent", "bold")
        svg.lines(MX + 8, top + 32, ["accept4()", "choose", "sendmsg() fd", "recv() done"],
                  "code", step=13)
        svg.lines(MX + 8, top + h + 12, ["also forks and", "respawns children"], "small",
                  step=11)
        svg.lines(MX + MW / 2, 40, ["a socketpair per child:", "fd + id \u2192   \u2190 done"],
                  "small", "middle", step=11)
        for i, t in enumerate(SLOTS):  # a channel each: the descriptor goes, "done" comes back
            svg.line(MX + MW, MID + (i - 1) * 24, WX, t + WH / 2, "teal", head="t", tail="t")
        workers(svg, d, note="recvmsg, serve")
        return
    top, h, mw = 62, 90, 74  # the main thread
    svg.line(LX + LW, MID, MX, MID)
    svg.rect(MX, top, mw, h, "thread")
    svg.lines(MX + 7, top + 16, ["main", "thread"], "bold", step=13)
    if d["event_loop"]:  # loop-per-thread: round-robin posts, an eventfd wakes the loop
        svg.lines(MX + 7, top + 50, ["accept4()", "post() to", "the next"], "code", step=12)
        svg.lines(MX + 44, top + h + 14, ["post(): a queue", "+ eventfd per loop"], "small",
                  "middle", step=11)
        fan(svg, MX + mw, MID, "teal", head="t")
        for t in SLOTS:  # each loop's queue, on the way to it
            f = (WX - 14 - (MX + mw)) / (WX - (MX + mw))
            svg.rect(WX - 22, MID + (t + WH / 2 - MID) * f - 6, 16, 12, "chan", rx=2)
        workers(svg, d)
    else:  # prethread-dispatch: one bounded queue
        svg.lines(MX + 7, top + 50, ["accept4()", "push()"], "code", step=13)
        qx, qw = MX + mw + 8, 24
        svg.text(qx + qw / 2, top - 4, "queue", "small", "middle")
        for i in range(5):
            svg.rect(qx, top + 8 + i * 15, qw, 15, "chan" if i >= 2 else "slot", rx=1)
        svg.line(MX + mw, MID, qx, MID, "teal", head="t")
        svg.lines(MX + 44, top + h + 14, ["a full queue", "stops accept()"], "small", "middle",
                  step=11)
        fan(svg, qx + qw, MID, "teal", head="t")
        workers(svg, d, note="pop, serve")


def draw_per_connection(svg, d):
    """fork and thread: the main process or thread accepts and creates a worker per connection."""
    processes = start(svg, d)
    top, h = 62, 90
    svg.line(LX + LW, MID, MX, MID)
    svg.rect(MX, top, MW, h, "proc" if processes else "thread")
    if processes:
        svg.text(MX + 8, top + 16, "parent", "bold")
        svg.lines(MX + 8, top + 32, ["accept4()", "fork()", "close(conn)", "waitpid()"], "code",
                  step=13)
        svg.lines(MX + 8, top + h + 12, ["SIGCHLD wakes its", "ppoll(): no zombies"], "small",
                  step=11)
        svg.text(MX + MW / 2, 52, "one per connection", "small", "middle")
        note = "serve, _exit"
    else:
        svg.text(MX + 8, top + 16, "main thread", "bold")
        svg.lines(MX + 8, top + 32, ["accept4()", "spawn a", "detached", "thread"], "code",
                  step=13)
        svg.text(MX + MW / 2, 52, "one per connection", "small", "middle")
        note = "serve, end"
    fan(svg, MX + MW, MID)
    workers(svg, d, per_connection=True, note=note)


def draw_single(svg, d):
    """iterative and epoll: one process, one thread, no worker at all."""
    listener(svg)
    clients_arrow(svg)
    x, y, w, h = MX, 46, W - MX - 8, 132
    svg.rect(x, y, w, h, "proc")
    svg.text(x + 8, y + 16, "the one process, one thread", "bold")
    if d["event_loop"]:
        ex, ey = x + 14, MID - 16
        svg.rect(ex, ey, 58, 32, "chan")
        svg.lines(ex + 29, ey + 13, ["epoll", "wait"], "small", "middle", step=11)
        svg.line(ex, MID, LX + LW, MID, "teal dash", head="t")
        svg.text(x + w - 8, y + 30, "non-blocking conns", "small", "end")
        for i in range(4):
            cy = y + 42 + i * 22
            svg.line(ex + 58, MID, x + w - 40, cy, "teal dash", head="t")
            svg.circle(x + w - 28, cy, 9, "conn")
        svg.lines(x + 8, y + h - 20, ["one loop: accept4, then read and write", "each socket as far as it goes now"],
                  "small", step=11)
    else:
        svg.line(LX + LW, MID, x + w - 40, MID)
        svg.text(x + 8, MID - 6, "accept()", "code")
        svg.circle(x + w - 28, MID, 12, "conn")
        svg.text(x + w - 28, MID + 3, "conn", "small", "middle")
        svg.lines(x + 60, MID + 19, ["serve_connection()", "to its end, then", "accept() again"],
                  "code", step=12)
        svg.text(x + 8, y + h - 8, "one at a time: a slow client holds up all", "small")
        svg.lines(LX, LY + LH + 14, ["the others wait", "in the backlog"], "small", step=11)


def draw_reuseport(svg, d):
    """prefork-reuseport: one listener per child, one port; the kernel picks by 4-tuple hash."""
    svg.rect(LX - 2, 26, LW + 4, 174, "group", rx=6)
    svg.text(LX + LW / 2, 37, "one port", "small", "middle")
    svg.text(2, MID - 20, "clients", "small")
    svg.circle(18, MID, 14, "note")
    svg.text(18, MID + 3, "hash", "small", "middle")
    for i, top in enumerate(SLOTS):
        y, h = top + 1, WH - 2
        svg.rect(LX + 4, y, LW - 8, h, "sock")
        svg.text(LX + LW / 2, y + 14, f"listener {('0', '1', 'N-1')[i]}", "small", "middle")
        for k in range(4):
            svg.rect(LX + LW / 2 - 25 + k * 13, y + h - 15, 10, 10, "full" if k == 0 else "slot",
                     rx=1)
        svg.line(32, MID, LX + 4, y + h / 2, "thin", head="m")
        svg.line(LX + LW - 4, top + WH / 2, WX, top + WH / 2)
    svg.text(MX + MW / 2, 52, "SO_REUSEPORT", "code", "middle")
    svg.lines(MX + MW / 2, 77, ["each child accepts", "from its own queue:", "no lock, no herd"],
              "small", "middle", step=11)
    svg.lines(MX + MW / 2, 132, ["the parent holds all N,", "bound before it forks,", "for a child's respawn"],
              "small", "middle", step=11)
    workers(svg, d)


def draw_exclusive(svg, d):
    """prefork-epoll-exclusive: one shared listener, an epoll per child, EPOLLEXCLUSIVE."""
    listener(svg)
    clients_arrow(svg)
    fan(svg, LX + LW, MID, "teal dash", head="t", to_epoll=True)
    svg.lines(MX + MW / 2, 40, ["each child's epoll", "holds the listener"], "small", "middle",
              step=11)
    svg.text(MX + MW / 2, 64, "EPOLLEXCLUSIVE", "code", "middle")
    workers(svg, d)
    parent_band(svg)


# Which picture a design gets, from its flags alone: (workers, pooled, accepts, event_loop,
# reuseport) -> the drawing; None stands for either value. A lock goes with draw_accept_pool.
SHAPES = [
    (("none", False, "main", None, False), draw_single),
    (("processes", False, "main", False, False), draw_per_connection),
    (("threads", False, "main", False, False), draw_per_connection),
    (("processes", True, "main", False, False), draw_handoff),
    (("threads", True, "main", None, False), draw_handoff),
    (("processes", True, "workers", False, False), draw_accept_pool),
    (("threads", True, "workers", False, False), draw_accept_pool),
    (("processes", True, "workers", True, True), draw_reuseport),
    (("processes", True, "workers", True, False), draw_exclusive),
]


def shape_of(d):
    flags = (d["workers"], d["pooled"], d["accepts"], d["event_loop"], d["reuseport"])
    for want, draw in SHAPES:
        if all(w is None or w == f for w, f in zip(want, flags)):
            if d["accept_lock"] and draw is not draw_accept_pool:
                break
            return draw
    raise ValueError(f"design {d['name']}: no diagram in plots/diagrams.py fits its flags "
                     f"(workers, pooled, accepts, event_loop, reuseport = {flags}, accept_lock "
                     f"{d['accept_lock']}): add one")


def pointers_of(d):
    """Where to read a design: its own file and run_ function, then what its shape shares."""
    stem = d["name"].replace("-", "_")
    own = (f"paradigms/{stem}.cpp", [f"run_{stem}"])
    shape = shape_of(d)
    more = []
    if shape is draw_accept_pool:
        if d["workers"] == "processes":
            more.append(("paradigms/prefork.cpp", ["run_prefork_with"]))
            more.append(("common/process_pool.cpp", ["ProcessPool::spawn", "ProcessPool::manage"]))
        more.append(("common/accept_loop.cpp", ["accept_loop"]))
        lock = {("fcntl", "processes"): "FcntlLock::lock",
                ("mutex", "processes"): "ProcessMutexLock::lock"}.get((d["accept_lock"], d["workers"]))
        if lock:
            more.append(("common/accept_lock.cpp", [lock]))
        elif d["accept_lock"]:
            more.append(("common/accept_lock.hpp", ["ThreadMutexLock::lock"]))
    elif shape is draw_handoff:
        if d["workers"] == "processes":
            own[1].extend(["Manager::accept_and_pass", "Manager::give", "child_main"])
            more.append(("common/fdpass.cpp", ["send_fd", "recv_fd"]))
        elif d["event_loop"]:
            more.append(("common/event_loop.cpp", ["EventLoop::post", "EventLoop::run"]))
        else:
            more.append(("common/bounded_queue.hpp", ["BoundedQueue::push", "BoundedQueue::pop"]))
    elif shape is draw_per_connection:
        if d["workers"] == "threads":
            more.append(("common/thread_group.hpp", ["ThreadGroup::spawn"]))
        more.append(("common/connection.cpp", ["serve_connection"]))
    elif shape is draw_single:
        if d["event_loop"]:
            more.append(("common/event_loop.cpp", ["EventLoop::watch_listener", "EventLoop::run"]))
        else:
            more.append(("common/net.cpp", ["accept_connection"]))
            more.append(("common/connection.cpp", ["serve_connection"]))
    else:  # the event-loop pools whose children accept
        if d["reuseport"]:
            more.append(("common/net.cpp", ["listen_tcp"]))
        more.append(("common/event_loop.cpp", ["EventLoop::watch_listener", "EventLoop::run"]))
        more.append(("common/prefork_pool.cpp", ["run_process_pool"]))
    merged = {}
    for path, functions in [own] + more:  # prefork's own file is also the family's
        merged.setdefault(path, []).extend(f for f in functions if f not in merged.get(path, []))
    return checked(list(merged.items()))


def design_svg(d):
    pointers = pointers_of(d)
    where = f"UNP {d['unp']}" if d["unp"] else "beyond UNP ch. 30"
    svg = Svg(W, 0, f"{d['name']} ({where}): its processes, threads and descriptors")
    svg.text(8, 18, d["name"], "title")
    svg.text(8 + text_width(d["name"], 13) + 6, 18, where, "sub")
    shape_of(d)(svg, d)
    svg.height = caption(svg, BODY_END + 12, pointers, W - 16) + 2
    return svg.render()


def legend_svg():
    svg = Svg(W, 0, "What the shapes of the design diagrams mean")
    items = [
        (lambda x, y: svg.rect(x, y, 30, 18, "proc"), "a process"),
        (lambda x, y: svg.rect(x, y, 30, 18, "thread"), "a thread"),
        (lambda x, y: svg.circle(x + 15, y + 9, 9, "conn"), "a connected socket"),
        (lambda x, y: svg.rect(x, y, 30, 18, "sock"), "a listening socket"),
        (lambda x, y: svg.rect(x, y, 30, 18, "lock"), "an accept lock"),
        (lambda x, y: svg.rect(x, y, 30, 18, "chan"), "queue, socketpair, epoll"),
        (lambda x, y: svg.line(x, y + 9, x + 30, y + 9), "a connection goes"),
        (lambda x, y: svg.line(x, y + 9, x + 30, y + 9, "teal", head="t"), "handed over"),
        (lambda x, y: svg.line(x, y + 9, x + 30, y + 9, "teal dash", head="t"), "watched, woken"),
    ]
    for k, (draw, label) in enumerate(items):
        x, y = 8 + (k % 2) * 188, 8 + (k // 2) * 26
        draw(x, y)
        svg.text(x + 38, y + 13, label)
    svg.height = 8 + (len(items) + 1) // 2 * 26
    return svg.render()


# --- the fd-passing sequence -------------------------------------------------------------------

# (kind, from, to, code lines, note): "msg" an arrow, "self" a step on one lifeline, "both" the
# two-way talk of serving, "note" a box across two lifelines. What prefork-fdpass does for one
# connection, in paradigms/prefork_fdpass.cpp and common/fdpass.cpp.
SEQUENCE = [
    ("note", "parent", "child",
     ["before fork(): socketpair(AF_UNIX,", "    SOCK_SEQPACKET | SOCK_CLOEXEC)"],
     "Manager::open_channel(), one per child; after the fork the parent closes the child's end, "
     "the child the parent's ends and the listener"),
    ("msg", "client", "parent", ["connect()"],
     "the handshake completes in the kernel; the connection waits in the listener's accept queue"),
    ("self", "parent", None, ["ppoll(): the listener is readable"],
     "signals::wait_for_events() in Manager::run()"),
    ("self", "parent", None, ["accept4(listener) \u2192 conn"],
     "accept_connection() in Manager::accept_and_pass()"),
    ("self", "parent", None, ["choose_worker(policy, loads) \u2192 i"],
     "least-loaded, round-robin or first-free; --route-by peer or first-line decides first"),
    ("msg", "parent", "child", ["sendmsg(channel[i], Handoff{id},", "  SCM_RIGHTS [conn], MSG_DONTWAIT)"],
     "send_fd() in Manager::give(); in_hand + 1"),
    ("self", "parent", None, ["close(conn)"],
     "the parent's copy, as the loop turn ends; the descriptor in flight keeps the socket open"),
    ("self", "child", None, ["recvmsg(channel, MSG_CMSG_CLOEXEC)", "  \u2192 conn"],
     "recv_fd() checks MSG_CTRUNC, MSG_TRUNC, the record's length, and one SOL_SOCKET / "
     "SCM_RIGHTS message holding one descriptor"),
    ("both", "child", "client", ["serve_connection(conn)"],
     "reads requests and writes responses until EOF"),
    ("msg", "child", "parent", ["send(channel, Done{id})"],
     "child_main(), then recvmsg() again"),
    ("self", "parent", None, ["ppoll(): the channel is readable", "recv(Done): in_hand - 1, full = false"],
     "Manager::read_reports()"),
]
SEQ_W = 660
LIFELINES = {"client": 70, "parent": 330, "child": 590}
HEADS = {"client": ("client", "tcplab-load"), "parent": ("parent", "Manager::run()"),
         "child": ("child i", "child_main()")}
TEXT_ROOM = 236  # between two lifelines, for a step's text
SEQ_POINTERS = [("paradigms/prefork_fdpass.cpp",
                 ["Manager::open_channel", "Manager::accept_and_pass", "Manager::give",
                  "Manager::read_reports", "child_main"]),
                ("common/fdpass.cpp", ["send_fd", "recv_fd"]),
                ("common/dispatch.cpp", ["choose_worker"])]


def sequence_svg():
    pointers = checked(SEQ_POINTERS)
    title = "prefork-fdpass: handing one connection to a child"
    svg = Svg(SEQ_W, 0, title)
    svg.text(8, 18, title, "title")
    svg.text(8 + text_width(title, 13) + 6, 18, "UNP 30.9", "sub")
    for who, x in LIFELINES.items():
        name, sub = HEADS[who]
        svg.rect(x - 62, 30, 124, 34, "proc" if who != "client" else "frame")
        svg.text(x, 44, name, "bold", "middle")
        svg.text(x, 57, sub, "code", "middle")
    rows, y = [], 80
    for kind, a, b, code, note in SEQUENCE:
        room = LIFELINES["child"] - LIFELINES["parent"] + 84 if kind == "note" else TEXT_ROOM
        notes = wrap(note, room, 9)
        h = 13 * len(code) + 11 * len(notes) + 14
        rows.append((kind, a, b, code, notes, y, h))
        y += h + 6
    bottom = y + 4
    for x in LIFELINES.values():
        svg.line(x, 64, x, bottom, "life", head=None)
    step = 0
    for kind, a, b, code, notes, top, h in rows:
        xa = LIFELINES[a]
        if kind == "note":
            xb = LIFELINES[b]
            svg.rect(xa - 50, top, xb - xa + 100, h - 4, "note", rx=3)
            svg.lines(xa - 42, top + 13, code, "code", step=13)
            svg.lines(xa - 42, top + 13 + 13 * len(code), notes, "small", step=11)
            continue
        step += 1
        if kind == "self":  # the text on the lifeline's left, where there is room
            svg.rect(xa - 4, top, 8, h - 4, "busy", rx=1)
            svg.text(xa - 10, top + 11, f"{step}.", "small bold", "end")
            svg.lines(xa - 30, top + 11, code, "code", "end", step=13)
            svg.lines(xa - 30, top + 11 + 13 * len(code), notes, "small", "end", step=11)
            continue
        xb = LIFELINES[b]
        left, right = min(xa, xb), max(xa, xb)
        tx, anchor = (right - 12, "end") if kind == "both" else ((left + right) / 2, "middle")
        svg.text(left + 8, top + 11, f"{step}.", "small bold")
        svg.lines(tx, top + 11, code, "code", anchor, step=13)
        svg.lines(tx, top + 11 + 13 * len(code), notes, "small", anchor, step=11)
        ay = top + h - 6
        if kind == "both":
            svg.line(xa - 4, ay, xb + 4, ay, "green", head="g", tail="g")
        else:
            inward = 4 if xb > xa else -4
            passes = "child" in (a, b)
            svg.line(xa + inward, ay, xb - inward, ay, "teal" if passes else "wire",
                     head="t" if passes else "k")
    y = bottom + 16
    for s in wrap("If sendmsg() fails with EAGAIN or ETOOMANYREFS, the child is marked full and "
                  "the next one is tried; with EPIPE or ECONNRESET the child is gone "
                  "(close_channel(); SIGCHLD brings its replacement). A malformed message: "
                  "recv_fd() closes every descriptor that came with it, and the child waits for "
                  "the next.", SEQ_W - 20, 9):
        svg.text(10, y, s, "small")
        y += 11
    svg.height = caption(svg, y + 6, pointers, SEQ_W - 20) + 2
    return svg.render()


# --- the wait queues ---------------------------------------------------------------------------

WQ_W, PANEL_W = 680, 330

# (title, which tcplab design, entries' flag, waiters' states, woken, the text under it)
PANELS = [
    ("accept(): exclusive wait, one woken", "prefork; the lock holder of prefork-fcntl, -mutex",
     "excl", ["accept()"] * 4, {0},
     "inet_csk_wait_for_connect() queues each sleeper at the tail with prepare_to_wait_exclusive() "
     "(WQ_FLAG_EXCLUSIVE). The wake-up stops at the first exclusive entry it wakes: one child, the "
     "one asleep longest, which queues again at the tail."),
    ("poll, select, epoll: all woken (the herd)", "none (a pool in select() or plain epoll)",
     "plain", ["epoll_wait"] * 4, {0, 1, 2, 3},
     "Each watcher adds a plain entry (add_wait_queue(); for epoll via ep_ptable_queue_proc()). "
     "Every plain entry is woken: every child wakes, one accept() wins, the others get EAGAIN "
     "and sleep again."),
    ("EPOLLEXCLUSIVE: one or more woken", "prefork-epoll-exclusive (nginx)",
     "excl", ["busy", "epoll_wait", "epoll_wait", "epoll_wait"], {1},
     "EPOLL_CTL_ADD with EPOLLEXCLUSIVE: ep_ptable_queue_proc() queues the epoll's entry "
     "exclusive. ep_poll_callback() counts an epoll as woken "
     "only if a thread sleeps in its epoll_wait(): a busy child's epoll (child 0) is handed the "
     "event and the walk goes on. One or more epolls get it (epoll_ctl(2)); one sleeper wakes."),
    ("SO_REUSEPORT: one listener per child", "prefork-reuseport",
     None, ["epoll_wait"] * 4, {2},
     "The SYN's listener lookup, inet_lookup_reuseport(), hashes the 4-tuple (inet_ehashfn()); "
     "reuseport_select_sock() takes socks[reciprocal_scale(hash, N)]. The connection waits in "
     "that one queue and wakes that one child: no herd, but a busy child's share waits for it."),
]
KERNEL_SOURCES = [
    "Linux sources: net/ipv4/inet_connection_sock.c inet_csk_wait_for_connect(); net/core/sock.c "
    "sock_def_readable() (a wake-up of one exclusive waiter); kernel/sched/wait.c "
    "__wake_up_common() and include/linux/wait.h; fs/eventpoll.c ep_ptable_queue_proc(), "
    "ep_poll_callback(); net/ipv4/inet_hashtables.c inet_lookup_reuseport(); "
    "net/core/sock_reuseport.c reuseport_select_sock_by_hash().",
]


TEXT_TOP = 216  # in a panel, where its text begins
PANEL_H = TEXT_TOP + 11 * max(len(wrap(p[-1], PANEL_W - 20, 9)) for p in PANELS) + 4


def panel(svg, px, py, spec):
    title, design, flag, states, woken, text = spec
    svg.rect(px, py, PANEL_W, PANEL_H, "frame", rx=6)
    svg.text(px + 10, py + 18, title, "bold")
    svg.text(px + 10, py + 31, f"in tcplab: {design}", "small")
    ex = [px + 66 + i * 64 for i in range(4)]  # the four children's columns
    if flag is None:  # SO_REUSEPORT: a listener per child, one waiter each
        svg.rect(px + 10, py + 42, 150, 34, "note", rx=3)
        svg.lines(px + 18, py + 56, ["SYN: hash(4-tuple)", "mod 4 \u2192 listener 2"], "code",
                  step=12)
        for i, x in enumerate(ex):
            svg.rect(x - 2, py + 96, 62, 40, "sock")
            svg.text(x + 29, py + 110, f"listener {i}", "small", "middle")
            for k in range(3):
                svg.rect(x + 9 + k * 14, py + 118, 10, 10, "full" if i == 2 and k == 0 else "slot",
                         rx=1)
            svg.line(x + 29, py + 136, x + 29, py + 152, "thin", head=None)
        svg.line(px + 160, py + 66, ex[2] + 24, py + 95, "green", head="g")
    else:
        svg.rect(px + 10, py + 42, 110, 34, "sock")
        svg.text(px + 65, py + 55, "listening socket", "small", "middle")
        for k in range(5):
            svg.rect(px + 33 + k * 13, py + 61, 10, 10, "full" if k == 0 else "slot", rx=1)
        svg.lines(px + 130, py + 54, ["a connection completes:", "sock_def_readable() wakes",
                                      "the socket's wait queue"], "small", step=11)
        svg.line(px + 34, py + 76, px + 34, py + 96, "thin")
        svg.rect(px + 10, py + 96, 48, 40, "sock")
        svg.lines(px + 34, py + 112, ["wait", "queue"], "small", "middle", step=11)
        for i, x in enumerate(ex):
            svg.line(x - 8, py + 116, x, py + 116, "thin")
            svg.rect(x, py + 100, 58, 32, "slot" if flag == "plain" else "sock", rx=3)
            svg.text(x + 29, py + 114, f"entry {i}", "small", "middle")
            svg.text(x + 29, py + 126, flag, "code", "middle")
            svg.line(x + 29, py + 132, x + 29, py + 152, "thin", head=None)
    for i, x in enumerate(ex):
        cls = "woken" if i in woken else ("busy" if states[i] == "busy" else "asleep")
        svg.rect(x, py + 152, 58, 34, cls)
        svg.text(x + 29, py + 166, f"child {i}", "small bold", "middle")
        svg.text(x + 29, py + 179, states[i], "small", "middle")
        if i in woken:
            svg.text(x + 29, py + 198, "woken", "small bold", "middle")
    svg.lines(px + 10, py + TEXT_TOP, wrap(text, PANEL_W - 20, 9), "small", step=11)


def wait_queues_svg():
    svg = Svg(WQ_W, 0, "Whom the kernel wakes when a connection arrives")
    svg.text(8, 18, "Whom the kernel wakes when a connection arrives", "title")
    for k, spec in enumerate(PANELS):
        panel(svg, 8 + (k % 2) * (PANEL_W + 4), 28 + (k // 2) * (PANEL_H + 6), spec)
    y = 28 + 2 * (PANEL_H + 6) + 10
    for s in wrap(KERNEL_SOURCES[0], WQ_W - 20, 9, mono=True):
        svg.text(10, y, s, "cap")
        y += 11
    svg.height = y
    return svg.render()


# --- main --------------------------------------------------------------------------------------

def files(table):
    """{file name: SVG text} for every diagram."""
    out = {}
    for d in table:
        out[f"design-{d['name']}.svg"] = design_svg(d)
    out["diagram-legend.svg"] = legend_svg()
    out["fdpass-sequence.svg"] = sequence_svg()
    out["wait-queues.svg"] = wait_queues_svg()
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bin", default=os.path.join(ROOT, "build", "bin"),
                    help="where tcplab-server is (default: build/bin), for its design table")
    ap.add_argument("--out", default=os.path.join(ROOT, "plots", "report"),
                    help="the folder to write into (default: plots/report)")
    args = ap.parse_args()
    server = os.path.join(args.bin, "tcplab-server")
    if not os.access(server, os.X_OK):
        sys.exit(f"diagrams.py: {server} not found or not executable: build it (./.ci/setup) "
                 f"or pass --bin DIR")
    try:
        table = design_table.load(server)
        out = files(table)
    except (ValueError, KeyError) as e:
        sys.exit(f"diagrams.py: {e}")
    os.makedirs(args.out, exist_ok=True)
    for name, text in out.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(f"wrote {len(out)} diagrams into {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
