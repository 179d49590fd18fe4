#!/usr/bin/python3
"""The diagrams of REPORT.md, written as plain SVG text (no plotting library, no other tool).

    plots/diagrams.py [--bin DIR] [--out DIR]

writes into DIR (default plots/report/):

  design-NAME.svg      one per design: what one new connection does there, drawn so that the
                       designs differ where they differ (whom the kernel wakes, who waits on a
                       lock, who hands the descriptor on, and how unequal the shares are)
  diagram-legend.svg   what the shapes, colours and arrow widths mean
  fdpass-sequence.svg  prefork-fdpass handing one connection to a child, call by call
  wait-queues.svg      whom the kernel wakes, side by side: accept(), plain epoll (the herd),
                       EPOLLEXCLUSIVE, SO_REUSEPORT

Every design of `tcplab-server --list --json` must have a picture in PICTURES (an error
otherwise); the io_uring designs are drawn even before the table lists them. Sizes are set for
the width REPORT.md shows each at: a design diagram is 360 units wide and shown 360 px wide, so
no text is under 12 px on the page. The output depends only on the table and this file: a second
run writes the same bytes (tests/diagrams_test.py compares them with the committed files).
"""

import argparse
import math
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
text{{font-family:{SANS};font-size:13px;fill:#222}}
.t{{font-size:16px;font-weight:bold}}
.b{{font-weight:bold}}
.s{{font-size:12px;fill:#333}}
.c{{font-family:{MONO};font-size:12px}}
.g{{fill:#1d6b3f;font-weight:bold}}
.proc{{fill:#e8f0fb;stroke:#3b6db3;stroke-width:1.5}}
.thread{{fill:#fff7e6;stroke:#c98a1b;stroke-width:1.5;stroke-dasharray:5 3}}
.outer{{fill:none;stroke:#3b6db3;stroke-width:1.5}}
.sock{{fill:#f3e8fa;stroke:#7a3e9d;stroke-width:1.5}}
.lock{{fill:#fbe3e3;stroke:#b03a3a;stroke-width:1.5}}
.chan{{fill:#e0f2f1;stroke:#00796b;stroke-width:1.5}}
.woken{{fill:#c9ecd6;stroke:#2e8b57;stroke-width:2.5}}
.asleep{{fill:#eeeeee;stroke:#999;stroke-width:1}}
.busy{{fill:#e8f0fb;stroke:#3b6db3;stroke-width:1}}
.note{{fill:#fffbe6;stroke:#d8c96a;stroke-width:1}}
.frame{{fill:none;stroke:#bbb;stroke-width:1}}
.slot{{fill:#fff;stroke:#7a3e9d;stroke-width:1}}
.full{{fill:#7a3e9d;stroke:#7a3e9d;stroke-width:1}}
.bar{{fill:#2e8b57}}
.conn{{fill:#dff3e6;stroke:#2e8b57;stroke-width:1.5}}
"""
COLOURS = {"k": "#333", "g": "#2e8b57", "t": "#00796b", "m": "#999", "r": "#b03a3a"}
# (size, mono, bold) of the text classes, to estimate widths and check sizes by.
FONTS = {"t": (16, False, True), "b": (13, False, True), "g": (13, False, True), "s": (12, False, False),
         "c": (12, True, False)}


def num(v):
    """A coordinate as the shortest exact text: 12, 12.5 (the output must not vary by float)."""
    return f"{v:.1f}".rstrip("0").rstrip(".")


def font_of(cls):
    """(size, mono, bold) of a text of class `cls` ("s b" is small and bold)."""
    size, mono, bold = 13, False, False
    for c in (cls or "").split():
        s, m, b = FONTS[c]
        size = s if c != "b" else size
        mono, bold = mono or m, bold or b
    return size, mono, bold


def text_width(s, size, mono=False, bold=False):
    """A generous estimate of the width of `s` in DejaVu at `size` px."""
    return len(s) * size * (0.61 if mono else 0.66 if bold else 0.6)


def wrap(s, width, cls="s"):
    """`s` broken at spaces into lines no wider than `width` (by text_width)."""
    lines, line = [], ""
    for word in s.split(" "):
        candidate = f"{line} {word}" if line else word
        if line and text_width(candidate, *font_of(cls)) > width:
            lines.append(line)
            line = word
        else:
            line = candidate
    return lines + [line]


class Svg:
    """An SVG document built element by element, in a fixed order: same calls, same bytes. The
    origin (ox, oy) is added to every coordinate, so one picture can be drawn at two places."""

    def __init__(self, width, title):
        self.width, self.height, self.title = width, 0, title
        self.parts, self.ox, self.oy = [], 0, 0

    def add(self, tag, body=None, **attrs):
        a = "".join(f' {k.rstrip("_").replace("_", "-")}="{num(v) if isinstance(v, (int, float)) else v}"'
                    for k, v in attrs.items())
        self.parts.append(f"<{tag}{a}/>" if body is None else f"<{tag}{a}>{escape(body)}</{tag}>")

    def rect(self, x, y, w, h, cls, rx=4):
        self.add("rect", x=x + self.ox, y=y + self.oy, width=w, height=h, rx=rx, class_=cls)

    def circle(self, cx, cy, r, cls):
        self.add("circle", cx=cx + self.ox, cy=cy + self.oy, r=r, class_=cls)

    def text(self, x, y, s, cls=None, anchor="start"):
        attrs = {"x": x + self.ox, "y": y + self.oy}
        if cls:
            attrs["class_"] = cls
        if anchor != "start":
            attrs["text_anchor"] = anchor
        self.add("text", s, **attrs)

    def lines(self, x, y, rows, cls=None, anchor="start", step=15):
        for i, s in enumerate(rows):
            self.text(x, y + i * step, s, cls, anchor)
        return y + (len(rows) - 1) * step

    def para(self, x, y, s, width, cls="s"):
        """`s` wrapped to `width` from baseline y; returns the last line's baseline."""
        return self.lines(x, y, wrap(s, width, cls), cls, step=15)

    def arrow(self, x1, y1, x2, y2, w=1.5, colour="k", dash=False, head=True):
        """A line from (x1, y1) to (x2, y2), `w` wide, with a head that grows with it."""
        length, half = (8 + 1.5 * w, 4 + 1.1 * w) if head else (0, 0)
        d = math.hypot(x2 - x1, y2 - y1)
        ux, uy = (x2 - x1) / d, (y2 - y1) / d
        bx, by = x2 - ux * length, y2 - uy * length
        c = COLOURS[colour]
        extra = ' stroke-dasharray="5 4"' if dash else ""
        self.parts.append(f'<line x1="{num(x1 + self.ox)}" y1="{num(y1 + self.oy)}" '
                          f'x2="{num(bx + self.ox)}" y2="{num(by + self.oy)}" stroke="{c}" '
                          f'stroke-width="{num(w)}"{extra}/>')
        if head:
            pts = [(x2, y2), (bx - uy * half, by + ux * half), (bx + uy * half, by - ux * half)]
            self.parts.append('<polygon points="' + " ".join(
                f"{num(px + self.ox)},{num(py + self.oy)}" for px, py in pts) + f'" fill="{c}"/>')

    def render(self):
        size = f'width="{num(self.width)}" height="{num(self.height)}"'
        return "\n".join([
            f'<svg xmlns="http://www.w3.org/2000/svg" xml:space="preserve" {size} '
            f'viewBox="0 0 {num(self.width)} {num(self.height)}">',
            f"<title>{escape(self.title)}</title>", f"<style>{STYLE}</style>",
            f'<rect x="0" y="0" {size} fill="#fff"/>', *self.parts, "</svg>", ""])


# --- the parts every design picture is made of -------------------------------------------------

W = 360                                  # a design diagram's width, as REPORT.md shows it
COLS = [8 + i * 88 for i in range(4)]    # four workers' boxes, BW wide
BW = 80
LX, LW = 150, 202                        # the listening socket, on the right of "clients"


def listener(svg, y, label="listening socket", queued=2):
    """The clients' arrow and the shared listener with its accept queue; returns its bottom."""
    svg.text(8, y + 17, "clients", "s")
    svg.arrow(56, y + 13, LX, y + 13)
    svg.rect(LX, y, LW, 42, "sock")
    svg.text(LX + 8, y + 17, label)
    svg.text(LX + 8, y + 35, "accept queue", "s")
    for i in range(5):
        svg.rect(LX + 100 + i * 18, y + 25, 14, 12, "full" if i < queued else "slot", rx=1)
    return y + 42


def workers(svg, y, kind, states, classes, h=44):
    """Four workers in a row (N = 4), each with its state under its name; returns the bottom."""
    for i, x in enumerate(COLS):
        svg.rect(x, y, BW, h, classes[i])
        svg.text(x + BW / 2, y + 18, f"{kind} {i}", "b", "middle")
        svg.text(x + BW / 2, y + 35, states[i], "s", "middle")
    return y + h


def mid(i):
    return COLS[i] + BW / 2


def box(svg, x, y, w, h, cls, title, rows=(), rows_cls="c"):
    """A box with a bold title and lines of code or words under it."""
    svg.rect(x, y, w, h, cls)
    svg.text(x + 8, y + 18, title, "b")
    svg.lines(x + 8, y + 35, list(rows), rows_cls)


def one_process(svg, y, h, label="one process"):
    """The outline of the one process that threads share (the listener stays outside)."""
    svg.rect(2, y, W - 4, h, "outer", rx=8)
    svg.text(W - 8, y + 15, label, "s", "end")


# --- one picture per design: each draws from y = 32 and returns the y under its caption --------

def pic_iterative(svg):
    y = listener(svg, 32, queued=5)
    svg.text(LX, y + 16, "the rest wait here", "s")
    box(svg, 8, y + 28, W - 16, 66, "proc", "the one process",
        ["accept(), serve to the end,", "accept() again"])
    svg.circle(318, y + 61, 18, "conn")
    svg.text(318, y + 65, "one", "s", "middle")
    svg.arrow(318, y, 318, y + 42, 3, "g")
    return svg.para(8, y + 118, "One connection at a time: one slow client holds up every "
                    "other in the backlog.", W - 16)


def per_connection(svg, processes):
    y = listener(svg, 32)
    kind = "child" if processes else "thread"
    rows = ["accept4(), fork(),", "close(conn)"] if processes else ["accept4(), spawn a", "detached thread"]
    if not processes:
        one_process(svg, y + 14, 162)
    box(svg, 8, y + 26, 200, 60, "proc" if processes else "thread",
        "parent" if processes else "main thread", rows)
    svg.arrow(LX + 30, y, 160, y + 26, 2)
    top = y + 118
    for i in range(3):
        svg.arrow(60, y + 86, mid(i), top, 1.5, "k")
        svg.rect(COLS[i], top, BW, 44, "busy" if processes else "thread")
        svg.text(mid(i), top + 18, kind, "b", "middle")
        svg.text(mid(i), top + 35, f"conn {i + 1}", "s", "middle")
    svg.text(mid(3), top + 18, "one per", "s", "middle")
    svg.text(mid(3), top + 35, "connection", "s", "middle")
    svg.text(230, y + 104, "fork()" if processes else "clone()", "c")
    text = ("A new process per connection: fork(), then _exit() and waitpid() (SIGCHLD) when "
            "it ends." if processes else "A new thread per connection: clone(), a stack, then the "
            "thread's exit; one crashing handler ends the server.")
    return svg.para(8, top + 80, text, W - 16)


def wait_queue(svg, y, flag):
    """The listener's wait queue under it, head on the left; returns its bottom."""
    svg.arrow(LX + 30, y, LX + 30, y + 22, 2)
    svg.rect(8, y + 22, W - 16, 32, "sock")
    svg.text(16, y + 43, "wait queue, head first:", "s")
    svg.text(W - 16, y + 43, flag, "c", "end")
    return y + 54


def pic_prefork(svg):
    top = wait_queue(svg, listener(svg, 32), "exclusive") + 44
    svg.arrow(mid(0), top - 44, mid(0), top, 6, "g")
    for i in (1, 2, 3):
        svg.arrow(mid(i), top, mid(i), top - 44, 1.5, "m", dash=True)
    workers(svg, top, "child", ["accept()"] * 4, ["woken", "asleep", "asleep", "asleep"])
    svg.text(mid(0), top + 62, "woken", "g", "middle")
    svg.text(mid(3), top + 62, "tail", "s", "middle")
    return svg.para(8, top + 88, "One connection, one wake-up: the kernel wakes the head "
                    "waiter alone, which re-queues at the tail, so the children take turns: no "
                    "herd, no lock needed.", W - 16)


LOCKS = {"prefork-fcntl": ("fcntl() lock, F_SETLKW", "unlock wakes the blocked requests, and "
                           "they try again (fs/locks.c)."),
         "prefork-mutex": ("mutex in shared memory", "unlock wakes one waiter (a futex)."),
         "prethread-mutex": ("std::mutex", "unlock wakes one waiter (a futex).")}


def locked(svg, name):
    lock, unlock = LOCKS[name]
    threads = name.startswith("prethread")
    y = listener(svg, 32)
    if threads:
        one_process(svg, y + 14, 164)
    svg.rect(124, y + 34, W - 132, 34, "lock")
    svg.text(132, y + 56, lock, "b")
    top = y + 100
    svg.arrow(LX + 10, y, mid(0), top, 5, "g")
    for i in (1, 2, 3):
        svg.arrow(mid(i), top, mid(i), y + 68, 1.5, "m", dash=True)
    kind = "thread" if threads else "child"
    workers(svg, top, kind, ["accept()", "on lock", "on lock", "on lock"],
            ["woken", "asleep", "asleep", "asleep"])
    svg.text(mid(0), top + 62, "holds it", "g", "middle")
    return svg.para(8, top + 96, "Only the holder sleeps in accept(), the listener's one "
                    f"waiter; the others sleep on the lock, and {unlock}", W - 16)


def pic_prefork_fdpass(svg):
    y = listener(svg, 32)
    box(svg, 8, y + 24, W - 16, 62, "proc", "parent",
        ["accept4(), choose a child,", "sendmsg(SCM_RIGHTS), close()"])
    svg.arrow(LX + 30, y, LX + 30, y + 24, 2)
    top = y + 160
    for i in (0, 2, 3):
        svg.arrow(mid(i), y + 86, mid(i), top, 1, "m", head=False)
    svg.arrow(mid(1) - 10, y + 86, mid(1) - 10, top, 4, "t")
    svg.arrow(mid(1) + 14, top, mid(1) + 14, y + 86, 1.5, "t", dash=True)
    svg.text(mid(1) - 20, y + 128, "fd", "b", "end")
    svg.text(mid(1) + 22, y + 128, "\"done\"", "s")
    svg.text(mid(3), y + 108, "a socket-", "s", "middle")
    svg.text(mid(3), y + 122, "pair each", "s", "middle")
    workers(svg, top, "child", ["busy", "recvmsg()", "idle", "idle"],
            ["busy", "woken", "asleep", "asleep"])
    return svg.para(8, top + 66, "The parent accepts every connection and passes it to the "
                    "child it chose, over that child's socketpair; the child serves it and writes "
                    "back \"done\", so the parent knows each load.", W - 16)


def pic_prethread_dispatch(svg):
    y = listener(svg, 32)
    one_process(svg, y + 14, 184)
    box(svg, 8, y + 28, 160, 58, "thread", "main thread", ["accept4(),", "push()"])
    svg.arrow(LX + 30, y, 120, y + 28, 2)
    svg.text(188, y + 46, "bounded queue", "s")
    for i in range(6):
        svg.rect(188 + i * 26, y + 54, 22, 22, "chan" if i < 2 else "slot", rx=2)
    svg.arrow(168, y + 65, 186, y + 65, 2, "t")
    top = y + 140
    svg.arrow(214, y + 76, mid(2), top, 4, "t")
    svg.text(mid(2) + 30, y + 112, "pop()", "c")
    workers(svg, top, "thread", ["serving", "serving", "woken", "serving"],
            ["busy", "busy", "woken", "busy"])
    return svg.para(8, top + 80, "The main thread accepts and pushes; an idle thread pops "
                    "(a condition variable wakes one); a full queue stops accept().", W - 16)


def pic_epoll(svg):
    y = listener(svg, 32)
    box(svg, 8, y + 28, W - 16, 140, "proc", "one process, one thread")
    svg.rect(210, y + 48, 130, 36, "chan")
    svg.text(275, y + 71, "epoll_wait()", "c", "middle")
    svg.lines(20, y + 66, ["names the ready ones:", "accept4(), read, write"], "s")
    svg.arrow(275, y, 275, y + 48, 1.5, "t", dash=True)
    for i in range(6):
        svg.circle(40 + i * 50, y + 122, 13, "conn")
        svg.arrow(40 + i * 50, y + 109, 230 + i * 18, y + 84, 1.2, "t", dash=True)
    svg.text(20, y + 158, "connections, non-blocking", "s")
    return svg.para(8, y + 194, "One thread, no blocking call: epoll_wait() names the ready "
                    "sockets, the loop serves each as far as it can go now, then waits again.",
                    W - 16)


def pic_loop_per_thread(svg):
    y = listener(svg, 32)
    one_process(svg, y + 14, 184)
    box(svg, 8, y + 28, 200, 58, "thread", "main thread", ["accept4(), post()", "to the next loop"])
    svg.arrow(LX + 30, y, 180, y + 28, 2)
    top = y + 140
    for i in range(4):
        svg.arrow(100, y + 86, mid(i), top, 2, "t")
    workers(svg, top, "loop", [f"conn {i + 1}, {i + 5}" for i in range(4)], ["thread"] * 4)
    return svg.para(8, top + 80, "Round-robin, equal by construction: connection k goes to the "
                    "next loop in turn (a queue and an eventfd); that loop then owns it.", W - 16)


def pic_prefork_reuseport(svg):
    svg.text(8, 49, "clients", "s")
    svg.arrow(64, 45, 104, 45)
    svg.rect(104, 28, W - 112, 36, "note")
    svg.text(112, 51, "reciprocal_scale(hash, 4)", "c")
    top = 100
    for i in range(4):
        svg.rect(COLS[i], top, BW, 42, "sock")
        svg.text(mid(i), top + 17, f"listener {i}", "s", "middle")
        for k in range(3):
            svg.rect(COLS[i] + 16 + k * 18, top + 24, 14, 12, "full" if i == 2 and k == 0 else "slot", rx=1)
        svg.arrow(mid(i), top + 42, mid(i), top + 74, 1.5 if i == 2 else 1, "g" if i == 2 else "m")
    for i in (0, 1, 3):
        svg.arrow(200, 64, mid(i), top, 1, "m", dash=True)
    svg.arrow(200, 64, mid(2), top, 5, "g")
    workers(svg, top + 74, "child", ["epoll", "epoll", "woken", "epoll"],
            ["asleep", "asleep", "woken", "asleep"])
    return svg.para(8, top + 142, "The SYN's 4-tuple hash picks one listener, each child's "
                    "own, on one port: no shared queue, no herd; but a stalled child keeps "
                    "getting its share.", W - 16)


# The staircase of EPOLLEXCLUSIVE: the arrows' widths and the bars' lengths fall from the head,
# in order, not to scale (the measured shares are in REPORT.md's workers table).
STAIRS = [1.0, 0.55, 0.25, 0.08]


def pic_exclusive(svg, plain=False):
    top = wait_queue(svg, listener(svg, 32), "plain" if plain else "EPOLLEXCLUSIVE") + 44
    for i in range(4):
        svg.arrow(mid(i), top - 44, mid(i), top, 2.5 if plain else 1 + 7 * STAIRS[i],
                  "r" if plain else "g")
    if plain:
        workers(svg, top, "child", ["epoll_wait"] * 4, ["woken"] * 4)
        return svg.para(8, top + 68, "Every plain waiter is woken (the herd): all four wake, "
                        "one accept() wins, three get EAGAIN and sleep again.", W - 16)
    workers(svg, top, "child", ["epoll_wait"] * 4, ["woken"] * 4)
    for i, share in enumerate(STAIRS):
        svg.rect(COLS[i], top + 52, BW * share, 12, "bar", rx=1)
    svg.text(COLS[0], top + 80, "connections served: most", "s")
    svg.text(W - 8, top + 80, "fewest", "s", "end")
    return svg.para(8, top + 104, "The wake-up walks from the head and stops at the first "
                    "epoll with a sleeper: children near the head take most connections, the "
                    "tail few.", W - 16)


def pic_uring(svg):
    y = listener(svg, 32)
    box(svg, 8, y + 28, W - 16, 196, "thread", "one thread, one ring")
    svg.rect(20, y + 58, 180, 76, "chan")
    svg.text(28, y + 75, "submissions", "s")
    svg.lines(28, y + 92, ["accept \u2192 recv", "send   \u2192 recv", "close"], "c", step=15)
    svg.rect(20, y + 166, 180, 48, "chan")
    svg.text(28, y + 183, "completions", "s")
    svg.text(28, y + 201, "request, EOF", "c")
    svg.arrow(110, y + 134, 110, y + 166, 3, "t")
    svg.text(120, y + 155, "kernel", "s")
    svg.rect(216, y + 58, 124, 76, "note")
    svg.lines(224, y + 76, ["provided", "buffer ring:", "the kernel", "picks one"], "s", step=15)
    svg.arrow(278, y + 134, 200, y + 180, 1.5, "t")
    svg.arrow(LX + 30, y, 180, y + 58, 1.5, "t", dash=True)
    return svg.para(8, y + 250, "No epoll, no accept() or read() call: each accept starts "
                    "its connection's recv, each answer the next recv (linked, \u2192); only "
                    "a request and an EOF complete. io_uring_enter() submits and waits in one "
                    "call.", W - 16)


def pic_uring_msgring(svg):
    y = listener(svg, 32)
    box(svg, 8, y + 24, W - 16, 62, "thread", "main thread: accepting ring",
        ["multishot accept, --dispatch,", "IORING_OP_MSG_RING"])
    svg.arrow(LX + 30, y, LX + 30, y + 24, 2)
    top = y + 150
    svg.arrow(mid(1), y + 86, mid(1), top, 4, "t")
    svg.text(mid(1) + 10, y + 114, "a direct fd", "b")
    svg.text(mid(1) + 10, y + 130, "into its fixed-file table", "s")
    workers(svg, top, "ring", ["busy", "woken", "idle", "idle"], ["busy", "woken", "asleep", "asleep"])
    return svg.para(8, top + 66, "Each worker thread has its own ring; the accepting ring "
                    "sends each connection to the one --dispatch chose: no sendmsg(), no "
                    "SCM_RIGHTS; a registered descriptor moves from ring to ring.", W - 16)


# What each design's diagram shows; a design of the table missing here is an error.
PICTURES = {
    "iterative": pic_iterative,
    "fork": lambda svg: per_connection(svg, True),
    "prefork": pic_prefork,
    "prefork-fcntl": lambda svg: locked(svg, "prefork-fcntl"),
    "prefork-mutex": lambda svg: locked(svg, "prefork-mutex"),
    "prefork-fdpass": pic_prefork_fdpass,
    "thread": lambda svg: per_connection(svg, False),
    "prethread-mutex": lambda svg: locked(svg, "prethread-mutex"),
    "prethread-dispatch": pic_prethread_dispatch,
    "epoll": pic_epoll,
    "prefork-reuseport": pic_prefork_reuseport,
    "prefork-epoll-exclusive": pic_exclusive,
    "loop-per-thread": pic_loop_per_thread,
    "uring": pic_uring,
    "uring-msgring": pic_uring_msgring,
}


def design_svg(name, unp=None):
    if name not in PICTURES:
        raise ValueError(f"design {name}: no picture in plots/diagrams.py's PICTURES: add one")
    where = f"UNP {unp}" if unp else "beyond ch. 30"
    svg = Svg(W, f"{name} ({where}): what one new connection does")
    svg.text(8, 20, name, "t")
    svg.text(W - 8, 20, where, "s", "end")
    svg.height = PICTURES[name](svg) + 10
    return svg.render()


def legend_svg():
    svg = Svg(400, "What the shapes of the design diagrams mean")
    items = [
        (lambda x, y: svg.rect(x, y, 36, 20, "proc"), "a process"),
        (lambda x, y: svg.rect(x, y, 36, 20, "thread"), "a thread"),
        (lambda x, y: svg.rect(x, y, 36, 20, "sock"), "a socket"),
        (lambda x, y: svg.rect(x, y, 36, 20, "lock"), "a lock"),
        (lambda x, y: svg.rect(x, y, 36, 20, "chan"), "queue, ring, epoll"),
        (lambda x, y: svg.circle(x + 18, y + 10, 10, "conn"), "a connection"),
        (lambda x, y: svg.rect(x, y, 36, 20, "woken"), "woken for it"),
        (lambda x, y: svg.rect(x, y, 36, 20, "asleep"), "asleep, idle"),
        (lambda x, y: svg.rect(x, y, 36, 20, "busy"), "busy serving"),
        (lambda x, y: svg.arrow(x, y + 10, x + 36, y + 10, 2.5, "r"), "woken in vain"),
        (lambda x, y: svg.arrow(x, y + 10, x + 36, y + 10, 5, "g"), "woken: wider = more"),
        (lambda x, y: svg.arrow(x, y + 10, x + 36, y + 10, 3, "t"), "a descriptor passed"),
        (lambda x, y: svg.arrow(x, y + 10, x + 36, y + 10, 1.5, "m", dash=True), "waits on it"),
        (lambda x, y: svg.arrow(x, y + 10, x + 36, y + 10, 1.5, "k"), "a connection goes"),
    ]
    for k, (draw, label) in enumerate(items):
        x, y = 8 + (k % 2) * 196, 8 + (k // 2) * 30
        draw(x, y)
        svg.text(x + 44, y + 15, label)
    svg.height = 8 + (len(items) + 1) // 2 * 30
    return svg.render()


# --- the fd-passing sequence -------------------------------------------------------------------

# (kind, from, to, code lines, note): "msg" an arrow, "self" a step on one lifeline, "both" the
# two-way talk of serving, "note" a box across two lifelines: what prefork-fdpass does for one
# connection (paradigms/prefork_fdpass.cpp, common/fdpass.cpp, common/dispatch.cpp).
SEQUENCE = [
    ("note", "parent", "child", ["before fork(): socketpair(AF_UNIX,", "  SOCK_SEQPACKET | SOCK_CLOEXEC)"],
     "one per child; each side closes the other's end"),
    ("msg", "client", "parent", ["connect()"], "the handshake completes in the kernel"),
    ("self", "parent", None, ["ppoll(): listener readable", "accept4(listener) \u2192 conn"],
     "the parent's loop"),
    ("self", "parent", None, ["choose_worker() \u2192 i"], "least-loaded, round-robin or first-free"),
    ("msg", "parent", "child", ["sendmsg(channel[i], Handoff{id},", "  SCM_RIGHTS [conn])"],
     "send_fd(); the child's load + 1"),
    ("self", "parent", None, ["close(conn)"], "the fd in flight keeps the socket open"),
    ("self", "child", None, ["recvmsg(channel,", "  MSG_CMSG_CLOEXEC) \u2192 conn"],
     "recv_fd() checks it first"),
    ("both", "child", "client", ["serve_connection(conn)"], "requests and responses until EOF"),
    ("msg", "child", "parent", ["send(channel, Done{id})"], "then recvmsg() again"),
    ("self", "parent", None, ["ppoll(): channel readable", "recv(Done): load - 1"], "the parent's loop"),
]
SEQ_W = 720
LIFELINES = {"client": 70, "parent": 370, "child": 650}
HEADS = {"client": "client", "parent": "parent", "child": "child i"}
SEQ_SOURCES = [("paradigms/prefork_fdpass.cpp", ["child_main"]), ("common/fdpass.cpp", ["send_fd", "recv_fd"]),
               ("common/dispatch.cpp", ["choose_worker"])]


def checked(pointers):
    """[(path, [function, ...])] as given, once each path exists under the root and names each
    function followed by "("; ValueError otherwise."""
    for path, functions in pointers:
        full = os.path.join(ROOT, path)
        if not os.path.isfile(full):
            raise ValueError(f"{path}: no such file (a diagram points to it)")
        with open(full, encoding="utf-8") as f:
            source = f.read()
        for fn in functions:
            if fn + "(" not in source:
                raise ValueError(f"{path} has no function {fn} (a diagram points to it)")
    return pointers


def sequence_svg():
    pointers = checked(SEQ_SOURCES)
    title = "prefork-fdpass: handing one connection to a child (UNP 30.9)"
    svg = Svg(SEQ_W, title)
    svg.text(8, 20, title, "t")
    for who, x in LIFELINES.items():
        svg.rect(x - 60, 32, 120, 28, "proc" if who != "client" else "frame")
        svg.text(x, 51, HEADS[who], "b", "middle")
    rows, y = [], 76
    for kind, a, b, code, note in SEQUENCE:
        h = 15 * len(code) + 15 + 12
        rows.append((kind, a, b, code, note, y, h))
        y += h + 6
    for x in LIFELINES.values():
        svg.arrow(x, 60, x, y, 1, "m", dash=True, head=False)
    step = 0
    for kind, a, b, code, note, top, h in rows:
        xa = LIFELINES[a]
        if kind == "note":
            svg.rect(xa - 60, top, LIFELINES[b] - xa + 120, h - 4, "note", rx=3)
            svg.text(xa - 50, svg.lines(xa - 50, top + 15, code, "c") + 15, note, "s")
            continue
        step += 1
        if kind == "self":  # on the lifeline's left, where there is room
            svg.rect(xa - 4, top, 8, h - 4, "busy", rx=1)
            svg.text(xa - 10, top + 13, f"{step}.", "s b", "end")
            end = svg.lines(xa - 34, top + 13, code, "c", "end")
            svg.text(xa - 34, end + 15, note, "s", "end")
            continue
        xb = LIFELINES[b]
        left, right = min(xa, xb), max(xa, xb)
        tx, anchor = (right - 12, "end") if kind == "both" else ((left + right) / 2, "middle")
        svg.text(left + 8, top + 13, f"{step}.", "s b")
        end = svg.lines(tx, top + 13, code, "c", anchor)
        svg.text(tx, end + 15, note, "s", anchor)
        ay, inward = top + h - 6, 4 if xb > xa else -4
        if kind == "both":
            svg.arrow(xa - 4, ay, xb + 4, ay, 2, "g")
            svg.arrow(xb + 4, ay, xa - 4, ay, 2, "g")
        else:
            passes = "child" in (a, b)
            svg.arrow(xa + inward, ay, xb - inward, ay, 3 if passes else 1.5, "t" if passes else "k")
    y = svg.para(10, y + 20, "If sendmsg() fails with EAGAIN or ETOOMANYREFS, the child counts "
                 "as full and the next is tried; with EPIPE or ECONNRESET it is gone and SIGCHLD "
                 "brings its replacement. recv_fd() closes every descriptor of a malformed message.",
                 SEQ_W - 20)
    for path, functions in pointers:
        y += 16
        svg.text(10, y, f"{path}: {', '.join(functions)}", "c")
    svg.height = y + 10
    return svg.render()


# --- the wait queues: four design pictures side by side ----------------------------------------

PANELS = [("accept(): one woken", pic_prefork),
          ("plain epoll or poll: all woken", lambda svg: pic_exclusive(svg, plain=True)),
          ("EPOLLEXCLUSIVE: head first", pic_exclusive),
          ("SO_REUSEPORT: a hash picks", pic_prefork_reuseport)]
KERNEL_SOURCES = (
    "Linux sources: net/ipv4/inet_connection_sock.c inet_csk_wait_for_connect() with "
    "prepare_to_wait_exclusive(); net/core/sock.c sock_def_readable(); kernel/sched/wait.c "
    "__wake_up_common(); fs/eventpoll.c ep_ptable_queue_proc(), ep_poll_callback(); "
    "net/ipv4/inet_hashtables.c inet_lookup_reuseport(); net/core/sock_reuseport.c "
    "reuseport_select_sock_by_hash() and reciprocal_scale().")


def wait_queues_svg():
    svg = Svg(2 * W + 24, "Whom the kernel wakes when a connection arrives")
    svg.text(8, 20, "Whom the kernel wakes when a connection arrives", "t")
    y = 32
    for row in (PANELS[:2], PANELS[2:]):
        bottoms = []
        for k, (title, draw) in enumerate(row):
            svg.ox, svg.oy = 8 + k * (W + 8), y
            svg.text(8, 20, title, "b")
            bottoms.append(draw(svg) + 10)
        for k in range(2):
            svg.ox = 8 + k * (W + 8)
            svg.rect(0, 0, W, max(bottoms), "frame", rx=6)
        svg.ox, svg.oy, y = 0, 0, y + max(bottoms) + 8
    svg.height = svg.para(8, y + 14, KERNEL_SOURCES, svg.width - 16, "c") + 10
    return svg.render()


# --- main --------------------------------------------------------------------------------------

def files(table):
    """{file name: SVG text} for every diagram: each design of the table, then those drawn before
    the table lists them, then the three others."""
    unp = {d["name"]: d["unp"] for d in table}
    names = [d["name"] for d in table] + [n for n in PICTURES if n not in unp]
    out = {f"design-{n}.svg": design_svg(n, unp.get(n)) for n in names}
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
        out = files(design_table.load(server))
    except (ValueError, KeyError) as e:
        sys.exit(f"diagrams.py: {e}")
    os.makedirs(args.out, exist_ok=True)
    for name, text in out.items():
        with open(os.path.join(args.out, name), "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
    print(f"wrote {len(out)} diagrams into {os.path.relpath(args.out)}")


if __name__ == "__main__":
    main()
