"""Run folders, the lock and publishing: everything the batch does to the file system besides its outputs.

Run folders
-----------
Each run writes only into its own folder ``<runs_dir>/<YYYYmmdd-HHMMSS>/`` (a ``-2``, ``-3`` suffix when two runs
start in the same second). While it works, the folder holds a ``.running`` marker.

Publishing (in this order; :func:`publish`)
-------------------------------------------
1. ``manifest.json`` is written with ``"status": "complete"`` and the ``.running`` marker removed;
2. ``<runs_dir>/LATEST`` — one line, the run folder's name, **the authoritative pointer** — is replaced
   atomically (temporary file, fsync, ``os.replace``): a reader sees the old or the new name, never half of one;
3. ``<runs_dir>/latest``, a relative symbolic link for people browsing, is replaced the same way (skipped where
   symbolic links are not allowed);
4. only now is the manifest rewritten (atomically) with ``"status": "published"``.

A kill between 2 and 4 leaves a folder that ``LATEST`` names with status ``complete``: the next start marks it
published (it is). A kill before 2 leaves a complete folder that nothing names: the next start renames it
``<name>.abandoned`` and says so.

Failures
--------
A failed run's folder is renamed ``<name>.failed`` **before anything else is written** (a full disk cannot keep
the name), then ``ERROR.txt`` and ``run.log`` are written if they can be. ``LATEST`` is never touched.

Leftovers (:func:`clean_leftovers`, at the start of each run, under the lock)
-----------------------------------------------------------------------------
Folders still marked ``.running`` (a killed run) become ``<name>.abandoned``; complete but unpublished folders
likewise; temporary files of dead writers in ``runs_dir`` are deleted; a store write that a kill interrupted
(its ``_journal.json``, temporary files older than :data:`STORE_TMP_AGE`) is finished or dropped by the store
itself, under its own lock. Each is reported on the console, in ``run.log`` and in the manifest.

Lock
----
``<runs_dir>/.nightly.lock`` holds the owner's PID, host and start time. It is created atomically *with* its
content: the content is written to a private file which is then hard-linked to the lock name (the link fails
if the lock exists, as ``O_CREAT | O_EXCL`` does; where hard links are not available, ``O_CREAT | O_EXCL`` then
write). A second run finding the lock refuses (exit code 3) while that PID is alive, while the lock belongs to
another host, and while an empty or unreadable lock is younger than :data:`LOCK_GRACE_SECONDS` (a run writing it
this instant). Older, or naming a dead PID on this host, the lock is stale: only the holder of the breaker file
``.nightly.lock.break`` (itself created exclusively) may remove it, so two runs finding the same stale lock
cannot both take over.

Fault hook
----------
The environment variable ``ZK_FAULT=<point>`` kills the process (``SIGKILL``, as ``kill -9`` would) on reaching
that point: a step's name (at its start) or one of :data:`FAULT_POINTS`. Used by the fault-injection tests.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import re
import shutil
import signal
import socket
import time
from pathlib import Path
from typing import Any

from zk_forecast.data.store import fsync_dir
from zk_forecast.errors import ZkError

__all__ = [
    "FAULT_ENV",
    "FAULT_POINTS",
    "LATEST_FILE",
    "LATEST_LINK",
    "LOCK_GRACE_SECONDS",
    "LOCK_NAME",
    "LockedError",
    "RUNNING_MARKER",
    "acquire_lock",
    "atomic_write_text",
    "clean_leftovers",
    "fail_run",
    "fault",
    "latest_run",
    "new_run_dir",
    "prune_runs",
    "publish",
    "release_lock",
]

LOCK_NAME = ".nightly.lock"
LATEST_FILE = "LATEST"
LATEST_LINK = "latest"
RUNNING_MARKER = ".running"
MANIFEST = "manifest.json"
FAULT_ENV = "ZK_FAULT"
#: Seconds an empty or unreadable lock is taken as a run that is writing it right now [s].
LOCK_GRACE_SECONDS = 10.0
#: Store temporary files older than this are leftovers of a killed writer [s].
STORE_TMP_AGE = 600.0
#: Named points of the publish sequence where ``ZK_FAULT`` can kill the run (besides the step names).
FAULT_POINTS = ("before_manifest", "after_manifest", "after_latest", "after_link", "published", "before_fail_rename")
_RUN_NAME = re.compile(r"^\d{8}-\d{6}(-\d+)?(\.failed|\.abandoned)?$")
_PID_TMP = re.compile(r"^\.(?:LATEST|latest|nightly\.lock|nightly\.lock\.break|write-test)\.(\d+)(?:\.tmp)?$")


class LockedError(ZkError):
    """Another nightly run holds the lock."""


def fault(point: str) -> None:
    """Kill this process with SIGKILL when ``ZK_FAULT`` names ``point`` (fault-injection tests only)."""
    if os.environ.get(FAULT_ENV) == point:
        os.kill(os.getpid(), signal.SIGKILL)


# ------------------------------------------------------------------------------------------------ files
def atomic_write_text(path: Path, text: str) -> None:
    """Replace ``path`` with ``text`` atomically (temporary file in the same folder, fsync, ``os.replace``)."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    fsync_dir(path.parent)


