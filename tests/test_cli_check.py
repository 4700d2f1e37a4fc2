import subprocess
import sys

import pytest

from reludyn import __version__
from reludyn.cli import main


def test_version_and_help(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert __version__ in capsys.readouterr().out
    with pytest.raises(SystemExit):
        main(["--help"])
    assert "check" in capsys.readouterr().out


def test_check_prints_table(capsys):
    assert main(["check", "--samples", "50000", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "MC |z| loss" in out and "4 of 4 problems agree" in out


def test_bad_options_exit_2(capsys):
    for argv in (["check", "--samples", "-3"], ["check", "--seed", "x"], ["nosuch"], []):
        with pytest.raises(SystemExit) as e:
            main(argv)
        assert e.value.code == 2
    err = capsys.readouterr().err
    assert "expected a positive integer" in err


def test_entry_point_module():
    r = subprocess.run([sys.executable, "-m", "reludyn.cli", "--version"], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0 and __version__ in r.stdout


def test_import_compiles_nothing():
    code = ("import time; t = time.perf_counter(); import reludyn; "
            "import numba.core.registry as r; "
            "from reludyn import kernels; "
            "print(sum(len(f.overloads) for f in [kernels.grad_kernel, kernels.loss_kernel, "
            "kernels.hessian_kernel]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "0"


def test_import_is_light_and_lazy_names_resolve():
    code = ("import sys, reludyn; heavy = [m for m in ('matplotlib', 'networkx', 'scipy.optimize', "
            "'scipy.integrate', 'dask') if m in sys.modules]; print(heavy); "
            "missing = [n for n in reludyn.__all__ if not hasattr(reludyn, n)]; print(missing)")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split("\n")[:2] == ["[]", "[]"]
