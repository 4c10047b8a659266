"""THE number formatter of the app: one rule per kind of number, so a figure reads the same on every page.

Python text (KPIs, captions, alerts) calls the functions here; grids call the SAME rules in the browser
through `js(kind)` (a dash-ag-grid function string that runs `neonFmt` from assets/dashAgGridFunctions.js,
which mirrors this module line by line; tests/browser/test_grid.py checks they agree). Values are
formatted once, from the raw float: never round a number before it reaches a formatter.

    from layouts import fmt
    fmt.signed_pct(0.10955)          # '+11.0%'
    fmt.pct(-0.144)                  # '-14.4%'
    fmt.ratio(1.234)                 # '1.23'
    fmt.money(1234.5)                # '$1,235'      fmt.money(-3.2, 2) -> '-$3.20'
    fmt.bps(12.5)                    # '12.5 bps'
    fmt.count(3956)                  # '3,956'
    fmt.price(192.7394)              # '192.74'
    fmt.fmt(value, "pct", 2)         # by kind name (what grids use)
    fmt.js("signed_pct")             # {"function": "neonFmt(params.value, 'signed_pct', 1)"} for a colDef

Missing values (None, NaN, inf) read "–" everywhere.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal

MISSING = "–"
DIGITS = {"pct": 1, "signed_pct": 1, "ratio": 2, "signed_ratio": 2, "money": 0, "bps": 1, "count": 0,
          "price": 2, "number": 2}
"""Default decimals per kind."""
KINDS = tuple(DIGITS)


def _finite(value) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v + 0.0 if math.isfinite(v) else None  # + 0.0 turns -0.0 into 0.0 (no "-0.0%")


def _fixed(v: float, digits: int, group: bool = False) -> str:
    """Rounded like JavaScript's toFixed (exact binary value, ties away from zero), so that the Python
    and the browser formatters agree digit for digit."""
    q = Decimal(v).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    text = f"{q:,.{digits}f}" if group else f"{q:.{digits}f}"
    return text


def finite(value) -> float | None:
    """`value` as a float, or None (JSON null) when it is missing, NaN or infinite: what grid rows carry."""
    return _finite(value)


def _grouped(v: float, digits: int) -> str:
    return _fixed(v, digits, group=True)


def fmt(value, kind: str = "number", digits: int | None = None) -> str:
    """`value` as text by kind: pct, signed_pct, ratio, signed_ratio, money, bps, count, price, number."""
    if kind not in DIGITS:
        raise ValueError(f"unknown number kind {kind!r}; one of {', '.join(KINDS)}")
    v = _finite(value)
    if v is None:
        return MISSING
    d = DIGITS[kind] if digits is None else int(digits)
    if kind == "pct":
        return f"{_fixed(v * 100, d)}%"
    if kind == "signed_pct":
        return ("+" if v >= 0 else "") + f"{_fixed(v * 100, d)}%"
    if kind == "ratio":
        return _fixed(v, d)
    if kind == "signed_ratio":
        return ("+" if v >= 0 else "") + _fixed(v, d)
    if kind == "money":
        return ("-" if v < 0 else "") + "$" + _grouped(abs(v), d)
    if kind == "bps":
        text = _fixed(v, d)
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return f"{text} bps"
    # count, price, number: grouped thousands
    return _grouped(v, d)


def pct(value, digits: int = 1) -> str:
    return fmt(value, "pct", digits)


def signed_pct(value, digits: int = 1) -> str:
    return fmt(value, "signed_pct", digits)


def ratio(value, digits: int = 2) -> str:
    return fmt(value, "ratio", digits)


def money(value, digits: int = 0) -> str:
    return fmt(value, "money", digits)


def bps(value, digits: int = 1) -> str:
    return fmt(value, "bps", digits)


def count(value) -> str:
    return fmt(value, "count", 0)


def price(value, digits: int = 2) -> str:
    return fmt(value, "price", digits)


def js(kind: str, digits: int | None = None) -> dict:
    """A dash-ag-grid valueFormatter running the same rule in the browser (CSP-safe: no eval)."""
    if kind not in DIGITS:
        raise ValueError(f"unknown number kind {kind!r}; one of {', '.join(KINDS)}")
    d = DIGITS[kind] if digits is None else int(digits)
    return {"function": f"neonFmt(params.value, '{kind}', {d})"}
