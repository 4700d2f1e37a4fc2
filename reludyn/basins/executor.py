"""Alias of :mod:`reludyn.runner` (the runner moved there); kept for code that imports it from here."""
from ..runner import Executor, Task, fingerprint, run_tasks  # noqa: F401
