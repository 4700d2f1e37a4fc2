"""The resumable runner: a deterministic list of tasks, run locally or on a Dask cluster.

Used by basin fractions, unstable-manifold pushes, ``reludyn train`` chunks and the
catalogue sweep; one on-disk layout and one resume rule for all of them:

    out_dir/manifest.json     {"function": "<module>.<name>", "tasks": {key: fingerprint}}
    out_dir/tasks/<key>.npz   one finished task (arrays, no pickle), written atomically

A task whose file exists is loaded, not rerun; a directory whose manifest holds another
function or a task key with another fingerprint is refused. Each task file stores its own
task's fingerprint (array ``_task_fingerprint``) and a file whose stored fingerprint is not
its key's (a chunk swapped for another's) is refused; a file without one (older versions)
is recomputed. The run holds :func:`reludyn.io.output_lock` on ``out_dir`` throughout, so
a second process writing the same directory is refused at once (OutputBusyError).
Local worker processes die with their parent (a parent-death signal on Linux and a
watchdog thread everywhere), so a killed run leaves no orphans. :class:`Executor` bundles
where and how tasks run (workers, scheduler, chunk size, output dir, progress).

A sweep is a function ``fn(**params) -> dict[str, array-like]`` and a list of
:class:`Task` (a file-name-safe key and the keyword arguments). Every finished
task is written at once to ``out_dir/tasks/<key>.npz`` (atomic, no pickle), so an
interrupted sweep resumes where it stopped and a finished one is not recomputed.
``out_dir/manifest.json`` records a fingerprint of every task's parameters; reusing
a directory for different parameters is refused instead of mixing results.

Backends: embedded (in this process, ``workers=1``), local processes
(``concurrent.futures.ProcessPoolExecutor``, spawn start method, one Numba thread
per worker), or Dask distributed when ``scheduler`` is an address
``tcp://host:port`` or a ``distributed.Client``. Scripts that use worker processes need
the usual ``if __name__ == "__main__":`` guard (spawned workers import the main
module). Results never depend on the
backend or on the order in which tasks finish: they are returned in task order.
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .io import content_hash, output_lock, read_json, read_npz, write_json, write_npz
from .progress import Progress

FINGERPRINT_KEY = "_task_fingerprint"  # the array of a task file naming its task's fingerprint
_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class Task:
    """One unit of a sweep: ``fn(**params)``; ``key`` names its result file."""

    key: str
    params: dict = field(default_factory=dict)


def fingerprint(params: dict) -> str:
    """SHA-256 of the canonical JSON of ``params`` (arrays by shape, dtype and bytes)."""
    return content_hash(params)


def _fn_name(fn: Callable) -> str:
    return f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"


def _check_tasks(tasks) -> list[Task]:
    tasks = list(tasks)
    seen = set()
    for t in tasks:
        if not isinstance(t, Task):
            raise TypeError(f"tasks must be reludyn.runner.Task objects, got {type(t).__name__}")
        if not isinstance(t.key, str) or not _KEY_RE.match(t.key):
            raise ValueError(f"task key {t.key!r} is not a safe file name "
                             "(letters, digits, '_', '.', '-'; at most 128 characters)")
        if t.key in seen:
            raise ValueError(f"task key {t.key!r} appears twice")
        if not isinstance(t.params, dict):
            raise TypeError(f"params of task {t.key!r} must be a dict")
        seen.add(t.key)
    return tasks


def _prepare_dir(out_dir: Path, fn: Callable, prints: dict[str, str]) -> None:
    """Create or check out_dir/manifest.json (``prints``: task key -> fingerprint of its
    parameters) so a directory never mixes two different sweeps."""
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "tasks").mkdir(exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    name = _fn_name(fn)
    if manifest_path.exists():
        old = read_json(manifest_path, "sweep manifest")
        if not isinstance(old, dict) or not isinstance(old.get("tasks"), dict):
            raise ValueError(f"sweep manifest {str(manifest_path)!r} is damaged (no 'tasks' table)")
        if old.get("function") != name:
            raise ValueError(f"output directory {str(out_dir)!r} holds a sweep of "
                             f"{old.get('function')!r}, not {name!r}; use another directory")
        for key, fp in prints.items():
            if key in old["tasks"] and old["tasks"][key] != fp:
                raise ValueError(
                    f"output directory {str(out_dir)!r} holds task {key!r} with different "
                    "parameters; use another directory (or delete it to recompute)")
        merged = dict(old["tasks"])
        merged.update(prints)
        prints = merged
    write_json(manifest_path, {"function": name, "tasks": prints})


def _result_path(out_dir: Path, key: str) -> Path:
    return out_dir / "tasks" / f"{key}.npz"


def _normalise(key: str, res) -> dict[str, np.ndarray]:
    if not isinstance(res, dict):
        raise TypeError(f"task {key!r} returned {type(res).__name__}; a task must return a dict of arrays")
    out = {}
    for k, v in res.items():
        a = np.asarray(v)
        if a.dtype == object:
            raise TypeError(f"task {key!r} returned {k!r} with dtype object; return numbers or strings")
        out[str(k)] = a
    return out


def _check_backend(workers, scheduler) -> None:
    if workers is not None and (isinstance(workers, bool) or not isinstance(workers, int) or workers < 1):
        raise ValueError(f"workers must be a positive integer, got {workers!r}")
    if scheduler is not None and not isinstance(scheduler, str) and not hasattr(scheduler, "submit"):
        raise TypeError("scheduler must be an address 'tcp://host:port' or a distributed.Client")
    if isinstance(scheduler, str) and not re.match(r"^(tcp|tls|inproc|ucx)://\S+$", scheduler):
        raise ValueError(f"scheduler must look like tcp://host:port, got {scheduler!r}")


@dataclass(frozen=True, eq=False)
class Executor:
    """Where and how a list of tasks runs (validated once, here).

    workers: local processes (1: embedded in this process; None: ``os.cpu_count()``).
    scheduler: None, a Dask address ``tcp://host:port`` or a ``distributed.Client``.
    chunk: items (starts, runs) per task; out_dir: the run directory (resume; None: a
    temporary one, removed afterwards); progress: show a progress bar.
    """

    workers: int | None = 1
    scheduler: Any = None
    chunk: int = 100
    out_dir: Any = None
    progress: bool = False

    def __post_init__(self):
        _check_backend(self.workers, self.scheduler)
        if isinstance(self.chunk, bool) or not isinstance(self.chunk, (int, np.integer)) or self.chunk < 1:
            raise ValueError(f"chunk must be a positive integer, got {self.chunk!r}")
        object.__setattr__(self, "chunk", int(self.chunk))
        if self.out_dir is not None:
            object.__setattr__(self, "out_dir", Path(self.out_dir))
        if not isinstance(self.progress, (bool, np.bool_)):
            raise TypeError(f"progress must be True or False, got {type(self.progress).__name__}")

    def chunks(self, n: int) -> list[tuple[int, int]]:
        """(start, stop) of the consecutive chunks of ``n`` items."""
        return [(s, min(s + self.chunk, n)) for s in range(0, n, self.chunk)]

    def run(self, fn: Callable[..., dict], tasks, label: str = "tasks",
            on_result: Callable[[dict], None] | None = None) -> list[dict[str, np.ndarray]]:
        """:func:`run_tasks` with these settings (a temporary directory when out_dir is None)."""
        kw = {"scheduler": self.scheduler, "workers": self.workers, "progress": bool(self.progress),
              "label": label, "on_result": on_result}
        if self.out_dir is None:
            import tempfile

            with tempfile.TemporaryDirectory() as tmp:
                return run_tasks(fn, tasks, tmp, **kw)
        return run_tasks(fn, tasks, self.out_dir, **kw)


def die_with_parent(parent_pid: int | None = None, poll_s: float = 0.5) -> None:
    """Make this (worker) process exit when its parent dies, even by SIGKILL.

    PR_SET_PDEATHSIG on Linux, plus a daemon thread that polls ``os.getppid()`` (other
    platforms, and the race where the parent died before the signal was armed). parent_pid:
    the expected parent (None: the current one, e.g. a forkserver). Use as a process pool's
    ``initializer`` (``initargs=(os.getpid(),)`` with spawn) so a killed run leaves no orphans.
    """
    if parent_pid is None:
        parent_pid = os.getppid()
    import signal
    import sys
    import threading
    import time

    if sys.platform.startswith("linux"):
        try:
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, int(signal.SIGKILL), 0, 0, 0)  # PR_SET_PDEATHSIG = 1
        except Exception:
            pass
    if os.getppid() != parent_pid:
        os._exit(1)

    def watch():
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="reludyn-parent-watch", daemon=True).start()


def _worker_init(parent_pid: int | None = None) -> None:  # pragma: no cover - runs in child processes
    if parent_pid is not None:
        die_with_parent(parent_pid)
    # Processes already parallelise the sweep; one Numba thread each avoids oversubscription.
    try:
        import numba

        numba.set_num_threads(1)
    except Exception:
        pass


def _call(fn, params):  # pragma: no cover - trivial, runs in workers
    return fn(**params)


def run_tasks(fn: Callable[..., dict], tasks, out_dir, *, scheduler=None,
              workers: int | None = None, progress: bool = False,
              label: str = "tasks", on_result: Callable[[dict], None] | None = None
              ) -> list[dict[str, np.ndarray]]:
    """Run ``fn(**task.params)`` for every task; return the results in task order.

    fn: a module-level function (it is sent to other processes) returning a dict of
    arrays, numbers or strings. out_dir: results go to ``out_dir/tasks/<key>.npz`` as
    each task finishes; tasks whose file exists are loaded, not rerun. scheduler:
    None for local execution, ``"tcp://host:port"`` or a ``distributed.Client`` for
    Dask. workers: local processes (default ``os.cpu_count()``); 1 runs embedded in
    this process. A failing task raises RuntimeError naming it; finished tasks stay saved.
    on_result: called as ``on_result(finished)`` after each task computed here is saved,
    with every finished result so far (key -> arrays, loaded ones included), e.g. to
    refresh a summary file as a long run goes.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    tasks = _check_tasks(tasks)
    out_dir = Path(out_dir)
    if out_dir.exists() and not out_dir.is_dir():
        raise ValueError(f"output directory {str(out_dir)!r} exists and is not a directory")
    _check_backend(workers, scheduler)
    with output_lock(out_dir, reentrant=True):
        return _run_locked(fn, tasks, out_dir, scheduler, workers, progress, label, on_result)


