"""The catalogue of critical points of one problem: entries, matching, JSON/CSV files.

File format (JSON, written atomically through :mod:`reludyn.io`)::

    {"schema": "reludyn.catalogue", "schema_version": 1,
     "problem": Problem.to_dict(), "settings": {...tolerances...},
     "provenance": {...reludyn version, seeds, strategies, solver, date...},
     "entries": [{"W": [[...]], "loss": ..., ...}, ...],
     "completeness": {"starts": ..., "overall": {Chao1...}, "by_kind": ..., ...}}

The completeness block (optional: older files lack it) holds the number of starts processed
and Chao1 estimates; the estimates are recomputed from the entries' hits on every write and
checked against them on load.

Arrays are nested lists; Python's float repr makes the round trip exact.
"""
from __future__ import annotations

import csv
import io as _stdio
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import numpy as np

from .. import io as rio
from .._version import __version__
from ..problem import Problem
from ..validation import student_weights
from .classify import KINDS, classify
from ..landscape import dead_rows
from ..newton import newton_polish
from .isotropy import isotropy as isotropy_of
from .symmetry import SymmetryContext, coincident_groups, equalize_coincident, match

SCHEMA = "reludyn.catalogue"
SCHEMA_VERSION = 1

DEFAULT_SETTINGS = {
    "tol": 1e-10,          # acceptance: ‖∇J‖_F <= tol
    "dedup_tol": 1e-6,     # relative tolerance on the invariants W Vᵀ, W Wᵀ
    "null_rtol": 1e-7,     # |λ| <= null_rtol·max|λ| is a zero eigenvalue
    "global_atol": 1e-12,  # J <= global_atol·(teacher energy) is the global minimum
    "plane_tol": 1e-7,     # rows within plane_tol·scale of span(V) are in-plane
}


@dataclass
class CriticalPoint:
    """One catalogue entry: a critical point W (K, d) and its classification.

    ``eigenvalues``: ascending Hessian spectrum (K·d,), or that of the live rows at a
    non-differentiable point; ``index``/``nullity``: negative/zero eigenvalues;
    ``symmetry_zero_modes``: dimension of the rotation orbit in the complement of
    span(V); ``kind`` in KINDS; ``hits``: seeds that reached it; ``orbit_size``:
    number of symmetric copies (None: infinite or not computed); ``sources``: the
    first few seeds that reached it; ``first_start``: the number of starts the finder had
    processed when this entry appeared (None if unrecorded);
    ``isotropy``: the subgroup fixing W
    (:meth:`reludyn.critical.isotropy.Isotropy.to_dict`; None in catalogues
    written before it existed), with orbit_size · order = K!·|teacher automorphisms|.

    """

    W: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    index: int
    nullity: int
    symmetry_zero_modes: int
    kind: str
    in_plane: bool
    plane_distance: float
    hits: int = 1
    first_start: int | None = None  # starts processed when it appeared (completeness.py)
    orbit_size: int | None = None
    unexplained_zero_modes: int = 0
    dead_rows: list = field(default_factory=list)
    coincident_pairs: list = field(default_factory=list)
    opposite_pairs: list = field(default_factory=list)
    normal_residual: float | None = None
    L_signs: dict | None = None
    symmetry: dict | None = None
    method: str | None = None
    sources: list = field(default_factory=list)
    isotropy: dict | None = None

    @property
    def isotropy_label(self) -> str:
        """The isotropy in standard notation (e.g. "Δ(S_5×S_1)"), "" when not computed."""
        return "" if not self.isotropy else str(self.isotropy.get("label", ""))

    def to_dict(self) -> dict:
        d = asdict(self)
        d["W"] = self.W.tolist()
        d["eigenvalues"] = np.asarray(self.eigenvalues).tolist()
        return d

    @classmethod
    def from_dict(cls, data: dict, K: int, d: int) -> "CriticalPoint":
        known = set(cls.__dataclass_fields__)
        missing = {"W", "loss", "grad_norm", "eigenvalues", "index", "nullity",
                   "symmetry_zero_modes", "kind", "in_plane", "plane_distance"} - set(data)
        if missing:
            raise ValueError(f"entry lacks keys {sorted(missing)}")
        kw = {k: v for k, v in data.items() if k in known}
        W, _ = student_weights(kw["W"], d, "entry W", K=K)
        kw["W"] = W[0]
        kw["eigenvalues"] = np.asarray(kw["eigenvalues"], dtype=np.float64)
        if kw["kind"] not in KINDS:
            raise ValueError(f"entry kind {kw['kind']!r} is not one of {KINDS}")
        return cls(**kw)

    @property
    def summary(self) -> str:
        return f"{self.kind} J={self.loss:.6g} index={self.index} nullity={self.nullity}"


