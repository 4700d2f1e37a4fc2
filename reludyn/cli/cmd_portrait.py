"""``reludyn portrait``: phase portraits and landscape slices."""
from __future__ import annotations

import argparse
from pathlib import Path

from .common import grid_arg, locked, output_file_arg, positive_int_arg


def _pair(text: str) -> tuple[float, float]:
    try:
        a, b = (float(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected two numbers 'a,b', got {text!r}") from None
    return a, b


def _point_spec(text: str) -> tuple[int, list[int] | None]:
    head, _, perm = text.partition(":")
    try:
        i = int(head)
        p = [int(v) for v in perm.split(",")] if perm else None
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected ID or ID:p0,p1,..., got {text!r}") from None
    return i, p


def register(sub) -> None:
    p = sub.add_parser(
        "portrait",
        help="phase portraits: symmetric (x, y) system, the K = 1 plane, or a landscape slice",
        description="symmetric: streamlines, nullclines, fixed points and trajectories of the "
        "reduced system w_j = x e_j + y Σ_{k≠j} e_k (teacher I_K). one-relu: the K = 1 plane "
        "with the region Ω. slice: loss contours and the projected gradient on the plane "
        "through three catalogue entries.",
    )
    p.add_argument("kind", choices=["symmetric", "one-relu", "slice"])
    p.add_argument("-K", type=positive_int_arg, default=2, help="width K (symmetric; default 2)")
    p.add_argument("--start", type=_pair, action="append", metavar="X,Y",
                   help="trajectory start (repeatable; default 0.001,0 for symmetric)")
    p.add_argument("--w-star", type=_pair, default=(1.0, 0.0), metavar="A,B",
                   help="teacher row for one-relu (default 1,0)")
    p.add_argument("--xlim", type=_pair, metavar="LO,HI", help="x range (symmetric)")
    p.add_argument("--ylim", type=_pair, metavar="LO,HI", help="y range (symmetric)")
    p.add_argument("--catalogue", help="catalogue JSON (slice: the points; symmetric/one-relu: unused)")
    p.add_argument("--points", type=_point_spec, nargs=3, metavar="ID[:PERM]",
                   help="three catalogue entries spanning the slice; ID:p0,p1,... takes entry ID "
                        "with its rows reordered (a symmetric copy), e.g. 1:1,0,2")
    p.add_argument("--grid", type=grid_arg, default=61, help="grid points per axis, >= 5 (default 61)")
    p.add_argument("-o", "--out", "--output", dest="out", type=output_file_arg, required=True,
                   help="figure file (.png, .svg or .pdf)")
    p.add_argument("--dpi", type=positive_int_arg, default=100)
    p.set_defaults(func=locked(run, "out"))


def run(args: argparse.Namespace) -> int:
    from ..plots.graphdraw import save_figure

    out = Path(args.out)
    if out.suffix.lower() not in (".png", ".svg", ".pdf"):
        raise ValueError(f"--out {str(out)!r}: use a .png, .svg or .pdf file name")
    if args.kind == "symmetric":
        from ..plots.portraits import symmetric_portrait

        if args.K < 2:
            raise ValueError("the symmetric family needs -K >= 2 (use `portrait one-relu` for K = 1)")
        kw = {}
        if args.xlim:
            kw["xlim"] = args.xlim
        if args.ylim:
            kw["ylim"] = args.ylim
        fig, ax, pts = symmetric_portrait(args.K, n=args.grid,
                                          trajectories=args.start or [(1e-3, 0.0)], **kw)
        for fp in pts:
            print(f"fixed point ({fp.x:.6f}, {fp.y:.6f}): {fp.kind}, Hessian index "
                  f"{'-' if fp.index is None else fp.index}, loss {fp.loss:.6g}")
    elif args.kind == "one-relu":
        from ..plots.portraits import one_relu_portrait

        kw = {"trajectories": args.start} if args.start else {}
        fig, ax = one_relu_portrait(args.w_star, n=args.grid, **kw)
    else:
        from ..critical import Catalogue
        from ..plots.slices import landscape_slice

        if not args.catalogue or not args.points:
            raise ValueError("slice needs --catalogue PATH and --points ID ID ID")
        cat = Catalogue.load(args.catalogue, verify=True)
        n = len(cat.entries)
        pts, labels = [], []
        for i, perm in args.points:
            if not 0 <= i < n:
                raise ValueError(f"--points: entry {i} does not exist (the catalogue has {n})")
            W = cat.entries[i].W
            if perm is not None:
                if sorted(perm) != list(range(W.shape[0])):
                    raise ValueError(f"--points: {perm} is not a permutation of the {W.shape[0]} rows")
                W = W[perm]
            pts.append(W)
            labels.append(f"{i}{'' if perm is None else 'π'}: {cat.entries[i].kind}")
        fig, ax, _ = landscape_slice(cat.problem, pts, labels=labels, catalogue=cat, n=args.grid)
    save_figure(fig, out, dpi=args.dpi)
    print(f"wrote {out}")
    return 0
