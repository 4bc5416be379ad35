"""The first screen's figures: the shipped strategy's equity against its references, and the
capital it had in use over time. Identical curves (two rules that took the same positions) are
drawn once under a joint name, so no line hides another."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from arbscore.report.plots import BASELINE_STYLE, _png, curve

#: the shipped strategy's colour; the references keep their baseline styles
SHIPPED_COLOUR = "C0"
REFERENCE_COLOURS = {"always_on": "C1", "cash": "grey"}
#: the zoom panel's margin around the curves it fits, as a share of their range
ZOOM_MARGIN = 0.15


def _style(members: list[str], shipped: str) -> dict:
    if shipped in members:
        return {"color": SHIPPED_COLOUR, "linestyle": "-", "lw": 2.2}
    head = members[0]
    return {
        "color": REFERENCE_COLOURS.get(head, "C3"),
        "linestyle": BASELINE_STYLE.get(head, "-"),
        "lw": 1.5,
    }


def shipped_equity(equity: pd.DataFrame, groups: list[list[str]], shipped: str) -> bytes:
    """Two panels of cumulative return (% of capital): every curve on one scale, and a zoom
    fitted to the shipped strategy and the curves near it, so a small curve stays readable."""
    fig = Figure(figsize=(12, 3.6))
    full = fig.add_subplot(1, 2, 1)
    zoom = fig.add_subplot(1, 2, 2, sharex=full)
    lows, highs = [], []
    for members in groups:
        c = curve(equity, members[0])
        y = (c["equity"].to_numpy(float) - 1.0) * 100.0
        label = " = ".join(members)
        for ax in (full, zoom):
            ax.plot(c["time"], y, label=label, **_style(members, shipped))
        if shipped in members:
            lows.append(y.min())
            highs.append(y.max())
    if lows:
        lo, hi = min(lows + [0.0]), max(highs + [0.0])
        pad = max(hi - lo, 1e-3) * ZOOM_MARGIN
        zoom.set_ylim(lo - pad, hi + pad)
    for ax in (full, zoom):
        ax.ticklabel_format(axis="y", useOffset=False, style="plain")
        ax.grid(alpha=0.3)
        ax.set_ylabel("return, % of capital")
        ax.tick_params(axis="x", labelrotation=25, labelsize=8)
    full.set_title("Cumulative return, every curve on one scale", fontsize=10)
    zoom.set_title(f"Zoomed to {shipped} (other curves may leave the frame)", fontsize=10)
    full.legend(loc="upper left", fontsize=8)
    return _png(fig)


def exposure(times: pd.Series, in_use_pct: dict[str, np.ndarray], shipped: str) -> bytes:
    """Capital in use (margin open at each day's start, % of capital) per strategy."""
    fig = Figure(figsize=(12, 2.6))
    ax = fig.add_subplot(1, 1, 1)
    for name, values in in_use_pct.items():
        style = _style([name], shipped)
        ax.step(times[: len(values)], values, where="post", label=name, **style)
    ax.set_ylabel("capital in use, %")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left", fontsize=8)
    ax.set_title("Exposure: margin open at each day's start, % of the book's capital", fontsize=10)
    return _png(fig)
