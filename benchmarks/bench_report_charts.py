"""Report chart drawing: margins computed from the labels against matplotlib's constrained layout.

The nightly batch draws one Pareto, trend and Weibull chart per manufacturer, two charts for the service report
and one for the scorecard. The charts are figures without a layout engine whose axes are placed with margins
computed from their labels (``zk_forecast.reports._layout``); the peer is the same chart on
``zk_forecast.reports.charts.new_figure``'s figure with matplotlib's constrained layout (which measures every text
in an extra drawing pass before the real one), in the same run.

Data: the ``small`` demo (seed 7), period 2026Q3. For each chart kind: the chart function called ``--repeat``
times on the same tables, ours and the peer alternating, best of the repeats. Then all the scheduled reports of a
night (service, scorecard, every manufacturer) written to a temporary folder, best of ``--repeat`` alternating.

Prints one JSON line per result: ``seconds`` (ours), ``peer_seconds`` and ``ratio`` = peer / ours.
``/work/venv/bin/python benchmarks/bench_report_charts.py [--repeat 3]``
"""

from __future__ import annotations

import argparse
import contextlib
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

AT = "2026-11-01 06:00"


@contextlib.contextmanager
def _constrained() -> Iterator[None]:
    """The peer: the same charts on ``new_figure``'s constrained layout (placing the axes does nothing)."""
    import zk_forecast.reports._layout as lay
    from zk_forecast.reports.charts import new_figure

    def blank(width: float, height: float) -> Any:
        fig, ax = new_figure(width, height)
        fig.delaxes(ax)
        return fig

    orig = lay.place_axes, lay.placed_figure, lay.blank_figure
    lay.place_axes = lambda fig, **kw: None  # type: ignore[assignment]
    lay.placed_figure = new_figure  # type: ignore[assignment]
    lay.blank_figure = blank  # type: ignore[assignment]
    try:
        yield
    finally:
        lay.place_axes, lay.placed_figure, lay.blank_figure = orig  # type: ignore[assignment]


def _best(fn: Callable[[], Any], peer: Callable[[], Any], repeat: int) -> tuple[float, float]:
    ours, theirs = [], []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        ours.append(time.perf_counter() - t)
        with _constrained():
            t = time.perf_counter()
            peer()
            theirs.append(time.perf_counter() - t)
    return min(ours), min(theirs)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    import importlib

    from zk_forecast.data import Store, demo, ingest
    from zk_forecast.reports import manufacturer as M
    from zk_forecast.reports._tables import clear_store_tables
    from zk_forecast.reports.scorecard import write_scorecard

    S = importlib.import_module("zk_forecast.reports.service_report")  # the package re-exports a function by its name

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        demo.generate(root / "raw", scale="small", seed=7)
        ingest(root / "raw", root / "store")
        st = Store(root / "store")
        t = {k: st.read(k) for k in st.tables()}
        maker = "麦浪农装"
        rep = M.manufacturer_report(t["tickets"], t["machines"], maker, "2026Q3",
                                    component_parts=t["component_parts"], generated_at=AT)
        svc = S.service_report(t["tickets"], t["part_issues"], "2026Q3", depots=t["depots"], generated_at=AT)
        names = dict(zip(t["depots"]["depot_id"], t["depots"]["name"], strict=True))
        cases: dict[str, Callable[[], Any]] = {
            "pareto": lambda: M._pareto_chart(rep.tables["pareto"]),
            "trend": lambda: M._trend_chart(rep.tables["trend"]),
            "weibull": lambda: M._weibull_chart(rep.tables["weibull"]),
            "service_share": lambda: S._share_chart(svc.by_depot_month, {"onsite_on_time_share": ""}, "share",
                                                    0.9, names),
        }
        for name, fn in cases.items():
            fn()  # warm up (font, glyph caches)
            ours, peer = _best(fn, fn, args.repeat)
            print(json.dumps({"bench": "report_charts", "chart": name, "seconds": round(ours, 4),
                              "peer": "matplotlib constrained layout", "peer_seconds": round(peer, 4),
                              "ratio": round(peer / ours, 2)}))
        makers = sorted(t["machines"]["manufacturer"].dropna().astype(str).unique())
        cut = [("SF-1004", "离合器", "2023-03-01")]

        def night() -> None:
            out = root / "out"
            S.write_service_report(root / "store", "2026Q3", out, generated_at=AT)
            write_scorecard(root / "store", "2026Q3", out, cut_ins=cut, generated_at=AT)
            for m in makers:
                M.write_manufacturer_report(root / "store", m, "2026Q3", out, cut_ins=cut, generated_at=AT)

        clear_store_tables()
        night()  # the store's tables and the lives are read and built once, as in the batch
        ours, peer = _best(night, night, args.repeat)
        print(json.dumps({"bench": "report_charts", "chart": "all scheduled reports (service, scorecard, "
                          f"{len(makers)} manufacturers)", "seconds": round(ours, 3),
                          "peer": "matplotlib constrained layout", "peer_seconds": round(peer, 3),
                          "ratio": round(peer / ours, 2)}))


if __name__ == "__main__":
    main()
