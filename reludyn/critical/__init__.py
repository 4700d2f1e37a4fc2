"""Critical points of J: seeds, solvers, symmetry-aware dedup, classification, catalogue.

``find_critical_points(problem, ...) -> Catalogue`` runs the whole pipeline;
``find_until_saturated`` repeats it in rounds until Chao1 expects few unseen entries;
the pieces are usable alone: :func:`make_seeds`, :func:`solve_point`,
:func:`classify`, :func:`match`, :class:`Catalogue`.
"""
from .catalogue import SCHEMA_VERSION, Catalogue, CriticalPoint
from .classify import KINDS, classify
from .completeness import Chao1Estimate, Completeness, SaturationCurve, chao1, saturation_curve
from .early import CertifiedAssigner, certified_assigner, certify_ball, early_ensemble_task
from .find import find_critical_points
from .seeds import STRATEGIES, SeedBatch, make_seeds
from .saturate import SaturationSettings, find_until_saturated
from .solve import METHODS, SolveResult, solve_point
from .symmetry import SymmetryContext, match, orbit_size, symmetry_zero_modes
from .sweep import catalogue_sweep, planar_grid, problem_grid

__all__ = [
    "find_critical_points", "Catalogue", "CriticalPoint", "SCHEMA_VERSION", "KINDS",
    "classify", "STRATEGIES", "SeedBatch", "make_seeds", "METHODS", "SolveResult",
    "solve_point", "SymmetryContext", "match", "orbit_size", "symmetry_zero_modes",
    # completeness
    "chao1", "Chao1Estimate", "Completeness", "SaturationCurve", "saturation_curve",
    "find_until_saturated", "SaturationSettings",
    "catalogue_sweep", "planar_grid", "problem_grid",
    # early assignment
    "CertifiedAssigner", "certified_assigner", "certify_ball", "early_ensemble_task",
]
