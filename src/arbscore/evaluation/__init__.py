"""The shared evaluation harness: walk-forward folds, metrics, trading backtest, winner per head.

``evaluate(frame, families, EvaluationConfig(), progress=None) -> EvaluationResult``;
``EvaluationResult.write(dir)`` writes ``dir/metrics.json`` and ``dir/evaluation/*``.
"""

from arbscore.evaluation.config import WINNER_METRICS, EvaluationConfig
from arbscore.evaluation.run import EvaluationResult, evaluate
from arbscore.evaluation.splits import Fold, walk_forward_folds

__all__ = [
    "WINNER_METRICS",
    "EvaluationConfig",
    "EvaluationResult",
    "Fold",
    "evaluate",
    "walk_forward_folds",
]
