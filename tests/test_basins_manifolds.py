"""Unstable-manifold pushes from saddles and the basin graph they give."""
import numpy as np
import pytest
from numpy.testing import assert_allclose

import reludyn
from reludyn import Problem, symmetric_saddle_x
from reludyn.basins.graph import catalogue_graph
from reludyn.basins.manifolds import PushSettings, push_from_saddles, unstable_directions
from reludyn.dynamics import FlowSettings, GDSettings
from reludyn.runner import Executor
from reludyn.critical import Catalogue


def _is_row_permutation(W, V, atol=1e-6):
    D = np.linalg.norm(W[:, None, :] - V[None, :, :], axis=2)
    p = np.argmin(D, axis=1)
    return len(set(p.tolist())) == len(p) and np.max(D[np.arange(len(p)), p]) < atol


def _saddle_catalogue(K):
    prob = Problem.orthonormal(K)
    cat = Catalogue(prob)
    s, _ = cat.add(np.full((K, K), symmetric_saddle_x(K)))
    cat.add(prob.teacher_padded())
    return prob, cat, s


def test_unstable_directions_are_eigenvectors():
    prob = Problem.orthonormal(3)
    W = reludyn.newton_polish(np.full((3, 3), symmetric_saddle_x(3)), prob.V).W
    dirs = unstable_directions(W, prob.V, n_random=3, seed=1)
    eig = [d for d in dirs if d[0].startswith("eig")]
    rnd = [d for d in dirs if d[0].startswith("rand")]
    assert len(eig) >= 2 and len(rnd) == 3
    h = 1e-6
    for label, u, lam in dirs:
        assert_allclose(np.linalg.norm(u), 1.0, rtol=1e-12)
        assert lam < 0
        # curvature from gradient differences (finite-difference Hessian-vector product)
        Hu = (prob.grad(W + h * u) - prob.grad(W - h * u)) / (2 * h)
        assert_allclose(np.sum(u * Hu), lam, atol=1e-6)
        if label.startswith("eig"):
            assert_allclose(Hu, lam * u, atol=1e-6)
    # random combinations stay in the unstable eigenspace
    Us = np.array([u.ravel() for _, u, _ in eig]).T
    for _, u, _ in rnd:
        c = np.linalg.lstsq(Us, u.ravel(), rcond=None)[0]
        assert_allclose(Us @ c, u.ravel(), atol=1e-12)
    assert len(unstable_directions(W, prob.V, max_eig=1)) == 1


@pytest.mark.parametrize("K, max_eig, n_random", [(2, None, 0), (5, None, 2), (10, 6, 4)])
def test_symmetric_saddle_flows_to_teacher(K, max_eig, n_random):
    prob, cat, s = _saddle_catalogue(K)
    flows = push_from_saddles(prob, cat, PushSettings(eps=1e-3, n_random=n_random, seed=0,
                                                   max_eig=max_eig),
                              dynamics=GDSettings(eta=0.1, max_steps=200_000))
    index = int(np.sum(np.linalg.eigvalsh(prob.hessian(cat.entries[s].W)) < -1e-8))
    n_dirs = index if max_eig is None else min(index, max_eig)
    assert len(flows) == 2 * (n_dirs + n_random)
    assert all(f.source == s and f.reason == "converged" for f in flows)
    to_teacher = [f for f in flows if cat.entries[f.target].kind == "global_min"]
    assert to_teacher
    for f in to_teacher:
        assert _is_row_permutation(f.W, prob.V)
    if K < 10:  # for small K every push from the symmetric saddle reaches a permutation of w*
        assert len(to_teacher) == len(flows)
    G = catalogue_graph(cat, flows)
    g = next(i for i, e in enumerate(cat.entries) if e.kind == "global_min")
    assert G.has_edge(s, g)
    assert G.nodes[s]["index"] == index and G.nodes[s]["kind"] == "saddle"
    assert G.edges[s, g]["count"] == len(to_teacher)
    assert_allclose(sum(G.edges[e]["fraction"] for e in G.out_edges(s)), 1.0)


def test_push_options_and_bad_input(tmp_path):
    prob, cat, s = _saddle_catalogue(2)
    flows = push_from_saddles(prob, cat, PushSettings(chain=True), saddles=[s],
                              dynamics=FlowSettings(t_max=1e4),
                              executor=Executor(chunk=64, out_dir=tmp_path / "p"))
    assert len(flows) == 2 and all(cat.entries[f.target].kind == "global_min" for f in flows)
    assert (tmp_path / "p" / "manifest.json").is_file()
    assert push_from_saddles(prob, cat, saddles=[]) == []
    with pytest.raises(ValueError, match="not an entry index"):
        push_from_saddles(prob, cat, saddles=[5])
    with pytest.raises(ValueError, match="different problem"):
        push_from_saddles(Problem.orthonormal(3), cat)
    with pytest.raises(ValueError, match="eps"):
        push_from_saddles(prob, cat, PushSettings(eps=0.0))
    with pytest.raises(ValueError, match="dynamics"):
        push_from_saddles(prob, cat, dynamics="x")


def test_flows_chain_from_saddle_to_saddle():
    # K = 3: the diagonal saddle with negative entries (index 6) sheds flows that stop at
    # other saddles (on the way down, flows pass close to them); with chain=True the pushes
    # continue from every saddle discovered, so the graph has saddle -> saddle -> minimum paths
    from reludyn.dynamics.init import symmetric_point
    from reludyn.dynamics.reduced import symmetric_fixed_points
    prob = Problem.orthonormal(3)
    neg = next(p for p in symmetric_fixed_points(3) if p.kind == "saddle" and p.x < 0)
    cat = Catalogue(prob)
    s0, _ = cat.add(symmetric_point(3, neg.x, neg.y))
    flows = push_from_saddles(prob, cat, PushSettings(n_random=0, chain=True),
                              dynamics=GDSettings(eta=0.1, max_steps=200_000))
    sources = {f.source for f in flows}
    assert s0 in sources and len(sources) >= 2
    G = catalogue_graph(cat, flows)
    for s in sources:
        assert cat.entries[s].kind == "saddle" and G.out_degree(s) >= 1
    for f in flows:  # every flow goes downhill
        assert cat.entries[f.target].loss < cat.entries[f.source].loss
    later = sources - {s0}
    assert any(G.has_edge(s0, s) for s in later)
    sinks = [n for n in G if G.out_degree(n) == 0]
    assert sinks and all(cat.entries[n].kind in ("global_min", "spurious_min") for n in sinks)


def test_push_settings_validate_once():
    assert PushSettings().to_dict() == {"eps": 1e-3, "n_random": 4, "seed": 0, "max_eig": None,
                                        "chain": False, "add_new": True}
    for kw in ({"eps": -1.0}, {"n_random": -1}, {"seed": -1}, {"max_eig": -1}):
        with pytest.raises(ValueError):
            PushSettings(**kw)
    with pytest.raises(TypeError, match="chain"):
        PushSettings(chain="yes")
    with pytest.raises(TypeError, match="PushSettings"):
        push_from_saddles(Problem.orthonormal(2), Catalogue(Problem.orthonormal(2)), {"eps": 1e-3})
