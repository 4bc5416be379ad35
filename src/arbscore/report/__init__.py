"""The benchmark report (HTML + Markdown) of a run directory.

``build_report`` is imported lazily, so that the formatters in ``arbscore.report.document``
(which the CLI's tables use) do not pull in the harness and plotting.
"""


def __getattr__(name: str):
    if name == "build_report":
        from arbscore.report.build import build_report

        return build_report
    raise AttributeError(f"module 'arbscore.report' has no attribute {name!r}")


__all__ = ["build_report"]
