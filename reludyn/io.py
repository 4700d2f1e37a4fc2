"""File helpers: atomic writes (any bytes, JSON, NPZ), pickle-free loads, output locks,
content hashes.

Everything reludyn writes is JSON, CSV, NPZ (loaded with allow_pickle=False)
or GraphML. Writes go to a temporary file that is fsynced and renamed into place (and
the folder fsynced), so an interrupted run or a crash never leaves a half-written result
behind; the result gets mode 0o666 minus the umask, like a file made by ``open``.

Temporary files are named ``.<name>.<pid>.<random>.tmp`` next to the output. A writer
killed by SIGKILL leaves its temporary behind; the next write to the same path removes
it (:func:`remove_stale_temps`): a temporary of ours is stale when the process whose PID
it carries is gone, or, for the PID-less ``.<name>.<random>.tmp`` of older versions, when
it is older than the running process. Temporaries of live processes are never touched.

:func:`output_lock` is an advisory, non-blocking lock (``fcntl.flock`` on a sibling
``.<name>.lock`` file) that a command holds for its whole run, so a second writer of the
same output is refused at once (:class:`OutputBusyError`), whatever the timing.
:func:`check_writable` refuses an unwritable output before any work starts.
"""
from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import re
import socket
import tempfile
import time
from pathlib import Path

import numpy as np

try:  # POSIX only; without it output_lock degrades to no locking (documented)
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

_PROCESS_START = time.time()  # import time of reludyn.io: an upper bound on our start time


def _umask() -> int:
    """The process umask, read without changing it where Linux allows (/proc), else set-and-restore."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _fsync_dir(folder: Path) -> None:
    """fsync a folder so a rename into it survives a crash (not possible on every platform)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems refuse fsync on folders; the rename is still atomic
        pass
    finally:
        os.close(fd)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temps(path) -> list[Path]:
    """Remove temporaries of ``path`` left by killed writers; returns the removed paths.

    Only files matching our own pattern are considered: ``.<name>.<pid>.<8 chars>.tmp``
    whose PID is not a live process (not our own PID either), and the PID-less
    ``.<name>.<8 chars>.tmp`` of older versions whose mtime precedes this process.
    """
    path = Path(path)
    folder = path.parent
    if not folder.is_dir():
        return []
    name = re.escape(path.name)
    with_pid = re.compile(rf"^\.{name}\.(\d+)\.[a-z0-9_]{{8}}\.tmp$")
    legacy = re.compile(rf"^\.{name}\.[a-z0-9_]{{8}}\.tmp$")
    removed = []
    try:
        candidates = [c for c in os.listdir(folder) if c.endswith(".tmp")]
    except OSError:
        return []
    for c in candidates:
        m = with_pid.match(c)
        stale = False
        try:
            if m:
                pid = int(m.group(1))
                stale = pid != os.getpid() and not _pid_alive(pid)
            elif legacy.match(c):
                stale = os.stat(folder / c).st_mtime < _PROCESS_START
            if stale:
                os.unlink(folder / c)
                removed.append(folder / c)
        except OSError:  # vanished meanwhile, or not ours to remove
            continue
    return removed


def atomic_write(path, write) -> None:
    """Call ``write(fh)`` on a temporary binary file next to ``path``, then rename it into place.

    The parent folder is created. The data and the rename are fsynced; the file gets mode
    0o666 & ~umask. Stale temporaries of ``path`` are removed first (see
    :func:`remove_stale_temps`). On any error the temporary file is removed and ``path``
    is left as it was: readers never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.{os.getpid()}.",
                               suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def atomic_write_bytes(path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (see :func:`atomic_write`)."""
    atomic_write(path, lambda fh: fh.write(data))


_atomic_write = atomic_write  # the old private name, for code written before the public one


def _json_default(obj):
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, np.floating):
        return float(obj)
    if isinstance(obj, np.bool_):
        return bool(obj)
    raise TypeError(f"cannot write {type(obj).__name__} to JSON")


def write_json(path, data, indent: int | None = 1) -> None:
    """Write ``data`` as JSON atomically (numpy arrays and scalars allowed)."""
    text = json.dumps(data, indent=indent, default=_json_default, allow_nan=True)
    atomic_write_bytes(path, text.encode())