def _load_result(out_dir: Path, key: str, expected: str) -> dict[str, np.ndarray] | None:
    """A finished task's arrays, checked against the task's fingerprint (None: recompute)."""
    p = _result_path(out_dir, key)
    if not p.exists():
        return None
    res = read_npz(p, f"result of task {key!r}")
    if FINGERPRINT_KEY not in res:
        return None  # written by an older version: recompute it rather than trust it
    stored = str(res.pop(FINGERPRINT_KEY))
    if stored != expected:
        raise ValueError(f"task file {str(p)!r} is not the result of task {key!r}: it was computed "
                         f"for parameters with fingerprint {stored[:16]}..., not {expected[:16]}... "
                         "(a file copied or swapped from another task?); delete it to recompute")
    return res


def _run_locked(fn, tasks, out_dir, scheduler, workers, progress, label, on_result):
    prints = {t.key: fingerprint(t.params) for t in tasks}  # hashes every start once
    _prepare_dir(out_dir, fn, prints)

    results: dict[str, dict] = {}
    todo = []
    for t in tasks:
        res = _load_result(out_dir, t.key, prints[t.key])
        if res is not None:
            results[t.key] = res
        else:
            todo.append(t)

    def save(key, res):
        res = _normalise(key, res)
        if FINGERPRINT_KEY in res:
            raise ValueError(f"task {key!r} returned the reserved name {FINGERPRINT_KEY!r}")
        write_npz(_result_path(out_dir, key), **res, **{FINGERPRINT_KEY: np.array(prints[key])})
        results[key] = res
        if on_result is not None:
            on_result(results)

    with Progress(len(tasks), label, enabled=progress) as bar:
        bar.update(len(tasks) - len(todo))
        if todo:
            if scheduler is not None:
                _run_dask(fn, todo, prints, scheduler, save, bar)
            else:
                n = (os.cpu_count() or 1) if workers is None else workers
                if n == 1 or len(todo) == 1:
                    for t in todo:
                        try:
                            res = fn(**t.params)
                        except Exception as exc:
                            raise RuntimeError(f"task {t.key!r} failed: {type(exc).__name__}: {exc}") from exc
                        save(t.key, res)
                        bar.update(1)
                else:
                    _run_processes(fn, todo, min(n, len(todo)), save, bar)
    return [results[t.key] for t in tasks]


