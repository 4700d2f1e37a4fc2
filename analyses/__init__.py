"""Reproductions of Tian (ICML 2017): one script per claim (a–h), five analyses beyond it (i–m).

Each module ``claim_*`` / ``beyond_*`` exposes ``main(argv=None) -> dict`` with the
options ``--fast`` (a quick version) and ``--out-dir`` (default ``figures/``, with
``--fast`` ``figures/fast/``); it writes
PNG figures and a JSON file of its numbers there and returns a summary dict with keys
``claim``, ``title``, ``figures``, ``measured``, ``verdict``. ``reludyn reproduce``
runs them all through :mod:`analyses.reproduce` and prints the table;
:mod:`analyses.basin_figures` makes the basin figures.
"""

# In the order the runner executes them (cheap, core-only claims first).
SCRIPTS = [
    "claim_a_gradient_mc",
    "claim_b_l_function",
    "claim_c_l_heatmap",
    "claim_d_out_of_plane",
    "claim_e_one_relu",
    "claim_f_symmetric_dynamics",
    "claim_g_symmetry_breaking",
    "claim_h_convergence",
    "beyond_i_spurious_census",
    "beyond_j_basin_graph",
    "beyond_l_certified_minima",
    "beyond_k_isotropy_families",
    "beyond_m_sys_census",
]
