"""Fault injection for a real ``arbscore serve`` process (on its PYTHONPATH only in the tests
that ask for it): with ``ARBSCORE_TEST_FAULT=deep_value_error`` a record with
``fund_apr == 12345`` makes the scorer raise the ValueError numpy raises on mismatched shapes,
as a defect deep inside would."""

import os

if os.environ.get("ARBSCORE_TEST_FAULT") == "deep_value_error":
    from arbscore.serve import scorer as _scorer

    _answer = _scorer.Scorer.answer

    def _faulty(self, parsed):
        if parsed and parsed[0].record.get("fund_apr") == 12345.0:
            raise ValueError("operands could not be broadcast together with shapes (2,) (3,)")
        return _answer(self, parsed)

    _scorer.Scorer.answer = _faulty
