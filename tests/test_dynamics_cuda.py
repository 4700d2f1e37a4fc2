"""The CUDA ensemble kernel (reludyn.dynamics.cuda_gd) against the CPU kernel.

The device runs happen in one subprocess with NUMBA_ENABLE_CUDASIM=1 (the
simulator must be on before numba is imported, and the rest of the suite runs
without it); the CPU runs happen here, in this process, on the same inputs, so
the two sides share nothing but the code under test's inputs. Sizes are tiny:
every simulated thread is a Python thread.
"""
import itertools
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from reludyn import Problem
from reludyn.dynamics.gd import gradient_descent
from reludyn.dynamics.init import near_teacher_init, xavier_init

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SIM_UNAVAILABLE = 77  # exit code of the device script when the simulator cannot import

# --- the cases: name -> inputs and settings (both sides build them the same way) ---
KW = ("eta", "tol", "norm", "max_steps", "dead_tol", "diverge_bound", "record", "n_record")


def _opposite_start(p):
    """Rows near −v_m (θ close to π) plus rows near +v_m (θ close to 0)."""
    V = p.V
    W = np.empty((p.K, p.d))
    for j in range(p.K):
        W[j] = (-1.0 if j % 2 == 0 else 1.0) * V[j % p.M] * (0.9 + 0.05 * j)
    W += 1e-7 * np.random.default_rng(5).standard_normal(W.shape)
    return W[None]


def cases():
    out = {}
    # every shape K, M, d in {1, 2, 3}: two seeded Xavier starts, budget stop, both norms
    for i, (K, M, d) in enumerate(itertools.product((1, 2, 3), repeat=3)):
        out[f"sweep_{K}{M}{d}"] = dict(
            teacher=("gaussian", M, d, K, i), init=("xavier", 2, 100 + i),
            eta=0.1, tol=0.0, norm=("fro" if i % 2 else "max_row"), max_steps=12)
    # near-parallel pairs: near the teacher (θ -> 0) and near opposite rows (θ -> π)
    out["near_teacher"] = dict(teacher=("orthonormal", 2, 3, 3, 0), init=("near", 2, 7),
                               eta=0.4, tol=0.0, max_steps=25)
    out["near_opposite"] = dict(teacher=("gaussian", 2, 3, 3, 4), init=("opposite",),
                                eta=0.1, tol=0.0, max_steps=15)
    # each stop reason
    out["converged"] = dict(teacher=("orthonormal", 2, 2, 2, 0), init=("near", 2, 3),
                            eta=0.5, tol=1e-5, max_steps=500)
    out["diverged"] = dict(teacher=("orthonormal", 2, 2, 2, 0), init=("xavier", 2, 1),
                           eta=20.0, tol=1e-10, max_steps=500)
    out["dead_row"] = dict(teacher=("orthonormal", 1, 3, 1, 0), init=("scaled_teacher", -0.8),
                           eta=0.5, tol=1e-10, dead_tol=1e-3, max_steps=500)
    out["dead_at_start"] = dict(teacher=("orthonormal", 2, 2, 2, 0), init=("zero_row",),
                                eta=0.1, tol=1e-10, max_steps=500)
    out["recorded"] = dict(teacher=("gaussian", 2, 3, 2, 9), init=("xavier", 2, 11), eta=0.2,
                           tol=1e-3, norm="fro", max_steps=40, record=True, n_record=6)
    return out


def build(case):
    """(Problem, W0 (B, K, d)) of a case."""
    kind, M, d, K, seed = case["teacher"]
    p = Problem.orthonormal(M, d=d, K=K) if kind == "orthonormal" else \
        Problem.gaussian(M, d, K=K, seed=seed)
    init = case["init"]
    if init[0] == "xavier":
        W0 = xavier_init(p, init[1], seed=init[2])
    elif init[0] == "near":
        W0 = near_teacher_init(p, init[1], seed=init[2], rel_noise=0.05)
    elif init[0] == "opposite":
        W0 = _opposite_start(p)
    elif init[0] == "scaled_teacher":
        W0 = init[1] * p.V[None]
    else:  # zero_row
        W0 = np.array([[[0.5, 0.1], [0.0, 0.0]]])
    return p, W0