class Catalogue:
    """Critical points of ``problem``, deduplicated modulo the symmetries of J.

    ``entries``: list of :class:`CriticalPoint`; ``settings``: tolerances (see
    DEFAULT_SETTINGS); ``provenance``: free-form record of how it was made.
    """

    def __init__(self, problem: Problem, entries=None, settings: dict | None = None,
                 provenance: dict | None = None):
        if not isinstance(problem, Problem):
            raise TypeError(f"problem must be a reludyn.Problem, got {type(problem).__name__}")
        self.problem = problem
        self.settings = dict(DEFAULT_SETTINGS)
        if settings:
            unknown = set(settings) - set(DEFAULT_SETTINGS)
            if unknown:
                raise ValueError(f"unknown catalogue settings {sorted(unknown)}")
            self.settings.update({k: float(v) for k, v in settings.items()})
        self.provenance = dict(provenance or {})
        self.entries: list[CriticalPoint] = list(entries or [])
        self._ctx = SymmetryContext(problem.V, self.settings["dedup_tol"])
        self._teacher_energy = float(problem.loss(np.zeros((problem.K, problem.d))))
        self.starts = 0  # starts processed, accepted or rejected (see record_start)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self):
        return iter(self.entries)

    def __repr__(self) -> str:
        return f"Catalogue({self.problem!r}, {len(self)} entries)"

    # --- matching ----------------------------------------------------------
    def _abs_tol(self, W: np.ndarray) -> float:
        s = max(float(np.max(np.linalg.norm(W, axis=1), initial=0.0)),
                float(np.max(np.linalg.norm(self.problem.V, axis=1))), 1.0)
        return self.settings["dedup_tol"] * s * s

    def match(self, W) -> int | None:
        """Index of the entry W is a symmetric copy of (within dedup_tol), or None.

        Coincident rows are compared through their equal-split representative.
        """
        W, _ = student_weights(W, self.problem.d, "W", K=self.problem.K)
        return self._match(self.representative(W[0]))

    def _match(self, W: np.ndarray) -> int | None:
        J = float(self.problem.loss(W))
        tol = self._abs_tol(W)
        jtol = tol * max(self._teacher_energy, 1.0)
        for i, e in enumerate(self.entries):
            if abs(e.loss - J) > jtol:
                continue
            if match(e.W, W, self._ctx, tol) is not None:
                return i
        return None

    def add(self, W, *, grad_norm: float | None = None, method: str | None = None,
            source: str | None = None, hits: int = 1) -> tuple[int, bool]:
        """Add a critical point (or count a hit on its entry). Returns (index, is_new).

        W is classified only when new; it is assumed to be critical (‖∇J‖ is
        recorded, not checked: the finder accepts points first).  Coincident rows
        are first given equal norms (:meth:`representative`); ``grad_norm`` is
        recomputed at the stored point, the argument is kept for API symmetry.
        """
        W, _ = student_weights(W, self.problem.d, "W", K=self.problem.K)
        W = self.representative(W[0])
        i = self._match(W)
        if i is not None:
            e = self.entries[i]
            e.hits += hits
            if source is not None and len(e.sources) < 5:
                e.sources.append(source)
            return i, False
        return self._insert(W, method=method, source=source, hits=hits), True

    def assign(self, W, *, polish: bool = True, add: bool = True, source: str = "basins",
               polish_tol: float = 1e-11) -> int | None:
        """Index of the entry the end point W (K, d) belongs to, or None.

        One match of W; if it matches nothing and ``polish``, at most one Newton polish
        (to ``polish_tol``) and one match of the polished point; a polished point that
        matches nothing is classified and added when ``add``. Returns None when W matches
        nothing and is not polished, polishing fails (W is not near a critical point), or
        the new point is not added. Existing entries' hit counts are not changed.
        """
        W, _ = student_weights(W, self.problem.d, "W", K=self.problem.K)
        idx = self._match(self.representative(W[0]))
        if idx is not None or not polish:
            return idx
        pol = newton_polish(W[0], self.problem.V, tol=polish_tol)
        if not pol.success:
            return None
        Wp = self.representative(pol.W)
        idx = self._match(Wp)
        if idx is not None or not add:
            return idx
        return self._insert(Wp, method="newton", source=source, hits=1)

    def _insert(self, W: np.ndarray, *, method, source, hits: int) -> int:
        """Classify W (a representative matching no entry) and append it; returns its index."""
        grad_norm = float(np.linalg.norm(self.problem.grad(W)))
        s = self.settings
        info = classify(W, self.problem.V, ctx=self._ctx, null_rtol=s["null_rtol"],
                        global_atol=s["global_atol"], plane_tol=s["plane_tol"])
        fields = set(CriticalPoint.__dataclass_fields__)
        e = CriticalPoint(W=W, grad_norm=float(grad_norm), hits=hits, method=method,
                          sources=[source] if source is not None else [],
                          **{k: v for k, v in info.items() if k in fields})
        e.isotropy = isotropy_of(W, self._ctx).to_dict()
        self.entries.append(e)
        return len(self.entries) - 1

    def representative(self, W: np.ndarray) -> np.ndarray:
        """W with coincident rows given equal norms (see :func:`equalize_coincident`).

        J is constant along the split of a coincident group's total norm, so this
        picks one point of that line; it is polished back to ‖∇J‖ <= tol and W is
        kept unchanged if that fails.
        """
        W = np.array(W, dtype=np.float64)
        if not coincident_groups(W):
            return W
        We = equalize_coincident(W)
        tol = self.settings["tol"]
        g0 = float(np.linalg.norm(self.problem.grad(W)))
        ge = float(np.linalg.norm(self.problem.grad(We)))
        if ge > max(tol, g0) and not dead_rows(We):
            pr = newton_polish(We, self.problem.V, tol=tol, max_iter=20)
            We, ge = pr.W, pr.grad_norm
        return We if ge <= max(tol, g0) else W

    def sort(self) -> None:
        """Order entries by loss, then kind and index (stable): the catalogue's canonical order.

        For K < M (no zero-loss point exists) the lowest minimum is labelled global_min.
        """
        self.entries.sort(key=lambda e: (round(e.loss, 12), KINDS.index(e.kind), e.index))
        if self.problem.K < self.problem.M:
            # J > 0 everywhere when K < M: the lowest minimum found is the best known
            # candidate for the global one (a claim as complete as the search)
            mins = [e for e in self.entries if e.kind in ("global_min", "spurious_min")]
            for k, e in enumerate(mins):
                e.kind = "global_min" if k == 0 else "spurious_min"

    def kinds(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for e in self.entries:
            out[e.kind] = out.get(e.kind, 0) + 1
        return out

    # --- files -------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "reludyn_version": __version__,
            "problem": self.problem.to_dict(),
            "settings": self.settings,
            "provenance": self.provenance,
            "entries": [e.to_dict() for e in self.entries],
            "completeness": self.completeness().to_dict(),
            "fingerprint": self.fingerprint(),
        }

    def save(self, path) -> None:
        """Write the catalogue as JSON (atomic)."""
        rio.write_json(path, self.to_dict())

    @classmethod
    def from_dict(cls, data, what: str = "catalogue") -> "Catalogue":
        if not isinstance(data, dict):
            raise ValueError(f"{what} is not a catalogue (expected a JSON object)")
        if data.get("schema") != SCHEMA:
            raise ValueError(f"{what} is not a reludyn catalogue (schema {data.get('schema')!r})")
        ver = data.get("schema_version")
        if ver != SCHEMA_VERSION:
            raise ValueError(f"{what} has schema version {ver!r}; this reludyn reads "
                             f"version {SCHEMA_VERSION}")
        try:
            problem = Problem.from_dict(data["problem"])
            cat = cls(problem, settings=data.get("settings"), provenance=data.get("provenance"))
            entries = data["entries"]
            if not isinstance(entries, list):
                raise ValueError("'entries' is not a list")
            for k, ed in enumerate(entries):
                if not isinstance(ed, dict):
                    raise ValueError(f"entry {k} is not an object")
                try:
                    cat.entries.append(CriticalPoint.from_dict(ed, problem.K, problem.d))
                except (ValueError, TypeError) as exc:
                    raise ValueError(f"entry {k}: {exc}") from None
            cat._load_completeness(data.get("completeness"))
        except KeyError as exc:
            raise ValueError(f"{what} lacks key {exc}") from None
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{what} is damaged: {exc}") from None
        return cat

    @classmethod
    def load(cls, path, problem: Problem | None = None, verify: bool = False) -> "Catalogue":
        """Read a catalogue written by :meth:`save`; if ``problem`` is given it must match.

        ``verify=True`` (what the CLI uses) recomputes every entry from W and V and refuses a
        file that disagrees with itself (see :meth:`verify`).
        """
        data = rio.read_json(path, "catalogue file")
        what = f"catalogue file {str(path)!r}"
        cat = cls.from_dict(data, what)
        if problem is not None and cat.problem != problem:
            raise ValueError(f"catalogue file {str(path)!r} is for {cat.problem!r}, "
                             f"not for {problem!r}")
        if verify:
            cat.verify(what, stored_fingerprint=data.get("fingerprint"))
        return cat

    CSV_COLUMNS = ("id", "loss", "kind", "index", "nullity", "symmetry_zero_modes",
                   "unexplained_zero_modes", "in_plane", "plane_distance", "hits",
                   "orbit_size", "grad_norm", "dead_rows", "coincident_pairs",
                   "opposite_pairs", "normal_residual", "method", "isotropy")

    def csv_text(self) -> str:
        buf = _stdio.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(self.CSV_COLUMNS)
        for i, e in enumerate(self.entries):
            w.writerow([i, repr(e.loss), e.kind, e.index, e.nullity, e.symmetry_zero_modes,
                        e.unexplained_zero_modes, int(e.in_plane), repr(e.plane_distance),
                        e.hits, "" if e.orbit_size is None else e.orbit_size,
                        repr(e.grad_norm), " ".join(map(str, e.dead_rows)),
                        " ".join(f"{a}-{b}" for a, b in e.coincident_pairs),
                        " ".join(f"{a}-{b}" for a, b in e.opposite_pairs),
                        "" if e.normal_residual is None else repr(e.normal_residual),
                        e.method or "", e.isotropy_label])
        return buf.getvalue()

    def to_csv(self, path) -> None:
        """One summary row per entry (columns CSV_COLUMNS)."""
        text = self.csv_text()
        rio.atomic_write(Path(path), lambda fh: fh.write(text.encode()))

    def table(self, by_isotropy: bool = False) -> str:
        """Human-readable table sorted by loss: loss, type, index, nullity, plane, hits, orbit, isotropy.

        ``by_isotropy``: one section per isotropy group (largest order first), each sorted by loss.
        """
        rows = sorted(range(len(self.entries)), key=lambda i: self.entries[i].loss)
        head = f"{'id':>4} {'loss':>14} {'type':<17} {'index':>5} {'null':>4} {'sym0':>4} " \
               f"{'plane':<6} {'hits':>6} {'orbit':>14} {'|grad|':>9}  isotropy"
        lines = [head, "-" * len(head)]
        if by_isotropy:
            groups: dict = {}
            for i in rows:
                groups.setdefault(self.entries[i].isotropy_label or "(not computed)", []).append(i)

            def order_key(label):
                o = (self.entries[groups[label][0]].isotropy or {}).get("order")
                return (-(o or 0), label)
            rows = []
            for label in sorted(groups, key=order_key):
                rows.append(label)
                rows.extend(groups[label])
        for i in rows:
            if isinstance(i, str):
                lines.append(f"-- isotropy {i} ({len(groups[i])} entries)")
                continue
            e = self.entries[i]
            orb = "inf" if e.orbit_size is None and not e.in_plane else (
                "?" if e.orbit_size is None else str(e.orbit_size))
            lines.append(f"{i:>4} {e.loss:>14.8g} {e.kind:<17} {e.index:>5} {e.nullity:>4} "
                         f"{e.symmetry_zero_modes:>4} {'in' if e.in_plane else 'out':<6} "
                         f"{e.hits:>6} {orb:>14} {e.grad_norm:>9.2e}  {e.isotropy_label}")
        lines.append(self.completeness().line())
        return "\n".join(lines)

    # --- completeness (see completeness.py) ----------------------------------
    def record_start(self, added: tuple[int, bool] | None) -> None:
        """Count one start processed by a finder: ``added`` is what :meth:`add` returned for
        it, or None for a rejected start.  A new entry is stamped with ``first_start``."""
        self.starts += 1
        if added is not None and added[1]:
            self.entries[added[0]].first_start = self.starts

    def completeness(self) -> "Completeness":
        """Chao1 estimates of the unseen entries from the hits: overall, per kind, per
        (kind, index); see :mod:`reludyn.critical.completeness`."""
        from .completeness import completeness
        es = self.entries
        return completeness([e.hits for e in es], [e.kind for e in es],
                            [e.index for e in es], self.starts)

    def saturation(self) -> "SaturationCurve":
        """Distinct entries against starts processed, overall and per kind / (kind, index).

        Needs every entry's ``first_start`` (catalogues written before reludyn recorded
        discoveries lack them: ValueError)."""
        from .completeness import saturation_curve
        missing = sum(e.first_start is None for e in self.entries)
        if missing:
            raise ValueError(f"{missing} of {len(self)} entries have no recorded discovery "
                             "(first_start): the catalogue was not made by a finder that "
                             "records them; rebuild it to get its saturation curve")
        return saturation_curve([(e.first_start, e.kind, e.index) for e in self.entries],
                                self.starts)

    def merge(self, other: "Catalogue") -> int:
        """Add the entries of ``other`` (same problem and settings, made after this one's
        starts): hits add up, new entries keep their classification, and ``first_start``
        and ``starts`` continue this catalogue's count.  Returns the number of new entries.
        Entries of ``other`` are taken in discovery order, as if its starts had run here."""
        if other.problem != self.problem or other.settings != self.settings:
            raise ValueError("can only merge catalogues of the same problem and settings")
        offset, new = self.starts, 0
        order = sorted(other.entries, key=lambda e: (e.first_start is None, e.first_start or 0))
        for e in order:
            i = self._match(e.W)
            if i is not None:
                t = self.entries[i]
                t.hits += e.hits
                t.sources += e.sources[: max(0, 5 - len(t.sources))]
                continue
            fs = None if e.first_start is None else offset + e.first_start
            self.entries.append(replace(e, first_start=fs, sources=list(e.sources)))
            new += 1
        self.starts += other.starts
        return new

    def _load_completeness(self, block) -> None:
        """Restore ``starts`` from a file's completeness block and check its estimates
        against the hits (older files: no block; starts from provenance seeds_done)."""
        if block is None:
            self.starts = int(self.provenance.get("seeds_done", 0) or 0)
            return
        if not isinstance(block, dict) or not isinstance(block.get("starts"), int) \
                or block["starts"] < 0:
            raise ValueError("'completeness' is not an object with a count 'starts' >= 0")
        self.starts = block["starts"]
        firsts = [e.first_start for e in self.entries if e.first_start is not None]
        if any(not isinstance(f, int) or not 1 <= f <= self.starts for f in firsts) or \
                len(set(firsts)) != len(firsts):
            raise ValueError(f"entry first_start values must be distinct integers in "
                             f"1..{self.starts} (the starts processed)")
        if block != self.completeness().to_dict():
            raise ValueError("its completeness block disagrees with the entries' hits "
                             "(edited by hand?); delete the block to have it recomputed")

    # --- provenance: fingerprint and verification (issue 11) --------------------------------
    def fingerprint(self) -> str:
        """SHA-256 of what the catalogue claims to be about: the problem (K, V), every entry's W
        in order, and the settings (:func:`reludyn.io.content_hash`). Stored on save; files
        derived from a catalogue (basin tables) can record it to be matched later."""
        return rio.content_hash({"K": self.problem.K, "V": self.problem.V,
                                 "W": [np.asarray(e.W, dtype=np.float64) for e in self.entries],
                                 "settings": self.settings})

    def verify(self, what: str = "catalogue", stored_fingerprint: str | None = None) -> None:
        """Recompute each entry's loss, gradient norm, Hessian index and kind from W and V and
        raise ValueError naming the entry and the field where the stored value disagrees
        (an edited teacher, a moved W, an edited kind or loss). Then, if given, the stored
        fingerprint must match :meth:`fingerprint`.

        Tolerances: loss within 1e-9·max(|J|, teacher energy); gradient norm within
        max(10·tol, 1e-9·max teacher row norm); index, nullity and kind exactly (with the
        K < M relabelling of :meth:`sort`).
        """
        P, s = self.problem, self.settings
        te = max(self._teacher_energy, 1e-300)
        gscale = float(np.max(np.linalg.norm(P.V, axis=1)))
        gtol = max(10.0 * s["tol"], 1e-9 * gscale)
        infos = []
        for i, e in enumerate(self.entries):
            W = np.ascontiguousarray(e.W, dtype=np.float64)
            J = float(P.loss(W))
            if not abs(J - float(e.loss)) <= 1e-9 * max(abs(J), te):
                raise ValueError(f"{what}: entry {i}: stored loss {e.loss!r} disagrees with "
                                 f"J(W) = {J!r} recomputed from its W and the teacher V")
            g = float(np.linalg.norm(P.grad(W)))
            if not abs(g - float(e.grad_norm)) <= gtol:
                raise ValueError(f"{what}: entry {i}: stored grad_norm {e.grad_norm!r} "
                                 f"disagrees with |grad J(W)| = {g:.3g} recomputed from its W "
                                 "and V (W moved, or not a critical point)")
            infos.append(classify(W, P.V, ctx=self._ctx, null_rtol=s["null_rtol"],
                                  global_atol=s["global_atol"], plane_tol=s["plane_tol"]))
        kinds = [info["kind"] for info in infos]
        if P.K < P.M:  # the relabelling of sort(): the lowest minimum is the global one
            mins = sorted((k for k, kd in enumerate(kinds) if kd in ("global_min", "spurious_min")),
                          key=lambda k: (round(self.entries[k].loss, 12), self.entries[k].index))
            for r, k in enumerate(mins):
                kinds[k] = "global_min" if r == 0 else "spurious_min"
        for i, (e, info, kind) in enumerate(zip(self.entries, infos, kinds)):
            for name, new in (("index", info["index"]), ("nullity", info["nullity"]),
                              ("kind", kind)):
                old = getattr(e, name)
                if old != new:
                    raise ValueError(f"{what}: entry {i}: stored {name} {old!r} disagrees with "
                                     f"{new!r} recomputed from its W and the teacher V")
        if stored_fingerprint is not None and stored_fingerprint != self.fingerprint():
            raise ValueError(f"{what}: its fingerprint does not match its problem, entries' W "
                             "and settings (edited after it was written)")
