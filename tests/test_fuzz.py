"""Fuzzing the public surface (issue 11, item 6).

Invariant: bad input gives a clear error (CLI: exit status 2 and a last stderr line
"reludyn <command>: error: ..."; Python: ValueError or TypeError, DeadRowError being a
ValueError), good input a correct finite result; never a traceback, a hang or a NaN presented
as a result. Sizes and budgets are tiny and examples bounded, so the file runs in well under a
minute on 2 idle cores.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from reludyn import Problem, grad, hessian, loss, loss_and_grad
from reludyn.validation import ROW_NORM_MAX, ROW_NORM_MIN

FAST = settings(max_examples=150, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
SLOW = settings(max_examples=40, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow])
API_ERRORS = (ValueError, TypeError)

# --- arrays ---------------------------------------------------------------------------
SPECIAL = [0.0, -0.0, 1.0, -1.0, np.nan, np.inf, -np.inf, 1e-200, 1e-155, 1e155, 1e300,
           ROW_NORM_MIN, ROW_NORM_MAX, 5e-324]
values = st.one_of(st.sampled_from(SPECIAL), st.floats(-3, 3, allow_nan=False))
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


@st.composite
def arrays(draw):
    shape = draw(shapes)
    n = int(np.prod(shape)) if shape else 1
    vals = draw(st.lists(values, min_size=n, max_size=n))
    arr = np.array(vals, dtype=np.float64).reshape(shape) if shape else np.float64(vals[0])
    kind = draw(st.sampled_from(["f8", "f8", "f8", "f4", "i8", "bool", "c16", "obj", "list",
                                 "str", "F"]))
    if kind == "f4":
        with np.errstate(over="ignore"):
            return arr.astype(np.float32)
    if kind == "i8":
        return np.nan_to_num(arr, posinf=5, neginf=-5).clip(-5, 5).astype(np.int64)
    if kind == "bool":
        return arr != 0
    if kind == "c16":
        return arr.astype(np.complex128)
    if kind == "obj":
        return arr.astype(object)
    if kind == "list":
        return arr.tolist()
    if kind == "str":
        return "1,2"
    if kind == "F":
        return np.asfortranarray(arr)
    return arr


def _check_result(fn, W, V, out):
    """A returned result must be finite, of the right shape, and J >= 0 (to rounding)."""
    Va = np.asarray(V, dtype=np.float64)
    Wa = np.asarray(W, dtype=np.float64)
    parts = out if isinstance(out, tuple) else (out,)
    for p in parts:
        assert np.all(np.isfinite(p)), (fn.__name__, W, V, out)
    if fn in (loss, loss_and_grad):
        J = np.asarray(parts[0])
        scale = (np.sum(np.linalg.norm(Wa, axis=-1), axis=-1) + np.sum(np.linalg.norm(Va, axis=-1))) ** 2
        assert np.all(J >= -1e-12 * np.maximum(scale, 1e-300))
    if fn in (grad, loss_and_grad):
        G = parts[-1]
        assert G.shape == (Wa.reshape(-1, Va.shape[1]).shape if Wa.ndim == 1 else Wa.shape)


@FAST
@given(W=arrays(), V=arrays(), which=st.integers(0, 3))
def test_landscape_functions_on_random_arrays(W, V, which):
    fn = (loss, grad, hessian, loss_and_grad)[which]
    try:
        with np.errstate(all="ignore"):
            out = fn(W, V)
    except API_ERRORS as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    _check_result(fn, W, V, out)


@FAST
@given(K=st.integers(1, 3), M=st.integers(1, 3), d=st.integers(1, 4), seed=st.integers(0, 99),
       logs=st.floats(-200, 200))
def test_scaled_problems_are_refused_or_exact(K, M, d, seed, logs):
    """Any common scale s: either refused (outside the domain) or J(sW, sV) = s² J(W, V)."""
    rng = np.random.default_rng(seed)
    V, W = rng.uniform(0.5, 1.0, (M, d)), rng.uniform(0.5, 1.0, (K, d))
    s = 10.0 ** logs
    try:
        Js = loss(s * W, s * V)
    except ValueError as exc:
        assert "outside the range" in str(exc)
        rn = np.linalg.norm(np.vstack([W, V]), axis=1) * s
        assert np.any((rn < ROW_NORM_MIN * (1 - 1e-6)) | (rn > ROW_NORM_MAX * (1 + 1e-6))) or \
            np.any(np.abs(rn / ROW_NORM_MIN - 1) < 1e-6) or np.any(np.abs(rn / ROW_NORM_MAX - 1) < 1e-6)
        return
    # J is a difference of terms of size (Σ|w| + Σ|v|)²: rounding is relative to that
    scale = (np.linalg.norm(W, axis=1).sum() + np.linalg.norm(V, axis=1).sum()) ** 2
    np.testing.assert_allclose(Js / s / s, loss(W, V), rtol=1e-12, atol=1e-14 * scale)


# --- constructors and dynamics ------------------------------------------------------------
ints = st.one_of(st.integers(-2, 4), st.sampled_from([None, 1.5, "3", True, 10**12]))


@FAST
@given(which=st.integers(0, 3), a=ints, b=ints, c=ints, V=arrays())
def test_problem_constructors(which, a, b, c, V):
    try:
        if which == 0:
            P = Problem(V, a)
        elif which == 1:
            P = Problem.orthonormal(a, b, c)
        elif which == 2:
            P = Problem.gaussian(a, b, c, seed=0 if c is None else c)
        else:
            P = Problem.planar(V, K=a, norms=None if b is None else np.full(np.shape(V), b))
    except (*API_ERRORS, MemoryError) as exc:
        # MemoryError: only for the absurd sizes (10**12) that cannot be allocated
        assert isinstance(exc, API_ERRORS) or 10**12 in (a, b, c)
        return
    assert P.K >= 1 and np.all(np.isfinite(P.V))
    rn = np.linalg.norm(P.V, axis=1)
    assert np.all((rn >= ROW_NORM_MIN * (1 - 1e-9)) & (rn <= ROW_NORM_MAX * (1 + 1e-9)))


@FAST
@given(name=st.sampled_from(["gaussian", "xavier", "ball", "near_teacher", "symmetric", "bad"]),
       n=ints, seed=ints, kw=st.dictionaries(st.sampled_from(["std", "radius", "rel_noise", "x",
                                                              "y", "delta", "bogus"]),
                                             st.sampled_from([0.0, -1.0, 0.5, np.nan, np.inf,
                                                              1e200, "a"]), max_size=2))
def test_make_init(name, n, seed, kw):
    from reludyn.dynamics import make_init
    assume(n != 10**12)
    P = Problem.orthonormal(2, 3)
    try:
        with np.errstate(all="ignore"):
            W0 = make_init(name, P, n, seed, **kw)
    except API_ERRORS as exc:
        assert str(exc)
        return
    assert W0.shape == (n, 2, 3) and np.all(np.isfinite(W0))


@SLOW
@given(W0=arrays(), eta=st.sampled_from([0.1, 0.0, -1.0, np.nan, np.inf, 1e300, "x"]),
       max_steps=st.sampled_from([0, 1, 50, -1]), tol=st.sampled_from([1e-10, 0.0, -1.0, np.nan]))
def test_gradient_descent(W0, eta, max_steps, tol):
    from reludyn.dynamics import gradient_descent
    P = Problem.orthonormal(2)
    try:
        with np.errstate(all="ignore"):
            res = gradient_descent(P, W0, eta, tol=tol, max_steps=max_steps)
    except API_ERRORS as exc:
        assert str(exc)
        return
    assert set(res.reason.tolist()) <= {"converged", "budget", "diverged", "dead_row"}
    ok = res.reason != "diverged"
    assert np.all(np.isfinite(res.loss[ok])) and np.all(np.isfinite(res.W[ok]))


# --- files --------------------------------------------------------------------------------
@st.composite
def teacher_files(draw):
    ext = draw(st.sampled_from([".npy", ".csv", ".json", ".txt"]))
    mode = draw(st.sampled_from(["bytes", "array"]))
    if mode == "bytes":
        return ext, draw(st.binary(max_size=200))
    arr = np.asarray(draw(arrays()))
    if arr.dtype == object or arr.dtype.kind in "US":
        arr = np.zeros((1, 1))
    if ext == ".npy":
        buf = io.BytesIO()
        np.save(buf, arr)
        return ext, buf.getvalue()
    if ext == ".json":
        text = json.dumps(draw(st.sampled_from([arr.tolist(), {"V": arr.tolist()},
                                                {"V": arr.tolist(), "K": -1}, {"W": 1}])))
        return ext, text.encode()
    arr = arr.real if np.iscomplexobj(arr) else arr
    rows = np.atleast_2d(arr) if arr.ndim <= 2 else arr.reshape(arr.shape[0], -1) if arr.size \
        else np.zeros((1, 0))
    return ext, "\n".join(",".join(repr(float(x)) for x in r) for r in rows).encode()


@FAST
@given(f=teacher_files())
def test_teacher_files(f):
    ext, data = f
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / f"teacher{ext}"
        p.write_bytes(data)
        try:
            P = Problem.from_file(p)
        except ValueError as exc:
            assert str(exc)
            return
    assert np.all(np.isfinite(P.V)) and P.V.ndim == 2 and P.K == P.M


@pytest.fixture(scope="module")
def catalogue_text(tmp_path_factory):
    from reludyn.critical import find_critical_points
    from reludyn.critical import SeedSettings
    from reludyn.runner import Executor
    cat = find_critical_points(Problem.orthonormal(2), SeedSettings(n_seeds=6, seed=0),
                               executor=Executor(workers=1, progress=False))
    return json.dumps(cat.to_dict())


JSON_JUNK = st.sampled_from([None, "x", -1, 0, 1e308, 1.5, [], {}, [[1.0]], True,
                             [[1e200, 0.0], [0.0, 1.0]]])


def _paths(obj, prefix=()):
    yield prefix
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj[:3]):
            yield from _paths(v, prefix + (i,))


@SLOW
@given(data=st.data())
def test_catalogue_files(catalogue_text, data):
    from reludyn.critical import Catalogue
    if data.draw(st.booleans()):
        raw = data.draw(st.binary(max_size=300))
    else:  # a valid catalogue with one value replaced
        obj = json.loads(catalogue_text)
        paths = [p for p in _paths(obj) if p]
        path = data.draw(st.sampled_from(paths))
        parent = obj
        for k in path[:-1]:
            parent = parent[k]
        parent[path[-1]] = data.draw(JSON_JUNK)
        raw = json.dumps(obj).encode()
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "c.json"
        p.write_bytes(raw)
        try:
            cat = Catalogue.load(p, verify=True)
        except ValueError as exc:
            assert str(exc).startswith("catalogue file")
            return
    for e in cat.entries:
        assert np.isfinite(e.loss) and np.all(np.isfinite(e.W))


# --- the command line, in process ------------------------------------------------------------
ERROR_LINE = re.compile(r"^reludyn( [a-z-]+)?: error: \S")


def _cli(argv):
    from reludyn.cli import main
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
            np.errstate(all="ignore"):
        try:
            rc = main([str(a) for a in argv])
        except SystemExit as exc:  # argparse: usage line + one error line
            rc = exc.code
    out, err = out.getvalue(), err.getvalue()
    assert "Traceback" not in err, (argv, err)
    assert rc in (0, 2), (argv, rc, err)
    if rc == 2:
        assert ERROR_LINE.match(err.strip().splitlines()[-1]), (argv, err)
    else:
        assert not re.search(r"\bnan\b", out, re.I), (argv, out)
    return rc, out, err


SIZE = st.sampled_from(["0", "1", "2", "3", "-1", "x", "1.5", "", "99999999999"])


VALID_PROBLEMS = [[], ["-K", "2"], ["-M", "2"], ["-K", "2", "-M", "1", "-d", "2"],
                  ["-K", "1", "-M", "2"], ["--teacher", "gaussian", "-M", "2", "-d", "3",
                                           "--teacher-seed", "1"],
                  ["--teacher", "file", "--teacher-file", "TEACHER"]]


@st.composite
def problem_opts(draw):
    if draw(st.sampled_from([True, True, False])):  # mostly valid, so the commands really run
        return draw(st.sampled_from(VALID_PROBLEMS))
    opts = []
    for flag in ("-K", "-M", "-d"):
        if draw(st.booleans()):
            opts += [flag, draw(SIZE)]
    if draw(st.booleans()):
        opts += ["--teacher", draw(st.sampled_from(["orthonormal", "gaussian", "file", "bogus"]))]
    if draw(st.booleans()):
        opts += ["--teacher-seed", draw(st.sampled_from(["0", "3", "-1", "x"]))]
    if draw(st.booleans()):
        opts += ["--teacher-file", draw(st.sampled_from(["/nonexistent.npy", "TEACHER"]))]
    return opts


def _fill(argv, tmp):
    t = Path(tmp) / "t.csv"
    t.write_text("1,0\n0,1\n")
    return [str(t) if a == "TEACHER" else a for a in argv]


def _small(argv):
    """Skip combinations whose work would be large (valid sizes above 3)."""
    for flag in ("-K", "-M", "-d"):
        if flag in argv:
            v = argv[argv.index(flag) + 1]
            if v.isdigit() and int(v) > 3 and int(v) < 10**6:
                return False
    return True


@SLOW
@given(p=problem_opts(), n=st.sampled_from(["1", "2", "2", "0", "x"]),
       extra=st.lists(st.sampled_from([["--strategies", "random"], ["--strategies", "bogus"],
                                       ["--strategies", "random,,gd"], ["--counts", "random=1"],
                                       ["--counts", "random=x"], ["--tol", "-1"],
                                       ["--tol", "nan"], ["--seed", "2"], ["--fresh"],
                                       ["--plot", "x.txt"], ["--max-seeds", "3"],
                                       ["--until-saturated"]]), max_size=2))
def test_cli_catalogue(p, n, extra):
    argv = ["catalogue", *p, "-n", n, *sum(extra, []), "--workers", "1", "--methods", "lm",
            "--max-nfev", "20", "--no-progress"]
    assume(_small(argv) and ("--until-saturated" not in argv or n in ("0", "x", "-3")))
    with tempfile.TemporaryDirectory() as tmp:
        _cli(_fill(argv, tmp) + ["-o", str(Path(tmp) / "c.json")])


@SLOW
@given(p=problem_opts(), n=st.sampled_from(["1", "2", "2", "0", "x"]),
       extra=st.lists(st.sampled_from([["--eta", "0.1"], ["--eta", "0"], ["--eta", "nan"],
                                       ["--eta", "1e300"], ["--max-steps", "-1"],
                                       ["--max-steps", "0"], ["--init", "bad"],
                                       ["--init", "near_teacher"], ["--init", "symmetric"],
                                       ["--chunk", "0"], ["--sym-x", "inf"],
                                       ["--flow", "RK45"], ["--std", "-1"]]), max_size=3))
def test_cli_train(p, n, extra):
    argv = ["train", *p, "-n", n, "--max-steps", "30", *sum(extra, []), "--no-progress"]
    if "--flow" in argv:
        argv += ["--t-max", "1"]
    assume(_small(argv))
    with tempfile.TemporaryDirectory() as tmp:
        _cli(_fill(argv, tmp) + ["-o", str(Path(tmp) / "r.npz")])


@SLOW
@given(kind=st.sampled_from(["symmetric", "one-relu", "slice", "bad"]),
       extra=st.lists(st.sampled_from([["-K", "1"], ["-K", "3"], ["-K", "x"], ["--grid", "2"],
                                       ["--grid", "x"], ["--start", "0.1,0"], ["--start", "x"],
                                       ["--start", "nan,0"], ["--start", "1e300,0"],
                                       ["--w-star", "0,0"], ["--w-star", "nan,1"],
                                       ["--w-star", "1e200,0"], ["--xlim", "1,0"],
                                       ["--xlim", "nan,1"], ["--ylim", "0,0"],
                                       ["--catalogue", "/nonexistent.json"],
                                       ["--points", "0", "1", "9"], ["--dpi", "0"]]),
                      max_size=3),
       suffix=st.sampled_from([".png", ".txt", ""]))
def test_cli_portrait(kind, extra, suffix):
    argv = ["portrait", kind, "--grid", "6", *sum(extra, [])]
    with tempfile.TemporaryDirectory() as tmp:
        _cli(argv + ["--out", str(Path(tmp) / f"p{suffix}")])


@SLOW
@given(ext=st.sampled_from([".npy", ".csv", ".json"]), data=st.binary(max_size=120))
def test_cli_random_teacher_files(ext, data):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / f"t{ext}"
        f.write_bytes(data)
        _cli(["catalogue", "--teacher", "file", "--teacher-file", f, "-n", "1", "--workers", "1",
              "--methods", "lm", "--max-nfev", "10", "--no-progress", "-o", Path(tmp) / "c.json"])


@SLOW
@given(data=st.binary(max_size=300))
def test_cli_random_catalogue_files(data):
    with tempfile.TemporaryDirectory() as tmp:
        f = Path(tmp) / "c.json"
        f.write_bytes(data)
        rc, _, err = _cli(["portrait", "slice", "--catalogue", f, "--points", "0", "1", "2",
                           "--out", Path(tmp) / "s.png"])
        assert rc == 2


# --- a few real processes --------------------------------------------------------------------
@pytest.mark.parametrize("argv", [
    ["catalogue", "--teacher", "file", "--teacher-file", "BADNPY", "-o", "OUT/c.json"],
    ["catalogue", "-K", "2", "--teacher-seed", "4", "-o", "OUT/c.json"],
    ["portrait", "slice", "--catalogue", "BADJSON", "--points", "0", "1", "2", "--out", "OUT/s.png"],
    ["sweep", "-K", "2,,3", "--out", "OUT/s"],
])
def test_real_processes_fail_in_one_line(argv, tmp_path):
    (tmp_path / "bad.npy").write_bytes(b"\x93NUMPY garbage")
    (tmp_path / "bad.json").write_bytes(b'{"schema": "reludyn.catalogue", "entries": ')
    argv = [a.replace("BADNPY", str(tmp_path / "bad.npy")).replace("BADJSON", str(tmp_path / "bad.json"))
            .replace("OUT", str(tmp_path)) for a in argv]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    r = subprocess.run([sys.executable, "-m", "reludyn.cli", *argv], capture_output=True,
                       text=True, timeout=300, env=env)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert ERROR_LINE.match(r.stderr.strip().splitlines()[-1]), r.stderr
