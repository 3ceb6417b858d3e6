"""The second process: :data:`~zk_forecast.batch.steps.BACKGROUND_STEPS` on its own state while the batch goes on.

The forecasts and the scheduled reports feed no later step and need only the store (and the night's wear-part
list, which the service report measures its 5-day promise against: the main process sends it over as soon as
its ``wear_list`` step is done), so on a two-core machine they run in a second process (``spawn``). The process
is started with the run and imports what its steps use while the main process ingests the day's exports; it
starts on the store once the main process sends the data's age (:meth:`Background.go`, after ``data_dates``).
Once the main process has done its own steps it shares the reports: it puts the names of the scheduled reports
but the service report on a task queue when it lets the background process start (:meth:`Background.go`), and
both take from it (:meth:`Background.result` with ``write``), so neither core idles while the other has reports
left, whichever gets there first; the service report stays in the
background process, last, with the wear-part list it is sent. Which process writes a report changes none of its
bytes (each is a function of the store and the run's clock). The background process runs the listed steps with
the same step functions over its own :class:`~zk_forecast.batch.state.NightState`, dropping each field once no later listed step reads it, and
sends back ``{"steps": [...], "report_period", "report_failures"}``
or ``{"error", "step"}``. It ends by itself when its parent dies (a killed batch must not leave a process
writing into its abandoned run folder).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from zk_forecast.batch.state import NightState, RunContext
from zk_forecast.batch.steps import (
    BACKGROUND_STEPS,
    StepError,
    drop_unread,
    error_text,
    release_memory,
    run_step,
)

__all__ = ["Background", "blas_threads"]


def blas_threads(processes: int) -> Any:
    """Give the BLAS library of this process its share of the cores (``cores // processes``, at least 1), from
    now until the returned limits' ``restore_original_limits()``. Two processes each running a multi-threaded
    BLAS on two cores make their threads wait for one another when the machine is busy (a 4096 x 156 matrix
    product measured 0.49 s instead of 0.02 s under load); on a quiet machine the night takes the same time
    either way. The outputs are the same bytes."""
    from threadpoolctl import threadpool_limits

    share = max(1, (os.cpu_count() or 1) // max(1, int(processes)))
    return threadpool_limits(limits=share, user_api="blas")


def _watch_parent(parent: int) -> None:
    import threading

    def watch() -> None:
        while True:
            if os.getppid() != parent:
                os._exit(1)
            time.sleep(0.5)

    threading.Thread(target=watch, daemon=True).start()


def _receive(inbox: Any) -> Any:
    """The next message of the main process: the data's age (:meth:`Background.go`), then the wear-part list."""
    return inbox.get()


def _warm_up(ctx: RunContext) -> None:
    """Import what the listed steps use, while the main process is still ingesting (no data is touched)."""
    import importlib

    names = ["zk_forecast.data.store", "zk_forecast.demand.panel"]
    if ctx.cfg.forecast.enabled:
        names.append("zk_forecast.demand.forecast")
    if ctx.cfg.reports.scheduled:
        names += ["zk_forecast.reports", "zk_forecast.failures.covariates", "statsmodels.duration.hazard_regression",
                  "matplotlib.figure", "matplotlib.backends.backend_agg"]
    for name in names:
        importlib.import_module(name)
    if ctx.cfg.reports.scheduled:
        from zk_forecast.reports.charts import setup_cjk_font

        setup_cjk_font()


def _shared_order(names: list[str], tasks: Any, put: bool = True) -> Any:
    """The reports this process writes: the shared ones it takes from ``tasks`` (the main process takes the
    others once its own steps are done), then the service report. ``put``: this process puts the shared names
    on ``tasks`` (False when the main process already has, at :meth:`Background.go`)."""
    import queue as _queue

    if put:
        for n in (n for n in names if n != "service"):
            tasks.put(n)
    while True:
        try:
            yield tasks.get(timeout=0.2)
        except _queue.Empty:
            break
    yield from (n for n in names if n == "service")


def _worker(ctx: RunContext, parent: int, queue: Any, inbox: Any, tasks: Any) -> None:
    """Body of the background process."""
    import io

    from zk_forecast.batch.progress import Progress
    from zk_forecast.data.store import Store

    _watch_parent(parent)
    blas_threads(ctx.cfg.batch.processes)  # applied when made, for the life of this process
    ctx.log = Progress(io.StringIO(), 1).log
    steps: list[dict[str, Any]] = []
    name = BACKGROUND_STEPS[0]
    try:
        _warm_up(ctx)
        start = _receive(inbox)
        ctx.data_age = start["data_age"]
        put = not start.get("shared", False)
        state = NightState(store=Store(ctx.cfg.paths.store_dir))
        for i, name in enumerate(BACKGROUND_STEPS):
            if name in ("load_demand", "panel", "forecast") and not ctx.cfg.forecast.enabled:
                continue  # no forecasts: no panel needed here
            t0 = time.perf_counter()
            if name == "reports" and "service" in ctx.cfg.reports.scheduled:
                # the service report (written last) takes the list as the main process sends it
                setattr(ctx, "wear_list_source", lambda: _receive(inbox))  # noqa: B010
            if name == "reports":
                setattr(ctx, "report_order", lambda names: _shared_order(names, tasks, put))  # noqa: B010
            run_step(name, state, ctx)
            drop_unread(state, BACKGROUND_STEPS[i + 1:])
            release_memory()
            steps.append({"name": name, "seconds": round(time.perf_counter() - t0, 3), "process": "background"})
        queue.put({"steps": steps, "report_period": state.report_period,
                   "report_failures": state.report_failures or {}})
    except BaseException as exc:  # reported to the parent, which fails the run at this step
        queue.put({"error": error_text(exc), "step": exc.step if isinstance(exc, StepError) else name})


class Background:
    """The background process of one run (started at once, waits for :meth:`go`; :meth:`result` waits for it)."""

    def __init__(self, ctx: RunContext) -> None:
        import multiprocessing as mp

        spawn = mp.get_context("spawn")
        self.queue = spawn.Queue()
        self.inbox = spawn.Queue()
        self.inbox.cancel_join_thread()  # a failed run exits without waiting for a list nobody will read
        self.tasks = spawn.Queue()  # names of the reports either process may write
        self.wants_wear_list = "service" in ctx.cfg.reports.scheduled
        plain = RunContext(ctx.cfg, Path(ctx.run_dir), ctx.started, print, ctx.from_store, ctx.data_age)
        self.proc = spawn.Process(target=_worker, args=(plain, os.getpid(), self.queue, self.inbox, self.tasks),
                                  daemon=True)
        self.proc.start()

    def go(self, data_age: Any, shared: list[str] | None = None) -> None:
        """Let the process start on the store (ingested by now), with the data's age for the stale banner.

        Parameters
        ----------
        data_age : DataAge or None
            ``RunContext.data_age`` as the runner set it after ``data_dates``.
        shared : list of str, optional
            The names of the reports either process may write, put on the task queue now: the main process can
            then start on them as soon as its own steps are done, before the background process gets to its
            reports (on a small store it is often first). None: the background process puts them itself.
        """
        for name in shared or ():
            self.tasks.put(name)
        self.inbox.put({"data_age": data_age, "shared": shared is not None})

    def send_wear_list(self, wear_list: Any) -> None:
        """Hand the night's depot wear-part list to the process (its service report measures against it)."""
        if self.wants_wear_list:
            self.inbox.put(wear_list)

    def result(self, write: Callable[[str], None] | None = None) -> dict[str, Any]:
        """Wait for the process's answer (an ``error`` entry when it failed or died).

        Parameters
        ----------
        write : callable, optional
            Writes the report of that name in this process: meanwhile, this process takes the shared reports the
            background process has not taken yet (and any left over when it ends).
        """
        import queue as _queue

        try:
            while True:
                if write is not None:
                    try:
                        write(self.tasks.get(timeout=0.05))
                        continue
                    except _queue.Empty:
                        pass
                try:
                    got: dict[str, Any] = self.queue.get(timeout=0.05 if write is not None else 1.0)
                    if write is not None and "error" not in got:
                        self.proc.join(timeout=30)  # every name it put is in the pipe once it has ended
                        while True:
                            try:
                                write(self.tasks.get_nowait())
                            except _queue.Empty:
                                break
                    return got
                except _queue.Empty:
                    if not self.proc.is_alive():
                        code = self.proc.exitcode
                        try:
                            return dict(self.queue.get(timeout=1.0))
                        except _queue.Empty:
                            return {"error": f"the background process (forecasts and reports) ended without a "
                                             f"result (exit code {code})", "step": "forecast"}
        finally:
            self.proc.join(timeout=30)

    def stop(self) -> None:
        """End the process (a failed run)."""
        if self.proc.is_alive():
            self.proc.terminate()
            self.proc.join(timeout=10)
