"""plots/style.py and the charts read at a glance (issue 23 item 5), on a synthetic run of five
interleaved repetitions: one colour per design and family, variants in their design's colour,
fork on a scale of its own, labels clear of whiskers, no point that is not a latency drawn as
one, p99.9 only where enough samples exist, the herd's slope drawn, small multiples, every
text at 9 pt or more as REPORT shows it, and the same bytes from the same data."""

import math
import os
import random
import sys
import tempfile
import unittest
from unittest import mock

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "bench"))
sys.path.insert(0, ROOT)

from tcplab_suite import stats  # noqa: E402

# The design table as `tcplab-server --list --json` gives it (the fields the charts read).
TABLE = [
    {"name": "iterative", "workers": "none", "pooled": False, "event_loop": False},
    {"name": "fork", "workers": "processes", "pooled": False, "event_loop": False},
    {"name": "prefork", "workers": "processes", "pooled": True, "event_loop": False},
    {"name": "prefork-fcntl", "workers": "processes", "pooled": True, "event_loop": False},
    {"name": "prefork-mutex", "workers": "processes", "pooled": True, "event_loop": False},
    {"name": "prefork-fdpass", "workers": "processes", "pooled": True, "event_loop": False,
     "dispatch_policies": ["least-loaded", "round-robin", "first-free"]},
    {"name": "thread", "workers": "threads", "pooled": False, "event_loop": False},
    {"name": "prethread-mutex", "workers": "threads", "pooled": True, "event_loop": False},
    {"name": "prethread-dispatch", "workers": "threads", "pooled": True, "event_loop": False},
    {"name": "epoll", "workers": "none", "pooled": False, "event_loop": True},
    {"name": "prefork-reuseport", "workers": "processes", "pooled": True, "event_loop": True},
    {"name": "prefork-epoll-exclusive", "workers": "processes", "pooled": True,
     "event_loop": True},
    {"name": "loop-per-thread", "workers": "threads", "pooled": True, "event_loop": True},
]
VARIANTS = ["iterative", "fork", "prefork", "prefork-fcntl", "prefork-mutex",
            "prefork-fdpass/least-loaded", "prefork-fdpass/round-robin",
            "prefork-fdpass/first-free", "thread", "prethread-mutex", "prethread-dispatch",
            "epoll", "prefork-reuseport", "prefork-epoll-exclusive", "loop-per-thread"]
# CPU µs per connection: fork far above the rest, as measured.
CPU = {v: 30.0 + 2 * k for k, v in enumerate(VARIANTS)}
CPU.update(iterative=25.0, fork=210.0, thread=48.0)
REPS = 5


def _summary(runs):
    keys = runs[0]["figures"]
    return {n: stats.summary([r["figures"][n] for r in runs]) for n in keys}


def _cdf(p50):
    """A latency CDF: [[µs, fraction ≤ µs]], log-normal-ish with a long tail."""
    return [[p50 * 2 ** (k / 4), min(1.0, 1 - 0.5 * 0.6 ** k)] for k in range(40)]


def unp_entry(rng, variant, requests=3000, split=False):
    base = {"cpu_us_per_conn": CPU[variant], "cpu_user_us_per_conn": CPU[variant] * 0.3,
            "p50_us": 120.0, "p99_us": 900.0 + CPU[variant] * 20, "p99_9_us": 5000.0,
            "ctxt_per_conn": 2.0, "vol_ctxt_per_conn": 1.6, "invol_ctxt_per_conn": 0.4,
            "conn_per_s": 9000.0}
    if split:
        base.update(server_cpu_user_share=0.2, server_cpu_system_share=0.6,
                    server_cpu_softirq_share=0.2)
    runs = []
    for k in range(REPS):
        runs.append({"rep": k + 1, "server": {"requests": requests},
                     "figures": {n: v * rng.uniform(0.9, 1.1) for n, v in base.items()}})
    design, _, dispatch = variant.partition("/")
    return {"variant": variant, "design": design, "dispatch": dispatch or None, "workers": 15,
            "clients": 5, "runs": runs, "summary": _summary(runs),
            "latency_cdf": _cdf(120.0), "workers_per_slot": [200] * 15}


