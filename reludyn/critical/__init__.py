"""Critical points of J: seeds, solvers, symmetry-aware dedup, classification, catalogue.

``find_critical_points(problem, ...) -> Catalogue`` runs the whole pipeline;
the pieces are usable alone: :func:`make_seeds`, :func:`solve_point`,
:func:`classify`, :func:`match`, :class:`Catalogue`.
"""
from .catalogue import SCHEMA_VERSION, Catalogue, CriticalPoint
from .classify import KINDS, classify
from .find import find_critical_points
from .seeds import STRATEGIES, SeedBatch, make_seeds
from .solve import METHODS, SolveResult, solve_point
from .symmetry import SymmetryContext, match, orbit_size, symmetry_zero_modes
from .fixedpoint import (BlockStructure, ReducedSolveSettings, find_reduced_critical_points,
                         parse_blocks, solve_reduced)
from .isotropy import Isotropy, isotropy
from .isotypic import IsotypicBlock, isotypic_spectrum, spectrum_with_multiplicities
from .family import (Family, FamilySettings, fit_asymptotics, follow_family,
                     isotropy_critical_points, plot_family)

__all__ = [
    "find_critical_points", "Catalogue", "CriticalPoint", "SCHEMA_VERSION", "KINDS",
    "classify", "STRATEGIES", "SeedBatch", "make_seeds", "METHODS", "SolveResult",
    "solve_point", "SymmetryContext", "match", "orbit_size", "symmetry_zero_modes",
    "BlockStructure", "ReducedSolveSettings", "find_reduced_critical_points", "parse_blocks",
    "solve_reduced", "Isotropy", "isotropy", "IsotypicBlock", "isotypic_spectrum",
    "spectrum_with_multiplicities", "Family", "FamilySettings", "fit_asymptotics",
    "follow_family", "plot_family", "isotropy_critical_points",
]
