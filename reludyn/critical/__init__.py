"""Critical points of J: seeds, solvers, symmetry-aware dedup, classification, catalogue.

``find_critical_points(problem, SeedSettings, solver=SolverSettings, executor=Executor)
-> Catalogue`` runs the whole pipeline (chunks of seeds through :mod:`reludyn.runner`);
``find_until_saturated`` repeats it in rounds until Chao1 expects few unseen entries;
the pieces are usable alone: :func:`make_seeds`, :func:`solve_point`,
:func:`native_solve` (batched Newton/LM), :func:`target_index_search` / :func:`follow_modes`,
:func:`classify`, :func:`match`, :class:`Catalogue`.
"""
from .catalogue import SCHEMA_VERSION, Catalogue, CriticalPoint
from .classify import KINDS, classify
from .completeness import Chao1Estimate, Completeness, SaturationCurve, chao1, saturation_curve
from .early import CertifiedAssigner, certified_assigner, certify_ball
from .find import SeedSettings, SolverSettings, find_critical_points
from .seeds import STRATEGIES, SeedBatch, make_seeds
from .native import NativeResult, NativeSettings, native_solve
from .saturate import SaturationSettings, find_until_saturated
from .solve import METHODS, SolveResult, solve_point
from .sweep import catalogue_sweep, planar_grid, problem_grid
from .symmetry import SymmetryContext, match, orbit_size, symmetry_zero_modes
from .targeted import TargetResult, TargetSettings, follow_modes, target_index_search
from .fixedpoint import (BlockStructure, ReducedSolveSettings, find_reduced_critical_points,
                         parse_blocks, solve_reduced)
from .isotropy import Isotropy, isotropy
from .isotypic import IsotypicBlock, isotypic_spectrum, spectrum_with_multiplicities
from .family import (Family, FamilySettings, fit_asymptotics, follow_family,
                     isotropy_critical_points, plot_family)

__all__ = [
    "find_critical_points", "SeedSettings", "SolverSettings", "Catalogue", "CriticalPoint",
    "SCHEMA_VERSION", "KINDS",
    "classify", "STRATEGIES", "SeedBatch", "make_seeds", "METHODS", "SolveResult",
    "solve_point", "SymmetryContext", "match", "orbit_size", "symmetry_zero_modes",
    # completeness
    "chao1", "Chao1Estimate", "Completeness", "SaturationCurve", "saturation_curve",
    "find_until_saturated", "SaturationSettings",
    "catalogue_sweep", "planar_grid", "problem_grid",
    "native_solve", "NativeSettings", "NativeResult", "target_index_search", "follow_modes",
    "TargetSettings", "TargetResult",
    "BlockStructure", "ReducedSolveSettings", "find_reduced_critical_points", "parse_blocks",
    "solve_reduced", "Isotropy", "isotropy", "IsotypicBlock", "isotypic_spectrum",
    "spectrum_with_multiplicities", "Family", "FamilySettings", "fit_asymptotics",
    "follow_family", "plot_family", "isotropy_critical_points",
    # early assignment
    "CertifiedAssigner", "certified_assigner", "certify_ball",
]