def results(requests=3000, split=False, seed=1):
    rng = random.Random(seed)
    unp = [unp_entry(rng, v, requests, split) for v in VARIANTS]
    base = {r["rep"]: r["figures"]["cpu_us_per_conn"] for r in unp[0]["runs"]}
    for e in unp[1:]:
        e["process_control_us_per_conn"] = stats.summary(
            [r["figures"]["cpu_us_per_conn"] - base[r["rep"]] for r in e["runs"]])
    herd, conc = [], []
    for k, d in enumerate(["prefork", "prefork-fcntl", "prefork-mutex", "prethread-mutex"]):
        for w in (15, 30, 60, 90, 120):
            runs = [{"rep": r + 1, "figures": {"cpu_us_per_conn": 30 + 0.05 * k * w
                                               + rng.uniform(-1, 1)}} for r in range(REPS)]
            herd.append({"variant": d, "design": d, "workers": w, "runs": runs,
                         "summary": _summary(runs)})
    for v in VARIANTS:
        for c in (1, 4, 16, 64):
            runs = [{"rep": r + 1, "figures": {"conn_per_s": 3000 * math.log2(2 * c)
                                               * rng.uniform(0.9, 1.1),
                                               "p99_us": 500.0 * c * rng.uniform(0.9, 1.1)}}
                    for r in range(REPS)]
            conc.append({"variant": v, "design": v.split("/")[0], "clients": c, "runs": runs,
                         "summary": _summary(runs)})
    params = {"clients": 5, "connections": 5000, "requests_per_conn": 1, "bytes": 4000,
              "workers": 15, "repeat": REPS}
    return {"config": {"quick": False}, "pinning": {"server": "0", "load": "1"},
            "designs": TABLE,
            "workloads": {
                "unp": {"kind": "table", "params": params, "baseline": "iterative",
                        "entries": unp},
                "herd": {"kind": "sweep", "params": dict(params, pool_sizes=[15, 30, 60, 90, 120]),
                         "entries": herd},
                "concurrency": {"kind": "sweep", "entries": conc,
                                "params": dict(params, levels=[1, 4, 16, 64], duration_s=2)}}}


RATES = [1000, 3400, 12000, 16000, 40000]  # the narrow steps of a real grid at the top


def style_overlaps(fig):
    from plots import style
    return style.overlaps(fig)


def latency_results():
    """A `latency` workload: three designs over four rates, the dearest two failing to keep
    the schedule at the top rates."""
    def curve(rate, status, p99):
        return {"rate": rate, "n": 1, "status": status,
                "summary": {"p50_us": stats.summary([p99 / 5]), "p99_us": stats.summary([p99])}}
    rates = RATES
    entries = []
    for name, bad in (("epoll", 40000), ("prefork", 12000), ("fork", 3400)):
        entries.append({"variant": name, "design": name, "mode": "conn", "rates": rates,
                        "points": [],
                        "curve": [curve(r, "ok" if r < bad else "over_capacity",
                                        300.0 * (1 + r / bad) if r < bad else 1e6)
                                  for r in rates],
                        "capacity": {"bracket": [max(r for r in rates if r < bad), bad],
                                     "censored": None, "searches": [],
                                     "summary": stats.summary([max(r for r in rates
                                                                   if r < bad)])}})
    return {"config": {"quick": False}, "designs": TABLE, "workloads": {"latency": {
        "kind": "latency", "entries": entries, "spectrum_rate": None,
        "params": {"modes": ["conn"], "rates": {"conn": rates}, "slo_us": 1000.0,
                   "repeat": 1, "quick": False}}}}


class Capture:
    """Patches style.save: keeps each figure open (name -> figure) instead of writing it."""

    def __init__(self):
        self.figs = {}

    def __enter__(self):
        from plots import style

        def keep(fig, out_dir, name):
            self.figs[name] = fig
            return name
        self.patch = mock.patch.object(style, "save", side_effect=keep)
        self.patch.start()
        return self

    def __exit__(self, *exc):
        import matplotlib.pyplot as plt
        self.patch.stop()
        for f in self.figs.values():
            plt.close(f)