def settings(case):
    return {k: case[k] for k in KW if k in case}


# threads per block overridden (strided loops, idle threads, the GPU's warp-sized block)
THREADS = {"threads_1": ("sweep_333", 1), "threads_5": ("sweep_323", 5),
           "threads_32": ("sweep_233", 32)}

DEVICE_SCRIPT = textwrap.dedent("""
    import sys
    sys.setswitchinterval(1e-4)  # the simulator's block manager polls threads between barriers
    try:
        from numba import config, cuda
    except ImportError as exc:
        print("simulator cannot import:", exc)
        sys.exit({code})
    assert config.ENABLE_CUDASIM
    import numpy as np
    sys.path.insert(0, {here!r})
    import test_dynamics_cuda as t
    from reludyn.dynamics import cuda_gd
    from reludyn.dynamics.gd import gradient_descent
    assert cuda_gd.available() and cuda_gd.simulator()
    out = {{}}
    cs = t.cases()
    for name, case in cs.items():
        p, W0 = t.build(case)
        r = gradient_descent(p, W0, device="cuda", **t.settings(case))
        for k, v in r.arrays().items():
            out[name + "/" + k] = v
    for name, (src, threads) in t.THREADS.items():
        p, W0 = t.build(cs[src])
        s = t.settings(cs[src])
        B = W0.shape[0]
        W = W0.copy()
        V = np.array(p.V)
        steps, codes, gn = np.zeros(B, np.int64), np.zeros(B, np.int64), np.zeros(B)
        cuda_gd.gd_ensemble_cuda(W, V, s["eta"], s["tol"], s.get("norm") == "fro",
                                 s["max_steps"], 1e8, 0.0, np.zeros(0, np.int64),
                                 np.zeros((B, 0), np.int64), np.zeros((B, 0) + W.shape[1:]),
                                 np.zeros((B, 0)), steps, codes, gn, threads=threads)
        out[name + "/W"], out[name + "/steps"], out[name + "/grad_norm"] = W, steps, gn
    np.savez(sys.argv[1], **out)
""")


