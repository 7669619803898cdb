"""Small helpers: atomic file writes."""

from __future__ import annotations

import os
import tempfile


def atomic_write(path: str, data) -> None:
    """Writes data (bytes or str) to path through a temporary file in the same folder and a
    rename, so a reader never sees half a file."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp",
                               dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
