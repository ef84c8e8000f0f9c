"""How a page groups statements: headed sections in reading order, keyed by predicate."""

from __future__ import annotations

from kgapp.namespaces import DCTERMS, KG, OWL, PROV, RDF, RDFS, SKOS

# Section title → predicates, in the order a coder reads a code page. Unlisted predicates go to "Other".
_LAYOUT: dict[str, tuple] = {
    "About": (RDF.type, SKOS.notation, SKOS.prefLabel, SKOS.altLabel, RDFS.label, DCTERMS.title,
              SKOS.definition, RDFS.comment, SKOS.scopeNote, SKOS.inScheme, SKOS.topConceptOf),
    "Procedure types": (KG.hasProcedureType, KG.serviceCategory),
    "Nerves": (KG.targetNerve, KG.donorNerve, KG.involvesNerve, KG.cranialNerveNumber, KG.cranialNerveNumeral),
    "Modifiers": (KG.hasModifierGuidance, KG.modifier, KG.usageNote, KG.usageFrequency),
    "Payers": (KG.hasPayerPolicy, KG.payer, KG.policyNote, KG.payerKind),
    "Setting and care team": (KG.placeOfService, KG.siteOfServiceNote, KG.anesthesia, KG.involvesSpecialty),
    "Medicare fee schedule": (KG.medicareStatus, KG.workRVU, KG.globalPeriodDays, KG.preOperativeShare,
                              KG.intraOperativeShare, KG.postOperativeShare, KG.multipleProcedureIndicator,
                              KG.bilateralSurgeryIndicator, KG.assistantSurgeryIndicator, KG.coSurgeonIndicator,
                              KG.teamSurgeryIndicator, KG.facilityPricingOnly, KG.indicatorProperty),
    "Indications and diagnoses": (KG.hasIndication, KG.supportingDiagnosis, KG.diagnosisCode, KG.billable),
    "Procedure details": (KG.usesTechnique, KG.usesAgent, KG.priorTreatment, KG.alternativeTreatment,
                          KG.laterality, KG.typicalPatientAge),
    "Complications and outcomes": (KG.hasPotentialComplication, KG.hasOutcomeMeasure, KG.expectedOutcome),
    "Information gaps": (KG.hasInformationGap, KG.gapSubject, KG.missingTopic, KG.gapNote),
    "Hierarchy and alignments": (SKOS.broader, SKOS.narrower, SKOS.broaderTransitive, SKOS.exactMatch,
                                 SKOS.closeMatch, SKOS.related, RDFS.subClassOf, RDFS.subPropertyOf,
                                 OWL.inverseOf, OWL.equivalentClass, RDFS.domain, RDFS.range),
    "Provenance": (PROV.wasDerivedFrom, KG.describesCode, KG.fileName, KG.sha256, DCTERMS.created,
                   DCTERMS.issued, DCTERMS.license),
    "Other": (),
}
SECTIONS: tuple[str, ...] = tuple(_LAYOUT)
_BY_PREDICATE = {str(p): title for title, preds in _LAYOUT.items() for p in preds}
# Predicates whose rank within the layout orders rows (so target nerve comes before donor nerve).
RANK = {str(p): i for i, p in enumerate(p for preds in _LAYOUT.values() for p in preds)}

# Nodes that qualify a link (guidance, policy, gap, indication): their own statements are shown inline.
QUALIFIED_TYPES = tuple(str(t) for t in (KG.ModifierGuidance, KG.PayerPolicy, KG.InformationGap, KG.Indication))



def section_of(predicate: str) -> str:
    return _BY_PREDICATE.get(predicate, "Other")
