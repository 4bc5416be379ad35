"""The evaluation harness's settings: one frozen dataclass, resolved once in the CLI."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone

from arbscore.data_tools.costs import FeeSchedule
from arbscore.schema import DEFAULT_PERP_LEVERAGE, MAX_HOLD_HOURS

#: the declared out-of-sample metric that picks each head's winner, and its direction
WINNER_METRICS: dict[str, tuple[str, bool]] = {
    "profit": ("mae", False),  # mean absolute error of net profit %, lower is better
    # AUC, not Brier: every family's probability is Platt-calibrated on a held-out slice, so
    # what tells families apart is ranking. With rare winners (0.05 % of real rows at taker
    # fees) Brier is the base rate to four digits and cannot separate them. Brier stays reported.
    "success": ("auc", True),
    "duration": ("mae_hours", False),  # |predicted - optimal hold| in hours
}
#: used for a head only when no family has a finite value of its declared metric (AUC is
#: undefined when every test fold holds one class, as on small or cost-heavy data)
WINNER_FALLBACK_METRICS: dict[str, tuple[str, bool]] = {"success": ("brier", False)}
#: how a model family's positions end: its duration head's hold, or the signal exit (#11)
MODEL_EXITS: tuple[str, ...] = ("predicted_hold", "signal")
#: arch.bootstrap's block bootstraps the intervals may use
BOOTSTRAP_METHODS: tuple[str, ...] = ("stationary", "circular")


def test_start_ms(text: str) -> int:
    """Epoch ms of ``--test-start``: an ISO date or date-time, UTC unless it has an offset."""
    try:
        when = datetime.fromisoformat(str(text).strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise ValueError(f"--test-start {text!r}: expected a date such as 2025-10-01") from exc
    when = when if when.tzinfo else when.replace(tzinfo=timezone.utc)
    return int(when.timestamp() * 1000)


@dataclass(frozen=True)
class EvaluationConfig:
    """Walk-forward folds, trading backtest and winner rule.

    Folds: the last ``n_folds * test_span_hours`` of the data are cut into consecutive test
    windows; ``test_span_hours=None`` sizes them so the first training window is as long as one
    test window.

    Portfolio backtest (``evaluation.portfolio``): one book of ``capital_usd`` over the pooled
    out-of-sample span; each position trades ``position_usd`` per leg and ties up both legs'
    margin (the label ``capital_usd``; without it the spot leg's full notional plus
    notional / ``perp_leverage`` per perp leg). At each snapshot up to ``top_k`` entries, while
    the open margin fits ``capital_usd``, at most ``max_open_positions`` are open (None: margin
    is the only limit), ``max_positions_per_symbol`` per symbol and ``max_positions_per_venue``
    per exchange. Models exit by ``model_exit`` ("predicted_hold": the duration head snapped to
    the simulated holds; "signal": the signal exit); the rule baselines expect to hold
    ``rule_expected_hold_hours``. ``always_on`` holds the same-venue spot_perp
    (cash-and-carry) of each of ``always_on_symbols`` whenever it can. Every strategy is
    measured over one fixed span: the out-of-sample window plus ``tail_hours`` (None: the
    largest hold in the data) for positions still open; positions open at its end are valued
    at their mark. A position whose exit falls at the label boundary continues into the same
    legs' opportunity at that time (``continue_at_boundary``, see ``evaluation.continuation``).
    Idle capital earns ``idle_rate_pct`` a year (default 0). Intervals: ``arch``'s
    ``bootstrap_method`` ("stationary" or "circular") bootstrap of the daily marked-to-market
    returns, ``bootstrap_samples`` draws, seeded by ``bootstrap_seed``, mean block length by
    Politis & White (2004, with Patton, Politis & White's 2009 correction) unless
    ``bootstrap_block_days`` fixes it. A family's verdict needs at least ``min_trades`` trades
    and a difference interval that excludes 0; otherwise "not enough evidence". A family's
    success probability is flagged miscalibrated when its ECE exceeds ``ece_flag`` or one
    calibration bin of at least ``bin_gap_min_rows`` rows is off by more than ``bin_gap_flag``
    (a confident top bin that is wrong hides in a small ECE when nearly every row sits in the
    lowest bin).

    ``one_position_per_symbol`` and ``max_positions`` serve the per-window ``backtest`` that
    ``ops.paper`` uses.
    """

    n_folds: int = 4
    test_span_hours: float | None = None
    # None: the largest hold in the data (its labels look that far ahead), at most
    # schema.MAX_HOLD_HOURS; a 30-day grid on a short guide CSV would otherwise leave no folds
    embargo_hours: float | None = None
    min_train_rows: int = 50
    top_k: int = 3
    one_position_per_symbol: bool = True
    capital_usd: float = 100_000.0
    position_usd: float = 10_000.0
    min_success_probability: float = 0.5
    min_expected_profit_pct: float = 0.0
    baseline_hold_hours: float = 24.0
    # the fees of the baselines' round-trip estimate where a row lacks round_trip_cost_pct
    # (data_tools.costs.round_trip_cost_pct); a mapping (a config file's section) is read by
    # FeeSchedule.from_dict
    fees: FeeSchedule = field(default_factory=FeeSchedule)
    calibration_bins: int = 10
    max_open_positions: int | None = None
    max_positions_per_symbol: int = 1
    max_positions_per_venue: int = 6
    perp_leverage: float = DEFAULT_PERP_LEVERAGE
    model_exit: str = "predicted_hold"
    rule_expected_hold_hours: float = 168.0
    bootstrap_samples: int = 2000
    bootstrap_block_days: float | None = None
    bootstrap_method: str = "stationary"
    min_trades: int = 30
    always_on_symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    idle_rate_pct: float = 0.0
    tail_hours: float | None = None
    continue_at_boundary: bool = True
    bootstrap_seed: int = 0
    ece_flag: float = 0.05
    bin_gap_flag: float = 0.2
    bin_gap_min_rows: int = 20
    tie_tolerance: float = 0.01
    latency_repeats: int = 5
    #: out of time (``evaluation.out_of_time``): the success calibration used at a fold is the
    #: one with the lowest calibration error over this many folds before it (rolling origin)
    selection_folds: int = 2
    #: the split-conformal profit interval's target coverage (a share: 0.8 = 80 %)
    interval_coverage: float = 0.8
    #: the first test window starts here (ISO date or date-time, UTC): ``n_folds`` equal out-of-
    #: time windows from it to the data's end (``--test-start``); None: cut from the end
    test_start: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.fees, FeeSchedule):
            object.__setattr__(self, "fees", FeeSchedule.from_dict(self.fees, "evaluation.fees"))
        if self.n_folds < 1:
            raise ValueError(f"n_folds must be >= 1, got {self.n_folds}")
        if self.test_start is not None:
            test_start_ms(self.test_start)  # a malformed date fails here, naming the flag
        if self.test_span_hours is not None and self.test_span_hours <= 0:
            raise ValueError(f"test_span_hours must be > 0, got {self.test_span_hours}")
        if self.embargo_hours is not None and self.embargo_hours < 0:
            raise ValueError(f"embargo_hours must be >= 0, got {self.embargo_hours}")
        if self.top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {self.top_k}")
        if not 0 < self.position_usd <= self.capital_usd:
            raise ValueError(
                f"position_usd must be in (0, capital_usd={self.capital_usd}], "
                f"got {self.position_usd}"
            )
        if not 0.0 <= self.min_success_probability <= 1.0:
            raise ValueError("min_success_probability must be within [0, 1]")
        if self.baseline_hold_hours <= 0:
            raise ValueError("baseline_hold_hours must be > 0")
        if self.calibration_bins < 2:
            raise ValueError("calibration_bins must be >= 2")
        if self.tie_tolerance < 0:
            raise ValueError("tie_tolerance must be >= 0")
        if self.max_open_positions is not None and self.max_open_positions < 1:
            raise ValueError(
                f"max_open_positions must be >= 1 or None, got {self.max_open_positions}"
            )
        if self.max_positions_per_symbol < 1 or self.max_positions_per_venue < 1:
            raise ValueError("max_positions_per_symbol and max_positions_per_venue must be >= 1")
        if self.perp_leverage < 1:
            raise ValueError(f"perp_leverage must be >= 1, got {self.perp_leverage}")
        if self.model_exit not in MODEL_EXITS:
            raise ValueError(
                f"model_exit must be one of {list(MODEL_EXITS)}, got {self.model_exit!r}"
            )
        if self.rule_expected_hold_hours <= 0:
            raise ValueError("rule_expected_hold_hours must be > 0")
        block = self.bootstrap_block_days
        if self.bootstrap_samples < 100 or (block is not None and block < 1):
            raise ValueError(
                f"bootstrap_samples must be >= 100 and bootstrap_block_days >= 1 or None, got "
                f"{self.bootstrap_samples} and {block}"
            )
        if self.bootstrap_method not in BOOTSTRAP_METHODS:
            raise ValueError(
                f"bootstrap_method must be one of {list(BOOTSTRAP_METHODS)}, got "
                f"{self.bootstrap_method!r}"
            )
        if self.min_trades < 1:
            raise ValueError(f"min_trades must be >= 1, got {self.min_trades}")
        if self.tail_hours is not None and self.tail_hours < 0:
            raise ValueError(f"tail_hours must be >= 0 or None, got {self.tail_hours}")
        object.__setattr__(self, "always_on_symbols", tuple(self.always_on_symbols))
        if not 0 < self.ece_flag < 1 or not 0 < self.bin_gap_flag < 1:
            raise ValueError(
                f"ece_flag and bin_gap_flag must be in (0, 1), got {self.ece_flag} and "
                f"{self.bin_gap_flag}"
            )
        if self.bin_gap_min_rows < 1:
            raise ValueError(f"bin_gap_min_rows must be >= 1, got {self.bin_gap_min_rows}")
        if self.min_train_rows < 1 or self.latency_repeats < 1:
            raise ValueError("min_train_rows and latency_repeats must be >= 1")
        if self.selection_folds < 1:
            raise ValueError(f"selection_folds must be >= 1, got {self.selection_folds}")
        if not 0 < self.interval_coverage < 1:
            raise ValueError(f"interval_coverage must be in (0, 1), got {self.interval_coverage}")

    def tail_for(self, hold_hours) -> float:
        """The span's tail in hours past the last test window (see ``tail_hours``)."""
        if self.tail_hours is not None:
            return float(self.tail_hours)
        return float(max((float(h) for h in hold_hours), default=MAX_HOLD_HOURS))

    def embargo_for(self, hold_hours) -> float:
        """The embargo in hours for rows holding ``hold_hours`` (see ``embargo_hours``)."""
        if self.embargo_hours is not None:
            return float(self.embargo_hours)
        holds = [float(h) for h in hold_hours]
        return float(min(max(holds, default=MAX_HOLD_HOURS), MAX_HOLD_HOURS))

    @property
    def max_positions(self) -> int:
        return int(self.capital_usd // self.position_usd)

    def to_dict(self) -> dict:
        return {**asdict(self), "fees": self.fees.to_dict()}
