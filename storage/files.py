"""Files made durable: what a crash must not lose is on the disk, not only in the page cache."""

from __future__ import annotations

import os
from pathlib import Path


def flush_to_disk(path: Path) -> None:
    """Flush `path` to the disk: a file's contents, or a folder's entries (a file just made or
    renamed in it)."""
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
