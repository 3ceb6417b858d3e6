"""The whole nightly batch on the `large` demo: each step's seconds, total, peak RSS, beside a bare read of the exports.

Prints two JSON lines:
  {"bench": "nightly", "night": "cold", "steps": {...}, "total_s": ..., "peak_rss_mb": ..., "bare_read_s": ...}
  {"bench": "nightly", "night": "warm", ...}
``cold`` is the first night on a fresh store (every export read and validated: the issue's measure); ``warm`` a
second night on the same exports and store, as cron runs it: exports already loaded byte for byte are not read
again (``ingest(skip_unchanged=True)``), every other step runs in full.

Generating the exports is not timed. The batch makes its forecasts and reports in a second process while the
main one goes on (see ``zk_forecast.pipeline``): their steps are listed as ``forecast@background`` and
``reports@background`` with that process's own seconds, ``background_wait`` is how long the main process waited
for it (writing the manufacturer reports and the scorecard the second process had not taken yet meanwhile); ``peak_rss_mb`` is the main process, ``peak_rss_background_mb`` the second one, ``peak_rss_sum_mb`` their
sum (an upper bound of what both held at once). The batch runs in its own fresh process (so peak RSS is its own), on a fresh
store, with the example configuration (all steps and scheduled reports on, report period fixed at 2026Q3). The
peer is a bare ``pandas.read_csv(engine="pyarrow")`` / ``read_excel(engine="calamine")`` of the same files, as in bench_ingest.py.
Targets: cold night under 30 s on the ``large`` demo and under 6 s on the ``small`` one, peak RSS of both
processes summed under 4 GB, on this 2-core, 24 GB machine.

The night's own progress lines (each step as it starts and ends, with its seconds) go to stderr as it runs
(``--quiet``: none); the JSON lines go to stdout.

Usage: python benchmarks/bench_nightly.py [--raw DIR] [--scale large|small] [--seed 7] [--processes 2] [--quiet]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import re
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_ingest import _bare, _run


def _nightly(config: str, q: mp.Queue, quiet: bool = False) -> None:
    import io

    from zk_forecast.pipeline import run_nightly

    t0 = time.perf_counter()
    result = run_nightly(config, stream=io.StringIO() if quiet else sys.stderr)
    q.put({"seconds": time.perf_counter() - t0, "exit_code": result.exit_code, "step": result.step,
           "error": result.error, "steps": result.manifest.get("steps", {}),
           "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
           "peak_rss_background_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024.0})


def main(argv: list[str] | None = None) -> int:
    from zk_forecast.config import EXAMPLE_CONFIG

    ap = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    ap.add_argument("--raw", default=None, help="exports folder (default: generate the demo into a temp folder)")
    ap.add_argument("--scale", default="large", choices=["small", "large"],
                    help="demo to generate; with --raw, the target it is judged by")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--processes", type=int, default=2, choices=[1, 2], help="[batch] processes of the config")
    ap.add_argument("--quiet", action="store_true", help="no progress lines (each step as it starts and ends) on stderr")
    args = ap.parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="zk_nightly_"))
    try:
        raw = Path(args.raw) if args.raw else tmp / "raw"
        if not args.raw:
            from zk_forecast.data import demo

            demo.generate(raw, scale=args.scale, seed=args.seed)
        settings = {"raw_dir": raw.resolve().as_posix(), "store_dir": (tmp / "store").as_posix(),
                    "runs_dir": (tmp / "store" / "runs").as_posix()}
        text = EXAMPLE_CONFIG
        for key, value in settings.items():
            text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1, flags=re.M)
        text = re.sub(r'^period = "[^"]*"', 'period = "2026Q3"', text, count=1, flags=re.M)
        text = re.sub(r'^processes = \d+', f"processes = {args.processes}", text, count=1, flags=re.M)
        config = tmp / "zk.toml"
        config.write_text(text, encoding="utf-8")
        bare = _run(_bare, str(raw))
        for night in ("cold", "warm"):
            run = _run(_nightly, str(config), quiet=args.quiet)
            steps = {s["name"] + ("@background" if s.get("process") == "background" else ""):
                     round(float(s["seconds"]), 2) for s in run["steps"]}
            print(json.dumps({
                "bench": "nightly", "night": night, "processes": args.processes,
                "raw": str(raw) if args.raw else f"demo {args.scale} seed {args.seed}",
                "exit_code": run["exit_code"], "failed_step": run["step"], "error": run["error"],
                "steps": steps, "total_s": round(run["seconds"], 2), "peak_rss_mb": round(run["peak_rss_mb"], 1),
                "peak_rss_background_mb": round(run["peak_rss_background_mb"], 1),
                "peak_rss_sum_mb": round(run["peak_rss_mb"] + run["peak_rss_background_mb"], 1),
                "peer": "pandas.read_csv(engine=pyarrow) / read_excel(engine=calamine) of the same exports",
                "bare_read_s": round(bare["seconds"], 2), "ratio_to_bare": round(run["seconds"] / bare["seconds"], 2),
                "target_total_s": 30 if args.scale == "large" else 6, "target_peak_rss_mb": 4096,
            }, ensure_ascii=False), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