def read_json(path, what: str = "JSON file"):
    """Read JSON, turning a missing or damaged file into a ValueError that names it."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist")
    try:
        return json.loads(path.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"{what} {str(path)!r} is damaged (not valid JSON): {exc}") from None


def write_npz(path, **arrays) -> None:
    """Write arrays to .npz atomically; object arrays are refused (they would need pickle)."""
    for k, v in arrays.items():
        if np.asarray(v).dtype == object:
            raise TypeError(f"array {k!r} has dtype object; refusing to pickle")
    atomic_write(path, lambda fh: np.savez(fh, **arrays))


def read_npz(path, what: str = "NPZ file") -> dict[str, np.ndarray]:
    """Load every array of an .npz without pickle; damaged files raise ValueError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} {str(path)!r} does not exist")
    try:
        with np.load(path, allow_pickle=False) as data:
            return {k: data[k] for k in data.files}
    except Exception as exc:
        raise ValueError(f"{what} {str(path)!r} is damaged or not an .npz: {exc}") from None


def check_lengths(arrays: dict, what: str, keys=None) -> int:
    """Require the arrays named ``keys`` (default: all) to have the same first dimension;
    returns it. For files that hold one row per run (a resumed .npz: W, loss, steps, ...):
    a file whose arrays disagree is damaged, and ValueError names the arrays and lengths."""
    keys = list(arrays) if keys is None else list(keys)
    missing = [k for k in keys if k not in arrays]
    if missing:
        raise ValueError(f"{what} lacks arrays {missing}")
    lengths = {k: (np.shape(arrays[k])[0] if np.ndim(arrays[k]) else None) for k in keys}
    if len(set(lengths.values())) > 1 or None in lengths.values():
        desc = ", ".join(f"{k}: {'scalar' if n is None else n}" for k, n in lengths.items())
        raise ValueError(f"{what} is damaged: its arrays have different lengths ({desc})")
    return next(iter(lengths.values()), 0) or 0


# --- writability --------------------------------------------------------------
def check_writable(path, what: str = "output", kind: str = "file") -> Path:
    """Refuse an output that cannot be written, before any work starts; returns ``Path(path)``.

    ``kind`` is "file" or "dir". The nearest existing ancestor must be a folder in which a
    probe file can be created and removed (the atomic write renames into the parent, so
    write permission on the file itself is not what counts); an existing ``path`` must be
    of the right kind. Raises ValueError naming ``what`` and the path.
    """
    if kind not in ("file", "dir"):
        raise ValueError(f"kind must be 'file' or 'dir', got {kind!r}")
    path = Path(path)
    if str(path) == "" or path.name in ("", ".", ".."):
        if kind == "file":
            raise ValueError(f"{what} {str(path)!r} is not a file name")
    if path.exists():
        if kind == "file" and path.is_dir():
            raise ValueError(f"{what} {str(path)!r} is a directory, expected a file name")
        if kind == "dir" and not path.is_dir():
            raise ValueError(f"{what} {str(path)!r} exists and is not a directory")
    folder = path if (kind == "dir" and path.is_dir()) else path.parent
    folder = Path(os.path.abspath(folder))
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        raise ValueError(f"{what} {str(path)!r}: {str(folder)!r} is not a directory")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".reludyn-probe.", suffix=".tmp")
    except OSError as exc:
        raise ValueError(f"{what} {str(path)!r} is not writable: cannot create files in "
                         f"{str(folder)!r} ({exc.strerror or exc})") from None
    os.close(fd)
    os.unlink(probe)
    return path


# --- output locks ---------------------------------------------------------------
class OutputBusyError(ValueError):
    """Another process holds the lock of an output (see :func:`output_lock`).

    A ValueError, so the CLI reports it as one line with exit status 2. ``holder`` is what
    the holder recorded in the lock file ("pid N on HOST since TIME"), or "" if unknown.
    """

    def __init__(self, path: Path, lock_path: Path, holder: str):
        self.path, self.lock_path, self.holder = Path(path), Path(lock_path), holder
        who = f" by {holder}" if holder else ""
        m = re.match(r"pid (\d+) on (\S+)", holder)
        if m and m.group(2) == socket.gethostname() and not _pid_alive(int(m.group(1))):
            # the flock is inherited by forked workers, which may outlive a killed parent
            who += " (that process is gone; worker processes it started still hold the lock)"
        super().__init__(f"output {str(path)!r} is in use{who} (lock file {str(lock_path)!r}); "
                         "wait for that run to finish or choose another output")


