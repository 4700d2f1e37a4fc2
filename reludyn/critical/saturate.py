"""``find_until_saturated``: rounds of :func:`find_critical_points` until few entries are unseen."""
from __future__ import annotations

import datetime
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from .._version import __version__
from ..problem import Problem
from ..validation import positive_float, positive_int
from .catalogue import Catalogue
from ..runner import Executor
from .find import SeedSettings, SolverSettings, find_critical_points

# Default threshold: stop when Chao1 expects fewer than one entry still unseen.  Below one
# the expected number of missing entries rounds to zero; a stricter threshold such as 0.5
# demands f1² < f2 (or no singletons at all), which costs many more rounds at the
# catalogue sizes reached here for a gain Chao1 (a lower bound) cannot certify anyway.
DEFAULT_UNSEEN_BELOW = 1.0


@dataclass(frozen=True)
class SaturationSettings:
    """Round loop of :func:`find_until_saturated`.

    round_seeds: seeds per round (``n_seeds`` of each find_critical_points call, so GD
    runs for "gd"); max_seeds: budget of seeds over all rounds (default 10 rounds);
    unseen_below: stop once the overall Chao1 estimate of unseen entries is below this.
    """

    round_seeds: int = 60
    max_seeds: int | None = None
    unseen_below: float = DEFAULT_UNSEEN_BELOW

    def __post_init__(self):
        positive_int(self.round_seeds, "round_seeds")
        if self.max_seeds is not None:
            positive_int(self.max_seeds, "max_seeds")
        positive_float(self.unseen_below, "unseen_below")

    @property
    def budget(self) -> int:
        return 10 * self.round_seeds if self.max_seeds is None else self.max_seeds


def round_seed(seed: int, r: int) -> int:
    """Base seed of round r: the run's own seed for round 0 (so round 0 is the plain run),
    then independent 32-bit seeds derived from (seed, r)."""
    if r == 0:
        return int(seed)
    return int(np.random.SeedSequence([int(seed), 0x5A7, int(r)]).generate_state(1)[0])


def round_path(out, r: int) -> Path:
    """Work file of round r next to ``out`` (removed once the round is merged)."""
    out = Path(out)
    return out.with_name(f"{out.stem}.round{r}{out.suffix}")


def _stop_reason(cat: Catalogue, s: SaturationSettings, spent: int) -> str | None:
    if cat.provenance["rounds"] and len(cat) > 0 and \
            cat.completeness().overall.unseen < s.unseen_below:
        return "saturated"
    if spent >= s.budget:
        return "budget"
    return None


