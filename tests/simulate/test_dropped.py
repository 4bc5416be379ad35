"""The entries a labelled set lacks are counted by cause: the data's end, or a leg whose own
series stops earlier (the reason must not blame the data's end for a January entry)."""

from __future__ import annotations

import pandas as pd

from arbscore.data_tools.labelled import dropped_entries
from arbscore.data_tools.simulate_output import opportunity_ids


def test_drops_are_split_between_the_data_end_and_a_series_that_stops():
    times = pd.to_datetime(
        ["2025-01-05", "2025-01-06", "2025-03-01", "2025-03-30", "2025-03-31"], utc=True
    )
    opps = pd.DataFrame(
        {"opportunity_id": [f"spot_perp:X:{t:%Y%m%d}" for t in times], "timestamp": times}
    )
    ids = opportunity_ids(opps)
    # labelled: the 2025-01-06 and 2025-03-01 entries; 2025-01-05 lost to a series gap,
    # the last two lost to the data's end (2025-04-10, a 720 h hold)
    frame = pd.DataFrame({"opportunity_id": ids[[1, 2]]})
    end = pd.Timestamp("2025-04-10", tz="UTC")
    got = dropped_entries(opps, frame, 720.0, data_end=end)
    assert (got.entries, got.detected) == (3, 5)
    assert (got.past_data_end, got.series_ended) == (2, 1)
    assert got.after == "2025-01-05T00:00:00+00:00"
    assert "2 because their longest hold (720 h) runs past the end of the data" in got.reason
    assert "1 because a leg's own price or funding series ends" in got.reason
    none = dropped_entries(opps, pd.DataFrame({"opportunity_id": ids}), 720.0, data_end=end)
    assert (none.entries, none.reason) == (0, "none dropped")
