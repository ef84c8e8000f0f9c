"""Pictures drawn on the server: a code's nerves (donor → target), its procedure-type path, a nerve's codes (SVG-ready boxes)."""

from __future__ import annotations

from dataclasses import dataclass, field

from kgapp.namespaces import INFERRED_GRAPH, KG, sparql_prologue
from kgapp.read.describe import Description
from kgapp.read.labels import labels
from kgapp.read.vocab import broader, code_notations, numerals

P = sparql_prologue()
WIDTH = 320  # viewBox units: drawn at up to 1.3× on a desktop, about 1.1× on a 390 px phone
LINE = 17  # one line of 13-unit text
CHARS = 36  # characters per line in a full-width box
GAP = 34  # vertical room for an arrow and its label


@dataclass
class Box:
    x: int
    y: int
    w: int
    h: int
    lines: list[str]
    kind: str  # "code" | "nerve" | "target" | "donor" | "type"


@dataclass
class Edge:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str = ""
    arrow: bool = True


@dataclass
class Diagram:
    """What the template draws: boxes and arrows in a WIDTH-wide viewBox, plus title, description and text equivalent."""

    key: str  # unique on the page (marker and title ids)
    title: str
    desc: str
    boxes: list[Box] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)
    text: list[tuple[str, str | None, str]] = field(default_factory=list)  # (label, IRI to link, relation)
    width: int = WIDTH
    height: int = 0


def wrap(text: str, chars: int = CHARS) -> list[str]:
    """Break ``text`` into lines of at most ``chars`` characters at spaces (a long word gets its own line)."""
    lines: list[str] = []
    for word in text.split():
        if lines and len(lines[-1]) + 1 + len(word) <= chars:
            lines[-1] += " " + word
        else:
            lines.append(word)
    return lines or [""]


