"""What went wrong reading a user's CSV or Parquet file, in words that name the file.

pandas and pyarrow report an empty file as "No columns to parse from file" and a binary one as
"'utf-8' codec can't decode byte ...", without the file. :func:`read_error` turns those (and
the other parse failures of a table file) into one ``UserInputError`` that names the file and
says what was expected; the training-data loader and the bulk-file importer both use it.
"""

from __future__ import annotations

import zlib
from pathlib import Path

import pandas as pd

from arbscore.errors import UserInputError

#: what a reader may raise on a file that is not the table it claims to be
READ_ERRORS: tuple[type[BaseException], ...] = (
    pd.errors.EmptyDataError,
    pd.errors.ParserError,
    UnicodeDecodeError,
    EOFError,
    OSError,
    ValueError,
    zlib.error,
)
try:  # pyarrow's own base class (ArrowInvalid subclasses ValueError; others do not)
    import pyarrow as _pa

    READ_ERRORS += (_pa.ArrowException,)
except ImportError:  # pragma: no cover - pyarrow is a dependency
    pass


def read_error(flag: str, path: Path, exc: BaseException) -> UserInputError:
    """A ``UserInputError`` naming ``flag`` (e.g. ``--data``) and ``path`` for ``exc``."""
    path = Path(path)
    if isinstance(exc, pd.errors.EmptyDataError):
        size = path.stat().st_size if path.is_file() else 0
        what = "empty (0 bytes)" if size == 0 else f"blank ({size} bytes, no header line)"
        return UserInputError(f"{flag}: {path} is {what}; expected a header line and data rows")
    if isinstance(exc, UnicodeDecodeError):
        return UserInputError(
            f"{flag}: {path} is not UTF-8 text (it holds byte 0x{exc.object[exc.start]:02x}): "
            "a binary file? Give a UTF-8 CSV or a .parquet file"
        )
    if isinstance(exc, IsADirectoryError):
        return UserInputError(f"{flag}: {path} is a directory; give a CSV or Parquet file")
    kind = "Parquet" if path.name.lower().endswith((".parquet", ".pq")) else "CSV"
    detail = " ".join(str(exc).split())[:200] or type(exc).__name__
    return UserInputError(f"{flag}: {path} is not a readable {kind} file ({detail})")
