"""The IRIs tests use again and again, in one place (instances, graphs, vocabulary)."""

from __future__ import annotations

ID = "https://w3id.org/kgapp/id/"
KG = "https://w3id.org/kgapp/ontology#"
GRAPH = "https://w3id.org/kgapp/graph/"
CPT = ID + "code/cpt/"
NERVE = ID + "nerve/"
MODIFIER = ID + "modifier/"
PAYER = ID + "payer/"
ICD = ID + "icd10cm/"
VALIDATION = GRAPH + "validation"
INFERRED = GRAPH + "inferred"