def find_until_saturated(problem: Problem, settings: SaturationSettings = SaturationSettings(),
                         *, seeds: SeedSettings = SeedSettings(),
                         solver: SolverSettings = SolverSettings(),
                         executor: Executor = Executor(), points=None, out=None,
                         resume: bool = True) -> Catalogue:
    """Catalogue ``problem`` in rounds until the estimated unseen entries fall below
    ``settings.unseen_below`` or ``settings.max_seeds`` seeds are spent.

    Round r runs ``find_critical_points(problem, replace(seeds, n_seeds=round_seeds,
    seed=round_seed(seeds.seed, r)), solver=solver, executor=executor)`` (user ``points``
    only in round 0; the last round may be smaller to fit the budget) and merges it into
    the running catalogue (:meth:`Catalogue.merge`: hits add up, discovery records
    continue).  An empty catalogue never counts as saturated.  ``seeds.n_seeds`` is
    replaced by ``settings.round_seeds`` (a {strategy: count} dict is not supported: use
    ``seeds.strategies``); ``seeds.seed`` is the base seed.

    Resume: with ``out``, the merged catalogue is written there after every round (its
    provenance lists the rounds done), and round r runs through find_critical_points' own
    resume (finished chunks) on ``round_path(out, r)``, deleted once merged.  Rerunning
    with the same options continues where it stopped (an interrupted round resumes from
    its finished chunks); a larger ``max_seeds`` or smaller ``unseen_below`` continues a
    finished run.  Other options are refused ("cannot resume"); ``resume=False`` starts
    afresh.
    """
    if not isinstance(settings, SaturationSettings):
        raise TypeError(f"settings must be a SaturationSettings, got {type(settings).__name__}")
    if not isinstance(seeds, SeedSettings):
        raise TypeError(f"seeds must be a SeedSettings, got {type(seeds).__name__}")
    if not isinstance(solver, SolverSettings):
        raise TypeError(f"solver must be a SolverSettings, got {type(solver).__name__}")
    if isinstance(seeds.n_seeds, dict):
        raise ValueError("find_until_saturated takes seeds.strategies, not an n_seeds dict "
                         "(SaturationSettings.round_seeds sets the seeds per round)")
    seed = seeds.seed
    sol = asdict(solver)
    sol["methods"] = list(sol["methods"])
    sol["native"] = {k: v for k, v in sol["native"].items() if k != "memory_mb"}
    key = {"seed": seed, "round_seeds": settings.round_seeds,
           "n_user_points": 0 if points is None else int(len(np.asarray(points))),
           "find_options": {"strategies": None if seeds.strategies is None
                            else list(seeds.strategies),
                            "strategy_options": seeds.options, "solver": sol}}
    cat = None
    if out is not None and resume and Path(out).is_file():
        cat = Catalogue.load(out, problem)
        if cat.provenance.get("until_saturated") != key:
            raise ValueError(f"cannot resume from {str(out)!r}: it was not made by "
                             f"find_until_saturated with these options "
                             f"({cat.provenance.get('until_saturated')}); use another output "
                             "path or start afresh (CLI: --fresh)")
    spent = 0
    if cat is not None:
        spent = sum(r["n_seeds"] for r in cat.provenance["rounds"])
    r = 0 if cat is None else len(cat.provenance["rounds"])
    if out is not None:
        for k in range(r):  # a round merged just before an interruption
            round_path(out, k).unlink(missing_ok=True)
    while cat is None or _stop_reason(cat, settings, spent) is None:
        n = min(settings.round_seeds, settings.budget - spent)
        part = find_critical_points(
            problem, replace(seeds, n_seeds=n, seed=round_seed(seed, r)), solver=solver,
            executor=executor, points=points if r == 0 else None,
            out=None if out is None else round_path(out, r), resume=resume)
        if cat is None:
            cat = Catalogue(problem, settings=part.settings, provenance={
                "reludyn_version": __version__,
                "created": part.provenance["created"], "until_saturated": key,
                "saturation": asdict(settings), "rounds": [],
                "n_seed_points": 0, "seeds_done": 0, "accepted": 0, "rejected": 0})
        new = cat.merge(part)
        cat.sort()
        spent += n
        p = cat.provenance
        for k in ("n_seed_points", "seeds_done", "accepted", "rejected"):
            p[k] += part.provenance[k]
        est = cat.completeness().overall
        p["rounds"].append({"seed": round_seed(seed, r), "n_seeds": n,
                            "starts": part.starts, "new_entries": new,
                            "entries": len(cat), "unseen": est.unseen})
        r += 1
        p["saturation"] = asdict(settings)
        p["stop"] = _stop_reason(cat, settings, spent)
        p["complete"] = p["stop"] is not None
        if p["complete"]:
            p["finished"] = datetime.datetime.now(datetime.timezone.utc).isoformat(
                timespec="seconds")
        if out is not None:
            cat.save(out)
            round_path(out, r - 1).unlink(missing_ok=True)
    p = cat.provenance
    if p.get("saturation") != asdict(settings) or p.get("stop") != _stop_reason(cat, settings,
                                                                                 spent):
        # finished earlier under another budget/threshold that also stops here
        p["saturation"] = asdict(settings)
        p["stop"] = _stop_reason(cat, settings, spent)
        if out is not None:
            cat.save(out)
    return cat
