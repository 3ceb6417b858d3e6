"""The nightly batch's former home, kept so that ``zk_forecast.pipeline`` imports and
``python -m zk_forecast.pipeline zk.toml [--rebuild] [--from-store]`` keep working.

The batch lives in :mod:`zk_forecast.batch` (steps, state, run folders, publishing); use that in new code.
"""

from __future__ import annotations

import sys

from zk_forecast.batch import (
    BACKGROUND_STEPS,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REPORT_FAILED,
    EXIT_STALE_DATA,
    EXIT_USAGE,
    LATEST_FILE,
    LOCK_NAME,
    MAIN_STEPS,
    PAUSE_ENV,
    STEPS,
    LockedError,
    RunResult,
    StepError,
    latest_run,
    load_run,
    nightly,
    rebuild_store,
    run_nightly,
)

__all__ = [
    "BACKGROUND_STEPS",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_REPORT_FAILED",
    "EXIT_STALE_DATA",
    "EXIT_USAGE",
    "LATEST_FILE",
    "LOCK_NAME",
    "LockedError",
    "MAIN_STEPS",
    "PAUSE_ENV",
    "RunResult",
    "STEPS",
    "StepError",
    "latest_run",
    "load_run",
    "nightly",
    "rebuild_store",
    "run_nightly",
]


def _main(argv: list[str] | None = None) -> int:
    """``python -m zk_forecast.pipeline zk.toml [--rebuild] [--from-store]`` (as ``zk-forecast nightly``)."""
    args = sys.argv[1:] if argv is None else argv
    if not args:
        print("usage: python -m zk_forecast.pipeline zk.toml [--rebuild] [--from-store]", file=sys.stderr)
        return EXIT_USAGE
    return run_nightly(args[0], rebuild="--rebuild" in args[1:], from_store="--from-store" in args[1:]).exit_code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_main())