class Style(unittest.TestCase):
    def test_every_known_design_has_its_own_colour_and_a_family_hue(self):
        from plots import style
        names = [r["name"] for r in TABLE] + ["nginx", "uring", "uring-msgring"]
        s = style.styles(names, TABLE)
        colours = [s[n].color for n in names]
        self.assertEqual(len(set(colours)), len(names))
        self.assertGreaterEqual(len(set(colours)), 16)
        # the fixed mapping agrees with what the design table's flags give a new name
        renamed = [dict(row, name=f"design-{k}") for k, row in enumerate(TABLE)]
        for k, row in enumerate(TABLE):
            self.assertEqual(style.family(f"design-{k}", renamed), style.DESIGNS[row["name"]][0],
                             row["name"])

    def test_variants_share_their_design_colour_and_differ_in_marker_and_hatch(self):
        from plots import style
        fd = [v for v in VARIANTS if v.startswith("prefork-fdpass/")]
        s = style.styles(VARIANTS, TABLE)
        self.assertEqual({s[v].color for v in fd}, {style.DESIGNS["prefork-fdpass"][1]})
        self.assertEqual(len({s[v].marker for v in fd}), 3)
        self.assertEqual(len({s[v].hatch for v in fd}), 3)
        # the same policy keeps its marker whichever others the chart shows
        self.assertEqual(style.styles(fd[1:], TABLE)[fd[2]], s[fd[2]])
        self.assertEqual(len({s[v].color for v in VARIANTS}), 13)

    def test_a_design_beside_its_own_mode_keeps_its_marker_and_the_mode_differs(self):
        from plots import style
        names = ["prefork-epoll-exclusive", "prefork-epoll-exclusive/no-exclusive"]
        s = style.styles(names, TABLE)
        alone = style.style("prefork-epoll-exclusive", TABLE)
        self.assertEqual(s[names[0]], alone, "the same look as in a chart of its own")
        self.assertEqual(s[names[1]].color, alone.color)
        self.assertNotEqual(s[names[1]].marker, alone.marker)
        self.assertNotEqual(s[names[1]].dash, alone.dash)
        # nginx's plain variants differ from one another, the first looks like nginx alone
        ng = style.styles(["nginx", "nginx (sendfile, open_file_cache)", "nginx-tuned"])
        self.assertEqual(ng["nginx"], style.style("nginx"))
        self.assertEqual(len({x.marker for x in ng.values()}), 3)

    def test_an_unknown_design_gets_a_deterministic_free_colour_of_its_family(self):
        from plots import style
        a = style.styles(["epoll", "uring", "uring-sqpoll", "prethread-steal"], TABLE)
        b = style.styles(["prethread-steal", "uring-sqpoll", "uring", "epoll"], TABLE)
        self.assertEqual(a, b)
        self.assertIn(a["uring-sqpoll"].color, style.SPARE["uring"])
        self.assertIn(a["prethread-steal"].color, style.SPARE["thread"])
        self.assertEqual(len({x.color for x in a.values()}), 4)
        # more unknown names than spares: still no two alike
        many = [f"uring-{k}" for k in range(12)] + ["uring"]
        self.assertEqual(len({x.color for x in style.styles(many).values()}), len(many))