def _run_processes(fn, todo, n, save, bar) -> None:
    # worker processes import fn by name: it must be a module-level function
    qual = getattr(fn, "__qualname__", "")
    if not qual or "<locals>" in qual or "<lambda>" in qual or "." in qual:
        raise TypeError(f"fn {qual or fn!r} cannot be sent to worker processes; "
                        "use a module-level function or workers=1")
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=ctx, initializer=_worker_init,
                                initargs=(os.getpid(),)) as pool:
        futs = {pool.submit(_call, fn, t.params): t.key for t in todo}
        try:
            for fut in cf.as_completed(futs):
                key = futs[fut]
                try:
                    res = fut.result()
                except cf.process.BrokenProcessPool as exc:
                    raise RuntimeError(
                        f"task {key!r} failed: a worker process died ({exc}). Workers are started "
                        "with 'spawn': a script that calls this with workers > 1 needs the "
                        "`if __name__ == '__main__':` guard") from exc
                except Exception as exc:
                    raise RuntimeError(f"task {key!r} failed: {type(exc).__name__}: {exc}") from exc
                save(key, res)
                bar.update(1)
        except BaseException:
            for f in futs:
                f.cancel()
            raise


def _run_dask(fn, todo, prints, scheduler, save, bar) -> None:
    try:
        from distributed import Client, as_completed
    except ImportError:  # pragma: no cover - depends on the environment
        raise ValueError("--scheduler needs dask[distributed]: pip install 'reludyn[distributed]'") from None
    own = isinstance(scheduler, str)
    try:
        client = Client(scheduler, timeout="20s") if own else scheduler
    except (OSError, TimeoutError) as exc:
        raise ValueError(f"cannot connect to the Dask scheduler {scheduler!r}: {exc}") from None
    try:
        futs = {}
        for t in todo:
            fp = fingerprint({"fn": _fn_name(fn), "params": prints[t.key]})[:16]
            f = client.submit(_call, fn, t.params, key=f"reludyn-{t.key}-{fp}", pure=False)
            futs[f] = t.key
        for fut in as_completed(list(futs)):
            key = futs[fut]
            try:
                res = fut.result()
            except Exception as exc:
                raise RuntimeError(f"task {key!r} failed: {type(exc).__name__}: {exc}") from exc
            save(key, res)
            bar.update(1)
    finally:
        if own:
            client.close()
