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
                                     ({"dead_tol": -1.0}, "dead_tol"), ({"record": -2}, "record")])
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
