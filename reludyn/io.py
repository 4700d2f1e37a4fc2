"""File helpers: atomic writes (any bytes, JSON, NPZ) and pickle-free loads.

Everything reludyn writes is JSON, CSV, NPZ (loaded with allow_pickle=False)
or GraphML. Writes go to a temporary file that is renamed into place, so an
interrupted run never leaves a half-written result behind.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import numpy as np


def atomic_write(path, write) -> None:
    """Call ``write(fh)`` on a temporary binary file next to ``path``, then rename it into place.

    The parent folder is created. On any error the temporary file is removed and
    ``path`` is left as it was: readers never see a half-written file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


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