class Charts(unittest.TestCase):
    def draw(self, fn, data, *args):
        """Draws one chart, checks its type sizes and returns its name."""
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            name = fn(data, d, *args)
            self.check_legible(name, cap.figs[name])
            return name

    def check_legible(self, name, fig):
        from plots import style
        pt = style.legible_pt(fig)
        self.assertGreaterEqual(pt, style.MIN_PT - 1e-6, f"{name}: text at {pt:.1f} pt")
        self.assertEqual(style.overlaps(fig), [], name)

    def test_every_chart_of_the_run_is_legible_and_no_two_texts_overlap(self):
        import plots.charts as C
        data = results(split=True)
        data["micro"] = {"benchmarks": [{"name": f"BM_Thing/{k}/real_time", "real_us": 10.0 ** k,
                                         "statistic": "median"} for k in range(-2, 4)]}
        for fn in (C.cpu_per_connection, C.process_control, C.latency, C.herd,
                   C.concurrency, C.context_switches, C.worker_distribution,
                   C.microbenchmarks):
            with self.subTest(chart=fn.__name__):
                self.assertIsNotNone(self.draw(fn, data))

    def test_process_control_whose_interval_holds_zero_reads_about_zero(self):
        import plots.charts as C
        data = results()
        e = data["workloads"]["unp"]["entries"][2]
        e["process_control_us_per_conn"] = stats.summary([-2.0, -1.5, -0.9, -0.4, 0.3, 0.8])
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.process_control(data, d)
            texts = [t.get_text() for fig in cap.figs.values() for ax in fig.axes
                     for t in ax.texts]
        self.assertIn("≈ 0", texts)
        self.assertFalse([t for t in texts if t.startswith("-")], texts)

    def test_latency_vs_load_with_two_grids_labels_no_rate_over_another(self):
        from plots import latency_charts as L
        data = latency_results()
        w = data["workloads"]["latency"]
        keep = [dict(e, mode="keepalive") for e in w["entries"]]
        w["entries"] += keep
        w["params"].update(modes=["conn", "keepalive"],
                           rates={"conn": RATES, "keepalive": [5000, 20000, 45000, 200000]})
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            L.load_curves(data, d, "latency")
            fig = cap.figs["latency-1-latency-vs-load"]
            self.check_legible("latency-1", fig)
            self.assertEqual(style_overlaps(fig), [])
            self.assertEqual(len([ax for ax in fig.axes if ax.axison]), 6)

    def test_soak_draws_each_design_in_its_own_style(self):
        import plots.charts as C
        samples = [{"connections": n, "fds": 12, "rss_kb": 4096 + n / 1000} for n in
                   (0, 250000, 500000, 1000000)]
        data = {"designs": TABLE, "workloads": {"soak": {"designs": [
            {"design": d, "samples": samples} for d in ("prefork-fdpass", "prethread-dispatch")]}}}
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            self.assertEqual(C.soak(data, d), "faults-6-soak")
            fig = cap.figs["faults-6-soak"]
            self.check_legible("soak", fig)
            colours = [ln.get_color() for ln in fig.axes[0].get_lines()]
            rss = fig.axes[1].get_lines()[0].get_ydata()  # the gain since the first sample
            self.assertEqual((rss[0], round(rss[-1] * 1024)), (0, 1000))
            self.assertEqual(style_overlaps(fig), [])
            legend = fig.axes[1].get_legend().get_window_extent()
            self.assertGreater(legend.x0, fig.axes[1].get_window_extent().x1, "not on the data")
        self.assertEqual(colours, [C.style.DESIGNS["prefork-fdpass"][1],
                                   C.style.DESIGNS["prethread-dispatch"][1]])

    def test_fork_gets_a_scale_of_its_own_and_labels_clear_every_whisker(self):
        import plots.charts as C
        for split in (False, True):
            with Capture() as cap, tempfile.TemporaryDirectory() as d:
                C.cpu_per_connection(results(split=split), d)
                fig = cap.figs["1-cpu-per-connection"]
                fig.canvas.draw()
                main, far = fig.axes[0], fig.axes[2]
                self.assertEqual([t.get_text() for t in far.get_yticklabels()], ["fork"])
                self.assertNotIn("fork", [t.get_text() for t in main.get_yticklabels()])
                for ax in (main, far):
                    whiskers = [seg for c in ax.collections for seg in c.get_segments()]
                    self.assertTrue(whiskers)
                    right = max(ax.transData.transform(seg)[:, 0].max() for seg in whiskers)
                    labels = [t for t in ax.texts if t.get_text().strip()]
                    self.assertEqual(len(labels), len(ax.get_yticks()))
                    for t in labels:
                        self.assertGreater(t.get_window_extent().x0, right, t.get_text())

    def test_only_a_design_past_a_wide_gap_gets_a_scale_of_its_own(self):
        import plots.charts as C

        def entries(values):
            return [{"variant": f"d{k}", "summary": {"x": {"median": v}}}
                    for k, v in enumerate(values)]
        far = C._outliers(entries([25, 30, 33, 35, 41, 48, 210]), "x")
        self.assertEqual([e["summary"]["x"]["median"] for e in far], [210])
        # process control: thread at 23 over pools of 3 to 11 is a step, not a gap of 2.5x
        far = C._outliers(entries([1.2, 2.9, 4.3, 5.1, 5.7, 6.6, 9.2, 10.9, 23.3, 185.2]), "x")
        self.assertEqual([e["summary"]["x"]["median"] for e in far], [185.2])
        self.assertEqual(C._outliers(entries([20, 30, 40, 50, 60]), "x"), [])
        self.assertEqual(C._outliers(entries([20, 200]), "x"), [])  # too few to compare

    def test_whiskers_are_each_entrys_own_interval(self):
        import plots.charts as C
        data = results()
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.cpu_per_connection(data, d)
            main = cap.figs["1-cpu-per-connection"].axes[0]
            segs = [seg for c in main.collections for seg in c.get_segments()
                    if abs(seg[0][1] - seg[1][1]) < 1e-9]  # the horizontal whiskers
        es = [e for e in data["workloads"]["unp"]["entries"] if e["variant"] != "fork"]
        got = sorted((round(s[0][1]), round(min(s[:, 0]), 6), round(max(s[:, 0]), 6))
                     for s in segs)
        want = [(i, round(e["summary"]["cpu_us_per_conn"]["ci95"][0], 6),
                 round(e["summary"]["cpu_us_per_conn"]["ci95"][1], 6)) for i, e in enumerate(es)]
        self.assertEqual(got, want)

    def test_p999_is_drawn_only_where_a_run_has_enough_requests(self):
        import plots.charts as C
        for requests, shown in ((3000, ["p50", "p99"]), (20000, ["p50", "p99", "p99.9"])):
            with Capture() as cap, tempfile.TemporaryDirectory() as d:
                C.latency(results(requests=requests), d)
                ax = cap.figs["3-latency"].axes[0]
                self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()], shown)
                tail = cap.figs["3-latency"].axes[1]
                self.assertEqual(tail.get_yscale(), "log")
                self.assertEqual(ax.get_xscale(), "log")
                self.assertFalse(ax.patches, "no bars on a log axis")

    def test_p999_is_left_out_only_for_the_design_with_too_few_requests_and_says_which(self):
        import plots.charts as C
        data = results(requests=20000)
        es = data["workloads"]["unp"]["entries"]
        for r in es[1]["runs"]:  # fork: 3,000 requests a run
            r["server"]["requests"] = 3000
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.latency(data, d)
            ax = cap.figs["3-latency"].axes[0]
            p999 = ax.containers[2]
            self.assertEqual(sorted(p999.lines[0].get_ydata()),
                             [i for i in range(len(es)) if i != 1])
            self.assertIn("p99.9 for fork (under 10,000", ax.get_xlabel())
            self.assertEqual(style_overlaps(cap.figs["3-latency"]), [])

    def test_without_a_request_count_every_percentile_is_drawn_and_the_title_says_so(self):
        import plots.charts as C
        data = results(requests=3000)
        for e in data["workloads"]["unp"]["entries"]:
            for r in e["runs"]:
                del r["server"]
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.latency(data, d)
            ax = cap.figs["3-latency"].axes[0]
            self.assertEqual([t.get_text() for t in ax.get_legend().get_texts()],
                             ["p50", "p99", "p99.9"])
            self.assertIn("not recorded", ax.get_title(loc="left"))

    def test_the_herd_slope_is_drawn_for_every_design_with_its_interval(self):
        import plots.charts as C
        data = results()
        f = C.findings.herd(dict(data["workloads"]["herd"], name="herd"), "prefork-mutex", True)
        self.assertAlmostEqual(f["estimate"], 0.10, delta=0.02)  # 0.05 * k with k = 2
        self.assertIsNotNone(f["interval"])
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.herd(data, d)
            fig = cap.figs["5-herd"]
            self.assertEqual(style_overlaps(fig), [])
            shown = [ax for ax in fig.axes if ax.axison]
            self.assertEqual(len(shown), 4, "a panel per design")
            for ax in shown:
                fits = [ln for ln in ax.get_lines() if len(ln.get_xdata()) == 2
                        and ln.get_linestyle() != "None"]
                self.assertEqual(len(fits), 1)
                self.assertIsNone(ax.get_legend())
                self.assertIn("µs/worker\n[", " ".join(t.get_text() for t in ax.texts))
            mutex = next(ax for ax in shown if ax.get_title() == "prefork-mutex")
            self.assertIn(f"{f['estimate']:+.3g} µs/worker", mutex.texts[0].get_text())
            line = next(ln for ln in mutex.get_lines() if len(ln.get_xdata()) == 2)
            (x0, x1), (y0, y1) = line.get_xdata(), line.get_ydata()
            self.assertAlmostEqual((y1 - y0) / (x1 - x0), f["estimate"], 9)  # the verdict's
            self.assertEqual({ax.get_ylim() for ax in shown}, {shown[0].get_ylim()},
                             "one scale for every panel")

    def test_concurrency_is_small_multiples_with_intervals_and_no_legend_on_the_data(self):
        import plots.charts as C
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            C.concurrency(results(), d)
            fig = cap.figs["6-concurrency"]
            shown = [ax for ax in fig.axes if ax.axison]
            self.assertEqual(len(shown), 2 * len(VARIANTS))
            self.assertTrue(all(ax.get_legend() is None for ax in fig.axes))
            self.assertTrue(all(ax.collections for ax in shown), "an interval band each")

    def test_latency_vs_load_never_draws_a_point_that_is_not_a_latency(self):
        from plots import latency_charts as L
        data = latency_results()
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            L.load_curves(data, d, "latency")
            fig = cap.figs["latency-1-latency-vs-load"]
            self.check_legible("latency-1", fig)
            self.assertEqual(style_overlaps(fig), [])
            shown = [ax for ax in fig.axes if ax.axison]
            self.assertEqual([ax.get_title() for ax in shown], ["epoll", "prefork", "fork"])
            # fork fails at 3,400 .. 40,000 (3 rates), prefork at 12,000 and 40,000, epoll at
            # 40,000: each panel crosses its own rates on the x axis, and draws no latency there
            for ax, bad in zip(shown, (40000, 12000, 3400)):
                lines = [ln for ln in ax.get_lines() if ln.get_transform() == ax.transData]
                pts = [(x, y) for ln in lines for x, y in zip(ln.get_xdata(), ln.get_ydata())
                       if ln.get_color() != "#d0d0d0"]  # not the other designs' grey
                self.assertTrue(pts)
                self.assertLess(max(y for _, y in pts), 1e6, "over capacity drawn as a latency")
                self.assertLess(max(x for x, _ in pts), bad)
                crosses = [ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_marker() == "x"]
                self.assertEqual(crosses, [r for r in RATES if r >= bad])
                knee = [p for p in ax.patches]  # the band between passed and failed
                self.assertEqual(len(knee), 1)
                self.assertEqual(knee[0].get_xy()[2][0], bad)

    def test_capacity_is_points_with_whiskers_on_the_log_axis_not_bars(self):
        from plots import latency_charts as L
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            L.capacity(latency_results(), d, "latency")
            fig = cap.figs["latency-3-capacity-at-slo"]
            self.check_legible("latency-3", fig)
            ax = fig.axes[0]
            self.assertEqual(ax.get_xscale(), "log")
            self.assertFalse(ax.patches)
            self.assertEqual([ln.get_xdata()[0] for ln in ax.get_lines() if ln.get_marker()
                              not in ("None", "|")], [16000, 3400, 1000])

    def test_the_spectrum_shades_where_fewer_than_ten_requests_lie_beyond(self):
        import json
        from plots import latency_charts as L
        data = latency_results()
        w = data["workloads"]["latency"]
        w["spectrum_rate"] = {"conn": 1000}
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            for e in w["entries"]:  # 2,000 requests each, 1 µs .. 2,000 µs
                name = f"{e['variant']}.load.json"
                with open(os.path.join(d, name), "w") as f:
                    json.dump({"latency": {"total": {"buckets_ns": [
                        [k * 1000, (k + 1) * 1000, 1] for k in range(2000)]}}}, f)
                e["points"] = [{"rate": 1000, "kind": "grid", "load_file": name}]
            L.spectrum(data, d, "latency")
            fig = cap.figs["latency-2-percentile-spectrum"]
            self.check_legible("latency-2", fig)
            shown = [ax for ax in fig.axes if ax.axison]
            self.assertEqual([ax.get_title() for ax in shown], ["epoll", "prefork", "fork"])
            self.assertEqual(style_overlaps(fig), [])
            for ax in shown:  # small multiples: its own line over the others' grey
                self.assertIsNone(ax.get_legend())
                self.assertEqual(len(ax.get_lines()), 3)
                shade = [p for p in ax.patches]
                self.assertEqual(len(shade), 1)
                self.assertAlmostEqual(shade[0].get_xy()[0][0], 2000 / 10)

    def test_slowhttp_is_legible_and_its_notes_clear_the_next_panel(self):
        import plots.charts as C
        designs = [r["name"] for r in TABLE]
        runs = [{"design": d, "mode": m, "all_closed": k % 3 == 0,
                 "timeline": [True] * 4 + [k % 2 == 0] * 5,
                 "available_fraction": 1.0 if k % 2 == 0 else 4 / 9}
                for k, d in enumerate(designs) for m in ("slowloris", "slowread")]
        data = {"designs": TABLE, "workloads": {"slowhttp": {"runs": runs, "params": {
            "workers": 4, "io_timeout_ms": 2000, "probe_timeout_s": 2}}}}
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            self.assertEqual(C.slowhttp_availability(data, d), "slowhttp-availability")
            fig = cap.figs["slowhttp-availability"]
            self.check_legible("slowhttp", fig)
            self.assertEqual(style_overlaps(fig), [])
            left = fig.axes[0]
            right = max(t.get_window_extent().x1 for t in left.texts)
            self.assertLess(right, fig.axes[1].get_window_extent().x0)

    def test_ballast_gives_each_design_a_scale_of_its_own(self):
        from plots import ballast_charts as B
        entries = []
        for d, f in (("fork", lambda mb: 200 + 20 * mb), ("prefork", lambda mb: 30.0)):
            for mb in (0, 16, 64, 256):
                runs = [{"figures": {"cpu_us_per_conn": f(mb) * (1 + r / 100),
                                     "p99_us": 10 * f(mb)}} for r in range(REPS)]
                entries.append({"design": d, "ballast_mb": mb, "runs": runs,
                                "summary": _summary(runs)})
        data = {"designs": TABLE, "workloads": {"ballast": {"params": {}, "entries": entries}}}
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            B.cpu_and_p99(data, d)
            fig = cap.figs["ballast-1-cpu-and-p99"]
            self.check_legible("ballast", fig)
            self.assertEqual(style_overlaps(fig), [])
            tops = [ax.get_ylim()[1] for ax in fig.axes]  # fork CPU, prefork CPU, then p99s
            self.assertGreater(tops[0], 5000)
            self.assertLess(tops[1], 40, "prefork is not drawn on fork's scale")

    def test_every_call_of_the_syscall_chart_has_a_colour_of_its_own(self):
        from plots import syscall_charts
        calls = [f"call{k}" for k in range(30)]  # more calls than colours: the rest is other
        entries = [{"design": d, "mode": "conn", "requests_per_conn": 1, "counts": {
                    "per_connection": {c: 1.0 + k * 0.01 + j for j, c in enumerate(calls)}}}
                   for k, d in enumerate(("iterative", "fork", "prefork"))]
        data = {"designs": TABLE, "workloads": {"syscalls": {
            "kind": "counts", "tracer": "perf", "entries": entries, "baseline": "iterative",
            "params": {"top": 30, "modes": {"conn": {"requests_per_conn": 1}}}}}}
        with Capture() as cap, tempfile.TemporaryDirectory() as d:
            syscall_charts.stacked(data, d)
            ax = cap.figs["syscalls-1-per-connection"].axes[-1]
            colours = [tuple(h.get_facecolor()) for h in ax.get_legend().legendHandles]
            widths = sum(b.get_width() for b in ax.patches if b.get_y() < 0)  # iterative's row
        self.assertGreaterEqual(len(colours), 19)
        self.assertEqual(len(set(colours)), len(colours))
        self.assertAlmostEqual(widths, sum(1.0 + j for j in range(30)), 6)  # nothing lost

    def test_the_same_data_draws_the_same_bytes(self):
        import plots.charts as C
        data = results()
        out = []
        for _ in range(2):
            with tempfile.TemporaryDirectory() as d:
                C.cpu_per_connection(data, d)
                files = []
                for x in ("png", "svg"):
                    with open(os.path.join(d, f"1-cpu-per-connection.{x}"), "rb") as f:
                        files.append(f.read())
                out.append(files)
        self.assertEqual(out[0], out[1])


if __name__ == "__main__":
    unittest.main()
