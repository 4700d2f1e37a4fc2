"""Numba kernels for the closed-form population loss, gradient and Hessian (private).

Everything here is a plain loop over C-contiguous float64 arrays and does no
validation. The door for the rest of the package is :mod:`reludyn.landscape`
(validated public functions, and ``landscape.unchecked`` for inputs already
validated); only jitted code that must call jitted code (the gradient-descent
ensembles, the native critical-point solver) imports from here.

Modules: ``angles`` (norms, Gram products, the pairwise angle geometry shared
by all), ``loss`` (J assembled once from the angles), ``gradient`` (the tuned
workspace kernel and its vectorized fdlibm arccos), ``hessian``, ``batch``
(parallel batches and the checked entries of the public fast paths).
"""
from .angles import _BLAS_FLOPS, TWO_PI, geometry
from .batch import (
    GRAD,
    HESSIAN,
    LOSS,
    LOSS_GRAD,
    checked_entry,
    grad_entry,
    grad_batch_kernel,
    hessian_batch_kernel,
    loss_batch_kernel,
    loss_grad_batch_kernel,
    scan_inputs,
)
from .gradient import acos_fast, asin_small, grad_into, grad_kernel, grad_workspace, loss_grad_kernel
from .hessian import hessian_kernel
from .loss import loss_from_angles, loss_kernel, loss_with_energy, teacher_energy_kernel

__all__ = [
    "GRAD", "HESSIAN", "LOSS", "LOSS_GRAD",
    "TWO_PI", "geometry", "checked_entry", "grad_entry", "grad_batch_kernel", "hessian_batch_kernel",
    "loss_batch_kernel", "loss_grad_batch_kernel", "scan_inputs", "acos_fast", "asin_small", "grad_into", "grad_kernel",
    "grad_workspace", "loss_grad_kernel", "hessian_kernel", "loss_from_angles", "loss_kernel",
    "loss_with_energy", "teacher_energy_kernel",
]
