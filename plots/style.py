"""One colour and one marker per design, the same in every chart, and the charts' type sizes.

A design's colour says its family, read from the design table (`tcplab-server --list --json`,
results.json's `designs`): chapter 30's fork and iterative servers in greys and black, process
pools in blues, thread designs in greens, event loops in oranges and reds, io_uring in
purples. The designs known today have a fixed colour (DESIGNS); a name not in it gets a
deterministic one from the free colours of its family (`styles`), so no two designs of one chart
share a colour. The variants of one design (prefork-fdpass/least-loaded, /round-robin,
/first-free) share the design's colour and differ in marker, hatch and dash.

    from plots import style
    s = style.styles(["fork", "prefork", "prefork-fdpass/round-robin"], results["designs"])
    ax.plot(xs, ys, **s["fork"].line())        # colour, marker, dash
    ax.barh(y, v, **s["prefork"].bar())        # colour and hatch

Type sizes: REPORT.md shows a chart DISPLAY_PX wide at most, so a chart of W inches at DPI is
shown at min(1, DISPLAY_PX / (W * DPI)) of its size; `font_pt` gives the size to ask for so a
text shows at `points` or more, and `legible_pt` checks a drawn figure (tests use it).
"""

import colorsys
import re
import zlib
from dataclasses import dataclass

DPI = 110
DISPLAY_PX = 900  # the width GitHub's Markdown column shows an image at, at most
MIN_PT = 9.0  # the smallest type a chart shows at that width

# name -> (family, colour, marker). Families hold colours of related hue; inside one family
# the colours differ in lightness and the markers differ too.
DESIGNS = {
    "iterative": ("serial", "#111111", "X"),
    "fork": ("serial", "#8a8a8a", "P"),
    "prefork": ("pool", "#1f77b4", "o"),
    "prefork-fcntl": ("pool", "#17becf", "s"),
    "prefork-mutex": ("pool", "#0b2e6b", "D"),
    "prefork-fdpass": ("pool", "#7ab0e0", "^"),
    "thread": ("thread", "#2ca02c", "o"),
    "prethread-mutex": ("thread", "#9acd32", "s"),
    "prethread-dispatch": ("thread", "#0b5d1e", "D"),
    "epoll": ("loop", "#ff7f0e", "o"),
    "prefork-reuseport": ("loop", "#8c564b", "s"),
    "prefork-epoll-exclusive": ("loop", "#d62728", "D"),
    "loop-per-thread": ("loop", "#e377c2", "v"),
    "nginx": ("loop", "#bcbd22", "*"),
    "uring": ("uring", "#9467bd", "o"),
    "uring-msgring": ("uring", "#4b1f6f", "s"),
}

# Spare colours per family for designs not in DESIGNS, then a last pool any family may use.
SPARE = {
    "serial": ["#555555", "#bdbdbd"],
    "pool": ["#3f5fbf", "#08519c", "#6baed6"],
    "thread": ["#41ab5d", "#006d2c", "#78c679"],
    "loop": ["#fdae6b", "#a50f15", "#f16913"],
    "uring": ["#807dba", "#c2a5cf", "#6a51a3"],
}
LAST = ["#008080", "#800000", "#808000", "#ff1493", "#00ced1", "#b8860b", "#4b0082",
        "#2f4f4f"]
MARKERS = ["o", "s", "D", "^", "v", "<", ">", "p", "h", "*", "X", "P"]
# The k-th variant of one design (its dispatch policy in the table's order).
VARIANT_MARKERS = ["^", "v", "<", ">", "p"]
VARIANT_HATCHES = ["", "//", "..", "xx", "\\\\"]
VARIANT_DASHES = ["-", "--", ":", "-."]


@dataclass(frozen=True)
class Style:
    """How one design or variant is drawn."""
    color: str
    marker: str
    hatch: str = ""
    dash: str = "-"

    def line(self):
        """Keyword arguments of Axes.plot / errorbar for this design's line."""
        return {"color": self.color, "marker": self.marker, "ls": self.dash}

    def bar(self):
        """Keyword arguments of Axes.bar / barh: colour and hatch, white hatch lines."""
        return {"color": self.color, "hatch": self.hatch or None,
                "edgecolor": "white" if self.hatch else self.color}


def design_of(variant):
    """The design of a variant name: 'prefork-fdpass/round-robin' -> 'prefork-fdpass'; nginx's
    variants ('nginx (sendfile, …)', 'nginx-tuned') -> 'nginx'."""
    name = variant.split("/", 1)[0].strip()
    if name.startswith("nginx"):
        return "nginx"
    return name


def family(name, table=None):
    """The family of a design: from DESIGNS if known, else from its row of the design table
    (`table`: the list of `--list --json` rows), else from its name."""
    if name in DESIGNS:
        return DESIGNS[name][0]
    row = next((r for r in table or [] if r.get("name") == name), {})
    if "uring" in name:
        return "uring"
    if row.get("event_loop") or "epoll" in name or "loop" in name:
        return "loop"
    if row.get("workers") == "threads" or "thread" in name:
        return "thread"
    if row.get("pooled") or name.startswith("pre"):
        return "pool"
    return "serial"


