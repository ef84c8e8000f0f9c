"""A served build's lease: a shared flock on a file in the build folder, held while a process serves it.

`prune` (kgapp.store.writer) skips a build whose lease file it cannot lock exclusively, so a running
server never loses its build however many newer builds come. The lock is the kernel's: it goes away
with the process, so a crashed server leaves nothing to clean up.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

LEASE_FILE = "serving.lock"


class Lease:
    """Holds ``folder``'s lease until ``release()`` (or the process ends)."""

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self._fd: int | None = os.open(self.folder / LEASE_FILE, os.O_RDWR | os.O_CREAT, 0o644)
        fcntl.flock(self._fd, fcntl.LOCK_SH)

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # closing the descriptor drops the lock


def is_leased(folder: Path) -> bool:
    """True when some process (this one included) holds ``folder``'s lease."""
    try:
        fd = os.open(Path(folder) / LEASE_FILE, os.O_RDWR)
    except OSError:
        return False  # no lease file: never served (or a build from before leases)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False
