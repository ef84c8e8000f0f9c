"""Where things are, for tests in any folder: the repository, its data and README, and ../shared."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"
README = REPO / "README.md"
SHARED = REPO.parent / "shared"
ARTIFACTS = REPO / "test-output"