def _fallback(name, fam, taken):
    """A colour for an unknown design: the first free one of its family's spares, then of
    LAST, starting at a place given by the name's CRC (deterministic, and mostly the same
    from chart to chart)."""
    for pool in (SPARE.get(fam, []), LAST):
        start = zlib.crc32(name.encode()) % len(pool)
        for k in range(len(pool)):
            c = pool[(start + k) % len(pool)]
            if c not in taken:
                return c
    hue = zlib.crc32(name.encode()) / 2 ** 32  # every spare taken: walk the hue circle
    for k in range(256):
        r, g, b = colorsys.hsv_to_rgb((hue + 0.618034 * k) % 1.0, 0.75, 0.8 - 0.25 * (k % 2))
        c = f"#{round(r * 255):02x}{round(g * 255):02x}{round(b * 255):02x}"
        if c not in taken:
            return c
    raise ValueError(f"no free colour left for {name}")


def styles(variants, table=None):
    """{variant: Style} for the variants of one chart. Variants of one design share its
    colour; no two designs share one."""
    variants = list(dict.fromkeys(variants))
    by_design = {}
    for v in variants:
        by_design.setdefault(design_of(v), []).append(v)
    colors = {d: DESIGNS[d][1] for d in by_design if d in DESIGNS}
    markers = {d: DESIGNS[d][2] for d in by_design if d in DESIGNS}
    for d in sorted(set(by_design) - set(colors)):
        colors[d] = _fallback(d, family(d, table), set(colors.values()))
        markers[d] = MARKERS[zlib.crc32(d.encode()) % len(MARKERS)]
    out = {}
    for d, vs in by_design.items():
        if len(vs) == 1 and "/" not in vs[0]:
            out[vs[0]] = Style(colors[d], markers[d])
            continue
        # the k-th variant: the design's own marker first, so its default variant looks the
        # same as the design does in a chart of its own
        own = [markers[d]] + [m for m in VARIANT_MARKERS if m != markers[d]]
        for v, k in _variant_index(d, vs, table).items():
            out[v] = Style(colors[d], own[k % len(own)], VARIANT_HATCHES[k % len(VARIANT_HATCHES)],
                           VARIANT_DASHES[k % len(VARIANT_DASHES)])
    return out


def _variant_index(design, variants, table):
    """{variant: k} for the variants of one design in one chart, stable from chart to chart: a
    policy the design table lists keeps its place there (the first, the default, is 0); plain
    names (nginx, "nginx (sendfile, …)") count from 0 in their order; a policy the table does
    not list (prefork-epoll-exclusive/no-exclusive, a mode beside the plain design) follows
    both, so no two variants of a chart share a k."""
    row = next((r for r in table or [] if r.get("name") == design), {})
    known = list(row.get("dispatch_policies") or [])
    if not known and design == "prefork-fdpass":
        known = ["least-loaded", "round-robin", "first-free"]
    plain = [v for v in variants if "/" not in v]
    extra = sorted({v.split("/", 1)[1] for v in variants if "/" in v} - set(known))
    start = max(len(known), len(plain))
    out = {v: k for k, v in enumerate(plain)}
    for v in variants:
        if "/" in v:
            p = v.split("/", 1)[1]
            out[v] = known.index(p) if p in known else start + extra.index(p)
    return out


def style(variant, table=None):
    """The Style of one variant, as `styles` gives it in a chart of its own."""
    return styles([variant], table)[variant]


def scale(fig):
    """The fraction of its size at which REPORT shows this figure (1 when it fits)."""
    return min(1.0, DISPLAY_PX / (fig.get_figwidth() * DPI))


def font_pt(width_in, points=MIN_PT):
    """The type size to ask for in a figure `width_in` inches wide so that it shows at
    `points` or more in REPORT."""
    return points / min(1.0, DISPLAY_PX / (width_in * DPI))


def legible_pt(fig):
    """The smallest size, in points as REPORT shows it, of any visible non-empty text of a
    drawn figure (ticks, labels, titles, legends, annotations)."""
    fig.canvas.draw()
    sizes = [t.get_fontsize() for t in fig.findobj(lambda a: hasattr(a, "get_text")
                                                   and hasattr(a, "get_fontsize"))
             if t.get_visible() and t.get_text().strip() and _shown(t)]
    return min(sizes) * scale(fig) if sizes else None


def _shown(text):
    """Whether a text artist lies inside its figure (tick labels outside the view are kept by
    matplotlib but not drawn)."""
    fig = text.get_figure()
    try:
        box = text.get_window_extent()
    except (RuntimeError, ValueError):
        return False
    w, h = fig.bbox.width, fig.bbox.height
    return box.x1 > 0 and box.y1 > 0 and box.x0 < w and box.y0 < h and box.width > 0