def _stack(d: Diagram, items: list[tuple[list[str], str, str]], x: int = 0) -> Diagram:
    """Boxes one under the other, each joined to the next by a downward arrow labelled with its relation."""
    y = 4
    for n, (lines, kind, relation) in enumerate(items):
        h = 10 + LINE * len(lines)
        if n:
            d.edges.append(Edge(WIDTH // 2, y - GAP, WIDTH // 2, y - 2, relation))
        d.boxes.append(Box(x + 2, y, WIDTH - 4 - x, h, lines, kind))
        y += h + GAP
    d.height = y - GAP + 4
    return d


def _nerves(store, code: str, d: Description | None = None) -> list[tuple[str, str, str]]:
    """(role, nerve IRI, numeral) of the nerves a code asserts, target first; from ``d`` when given."""
    if d is not None:
        nums, roles = numerals(store), {str(KG.targetNerve): "target", str(KG.donorNerve): "donor"}
        found = {(roles[s.predicate.value], s.other.value) for _, group in d.sections for s in group
                 if s.predicate.value in roles and s.other.kind == "iri"}
        return [(role, n, nums.get(n, "")) for role, n in sorted(found, key=lambda x: (x[0] == "donor", x[1]))]
    rows = store.query(P + f"""SELECT ?role ?n ?num WHERE {{
        {{ <{code}> kg:targetNerve ?n BIND("target" AS ?role) }} UNION {{ <{code}> kg:donorNerve ?n BIND("donor" AS ?role) }}
        OPTIONAL {{ ?n kg:cranialNerveNumeral ?num }} }} ORDER BY DESC(?role) ?n""")
    return [(r["role"].value, r["n"].value, r["num"].value if r["num"] is not None else "") for r in rows]


def nerve_diagram(store, code: str, title: str, d: Description | None = None) -> Diagram | None:
    """For a transfer, donor nerve → target nerve; otherwise the code → the nerve it acts on."""
    nerves = _nerves(store, code, d)
    if not nerves:
        return None
    names = labels(store, [n for _, n, _ in nerves])

    def box(role, n, num):
        return wrap(names[n]) + [f"cranial nerve {num} · {role}" if num else role]

    targets = [(r, n, num) for r, n, num in nerves if r == "target"]
    donors = [(r, n, num) for r, n, num in nerves if r == "donor"]
    if donors:
        d = Diagram("nerves", f"Nerves of {title}", "", text=[])
        items = [(box(*x), "donor", "") for x in donors] + [(box(*x), "target", f"joined to, by {title}") for x in targets]
        d.desc = "; ".join(f"{names[n]} (cranial nerve {num}) is joined to " for _, n, num in donors) + \
            ", ".join(f"{names[n]} (cranial nerve {num})" for _, n, num in targets) + f" in {title}."
    else:
        d = Diagram("nerves", f"Nerves of {title}", "")
        items = [(wrap(title), "code", "")] + [(box(*x), "target", "acts on") for x in targets]
        d.desc = f"{title} acts on " + ", ".join(f"{names[n]} (cranial nerve {num})" for _, n, num in targets) + "."
    d.text = [(names[n], n, f"{role} nerve" + (f", cranial nerve {num}" if num else "")) for role, n, num in nerves]
    return _stack(d, items)


def type_path(store, code: str, d: Description | None = None) -> list[str]:
    """The code's asserted procedure type, then each broader type up to the top of the hierarchy."""
    if d is not None:
        has_type, inferred = str(KG.hasProcedureType), {str(INFERRED_GRAPH)}
        asserted = [s.other.value for _, group in d.sections for s in group if s.predicate.value == has_type
                    and s.other.kind == "iri" and set(s.graphs) - inferred]
        path = [min(asserted)] if asserted else []
    else:
        rows = list(store.query(P + f"""SELECT ?t WHERE {{ GRAPH ?g {{ <{code}> kg:hasProcedureType ?t }}
            FILTER(?g != <{INFERRED_GRAPH}>) }} ORDER BY ?t LIMIT 1"""))
        path = [rows[0]["t"].value] if rows else []
    while path and len(path) < 12:
        up = broader(store, path[-1])
        if up is None or up in path:
            break
        path.append(up)
    return path


def type_diagram(store, code: str, title: str, d: Description | None = None) -> Diagram | None:
    """The procedure-type path: the code, its type, and each broader type, joined by "is a"."""
    path = type_path(store, code, d)
    if not path:
        return None
    names = labels(store, path)
    d = Diagram("types", f"Procedure type of {title}", f"{title} is a " + ", which is a ".join(names[t] for t in path) + ".")
    items = [(wrap(title), "code", "")] + [(wrap(names[t]), "type", "is a") for t in path]
    d.text = [(names[t], t, "is a" if n == 0 else "which is a") for n, t in enumerate(path)]
    return _stack(d, items)


MAX_CODES = 40  # boxes a nerve's diagram draws


def codes_of_nerve(store, nerve: str) -> Diagram | None:
    """For a nerve page: the nerve on top, then each code that targets it or takes it as donor."""
    # The codes' notations come from a table read once per store: joining "?c a kg:ProcedureCode ;
    # skos:notation ?n" here cost 240 ms for the 3,419 codes of a nerve at 1M triples; reading the
    # subjects alone costs ~6 ms. Sorted here, not by ORDER BY (Oxigraph's sort of thousands of rows
    # takes seconds); at most MAX_CODES boxes, so a nerve with thousands of codes is still a small picture.
    notations = code_notations(store)
    found = [(role, n, c) for predicate, role in ((KG.targetNerve, "targets this nerve"),
                                                  (KG.donorNerve, "takes it as donor"))
             for c in dict.fromkeys(r["c"].value for r in store.query(
                 f"SELECT DISTINCT ?c WHERE {{ ?c <{predicate}> <{nerve}> }}"))
             for n in notations.get(c, ())]
    if not found:
        return None
    found.sort(key=lambda r: (r[0], r[1]))
    more = len(found) - MAX_CODES
    rows = found[:MAX_CODES]
    names = labels(store, [nerve] + [c for _, _, c in rows])
    num = numerals(store).get(nerve, "")
    head = wrap(names[nerve]) + ([f"cranial nerve {num}"] if num else [])
    d = Diagram("codes", f"Codes for the {names[nerve]}", "")
    trunk, y = 16, 4
    top = 10 + LINE * len(head)
    d.boxes.append(Box(2, y, WIDTH - 4, top, head, "nerve"))
    y += top + 14
    for role, _, c in rows:
        kind = "code" if role.startswith("targets") else "donor"
        lines = wrap(names[c], CHARS - 5) + [role]
        h = 10 + LINE * len(lines)
        d.boxes.append(Box(trunk + 18, y, WIDTH - trunk - 20, h, lines, kind))
        d.edges.append(Edge(trunk, y + h // 2, trunk + 16, y + h // 2))
        y += h + 10
    if more > 0:
        d.boxes.append(Box(trunk + 18, y, WIDTH - trunk - 20, 10 + LINE, [f"… and {more} more codes"], "code"))
        y += 10 + LINE + 10
    d.edges.insert(0, Edge(trunk, 4 + top, trunk, d.edges[-1].y1, "", arrow=False))
    d.height = y
    d.desc = "; ".join(f"{names[c]} {role}" for role, _, c in rows) + (
        f"; and {more} more codes." if more > 0 else ".")
    d.text = [(names[c], c, role) for role, _, c in rows]
    return d


__all__ = ["Box", "Diagram", "Edge", "codes_of_nerve", "nerve_diagram", "type_diagram", "type_path", "wrap"]
