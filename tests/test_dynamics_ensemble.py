import numpy as np
import pytest
from numpy.testing import assert_array_equal

from reludyn import Problem
from reludyn.dynamics import EndPoints, FlowSettings, GDSettings, run_chunked, run_ensemble
from reludyn.dynamics.flow import gradient_flow
from reludyn.dynamics.gd import gradient_descent
from reludyn.dynamics.init import make_init
from reludyn.runner import Executor


@pytest.mark.parametrize("K, M, d", [(2, 2, 2), (3, 2, 4), (4, 4, 4)])
def test_gd_ensemble_equals_gradient_descent(K, M, d):
    prob = Problem.gaussian(M, d, K=K, seed=K + d)
    W0 = make_init("xavier", prob, 9, seed=1)
    s = GDSettings(eta=0.1, max_steps=3000, norm="fro", record=5)
    ends = run_ensemble(prob, W0, s)
    ref = gradient_descent(prob, W0, 0.1, max_steps=3000, norm="fro", record=True, n_record=5)
    for k, v in ref.arrays().items():
        got = ends.reason if k == "reason" else getattr(ends, k, None)
        if got is None:
            got = ends.extra[k]
        assert_array_equal(got, v, err_msg=k)
    assert_array_equal(ends.time, ref.steps.astype(float))
    assert ends.counts() == ref.counts()


def test_flow_ensemble_equals_gradient_flow():
    prob = Problem.orthonormal(2)
    W0 = make_init("near_teacher", prob, 2, seed=3)
    ends = run_ensemble(prob, W0, FlowSettings(method="RK23", t_max=50.0, polish=True))
    for i, w in enumerate(W0):
        r = gradient_flow(prob, w, method="RK23", t_max=50.0, polish=True)
        assert_array_equal(ends.W[i], r.W)
        assert ends.loss[i] == r.loss and ends.time[i] == r.t and ends.reason[i] == r.reason
        assert ends.extra["nfev"][i] == r.nfev and ends.extra["polished"][i] == r.polish.success


def test_chunked_through_the_runner_equals_in_process(tmp_path):
    prob = Problem.orthonormal(3)
    W0 = make_init("xavier", prob, 11, seed=5)
    s = GDSettings(eta=0.2, max_steps=2000)
    whole = run_ensemble(prob, W0, s)
    seen = []
    parts = run_chunked(prob, W0, s, Executor(chunk=4, out_dir=tmp_path / "r"),
                        on_result=lambda done: seen.append(len(done)))
    assert seen == [1, 2, 3]
    for k, v in whole.arrays().items():
        assert_array_equal(parts.arrays()[k], v, err_msg=k)
    assert sorted(p.name for p in (tmp_path / "r" / "tasks").iterdir()) == [
        "chunk00000000.npz", "chunk00000004.npz", "chunk00000008.npz"]
    again = EndPoints.concat([EndPoints.from_arrays(whole.arrays())])
    assert_array_equal(again.W, whole.W) and len(again) == 11


def test_early_assignment_in_worker_processes(tmp_path):
    """Fresh worker processes (which import only the dynamics layer) get the certified
    assigner registered here: early assignment through the runner with 2 workers gives
    what it gives in this process (the basins and pushes path, no special task); assigned
    W may differ in the last bits, as critical/early.py documents."""
    import reludyn.critical  # noqa: F401  (registers the certified assigner here)

    prob = Problem.orthonormal(4)
    W0 = make_init("gaussian", prob, 8, seed=3, std=0.5)
    s = GDSettings(eta=0.1, tol=1.6e-10, early_assign=True)
    here = run_ensemble(prob, W0, s)
    assert "assigned" in here.reason.tolist()
    there = run_chunked(prob, W0, s, Executor(workers=2, chunk=4, out_dir=tmp_path / "r"))
    assert_array_equal(there.reason, here.reason)
    # an assigned W is the certified center found in its own process: equal to ~1e-15
    np.testing.assert_allclose(there.W, here.W, rtol=0, atol=1e-12)
    np.testing.assert_allclose(there.loss, here.loss, rtol=0, atol=1e-14)
    free = here.reason != "assigned"
    assert_array_equal(there.W[free], here.W[free])


def test_run_ensemble_bad_input():
    prob = Problem.orthonormal(2)
    with pytest.raises(TypeError):
        run_ensemble("p", np.zeros((1, 2, 2)), GDSettings())
    with pytest.raises(TypeError):
        run_ensemble(prob, np.zeros((1, 2, 2)), {"eta": 0.1})
    with pytest.raises(ValueError):
        run_ensemble(prob, np.zeros((1, 3, 2)), GDSettings())
