"""Write a file so that it appears whole or not at all: to a temporary file beside it, then renamed.

Used by every command that writes a file, so that a failure never leaves a half-written one behind.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Callable


def write_atomically(path: Path, write: Callable[[Path], None]) -> None:
    """Call write(temporary path) and move the result into place only once it is complete."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(handle)
    try:
        write(Path(temporary))
        os.replace(temporary, path)  # atomic within a folder: a reader never sees half a file
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
