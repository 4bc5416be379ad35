"""float64 sin and cos from basic ONNX ops (musl's algorithm), for runtimes without them.

onnxruntime 1.20 has no float64 ``Cos`` kernel (onnxruntime-node 1.20: "Could not find
an implementation for Cos(7)"), and float32 would change the features' bits. This is musl libc's
``sin``/``cos``: Cody-Waite reduction by pi/2 in three parts (``__rem_pio2``'s medium case, all
three rounds, round-to-nearest), then the ``__sin``/``__cos`` kernel polynomials on the
double-double remainder; accurate to under 1 ulp like the C library numpy calls, including near
the zeros (cos at 6 h is 6.1e-17 as in numpy, not 0). The reduction is exact while
|x| < 2^20 * pi/2 (about 1.6e6 rad: an hour-of-day input under 6e6); beyond it the result keeps
only the low bits' accuracy of that reduction (the inputs there are not hours anyway).
"""

from __future__ import annotations

from typing import Any

#: a tensor of :mod:`arbscore.export.onnx_graph` (its ``Sym``: arithmetic operators, ``.eq``,
#: ``.g.op`` and ``.name``). Not imported: onnx_graph imports this module for its ops namespace.
Sym = Any

_INVPIO2 = 6.36619772367581382433e-01
_PIO2 = (
    (1.57079632673412561417e00, 6.07710050650619224932e-11),
    (6.07710050630396597660e-11, 2.02226624879595063154e-21),
    (2.02226624871116645580e-21, 8.47842766036889956997e-32),
)
_S = (
    -1.66666666666666324348e-01,
    8.33333333332248946124e-03,
    -1.98412698298579493134e-04,
    2.75573137070700676789e-06,
    -2.50507602534068634195e-08,
    1.58969099521155010221e-10,
)
_C = (
    4.16666666666666019037e-02,
    -1.38888888888741095749e-03,
    2.48015872894767294178e-05,
    -2.75573143513906633035e-07,
    2.08757232129817482790e-09,
    -1.13596475577881948265e-11,
)


def _rem_pio2(x: Sym) -> tuple[Sym, Sym, Sym]:
    """(n mod 4, y0, y1): x = n * pi/2 + y0 + y1, |y0 + y1| <= pi/4."""
    g = x.g
    fn = g.op("Round", x * _INVPIO2)  # round half to even, as rint in the default mode
    (p1, p1t), (p2, p2t), (p3, p3t) = _PIO2
    r = x - fn * p1
    w = fn * p1t
    for p, pt in ((p2, p2t), (p3, p3t)):  # musl's 2nd and 3rd rounds (always: exact anyway)
        t = r
        w = fn * p
        r = t - w
        w = fn * pt - ((t - r) - w)
    y0 = r - w
    y1 = (r - y0) - w
    quarter = fn - 4.0 * g.op("Floor", fn / 4.0)
    return quarter, y0, y1


def _ksin(x: Sym, y: Sym) -> Sym:
    s1, s2, s3, s4, s5, s6 = _S
    z = x * x
    w = z * z
    r = s2 + z * (s3 + z * s4) + z * w * (s5 + z * s6)
    v = z * x
    return x - ((z * (0.5 * y - v * r) - y) - v * s1)


def _kcos(x: Sym, y: Sym) -> Sym:
    c1, c2, c3, c4, c5, c6 = _C
    z = x * x
    w = z * z
    r = z * (c1 + z * (c2 + z * c3)) + w * w * (c4 + z * (c5 + z * c6))
    hz = 0.5 * z
    w = 1.0 - hz
    return w + (((1.0 - w) - hz) + (z * r - x * y))


def _pick(q: Sym, values: tuple[Sym, Sym, Sym, Sym]) -> Sym:
    g = q.g
    out = values[3]
    for k in (2, 1, 0):
        out = g.op("Where", q.eq(float(k)), values[k], out)
    return out


def _parts(x: Sym) -> tuple[Sym, Sym, Sym]:
    """(quarter, kernel sin, kernel cos) of x, built once per tensor (sin and cos share)."""
    memo = x.g.__dict__.setdefault("_trig_memo", {})
    if x.name not in memo:
        q, y0, y1 = _rem_pio2(x)
        memo[x.name] = (q, _ksin(y0, y1), _kcos(y0, y1))
    return memo[x.name]


def sin(x: Sym) -> Sym:
    """float64 sin(x) (see the module docstring)."""
    q, s, c = _parts(x)
    return _pick(q, (s, c, -s, -c))


def cos(x: Sym) -> Sym:
    """float64 cos(x) (see the module docstring)."""
    q, s, c = _parts(x)
    return _pick(q, (c, -s, -c, s))
