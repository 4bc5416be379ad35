"""The signal exit rule: leave a carry position when its own funding edge stops paying.

One definition, used by the simulator (``signal_exit_hours`` / ``signal_exit_profit_pct``), the
evaluation baselines and the server's ``/exit-signal``. numpy only, so the server can import it.

The rule (:class:`SignalExitConfig`): the position is checked at every funding settlement of
either perp leg after entry. At a check at time ``t`` the trailing edge is

    edge(t) = sum of the short leg's settled rates in (t - window, t]
            - sum of the long leg's settled rates in (t - window, t]      (percent of notional)

(a spot long pays nothing). The position exits at the first check where
``edge(t) <= exit_edge_pct``, or once ``elapsed_hours >= max_hold_hours`` (the largest hold, the
cap), whichever comes first; a liquidation ends it earlier. It needs no future data: the window
holds settled rates only, and the check happens when a settlement is known.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class SignalExitConfig:
    """Settings of the signal exit rule (module docstring).

    ``window_hours``: the trailing window of settled rates (72 h: 9 settlements of an 8 h leg,
    so one bad print does not end a multi-week carry). ``exit_edge_pct``: exit when the
    trailing edge is at or below this, percent of notional over the window (0: the position no
    longer earns). ``max_hold_hours``: the cap; ``None`` means the simulation's largest hold.
    """

    window_hours: float = 72.0
    exit_edge_pct: float = 0.0
    max_hold_hours: float | None = None

    def __post_init__(self) -> None:
        if not np.isfinite(self.window_hours) or self.window_hours <= 0:
            raise ValueError(f"signal_exit.window_hours is {self.window_hours}; expected > 0")
        if not np.isfinite(self.exit_edge_pct):
            raise ValueError("signal_exit.exit_edge_pct must be a finite percent")
        if self.max_hold_hours is not None and not self.max_hold_hours > 0:
            raise ValueError(
                f"signal_exit.max_hold_hours is {self.max_hold_hours}; expected > 0 or None"
            )


def should_exit(
    trailing_edge_pct: float | np.ndarray,
    elapsed_hours: float | np.ndarray,
    config: SignalExitConfig = SignalExitConfig(),
    max_hold_hours: float | None = None,
) -> bool | np.ndarray:
    """True where the rule exits a position at a settlement check.

    ``trailing_edge_pct``: the edge of the position's own legs over the trailing window
    (module docstring), percent of notional; ``elapsed_hours`` since entry. ``max_hold_hours``
    stands in for ``config.max_hold_hours`` when that is None (the simulator passes its largest
    hold). Scalars in, bool out; arrays in, a boolean array out.
    """
    cap = config.max_hold_hours if config.max_hold_hours is not None else max_hold_hours
    edge = np.asarray(trailing_edge_pct, dtype=np.float64)
    out = edge <= config.exit_edge_pct
    if cap is not None:
        out = out | (np.asarray(elapsed_hours, dtype=np.float64) >= cap)
    return bool(out) if out.ndim == 0 else out
