"""Check data against the SHACL shapes with pyshacl and report each result with the file it came from."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from pyshacl import validate as pyshacl_validate
from rdflib import Graph, Literal
from rdflib.namespace import RDF, SH

SEVERITY_ORDER = {SH.Violation: 0, SH.Warning: 1, SH.Info: 2}


class ShapesError(Exception):
    """The shapes themselves are unusable (pyshacl could not run them)."""


@dataclass(frozen=True)
class Result:
    """One SHACL validation result, flattened for people and programs."""

    severity: str  # "Violation", "Warning" or "Info"
    focus: str
    path: str | None
    value: str | None
    message: str
    shape: str | None
    constraint: str | None
    sources: tuple[str, ...] = ()  # files (or graph IRIs) that state something about the focus node
    node: object = field(default=None, compare=False, repr=False)  # the result node in the report graph

    def as_text(self) -> str:
        where = ", ".join(self.sources) or "?"
        bits = [f"{self.severity}: {self.message}", f"  node: <{self.focus}>", f"  in: {where}"]
        if self.path:
            bits.append(f"  path: <{self.path}>")
        if self.value is not None:
            bits.append(f"  value: {self.value}")
        return "\n".join(bits)


@dataclass
class Report:
    """What validation found: conforms means no Violation (warnings are reported, not fatal)."""

    results: list[Result]
    graph: Graph = field(repr=False)

    @property
    def conforms(self) -> bool:
        return not self.violations

    @property
    def violations(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Violation"]

    @property
    def warnings(self) -> list[Result]:
        return [r for r in self.results if r.severity == "Warning"]

    def only_from(self, files: set[str]) -> Report:
        """The results about nodes that ``files`` state something about, with their part of the graph."""
        kept = [r for r in self.results if set(r.sources) & files]
        graph = Graph()
        for prefix, ns in self.graph.namespaces():
            graph.bind(prefix, ns)
        report_node = self.graph.value(None, RDF.type, SH.ValidationReport)
        if report_node is not None:
            graph.add((report_node, RDF.type, SH.ValidationReport))
            graph.add((report_node, SH.conforms, Literal(not any(r.severity == "Violation" for r in kept))))
        for r in kept:
            graph.add((report_node, SH.result, r.node))
            for triple in self.graph.cbd(r.node):
                graph.add(triple)
        return Report(kept, graph)

    def as_text(self) -> str:
        if not self.results:
            return "Conforms: no violations, no warnings."
        head = f"{len(self.violations)} violation(s), {len(self.warnings)} warning(s)"
        return head + "\n\n" + "\n\n".join(r.as_text() for r in self.results)


def _term(t) -> str | None:
    if t is None:
        return None
    if isinstance(t, Literal):
        return t.n3()
    return str(t)


def sources_by_focus(report: Report) -> dict[str, list[str]]:
    """The files each result's focus node is described in (what ``attributed`` gives back)."""
    return {r.focus: list(r.sources) for r in report.results if r.sources}


def attributed(sources: dict[str, list[str]]) -> Callable[[object], tuple[str, ...]]:
    """A ``sources_of`` for read_report from a mapping sources_by_focus made."""
    return lambda node: tuple(sources.get(_term(node) or "", ()))


def read_report(results_graph: Graph, sources_of: Callable[[object], tuple[str, ...]] | None = None) -> Report:
    """Flatten a SHACL results graph; ``sources_of`` names the files that describe a focus node."""
    results = []
    for r in results_graph.subjects(RDF.type, SH.ValidationResult):
        sev = results_graph.value(r, SH.resultSeverity)
        focus = results_graph.value(r, SH.focusNode)
        message = results_graph.value(r, SH.resultMessage)
        constraint = results_graph.value(r, SH.sourceConstraintComponent)
        results.append(Result(
            severity=str(sev).rsplit("#", 1)[-1] if sev else "Violation",
            focus=_term(focus) or "",
            path=_term(results_graph.value(r, SH.resultPath)),
            value=_term(results_graph.value(r, SH.value)),
            message=str(message) if message else (str(constraint).rsplit("#", 1)[-1] if constraint else "constraint failed"),
            shape=_term(results_graph.value(r, SH.sourceShape)),
            constraint=_term(constraint),
            sources=sources_of(focus) if sources_of and focus is not None else (),
            node=r,
        ))
    results.sort(key=lambda x: (SEVERITY_ORDER.get(SH[x.severity], 9), x.focus, x.message))
    return Report(results, results_graph)


_TARGETS = (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf, SH.target)


def hoist_property_shapes(shapes: Graph) -> Graph:
    """A copy of ``shapes`` where each node shape's property shapes carry the node shape's targets.

    Validating a focus node against a node shape includes validating it against each of its
    sh:property shapes, so giving those shapes the same targets is the same check (same focus nodes,
    same source shape in the results). pyshacl evaluates a nested property shape one focus node at
    a time, rebuilding its constraints on every call; a targeted one is evaluated once for all focus
    nodes — ten times faster on large graphs. Node shapes keep their own node-level constraints.
    """
    out = Graph()
    for triple in shapes:
        out.add(triple)
    for node_shape, prop in list(shapes.subject_objects(SH.property)):
        targets = [(p, o) for p in _TARGETS for o in shapes.objects(node_shape, p)]
        if not targets or (node_shape, SH.deactivated, Literal(True)) in shapes:
            continue
        out.remove((node_shape, SH.property, prop))
        for p, o in targets:
            out.add((prop, p, o))
    return out


def validate_graph(data: Graph, shapes: Graph, *,
                   sources_of: Callable[[object], tuple[str, ...]] | None = None) -> Report:
    """Validate ``data`` (which must include the ontology) against ``shapes``.

    The ontology is validated with the data rather than passed as pyshacl's ont_graph: that option
    only copies class and property axioms, and the ontology also holds SKOS concepts data points to.
    pyshacl runs in place (no copy of a large graph); with no inference it does not change ``data``.
    """
    _, results_graph, text = pyshacl_validate(
        data_graph=data, shacl_graph=hoist_property_shapes(shapes), inference="none", inplace=True,
        allow_warnings=True, advanced=True, meta_shacl=False, abort_on_first=False,
    )
    if not isinstance(results_graph, Graph):  # pyshacl reports a broken shape this way, not by raising
        raise ShapesError(str(text).strip())
    return read_report(results_graph, sources_of)
