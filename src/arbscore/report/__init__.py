"""The benchmark report: one self-contained HTML page and a Markdown twin, from a run folder."""

from arbscore.report.build import build_report

__all__ = ["build_report"]
