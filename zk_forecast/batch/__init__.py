"""The nightly batch: from the day's exports to published restock lists, safely, in one command.

Modules, in the order a newcomer needs them:

* :mod:`.state` — :class:`NightState`, the typed data of one night (each field written by a named step), and
  :class:`RunContext` (settings, run folder, clock, log);
* :mod:`.steps` — the steps as plain functions that declare what they read and write; the order
  (:data:`MAIN_STEPS`) and what the second process runs (:data:`BACKGROUND_STEPS`);
* :mod:`.background` — the second process;
* :mod:`.runfolder` — run folders, the lock, publishing, leftovers of killed runs, the fault hook;
* :mod:`.run` — one night start to end (:func:`nightly`, :func:`run_nightly`) and :func:`load_run`;
* :mod:`.codes` — the exit codes.

Steps: ``check_store`` → ``ingest`` → ``data_dates`` → ``load_tables`` → ``panel`` → ``forecast`` →
``installed_base`` → ``wear_list`` → ``policies`` → ``network`` → ``restock`` → ``reports`` → ``publish``.
"""

from zk_forecast.batch.codes import (
    EXIT_CODES,
    EXIT_FAILED,
    EXIT_LOCKED,
    EXIT_OK,
    EXIT_REPORT_FAILED,
    EXIT_STALE_DATA,
    EXIT_USAGE,
    exit_meaning,
)
from zk_forecast.batch.progress import Progress
from zk_forecast.batch.run import (
    LoadedRun,
    RunResult,
    load_run,
    nightly,
    rebuild_store,
    run_nightly,
    summary_lines,
)
from zk_forecast.batch.runfolder import (
    FAULT_ENV,
    LATEST_FILE,
    LOCK_NAME,
    LockedError,
    latest_run,
)
from zk_forecast.batch.state import DataAge, NightState, RunContext
from zk_forecast.batch.steps import BACKGROUND_STEPS, MAIN_STEPS, STEPS, Step, StepError, step_by_name

PAUSE_ENV = "ZK_FORECAST_PAUSE_IN_STEP"

__all__ = [
    "BACKGROUND_STEPS",
    "DataAge",
    "EXIT_CODES",
    "EXIT_FAILED",
    "EXIT_LOCKED",
    "EXIT_OK",
    "EXIT_REPORT_FAILED",
    "EXIT_STALE_DATA",
    "EXIT_USAGE",
    "FAULT_ENV",
    "LATEST_FILE",
    "LOCK_NAME",
    "LoadedRun",
    "LockedError",
    "MAIN_STEPS",
    "NightState",
    "PAUSE_ENV",
    "Progress",
    "RunContext",
    "RunResult",
    "STEPS",
    "Step",
    "StepError",
    "exit_meaning",
    "latest_run",
    "load_run",
    "nightly",
    "rebuild_store",
    "run_nightly",
    "step_by_name",
    "summary_lines",
]
