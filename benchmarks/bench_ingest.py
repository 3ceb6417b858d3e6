"""Ingest speed: the `large` demo exports validated and stored, beside a bare pandas read of the same files.

Prints one JSON line per result:
  {"bench": "ingest", "rows": ..., "seconds": ..., "rows_per_s": ..., "peak_rss_mb": ...,
   "bare_read_s": ..., "bare_peak_rss_mb": ..., "ratio_to_bare": ...}

The peer is a practitioner's baseline: ``pandas.read_csv(engine="pyarrow")`` of every CSV export (with the
encoding it needs) and ``pandas.read_excel(engine="calamine")`` of every workbook (the fastest reader pandas
offers, and the one ingest uses), with no validation and no store. Each side runs in its own fresh process so
that peak RSS is its own. Generating the exports is not timed.

Usage: python benchmarks/bench_ingest.py [--raw DIR] [--scale large|small] [--seed 7] [--repeat 1]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _bare(raw: str, q: mp.Queue) -> None:
    import pandas as pd

    from zk_forecast.data.readers import detect_encoding

    t0 = time.perf_counter()
    rows = 0
    for p in sorted(Path(raw).rglob("*")):
        suffix = p.suffix.lower()
        if suffix == ".csv":
            head = p.read_bytes()[:1 << 20]
            try:
                head.decode("utf-8")
                enc = "utf-8-sig" if head.startswith(b"\xef\xbb\xbf") else "utf-8"
            except UnicodeDecodeError as exc:  # a cut multibyte character at the end of the sample is still UTF-8
                enc = "utf-8" if exc.start > len(head) - 4 else detect_encoding(p.read_bytes())[1]
            rows += len(pd.read_csv(p, engine="pyarrow", encoding=enc, dtype=str))
        elif suffix == ".xlsx":
            rows += len(pd.read_excel(p, dtype=str, engine="calamine"))
    q.put({"seconds": time.perf_counter() - t0, "rows": rows, "peak_rss_mb": _peak_mb()})


def _ingest(raw: str, store: str, q: mp.Queue, masters: str | None = None) -> None:
    import datetime as dt

    from zk_forecast.data.ingest import ingest

    if masters:  # reference tables first, untimed, so the issue rows have depots, parts and tickets to point at
        ingest(masters, store, today=dt.date(2026, 11, 26))
    t0 = time.perf_counter()
    result = ingest(raw, store, today=dt.date(2026, 11, 26))
    secs = time.perf_counter() - t0
    files = result.files
    q.put({
        "seconds": secs, "peak_rss_mb": _peak_mb(),
        "rows_in": sum(f.rows_in for f in files), "rows_loaded": sum(f.rows_loaded for f in files),
        "rows_rejected": sum(f.rows_rejected for f in files),
        "issue_rows": sum(f.rows_in for f in files if f.table == "part_issues"),
        "errors": [f.error for f in files if f.error],
        "accounting_holds": all(f.rows_in == f.rows_loaded + f.rows_rejected for f in files),
    })


def _run(target, *args, **kwargs) -> dict:  # type: ignore[no-untyped-def]
    ctx = mp.get_context("spawn")
    q: mp.Queue = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q), kwargs=kwargs)
    p.start()
    out = q.get()
    p.join()
    return dict(out)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--raw", default=None, help="exports folder (default: generate the demo into a temp folder)")
    ap.add_argument("--scale", default="large", choices=["small", "large"])
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="zk_bench_"))
    try:
        raw = Path(args.raw) if args.raw else tmp / "raw"
        if not args.raw:
            from zk_forecast.data import demo

            t0 = time.perf_counter()
            demo.generate(raw, scale=args.scale, seed=args.seed)
            print(json.dumps({"bench": "demo_generate", "scale": args.scale, "seconds": round(time.perf_counter() - t0, 2)}),
                  flush=True)
        # split the exports: parts issues (the bulk) and everything else
        issues, masters = tmp / "issues", tmp / "masters"
        issues.mkdir()
        masters.mkdir()
        for p in sorted(raw.rglob("*")):
            if p.is_file() and p.suffix.lower() in (".csv", ".xlsx"):
                (issues if "出库" in p.name else masters).joinpath(p.name).symlink_to(p.resolve())
        for i in range(args.repeat):
            for what, folder, pre in (("all_exports", raw, None), ("part_issues", issues, masters)):
                bare = _run(_bare, str(folder))
                store = tmp / f"store_{what}_{i}"
                ing = _run(_ingest, str(folder), str(store), masters=str(pre) if pre else None)
                line = {
                    "bench": "ingest", "files": what, "scale": args.scale if not args.raw else str(raw),
                    "rows": ing["rows_in"], "rows_loaded": ing["rows_loaded"],
                    "rows_rejected": ing["rows_rejected"], "accounting_holds": ing["accounting_holds"],
                    "file_errors": len(ing["errors"]),
                    "seconds": round(ing["seconds"], 3), "rows_per_s": round(ing["rows_in"] / ing["seconds"]),
                    "peak_rss_mb": round(ing["peak_rss_mb"], 1),
                    "peer": "pandas.read_csv(engine=pyarrow) / read_excel(engine=calamine), no validation, no store",
                    "bare_read_s": round(bare["seconds"], 3), "bare_rows": bare["rows"],
                    "bare_peak_rss_mb": round(bare["peak_rss_mb"], 1),
                    "ratio_to_bare": round(ing["seconds"] / bare["seconds"], 2),
                    "target_ratio": 3.0, "target_peak_rss_mb": 2048,
                }
                print(json.dumps(line, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
