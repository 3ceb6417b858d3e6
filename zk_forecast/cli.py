"""The command line: ``zk-forecast demo | demo-data | ingest | plan | report | init | nightly``.

Messages are in Chinese with English beside them. Bad input never ends in a traceback: the command prints what
was wrong and how to fix it, and exits with 2. The exit codes (:mod:`zk_forecast.batch.codes`) are listed by
``zk-forecast --help``.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
import time
from collections.abc import Sequence

from zk_forecast.batch.codes import EXIT_FAILED as EXIT_FAIL
from zk_forecast.batch.codes import EXIT_OK, EXIT_USAGE, exit_codes_text
from zk_forecast.errors import ZkError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        print(f"参数错误 / usage error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _parser() -> argparse.ArgumentParser:
    from zk_forecast import __version__

    p = _Parser(prog="zk-forecast", description="备件需求、故障率与库存计划 / spare parts, failure rates and stock levels",
                epilog="退出码 / exit codes:\n" + exit_codes_text(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"zk-forecast {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    d = sub.add_parser("demo", help="生成演示数据并导入 / generate the demo dealer's exports and ingest them")
    d.add_argument("--out", default="data/raw/demo", help="演示导出目录 / folder for the demo exports")
    d.add_argument("--store", default="data/processed", help="数据仓目录 / store folder")
    d.add_argument("--seed", type=int, default=7)

    g = sub.add_parser("demo-data", help="生成演示经销商的导出文件 / write the synthetic dealer's ERP exports")
    g.add_argument("--scale", default="small", choices=["small", "large"])
    g.add_argument("--seed", type=int, default=7)
    g.add_argument("--out", default="data/raw/demo")

    i = sub.add_parser("ingest", help="导入导出文件到数据仓 / load exports into the store")
    i.add_argument("raw_dir", help="导出文件目录 / folder of exports")
    i.add_argument("--store", default="data/processed", help="数据仓目录 / store folder")
    i.add_argument("--mapping", default=None, help="列映射文件 (TOML) / column mapping file")
    i.add_argument("--json", action="store_true", help="输出 JSON / print one JSON object")
    i.add_argument("--force", action="store_true",
                   help="重建时允许删除导出文件已不在的行 / with --rebuild: drop stored rows whose exports are gone")
    i.add_argument("--rebuild", action="store_true",
                   help="清空数据仓后重新导入 / delete the store tables and ingest the raw exports again")
    i.add_argument("--changed-only", action="store_true",
                   help="只读取新的或有改动的导出文件 / read only exports that are new or changed since they were "
                        "last loaded")
    i.add_argument("--config", default=None,
                   help="读取配置文件的 [ingest] 小节（工作簿安全上限、remove_dropped_lines）/ take the [ingest] "
                        "section of this zk.toml (workbook limits, remove_dropped_lines); default: its defaults")

    n = sub.add_parser("init", help="写出示例配置 / write a commented example zk.toml")
    n.add_argument("--out", default="zk.toml", help="配置文件路径 / config path")
    n.add_argument("--force", action="store_true", help="覆盖已有文件 / overwrite an existing file")

    ni = sub.add_parser("nightly", help="夜间批处理 / the nightly batch: ingest → plan → publish restock lists")
    ni.add_argument("--config", default="zk.toml", help="配置文件 / config file")
    ni.add_argument("--rebuild", action="store_true", help="重建数据仓 / rebuild the store from the raw exports first")
    ni.add_argument("--from-store", action="store_true",
                    help="不读取导出文件，基于数据仓发布 / publish from the stored data without reading raw_dir")

    pl = sub.add_parser("plan", help="计算补货策略 / stock policies per part × depot")
    pl.add_argument("--history", required=True, help="需求历史 (unique_id, ds, y) / long demand history file")
    pl.add_argument("--items", required=True, help="物料表 (unique_id, lead_time, …) / items file")
    pl.add_argument("--fill-rate", type=float, default=0.95, help="满足率目标 / fill-rate target in (0, 1)")
    pl.add_argument("--review-period", type=int, default=1, help="盘点周期 / review period [periods]")
    pl.add_argument("--objective", choices=["item", "system"], default="item",
                    help="item 逐件目标 | system 按组目标（物料表 group 列），资金最省 / per item, or per group "
                         "(items' group column) at the least stock value")
    pl.add_argument("--out", required=True, help="输出文件 .csv/.parquet/.xlsx / output file")

    r = sub.add_parser("report", help="生成报告 / write a report")
    r.add_argument("kind", choices=["restock", "manufacturer", "scorecard", "service"],
                   help="restock 补货单与易损件清单 | manufacturer 厂家质量反馈 | scorecard 厂家评分 | service 服务承诺")
    r.add_argument("--config", default=None,
                   help="夜间批处理的配置 zk.toml（restock：与夜间批处理相同的步骤与设置）/ the nightly's config "
                        "(restock: the night's steps and settings; default: the example config's defaults)")
    r.add_argument("--fill-rate", type=float, default=None, help=argparse.SUPPRESS)
    r.add_argument("--store", default=None, help="数据仓目录 / store folder (default: the config's, or "
                                                  "data/processed)")
    r.add_argument("--manufacturer", default=None, help="生产厂家 / manufacturer (for kind manufacturer)")
    r.add_argument("--period", default=None, help="期间 / period: 2026, 2026Q3 or 2026-07")
    r.add_argument("--cut-ins", default=None, help="设计改进切换点 CSV (model, component, cut_in) / design fixes")
    r.add_argument("--out", default="reports", help="输出目录 / output folder")
    return p


def _print_ingest(result: object, seconds: float) -> None:
    from zk_forecast.data.ingest import IngestResult

    assert isinstance(result, IngestResult)
    print(f"导入完成 / ingested into {result.store} in {seconds:.1f} s")
    print(f"{'文件 / file':<34} {'表 / table':<18} {'读入 in':>9} {'导入 loaded':>11} {'拒收 rejected':>13}")
    for f in result.files:
        same = "  (未改动，未重读 / unchanged, not read again)" if f.unchanged_file else ""
        print(f"{f.file:<34} {f.table or '-':<18} {f.rows_in:>9} {f.rows_loaded:>11} {f.rows_rejected:>13}{same}")
        if f.error:
            print(f"    错误 / error: {f.error}")
        if f.unknown_columns:
            print(f"    未识别的列（未导入）/ unknown columns, not loaded: {', '.join(f.unknown_columns)}")
        for w in f.warnings:
            print(f"    注意 / note: {w}")
        if f.rejects_path:
            print(f"    拒收明细 / rejects: {f.rejects_path}")
    if result.skipped:
        print(f"跳过的非导出文件 / skipped (not an export): {', '.join(result.skipped)}")


def _cmd_demo_data(args: argparse.Namespace) -> int:
    from zk_forecast.data import demo

    t0 = time.perf_counter()

    def progress(line: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {line}", flush=True)

    summary = demo.generate(args.out, scale=args.scale, seed=args.seed, progress=progress)
    print(f"演示数据已生成 / demo exports written to {summary.out_dir} in {time.perf_counter() - t0:.1f} s")
    for name, n in summary.files.items():
        print(f"  {name:<36} {n:>10} 行 / rows")
    print(f"  真实参数 / ground truth: {summary.ground_truth}")
    return EXIT_OK


def _cmd_ingest(args: argparse.Namespace) -> int:
    from zk_forecast.config import IngestConfig, load_config
    from zk_forecast.data.ingest import ingest

    settings = load_config(args.config).ingest if args.config else IngestConfig()
    t0 = time.perf_counter()
    if args.rebuild:
        from zk_forecast.data.ingest import rebuild

        result = rebuild(args.raw_dir, args.store, mapping=args.mapping, force=args.force,
                         workbook_limits=settings.workbook_limits())
    else:
        result = ingest(args.raw_dir, args.store, mapping=args.mapping, skip_unchanged=args.changed_only,
                        workbook_limits=settings.workbook_limits(),
                        remove_dropped_lines=settings.remove_dropped_lines)
    if args.json:
        print(result.to_json())
    else:
        _print_ingest(result, time.perf_counter() - t0)
    return EXIT_OK if result.ok else EXIT_USAGE


def _cmd_init(args: argparse.Namespace) -> int:
    from zk_forecast.config import write_example_config

    path = write_example_config(args.out, overwrite=args.force)
    print(f"示例配置已写入 / example config written to {path}")
    return EXIT_OK


def _cmd_nightly(args: argparse.Namespace) -> int:
    from zk_forecast.batch import run_nightly

    return int(run_nightly(args.config, rebuild=args.rebuild, from_store=args.from_store).exit_code)


def _cmd_plan(args: argparse.Namespace) -> int:
    import pandas as pd

    from zk_forecast.data.tables import read_table, write_table
    from zk_forecast.errors import ZkValueError
    from zk_forecast.inventory.plan import plan

    t0 = time.perf_counter()
    history = read_table(args.history)
    items = read_table(args.items)
    if "unique_id" not in items.columns:
        raise ZkValueError(f"{args.items!r} needs a 'unique_id' column (one row per part × depot); fix: add it "
                           f"/ 物料表缺少 unique_id 列（每个配件×网点一行），请补充")
    history["ds"] = pd.to_datetime(history["ds"])
    out = plan(history, items.set_index("unique_id"), fill_rate=args.fill_rate, review_period=args.review_period,
               objective=args.objective)
    write_table(out, args.out)
    if args.objective == "system":
        for g, row in out.attrs["groups"].iterrows():
            print(f"  {g}: 期望满足率 / expected fill rate {row['expected_fill_rate']:.3f}, "
                  f"期望在库金额 / expected on-hand value {row['expected_on_hand_value']:,.0f} CNY")
    print(f"补货策略已写入 / policies written to {args.out}: {len(out)} 项 / items in {time.perf_counter() - t0:.1f} s")
    return EXIT_OK


def _cmd_report(args: argparse.Namespace) -> int:
    from zk_forecast.errors import ZkValueError
    from zk_forecast.reports import write_manufacturer_report, write_scorecard, write_service_report

    if args.kind == "restock":
        from zk_forecast.batch.run import restock_lists

        if args.fill_rate is not None:
            raise ZkValueError("report restock takes its targets from the configuration, as the nightly does; fix: "
                               "set [targets] wear_list / other in zk.toml (zk-forecast init writes one) and pass "
                               "--config zk.toml / 补货单的目标满足率取自配置文件，请在 zk.toml 的 [targets] 中设置并用 "
                               "--config 指定")
        paths = restock_lists(args.config, args.out, store_dir=args.store)
        for name, p in paths.items():
            print(f"  {name:<12} {p}")
        print(f"补货单与易损件清单已写入 / restock workbooks and the wear-part list written to {args.out}")
        return EXIT_OK
    store = args.store if args.store is not None else "data/processed"
    if args.kind == "manufacturer":
        if not args.manufacturer or not args.period:
            raise ZkValueError("report manufacturer needs --manufacturer NAME and --period (e.g. 2026Q3) "
                               "/ 请指定 --manufacturer 与 --period")
        path = write_manufacturer_report(store, args.manufacturer, args.period, args.out, cut_ins=args.cut_ins)
    elif args.kind == "scorecard":
        if not args.period:
            raise ZkValueError("report scorecard needs --period (e.g. 2026Q3) / 请指定 --period")
        path = write_scorecard(store, args.period, args.out, cut_ins=args.cut_ins)
    else:
        path = write_service_report(store, args.period, args.out)
    print(f"报告已写入 / report written to {path}")
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    import json
    import re
    from pathlib import Path

    import pandas as pd

    from zk_forecast.batch import run_nightly
    from zk_forecast.config import EXAMPLE_CONFIG
    from zk_forecast.data import demo

    t0 = time.perf_counter()
    summary = demo.generate(args.out, scale="small", seed=args.seed)
    print(f"演示数据已生成 / demo exports written to {summary.out_dir} ({sum(summary.files.values())} rows)")
    store = Path(args.store).resolve()
    store.mkdir(parents=True, exist_ok=True)
    # the demo's design change, as a manufacturer's change notice would list it
    fix = json.loads(summary.ground_truth.read_text(encoding="utf-8"))["planted_effects"]["design_fix"]
    cut_ins = store / "demo_cut_ins.csv"
    pd.DataFrame({"model": [fix["model"]], "component": [fix["component"]],
                  "cut_in": [fix["cut_in_build_date"]]}).to_csv(cut_ins, index=False)
    settings = {"raw_dir": Path(summary.out_dir).resolve().as_posix(), "store_dir": store.as_posix(),
                "runs_dir": (store / "runs").as_posix()}
    text = EXAMPLE_CONFIG
    for key, value in settings.items():
        text = re.sub(rf'^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1, flags=re.M)
    text = re.sub(r'^period = "[^"]*"', f'period = "{_DEMO_PERIOD}"', text, count=1, flags=re.M)
    text = text.replace("[reports]\n", f'[reports]\ncut_ins = "{cut_ins.as_posix()}"\n', 1)
    # the demo's exports end on a fixed date in the past: their age is no warning here
    text = re.sub(r"^max_data_age_days = \d+", "max_data_age_days = 0", text, count=1, flags=re.M)
    config = store / "zk_demo.toml"
    config.write_text(text, encoding="utf-8")
    result = run_nightly(config)
    if not result.ok:
        return int(result.exit_code)
    run_dir = result.run_dir
    assert run_dir is not None
    files = result.manifest.get("inputs", {}).get("files", [])
    print(f"导入 / ingested: {'文件 / file':<30} {'读入 in':>9} {'导入 loaded':>11} {'拒收 rejected':>13}")
    for f in files:
        print(f"  {f['file']:<38} {f.get('rows_in', 0):>9} {f.get('rows_loaded', 0):>11} {f.get('rows_rejected', 0):>13}")
    print(f"夜间批处理已发布 / the nightly batch published {run_dir} ({time.perf_counter() - t0:.0f} s):")
    for p in sorted(q for q in run_dir.rglob("*") if q.is_file() and q.suffix in (".xlsx", ".html", ".csv")):
        print(f"  {p.relative_to(run_dir)}")
    print(f"配置 / config: {config}")
    return EXIT_OK


_DEMO_PERIOD = "2026Q3"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 ok, 1 failure, 2 bad usage or unreadable input)."""
    args = _parser().parse_args(argv)
    handlers = {"demo": _cmd_demo, "demo-data": _cmd_demo_data, "ingest": _cmd_ingest, "plan": _cmd_plan,
                "report": _cmd_report, "init": _cmd_init, "nightly": _cmd_nightly}
    try:
        return handlers[args.command](args)
    except ZkError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"files": [], "error": str(exc)}, ensure_ascii=False))
        print(f"错误 / error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:  # a folder that is read-only, missing, too long a path, a full disk...
        text = _os_error_text(exc)
        if getattr(args, "json", False):
            print(json.dumps({"files": [], "error": text}, ensure_ascii=False))
        print(f"错误 / error: {text}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:  # pragma: no cover
        print("已中断 / interrupted", file=sys.stderr)
        return EXIT_FAIL


_OS_FIXES = {
    errno.EACCES: "the folder or file is not writable for this user; choose another folder or fix its permissions "
                  "/ 无读写权限，请换一个目录或修改权限",
    errno.EPERM: "the operation is not permitted on this file; choose another folder / 操作不被允许，请换一个目录",
    errno.EROFS: "the folder is on a read-only file system; choose a writable folder / 目录只读，请换一个可写目录",
    errno.ENOENT: "no such file or folder; check the path, or create the folder first / 路径不存在，请检查路径",
    errno.ENOTDIR: "a part of the path is a file, not a folder; check the path / 路径中有一段不是目录",
    errno.EISDIR: "the path is a folder where a file was expected; give a file name / 需要文件名而不是目录",
    errno.ENAMETOOLONG: "the path or a file name is too long; use a shorter folder path / 路径或文件名过长，请使用更短的路径",
    errno.ENOSPC: "the disk is full; free some space and run again / 磁盘已满，请清理空间后重试",
    errno.EDQUOT: "the disk quota is used up; free some space and run again / 磁盘配额已满",
}


def _os_error_text(exc: OSError) -> str:
    """A bilingual message for an operating-system error: what failed, on which path, and the fix."""
    where = " -> ".join(str(f) for f in (exc.filename, exc.filename2) if f is not None)
    what = exc.strerror or exc.__class__.__name__
    fix = _OS_FIXES.get(exc.errno or 0, "check the path and the folder's permissions / 请检查路径与目录权限")
    return f"{what}{f': {where}' if where else ''}; {fix}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