@pytest.fixture(scope="module")
def device(tmp_path_factory):
    """Arrays of every case run with device="cuda" on the simulator, in a subprocess."""
    path = str(tmp_path_factory.mktemp("cuda") / "device.npz")
    env = dict(os.environ, NUMBA_ENABLE_CUDASIM="1",
               PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    r = subprocess.run([sys.executable, "-c", DEVICE_SCRIPT.format(code=SIM_UNAVAILABLE, here=HERE),
                        path], capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    if r.returncode == SIM_UNAVAILABLE:
        pytest.skip(r.stdout.strip())
    assert r.returncode == 0, r.stdout + r.stderr
    with np.load(path, allow_pickle=False) as z:
        return {k: z[k] for k in z.files}


def _check(dev, name, cpu, fields=("W", "loss", "grad_norm")):
    assert_array_equal(dev[name + "/steps"], cpu.steps, err_msg=name)
    if name + "/reason" in dev:
        assert_array_equal(dev[name + "/reason"], cpu.reason, err_msg=name)
    for f in fields:
        assert_allclose(dev[name + "/" + f], getattr(cpu, f), rtol=0, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("name", list(cases()))
def test_device_equals_cpu(device, name):
    case = cases()[name]
    p, W0 = build(case)
    cpu = gradient_descent(p, W0, **settings(case))
    _check(device, name, cpu)
    if case.get("record"):
        for f in ("traj_steps", "traj_W", "traj_grad_norm", "traj_loss"):
            assert_allclose(device[name + "/" + f], getattr(cpu, f), rtol=0, atol=1e-12,
                            equal_nan=True, err_msg=f)
        assert (cpu.traj_steps >= 0).sum() >= 4  # several records, not just the end point


@pytest.mark.parametrize("name", list(THREADS))
def test_block_size_does_not_change_results(device, name):
    src, _ = THREADS[name]
    p, W0 = build(cases()[src])
    _check(device, name, gradient_descent(p, W0, **settings(cases()[src])), ("W", "grad_norm"))


def test_every_stop_reason_reached_on_device(device):
    seen = {str(r) for k, v in device.items() if k.endswith("/reason") for r in v}
    assert seen == {"converged", "budget", "diverged", "dead_row"}
    assert device["dead_row/steps"][0] > 10  # reached by descent, not only at the start
    assert device["converged/steps"].min() > 10


def test_near_parallel_cases_are_near_parallel():
    # the θ -> 0 and θ -> π cases do exercise |cos θ| > 0.9 (the recomputed branch)
    for name in ("near_teacher", "near_opposite"):
        p, W0 = build(cases()[name])
        E = W0[0] / np.linalg.norm(W0[0], axis=1)[:, None]
        EV = p.V / np.linalg.norm(p.V, axis=1)[:, None]
        assert np.abs(E @ EV.T).max() > 0.99
    p, W0 = build(cases()["near_opposite"])
    assert (W0[0] @ p.V.T).min() < 0


def test_no_cuda_error(monkeypatch):
    from reludyn.dynamics import cuda_gd
    monkeypatch.setattr(cuda_gd, "available", lambda: False)
    p = Problem.orthonormal(2)
    with pytest.raises(RuntimeError, match="no CUDA device: install numba-cuda and a driver, "
                                           "or set NUMBA_ENABLE_CUDASIM=1"):
        gradient_descent(p, p.V, 0.1, device="cuda")


def test_numba_without_cuda_target_reads_as_no_device(monkeypatch):
    import numba
    monkeypatch.delattr(numba, "cuda", raising=False)
    monkeypatch.setitem(sys.modules, "numba.cuda", None)  # `from numba import cuda` fails
    p = Problem.orthonormal(2)
    with pytest.raises(RuntimeError, match="no CUDA device"):
        gradient_descent(p, p.V, 0.1, device="cuda")


def test_bad_device():
    p = Problem.orthonormal(2)
    with pytest.raises(ValueError, match="device must be one of"):
        gradient_descent(p, p.V, 0.1, device="gpu")


def test_cpu_path_does_not_import_numba_cuda():
    code = ("import sys, numpy as np, reludyn, reludyn.dynamics\n"
            "from reludyn.dynamics.gd import gradient_descent\n"
            "p = reludyn.Problem.orthonormal(2)\n"
            "gradient_descent(p, np.eye(2), 0.1, max_steps=3)\n"
            "print(sorted(m for m in sys.modules if m.startswith('numba.cuda')))\n")
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300,
                       env=env, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout.strip().replace("'", '"')) == []


PTX_SCRIPT = textwrap.dedent("""
    import sys, types
    from numba import cuda, types as nt
    from numba.cuda.cudadrv import nvvm
    if not nvvm.is_available():
        print("NVVM (the CUDA toolkit's compiler library) is not installed")
        sys.exit({code})
    if not cuda.is_available():  # no GPU: compile for a stated compute capability
        import numba.cuda.dispatcher as D
        D.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))
    from reludyn.dynamics import _cuda_kernel as k
    a2, a3 = nt.float64[:, ::1], nt.float64[:, :, ::1]
    i1, f1 = nt.int64[::1], nt.float64[::1]
    sig = (a3, a2, nt.float64, nt.float64, nt.boolean, nt.int64, nt.float64, nt.float64, i1,
           nt.int64[:, ::1], nt.float64[:, :, :, ::1], a2, i1, i1, f1,
           a3, a3, a2, a3, a3, a3, a3, a3, a2, a2)
    ptx, _ = cuda.compile_ptx(k._gd_ensemble.py_func, sig, cc=(9, 0))
    print(ptx.count("bar.sync"))
""")


def test_kernel_compiles_for_hardware():
    # the simulator runs the kernel as Python: this lowers it through NVVM to PTX, as a GPU
    # would, catching constructs the CUDA target does not support
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env["PYTHONPATH"] = os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")])
    r = subprocess.run([sys.executable, "-c", PTX_SCRIPT.format(code=SIM_UNAVAILABLE)],
                       capture_output=True, text=True, timeout=600, env=env, cwd=ROOT)
    if r.returncode == SIM_UNAVAILABLE:
        pytest.skip(r.stdout.strip())
    assert r.returncode == 0, r.stdout + r.stderr
    assert int(r.stdout.split()[-1]) >= 5  # the block's barriers survive into the PTX
