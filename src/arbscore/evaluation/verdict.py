"""The verdict in words: one function makes the sentence the console and the report both show.

``verdict_sentence(backtest, family)`` reads metrics.json's ``backtest`` block: the family's
trades and, against each baseline of ``backtest.versus.<family>`` (the best rule, ``always_on``,
``cash``), the difference in annual return (% of the book a year) with its 95 % interval and
the verdict of ``performance.verdict``. Fewer trades than ``min_trades`` or an interval holding
0 reads "not enough evidence" (``performance.VERDICT_NONE``), in these same words everywhere.
"""

from __future__ import annotations

import math

from arbscore.evaluation.performance import VERDICT_EDGE, VERDICT_NONE, VERDICT_WORSE

#: how each verdict reads against baseline ``{b}``
VERDICT_PHRASES: dict[str, str] = {
    VERDICT_EDGE: "an edge over {b}",
    VERDICT_WORSE: "worse than {b}",
    VERDICT_NONE: VERDICT_NONE,
}


def _pct(v: object) -> str:
    if not isinstance(v, int | float) or isinstance(v, bool) or not math.isfinite(v):
        return "n/a"
    return f"{v:+.2f}"


def comparison_phrase(against: str, v: dict, rule: str | None = None) -> str:
    """One comparison: "against carry_rule (the best rule): +1.20 %/yr [-0.40, +2.80], not
    enough evidence"."""
    ci = v.get("diff_ci95") or [math.nan, math.nan]
    name = f"{against} (the best rule)" if against == rule else against
    words = VERDICT_PHRASES.get(v.get("verdict"), str(v.get("verdict"))).format(b=against)
    return (
        f"against {name}: {_pct(v.get('diff_annual_return_pct'))} %/yr "
        f"[{_pct(ci[0])}, {_pct(ci[1])}], {words}"
    )


def verdict_sentence(backtest: dict, family: str) -> str | None:
    """The family's verdict against every baseline it was compared with, or None when the
    block has no comparison for it."""
    versus = (backtest.get("versus") or {}).get(family)
    if not versus:
        return None
    rule = backtest.get("rule")
    trades = (backtest.get("pooled") or {}).get(family, {}).get("trades")
    need = backtest.get("min_trades")
    count = f"{int(trades)} trades" if isinstance(trades, int | float) else "? trades"
    if isinstance(need, int) and isinstance(trades, int | float) and trades < need:
        count += f", fewer than the {need} a verdict needs"
    parts = "; ".join(comparison_phrase(b, v, rule) for b, v in versus.items())
    return f"{family} ({count}) {parts}."