def latest_run(runs_dir: str | Path) -> Path | None:
    """The last published run folder (from ``LATEST``), or None when nothing was published yet."""
    p = Path(runs_dir) / LATEST_FILE
    if not p.is_file():
        return None
    name = p.read_text(encoding="utf-8").strip()
    return Path(runs_dir) / name if name else None


# ------------------------------------------------------------------------------------------------ lock
def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - alive, owned by someone else
        return True
    except OSError:  # pragma: no cover
        return False
    return True


def _create_with_content(path: Path, text: str) -> bool:
    """Create ``path`` holding ``text`` in one step; False if it exists already."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    try:
        os.link(tmp, path)
        return True
    except FileExistsError:
        return False
    except OSError:  # pragma: no cover - no hard links on this file system: exclusive create, then write
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            return False
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _read_lock(lock: Path) -> tuple[dict[str, Any] | None, float]:
    """(content or None when empty / unreadable, age [s]); ({}, 0) when the lock vanished meanwhile."""
    try:
        age = time.time() - lock.stat().st_mtime
        text = lock.read_text(encoding="utf-8")
    except FileNotFoundError:
        return {}, 0.0
    try:
        info = json.loads(text) if text.strip() else None
    except ValueError:
        info = None
    return (info if isinstance(info, dict) else None), age


def _locked_message(lock: Path, info: dict[str, Any] | None) -> str:
    if info is None:
        return (f"another nightly run is taking the lock {lock} right now; wait for it to finish "
                f"/ 另一个夜间批处理正在启动，请等待其结束")
    pid = info.get("pid")
    return (f"another nightly run holds the lock {lock} (pid {pid} on {info.get('host')}, started "
            f"{info.get('started_at')}); fix: wait for it to finish, or delete the lock if that process is gone "
            f"/ 另一个夜间批处理正在运行（进程 {pid}）；请等待其结束，若该进程已不存在请删除锁文件")


def _clear_stale(lock: Path, seen: dict[str, Any] | None) -> bool:
    """Remove the stale lock ``seen`` if this process wins the breaker; True when it was removed."""
    breaker = lock.with_name(LOCK_NAME + ".break")
    try:
        if time.time() - breaker.stat().st_mtime > 3 * LOCK_GRACE_SECONDS:
            breaker.unlink(missing_ok=True)  # left by a killed run
    except FileNotFoundError:
        pass
    if not _create_with_content(breaker, json.dumps({"pid": os.getpid()})):
        return False
    try:
        now, _ = _read_lock(lock)
        if now != seen:  # someone else replaced it meanwhile: not ours to remove
            return False
        lock.unlink(missing_ok=True)
        return True
    finally:
        breaker.unlink(missing_ok=True)


def acquire_lock(runs_dir: Path, log: Any) -> tuple[Path, dict[str, Any] | None]:
    """Take ``<runs_dir>/.nightly.lock``; returns (lock path, the stale lock's content if one was cleared).

    Raises
    ------
    LockedError
        Another run holds the lock, or is writing it this instant.
    """
    lock = runs_dir / LOCK_NAME
    host = socket.gethostname()
    stale: dict[str, Any] | None = None
    content = json.dumps({"pid": os.getpid(), "host": host,
                          "started_at": _dt.datetime.now().isoformat(timespec="seconds")})
    for _ in range(5):
        if _create_with_content(lock, content):
            return lock, stale
        info, age = _read_lock(lock)
        if info == {}:
            continue  # released meanwhile
        if info is None and age < LOCK_GRACE_SECONDS:
            raise LockedError(_locked_message(lock, None))
        if info is not None:
            pid = int(info.get("pid", 0) or 0)
            if pid and (_pid_alive(pid) or info.get("host", host) != host):
                raise LockedError(_locked_message(lock, info))
        if _clear_stale(lock, info):
            stale = info or {"empty": True}
            pid_text = (info or {}).get("pid", "?")
            log(f"stale lock of pid {pid_text} (no longer running) cleared / 清除失效的锁文件")
        else:
            time.sleep(0.2)
    raise LockedError(f"could not take the lock {lock}; another run keeps taking it; fix: run again later "
                      f"/ 无法获得运行锁，请稍后重试")


def release_lock(lock: Path) -> None:
    """Delete the lock if this process holds it."""
    info, _ = _read_lock(lock)
    if info and int(info.get("pid", 0)) == os.getpid():
        lock.unlink(missing_ok=True)


# ------------------------------------------------------------------------------------------------ folders
def new_run_dir(runs_dir: Path, now: _dt.datetime) -> Path:
    """Create the run folder (named by the start time) with its ``.running`` marker."""
    stamp = now.strftime("%Y%m%d-%H%M%S")
    d = runs_dir / stamp
    n = 1
    while d.exists() or d.with_name(d.name + ".failed").exists() or d.with_name(d.name + ".abandoned").exists():
        n += 1
        d = runs_dir / f"{stamp}-{n}"
    d.mkdir()
    (d / RUNNING_MARKER).write_text(f"{os.getpid()}\n", encoding="utf-8")
    return d


def _manifest_status(d: Path) -> str | None:
    try:
        return str(json.loads((d / MANIFEST).read_text(encoding="utf-8")).get("status"))
    except (OSError, ValueError):
        return None


def _finish_interrupted_publish(runs_dir: Path, log: Any) -> list[str]:
    """LATEST names a folder whose manifest still says ``complete``: the publish was cut short after LATEST."""
    latest = latest_run(runs_dir)
    if latest is None or not latest.is_dir() or _manifest_status(latest) != "complete":
        return []
    _mark_published(latest)
    log(f"run {latest.name} was published (LATEST names it) but not marked so: marked published "
        f"/ 运行 {latest.name} 已发布但未标记，已补标记")
    return [latest.name]


def clean_leftovers(runs_dir: Path, store_dir: Path, log: Any, store_seen: list[Path] | None = None
                    ) -> dict[str, list[str]]:
    """Tidy what killed runs left behind (module notes); returns what was done, for the manifest.

    ``store_seen``: :func:`store_leftovers` taken before this process took the store's lock (taking it tidies).
    """
    out: dict[str, list[str]] = {"abandoned_runs": [], "marked_published": [], "removed_files": []}
    out["marked_published"] = _finish_interrupted_publish(runs_dir, log)
    latest = latest_run(runs_dir)
    for d in sorted(runs_dir.iterdir()):
        if not d.is_dir() or not _RUN_NAME.match(d.name) or d.name.endswith((".failed", ".abandoned")):
            continue
        unpublished = _manifest_status(d) == "complete" and (latest is None or d.name != latest.name)
        if (d / RUNNING_MARKER).exists() or unpublished:
            target = d.with_name(d.name + ".abandoned")
            os.replace(d, target)
            (target / RUNNING_MARKER).unlink(missing_ok=True)
            out["abandoned_runs"].append(d.name)
            what = "never published" if unpublished else "killed?"
            log(f"incomplete run {d.name} ({what}) marked as {target.name} / 未完成的运行已标记为废弃")
    for p in sorted(runs_dir.iterdir()):
        m = _PID_TMP.match(p.name)
        if (p.is_file() or p.is_symlink()) and m and not _pid_alive(int(m.group(1))):
            p.unlink(missing_ok=True)
            out["removed_files"].append(str(p))
    out["removed_files"].extend(_tidy_store(store_dir, store_seen))
    for f in out["removed_files"]:
        log(f"leftover temporary file {f} (of a killed writer) deleted / 已删除残留临时文件")
    return out


def store_leftovers(store_dir: Path) -> list[Path]:
    """What a killed store write left: temporary files older than :data:`STORE_TMP_AGE`, ``_journal.json``."""
    if not store_dir.is_dir():
        return []
    now = time.time()
    old = [p for p in sorted(store_dir.glob(".*.tmp")) if p.is_file() and now - p.stat().st_mtime > STORE_TMP_AGE]
    journal = store_dir / "_journal.json"
    return [*old, journal] if journal.exists() else old


def _tidy_store(store_dir: Path, seen: list[Path] | None = None) -> list[str]:
    """Let the store finish or drop a write a kill interrupted (it does so on taking its own lock); the leftovers
    (``seen`` before the lock was taken, else found now) that are gone."""
    left = store_leftovers(store_dir) if seen is None else seen
    if not left:
        return []
    from zk_forecast.data.store import Store

    with Store(store_dir).lock(purpose="nightly batch: tidy an interrupted write"):
        pass  # taking the lock finishes a committed write and removes the temporary files of an unfinished one
    return [str(p) for p in left if not p.exists()]


def prune_runs(runs_dir: Path, keep: int, current: Path) -> list[str]:
    """Delete run folders beyond the newest ``keep`` (by name: the start time); never ``current`` or LATEST's."""
    if keep <= 0:
        return []
    runs = sorted((d for d in runs_dir.iterdir() if d.is_dir() and _RUN_NAME.match(d.name)),
                  key=lambda d: d.name.split(".")[0], reverse=True)
    latest = latest_run(runs_dir)
    gone = []
    for d in runs[keep:]:
        if d == current or (latest is not None and d.name == latest.name) or (d / RUNNING_MARKER).exists():
            continue
        shutil.rmtree(d, ignore_errors=True)
        gone.append(d.name)
    return gone


# ------------------------------------------------------------------------------------------------ publish
def _manifest_text(manifest: dict[str, Any]) -> str:
    return json.dumps(manifest, ensure_ascii=False, indent=2, default=str) + "\n"


def _mark_published(run_dir: Path) -> None:
    m = json.loads((run_dir / MANIFEST).read_text(encoding="utf-8"))
    m["status"] = "published"
    atomic_write_text(run_dir / MANIFEST, _manifest_text(m))


def publish(runs_dir: Path, run_dir: Path, manifest: dict[str, Any], log_text: str) -> None:
    """Write the manifest and run.log, point LATEST and the ``latest`` link at the run, then mark it published.

    ``manifest["status"]`` is set to ``"published"`` on return (the file says so only after LATEST names it).
    """
    fault("before_manifest")
    manifest["status"] = "complete"
    atomic_write_text(run_dir / MANIFEST, _manifest_text(manifest))
    (run_dir / "run.log").write_text(log_text, encoding="utf-8")
    (run_dir / RUNNING_MARKER).unlink()
    fsync_dir(run_dir)
    fault("after_manifest")
    atomic_write_text(runs_dir / LATEST_FILE, run_dir.name + "\n")
    fault("after_latest")
    link = runs_dir / LATEST_LINK
    tmp = runs_dir / f".{LATEST_LINK}.{os.getpid()}.tmp"
    try:
        tmp.unlink(missing_ok=True)
        os.symlink(run_dir.name, tmp, target_is_directory=True)
        os.replace(tmp, link)
    except OSError:  # pragma: no cover - no symbolic links here (Windows without the privilege); LATEST rules
        tmp.unlink(missing_ok=True)
    fault("after_link")
    manifest["status"] = "published"
    atomic_write_text(run_dir / MANIFEST, _manifest_text(manifest))
    fault("published")


def fail_run(run_dir: Path, step: str, message: str, log_text: str) -> Path:
    """Rename a failed run's folder to ``<name>.failed`` first, then write ERROR.txt and run.log if possible."""
    fault("before_fail_rename")
    target = run_dir.with_name(run_dir.name + ".failed")
    try:
        os.replace(run_dir, target)
    except OSError:  # pragma: no cover - the folder cannot be renamed: leave it, the next start marks it
        return run_dir
    (target / RUNNING_MARKER).unlink(missing_ok=True)
    try:
        (target / "ERROR.txt").write_text(f"step: {step}\n{message}\n", encoding="utf-8")
        (target / "run.log").write_text(log_text, encoding="utf-8")
    except OSError:  # pragma: no cover - e.g. a full disk: the name already says the run failed
        pass
    return target