def lock_path_for(path) -> Path:
    """The lock file of output ``path``: ``.<name>.lock`` next to it."""
    path = Path(path)
    name = path.name or Path(os.path.abspath(path)).name
    return path.parent / f".{name}.lock"


_HELD: dict[str, int] = {}  # lock files this process holds -> nesting depth (reentrant=True)


@contextlib.contextmanager
def output_lock(path, reentrant: bool = False):
    """Hold an exclusive advisory lock on output ``path`` (a file or a run folder) for the block.

    Non-blocking: if another process (or another ``output_lock`` of this process) holds it,
    :class:`OutputBusyError` is raised at once, naming the holder's PID and host. With
    ``reentrant=True`` a lock this process already holds on ``path`` is simply nested (the
    runner locks its run directory this way, inside a command that locked it already). The lock
    is ``fcntl.flock`` on ``.<name>.lock`` next to ``path``, so it is released by the
    kernel when the holder dies (even by SIGKILL); the file is removed on a clean exit.
    Forked children inherit the lock. Without fcntl (not POSIX) nothing is locked.
    """
    path = Path(path)
    lock = lock_path_for(path)
    if fcntl is None:  # pragma: no cover
        yield lock
        return
    key = os.path.abspath(lock)
    if reentrant and _HELD.get(key, 0) > 0:
        _HELD[key] += 1
        try:
            yield lock
        finally:
            _HELD[key] -= 1
        return
    lock.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as exc:
            if exc.errno not in (errno.EAGAIN, errno.EACCES, errno.EWOULDBLOCK):
                os.close(fd)
                raise
            holder = ""
            for _ in range(50):  # the holder writes its pid just after it locks: wait for it
                try:
                    holder = os.pread(fd, 4096, 0).decode(errors="replace").strip()
                except OSError:
                    break
                if holder:
                    break
                time.sleep(0.01)
            os.close(fd)
            raise OutputBusyError(path, lock, holder) from None
        # the previous holder may have removed the file between our open and flock:
        # then we locked an orphaned inode, and must start again on the new file
        try:
            same = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since {stamp}\n".encode())
        _HELD[key] = 1
        yield lock
    finally:
        _HELD.pop(key, None)
        with contextlib.suppress(OSError):
            if os.stat(lock).st_ino == os.fstat(fd).st_ino:
                os.unlink(lock)  # before unlocking: a waiter then sees the file gone and retries
        os.close(fd)  # releases the flock


# --- content hashes ---------------------------------------------------------------
def canonical(obj):
    """A JSON-able, order-stable form of ``obj`` for hashing.

    Dicts are sorted by key; lists/tuples keep order; numpy arrays become their shape,
    dtype and the SHA-256 of their C-order bytes; objects with ``to_dict`` become that
    dict tagged with their type name; numpy scalars become Python numbers. Anything else
    raises TypeError.
    """
    if hasattr(obj, "to_dict") and callable(obj.to_dict):
        return {"__type__": type(obj).__name__, **canonical(obj.to_dict())}
    if isinstance(obj, dict):
        return {str(k): canonical(v) for k, v in sorted(obj.items(), key=lambda kv: str(kv[0]))}
    if isinstance(obj, (list, tuple)):
        return [canonical(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return {"__array__": list(obj.shape), "dtype": str(obj.dtype),
                "sha256": hashlib.sha256(np.ascontiguousarray(obj).tobytes()).hexdigest()}
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return obj.item()
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    raise TypeError(f"a value of type {type(obj).__name__} cannot be hashed "
                    "(use numbers, strings, lists, dicts, numpy arrays or objects with to_dict)")


def content_hash(obj) -> str:
    """SHA-256 (hex) of the canonical JSON of ``obj`` (see :func:`canonical`).

    Equal for equal content whatever the dict order; arrays hash by shape, dtype and
    bytes, so a float64 array and its list form differ (convert first to compare).
    """
    text = json.dumps(canonical(obj), sort_keys=True, allow_nan=True)
    return hashlib.sha256(text.encode()).hexdigest()
