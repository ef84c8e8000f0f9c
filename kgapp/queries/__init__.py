"""The competency questions: SPARQL files whose first comment line is the question in plain words."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FOLDER = Path(__file__).parent


@dataclass(frozen=True)
class NamedQuery:
    slug: str  # file stem, e.g. "cq08-nerve-reconstruction-codes"
    question: str  # the first "# " comment line
    text: str  # the whole file, comments included

    @property
    def number(self) -> int:
        return int(self.slug[2:4])


def load_queries() -> list[NamedQuery]:
    """All competency questions, in number order."""
    out = []
    for path in sorted(FOLDER.glob("cq*.rq")):
        text = path.read_text(encoding="utf-8")
        question = next((line[1:].strip() for line in text.splitlines() if line.startswith("#")), path.stem)
        out.append(NamedQuery(path.stem, question, text))
    return out


def get_query(slug_or_number: str | int) -> NamedQuery:
    for q in load_queries():
        if q.slug == slug_or_number or (isinstance(slug_or_number, int) and q.number == slug_or_number):
            return q
    raise KeyError(slug_or_number)
