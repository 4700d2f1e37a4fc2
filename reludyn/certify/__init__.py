"""Certified critical points: ball-arithmetic (python-flint arb) proofs that a true
critical point of J lies in a small ball around a float one, with its Morse index and loss.

Modules: ``balls`` (J, ∇J, Hessian over a box), ``slice`` (gauge slices of critical
manifolds), ``krawczyk`` (existence and uniqueness), ``spectrum`` (eigenvalue
enclosures), ``certificate`` (certify_point, verify), ``catalogue`` (certify_catalogue).
"""
from .certificate import Certificate, CertifySettings, Verification, certify_point, verify

__all__ = ["Certificate", "CertifySettings", "Verification", "certify_point", "verify",
           "certify_catalogue"]


def __getattr__(name):
    if name == "certify_catalogue":
        from .catalogue import certify_catalogue

        return certify_catalogue
    raise AttributeError(name)