def rc(width_in, base=MIN_PT + 1):
    """matplotlib rc settings for a figure `width_in` inches wide: every default type size at
    `base` points or more as REPORT shows it."""
    f = font_pt(width_in, base)
    return {"font.size": f, "axes.titlesize": f * 1.1, "axes.labelsize": f,
            "xtick.labelsize": f * 0.95, "ytick.labelsize": f * 0.95,
            "legend.fontsize": f * 0.95, "figure.titlesize": f * 1.1,
            "legend.title_fontsize": f}


def save(fig, out_dir, name):
    """Write NAME.png and NAME.svg of a finished figure, close it and return NAME: the one way
    every chart module writes a chart."""
    import os

    import matplotlib.pyplot as plt

    if fig.get_layout_engine() is None:
        fig.tight_layout()
    for ext in ("png", "svg"):
        fig.savefig(os.path.join(out_dir, f"{name}.{ext}"), dpi=DPI,
                    metadata={"Date": None} if ext == "svg" else None)
    plt.close(fig)
    return name


def figure(width_in, height_in, **subplots):
    """plt.subplots at this size, with the type sizes of `rc` for its width."""
    import matplotlib
    import matplotlib.pyplot as plt

    matplotlib.rcParams.update(rc(width_in))
    matplotlib.rcParams["svg.hashsalt"] = "tcplab"
    return plt.subplots(figsize=(width_in, height_in), layout="constrained", **subplots)


def wrap(name, width=18):
    """A design's name broken after a '/' (first) or a '-' so each line holds at most about
    `width` characters (a small multiple's title must not run into its neighbour's)."""
    lines = []
    for seg in re.findall(r"[^/]+/?", name):  # 'uring-msgring/' and 'least-loaded'
        parts = [seg] if len(seg) <= width else re.findall(r"[^-]+-?", seg)
        for part in parts:
            if lines and len(lines[-1]) + len(part) <= width and not lines[-1].endswith("/"):
                lines[-1] += part
            else:
                lines.append(part)
    return "\n".join(lines)


def small_multiples(names, ylabels=("",), cols=5, width_in=11, panel_in=2.0, head_in=1.6,
                    fig=None):
    """One panel per name, `cols` names to a row, and for each name one panel per y label, one
    above the other (e.g. throughput over p99), the name as the top one's title, the y labels
    on the left column, all sharing x (give them one y range too). Returns (fig, {(block, name): ax}), block the
    index into `ylabels`; the panels left over are hidden. With `fig` (a figure or subfigure),
    the panels fill it instead of a new figure."""
    blocks = len(ylabels)
    cols = min(cols, len(names))
    rows = -(-len(names) // cols)
    grid = {"nrows": blocks * rows, "ncols": cols, "squeeze": False, "sharex": True}
    if fig is None:
        fig, axes = figure(width_in, panel_in * blocks * rows + head_in, **grid)
    else:
        axes = fig.subplots(**grid)
    out = {}
    for k, name in enumerate(names):
        r, c = divmod(k, cols)
        for b in range(blocks):
            ax = out[b, name] = axes[r * blocks + b][c]
            ax.tick_params(which="both", labelbottom=b == blocks - 1, labelleft=c == 0)
            ax.grid(alpha=0.3)
            if c == 0:
                ax.set_ylabel(ylabels[b])
        out[0, name].set_title(wrap(name, 80 // cols), pad=3)
    used = set(map(id, out.values()))
    for ax in axes.flat:
        if id(ax) not in used:
            ax.axis("off")
    return fig, out


def overlaps(fig):
    """The pairs of texts of a drawn figure whose boxes overlap (tick labels drawn, titles, axis
    labels, annotations, legend entries), or that run past the figure's edge: [(text, text)]; a chart
    read at a glance has none."""
    fig.canvas.draw()
    texts = list(fig.texts) + [t for lg in fig.legends for t in lg.get_texts()]
    for ax in fig.axes:
        if not ax.axison:
            continue
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += ax.texts + ([*ax.get_legend().get_texts()] if ax.get_legend() else [])
        for axis in (ax.xaxis, ax.yaxis):
            for tick in axis._update_ticks():  # the ticks drawn: those inside the view
                texts += [t for t in (tick.label1, tick.label2) if t.get_visible()]
    boxes = [(t, t.get_window_extent()) for t in texts if t.get_visible()
             and t.get_text().strip() and _shown(t)]
    w, h = fig.bbox.width, fig.bbox.height
    out = [(t.get_text(), "the figure's edge") for t, b in boxes
           if b.x0 < -0.5 or b.y0 < -0.5 or b.x1 > w + 0.5 or b.y1 > h + 0.5]
    for i, (a, ba) in enumerate(boxes):
        for b, bb in boxes[i + 1:]:
            if (min(ba.x1, bb.x1) - max(ba.x0, bb.x0) > 0.5
                    and min(ba.y1, bb.y1) - max(ba.y0, bb.y0) > 0.5):
                out.append((a.get_text(), b.get_text()))
    return out
