"""Search over labels, notations and notes: exact code notations first, then ranked word matches."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kgapp.namespaces import KG, sparql_prologue
from kgapp.read.labels import display, labels
from kgapp.store.search_index import TEXTS, WEIGHTS, candidates

MAX_QUERY = 200
# A code also matches through what it points at: "spasm" finds 64612 by its indication.
RELATED = {str(KG.hasIndication): "indication", str(KG.hasPotentialComplication): "complication",
           str(KG.targetNerve): "target nerve", str(KG.donorNerve): "donor nerve",
           str(KG.hasProcedureType): "procedure type", str(KG.supportingDiagnosis): "diagnosis",
           str(KG.usesTechnique): "technique", str(KG.usesAgent): "agent",
           str(KG.alternativeTreatment): "alternative", str(KG.priorTreatment): "prior treatment"}
RELATED_CREDIT = 0.6
_RELATED = sparql_prologue() + """
SELECT DISTINCT ?code ?p ?o WHERE {
  VALUES ?o { %s } VALUES ?p { """ + " ".join(f"<{p}>" for p in RELATED) + """ }
  ?code ?p ?o ; a kg:ProcedureCode .
}"""
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass
class Hit:
    iri: str
    label: str
    score: float
    snippet: str
    types: list[str]


def words(text: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(text)]


def notation_match(store, q: str) -> str | None:
    """The one node whose notation is exactly ``q`` (a code first), for a straight jump to its page."""
    q = q.strip()
    if not q or len(q) > 20 or any(c in q for c in '"\\\n\r'):
        return None
    rows = store.query(sparql_prologue() + f"""SELECT DISTINCT ?s ?code WHERE {{ ?s skos:notation ?n
        FILTER(isIRI(?s) && LCASE(STR(?n)) = LCASE("{q}"))
        BIND(EXISTS {{ ?s a kg:ProcedureCode }} AS ?code) }}""")
    found = [(r["s"].value, r["code"].value == "true") for r in rows]
    codes = [s for s, code in found if code]
    if len(codes) == 1:
        return codes[0]
    return found[0][0] if len(found) == 1 else None


def _score(tokens: list[str], field_words: list[str], weight: float) -> dict[str, float]:
    """Per token, the best credit this field gives: whole word full weight, word prefix a little less."""
    out: dict[str, float] = {}
    for t in tokens:
        if t in field_words:
            out[t] = weight
        elif any(w.startswith(t) for w in field_words):
            out[t] = weight * 0.7
        elif len(t) >= 4 and any(t in w for w in field_words):
            out[t] = weight * 0.4
    return out


def search(store, q: str, limit: int = 50) -> list[Hit]:
    """Nodes whose labels or notes contain every word of ``q``, best first."""
    tokens = list(dict.fromkeys(words(q[:MAX_QUERY])))[:12]
    if not tokens:
        return []
    best: dict[str, dict[str, float]] = {}
    snippets: dict[str, tuple[float, str]] = {}
    types: dict[str, set[str]] = {}
    phrase = " ".join(tokens)
    for s, p, text in _text_rows(store, tokens, types):
        weight = WEIGHTS.get(p, 1)
        credit = _score(tokens, words(text), weight)
        if not credit:
            continue
        per_token = best.setdefault(s, {})
        for t, c in credit.items():
            per_token[t] = max(per_token.get(t, 0), c)
        bonus = weight * 2 if " ".join(words(text)) == phrase else 0  # the whole name, exactly
        per_token["\0exact"] = max(per_token.get("\0exact", 0), bonus)
        if sum(credit.values()) > snippets.get(s, (0, ""))[0]:
            snippets[s] = (sum(credit.values()), text)
    _credit_codes_through_neighbours(store, best, snippets, types, tokens)
    ranked = [(sum(v.values()), s) for s, v in best.items() if all(t in v for t in tokens)]
    ranked.sort(key=lambda x: (-x[0], x[1]))
    ranked = ranked[:limit]
    names = labels(store, [s for _, s in ranked])
    type_names = labels(store, {t for _, s in ranked for t in types.get(s, ())})
    return [Hit(s, names[s], round(score, 2), _snippet(snippets[s][1], tokens),
                sorted(type_names[t] for t in types.get(s, ()))) for score, s in ranked]


def _text_rows(store, tokens: list[str], types: dict[str, set[str]]):
    """Candidate (subject, predicate, text) rows containing a token: from the build's index if any."""
    index = store.search_index
    if index is not None:
        rows = list(dict.fromkeys(candidates(index, tokens)))
        subjects = list(dict.fromkeys(s for s, _, _ in rows))
        for start in range(0, len(subjects), 500):
            values = " ".join(f"<{s}>" for s in subjects[start:start + 500])
            for r in store.query(f"SELECT ?s ?type WHERE {{ VALUES ?s {{ {values} }} ?s a ?type "
                                 f"FILTER(STRSTARTS(STR(?type), \"{KG}\")) }}"):
                types.setdefault(r["s"].value, set()).add(r["type"].value)
        yield from rows
        return
    # tokens are \w+ only, so they can stand inside a SPARQL string as they are
    contains = " || ".join(f'CONTAINS(LCASE(STR(?text)), "{t}")' for t in tokens)
    for r in store.query(TEXTS % contains):
        if r["type"] is not None:
            types.setdefault(r["s"].value, set()).add(r["type"].value)
        yield r["s"].value, r["p"].value, r["text"].value


def _credit_codes_through_neighbours(store, best, snippets, types, tokens) -> None:
    """Give each code part of the credit of the matching nodes it points at (once per node)."""
    full = [s for s, v in best.items() if all(t in v for t in tokens)][:200]
    if not full:
        return
    names = labels(store, full)
    for r in store.query(_RELATED % " ".join(f"<{s}>" for s in full)):
        code, via = r["code"].value, r["o"].value
        per_token = best.setdefault(code, {})
        for t, c in best[via].items():
            if t != "\0exact":
                per_token[t] = max(per_token.get(t, 0), c * RELATED_CREDIT)
        types.setdefault(code, set()).add(str(KG.ProcedureCode))
        note = f"{RELATED[r['p'].value]}: {names.get(via, via)}"
        if code not in snippets or snippets[code][0] < 1:
            snippets[code] = (0.5, note)


def _snippet(text: str, tokens: list[str], width: int = 160) -> str:
    """The part of ``text`` around the first matched word, so a note hit shows why it matched."""
    low = text.lower()
    at = min((low.find(t) for t in tokens if low.find(t) >= 0), default=0)
    start = max(0, at - width // 3)
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


__all__ = ["Hit", "search", "notation_match", "display"]
