import pytest

from reludyn.dynamics import FlowSettings, GDSettings, dynamics_from_dict
from reludyn.dynamics.settings import check_dynamics


def test_defaults_round_trip_and_are_frozen():
    for s in (GDSettings(), GDSettings(eta=0.05, max_steps=7, norm="fro", record=3),
              FlowSettings(), FlowSettings(method="LSODA", t_max=5.0, polish=True)):
        assert dynamics_from_dict(s.to_dict()) == s
    with pytest.raises(AttributeError):
        GDSettings().eta = 1.0
    assert GDSettings().to_dict()["dynamics"] == "gd" and FlowSettings().to_dict()["dynamics"] == "flow"


@pytest.mark.parametrize("kw, msg", [({"eta": 0.0}, "eta"), ({"eta": -1.0}, "eta"),
                                     ({"tol": -1e-3}, "tol"), ({"norm": "l1"}, "norm"),
                                     ({"max_steps": -1}, "max_steps"), ({"max_steps": 2**63}, "max_steps"),
                                     ({"diverge_bound": 0.0}, "diverge_bound"),
                                     ({"dead_tol": -1.0}, "dead_tol"), ({"record": -2}, "record"),
                                     ({"device": "gpu"}, "device")])
def test_gd_settings_refuse_bad_values(kw, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        GDSettings(**kw)


@pytest.mark.parametrize("kw, msg", [({"method": "Euler"}, "method"), ({"t_max": 0.0}, "t_max"),
                                     ({"tol": float("nan")}, "tol"), ({"rtol": -1.0}, "rtol"),
                                     ({"atol": 0.0}, "atol"), ({"polish": 1}, "polish"),
                                     ({"polish_tol": 0.0}, "polish_tol")])
def test_flow_settings_refuse_bad_values(kw, msg):
    with pytest.raises((ValueError, TypeError), match=msg):
        FlowSettings(**kw)


def test_dynamics_from_dict_and_check_refuse_unknowns():
    with pytest.raises(ValueError, match="'gd' or 'flow'"):
        dynamics_from_dict({"dynamics": "sgd"})
    with pytest.raises(ValueError, match="unknown gd settings"):
        dynamics_from_dict({"dynamics": "gd", "method": "RK45"})
    with pytest.raises(TypeError):
        dynamics_from_dict(["gd"])
    assert check_dynamics("gd") == GDSettings() and check_dynamics("flow") == FlowSettings()
    with pytest.raises(ValueError):
        check_dynamics("sgd")
    with pytest.raises(TypeError):
        check_dynamics({"eta": 0.1})


def test_device_is_fingerprinted_only_off_its_default():
    """device = "cpu" leaves to_dict (the run-directory fingerprint) as it was before the
    option; "cuda" is recorded, so a GPU run directory is not resumed on the CPU."""
    assert "device" not in GDSettings().to_dict()
    d = GDSettings(device="cuda").to_dict()
    assert d["device"] == "cuda" and dynamics_from_dict(d) == GDSettings(device="cuda")
    assert dynamics_from_dict(GDSettings().to_dict()).device == "cpu"


def test_ensemble_runs_on_the_settings_device(monkeypatch):
    """run_ensemble hands GDSettings.device to gradient_descent."""
    import numpy as np

    from reludyn import Problem
    from reludyn.dynamics import gd, run_ensemble

    seen = {}
    real = gd.gradient_descent

    def spy(*args, **kw):
        seen["device"] = kw.get("device")
        kw["device"] = "cpu"
        return real(*args, **kw)

    monkeypatch.setattr(gd, "gradient_descent", spy)
    p = Problem.orthonormal(2)
    run_ensemble(p, np.eye(2)[None] * 0.9, GDSettings(max_steps=3, device="cuda"))
    assert seen["device"] == "cuda"
