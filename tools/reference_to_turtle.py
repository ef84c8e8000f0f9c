"""Regenerate data/ref-*.ttl from ../shared/reference/*.csv (run by hand when the reference tables change).

The reference tables are checked facts; this turns each row into triples in kgapp's vocabulary, with
the file and its public origin as provenance. Explanations of indicator values are kgapp's own
paraphrase of the CMS documentation summarised in the reference README.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from pathlib import Path

HEADER = """@prefix kg:      <https://w3id.org/kgapp/ontology#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix id:      <https://w3id.org/kgapp/id/> .
@prefix src:     <https://w3id.org/kgapp/id/source/> .
@prefix cpt:     <https://w3id.org/kgapp/id/code/cpt/> .
"""

SOURCES = {
    "medicare-pfs-indicators": ("Medicare fee-schedule indicators for the five codes",
                                "CMS Medicare Physician Fee Schedule national RVU file (PPRRVU), January 2023 release; unchanged in the July 2024 release",
                                "2023-01"),
    "nerves": ("Anatomy and terminology alignments of the four cranial nerves",
               "UBERON anatomy ontology and SNOMED CT concept identifiers", None),
    "icd10cm": ("ICD-10-CM diagnoses that fit the five codes",
                "ICD-10-CM tabular list, FY2026 data as shipped in the PyPI package simple-icd-10-cm 1.5.0", "2025-10"),
    "place-of-service": ("CMS place-of-service codes used by the five codes",
                         "CMS Place of Service code set", None),
    "nucc-taxonomy": ("NUCC provider taxonomy codes for the specialties the reports name",
                      "NUCC Health Care Provider Taxonomy code set", None),
    "modifiers": ("CPT modifiers the reports name or that are needed around them",
                  "CPT modifier definitions (AMA), paraphrased", None),
}


def lit(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def provenance(slug: str, csv_path: Path) -> str:
    title, origin, issued = SOURCES[slug]
    digest = hashlib.sha256(csv_path.read_bytes()).hexdigest()
    issued_line = f'    dcterms:issued "{issued}"^^xsd:gYearMonth ;\n' if issued else ""
    return f"""
<https://w3id.org/kgapp/graph/ref-{slug}> a prov:Entity ;
    rdfs:label {lit(title)}@en ;
    dcterms:title {lit(title)}@en ;
    prov:wasDerivedFrom src:ref-{slug} ;
    dcterms:created "2026-11-23"^^xsd:date .

src:ref-{slug} a kg:ReferenceFile ;
    rdfs:label {lit("reference file " + csv_path.name)}@en ;
    dcterms:title {lit(title)}@en ;
    kg:fileName {lit("reference/" + csv_path.name)} ;
    kg:sha256 {lit(digest)} ;
{issued_line}    prov:wasDerivedFrom src:origin-{slug} .

src:origin-{slug} a prov:Entity ;
    rdfs:label {lit(origin)}@en ;
    dcterms:title {lit(origin)}@en .
"""


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


INDICATORS = {
    # property: {value: meaning}
    "medicareStatus": ("medicare-status", {"A": "Active code, paid separately under the fee schedule."}),
    "multipleProcedureIndicator": ("multiple-procedure", {
        "2": "Standard reduction when several procedures are done together: the highest-valued one is paid in full, the others at half."}),
    "bilateralSurgeryIndicator": ("bilateral-surgery", {
        "0": "No bilateral adjustment: modifier 50 does not fit, because the code can only be done on one side or is paid once either way.",
        "1": "Bilateral adjustment applies: reported with modifier 50 (or RT and LT), the code is paid at 150 %.",
        "2": "The code already covers both sides or either side, so no adjustment: paid at 100 % even when both sides are done.",
        "3": "Each side is paid at 100 % when done on both sides.",
        "9": "The bilateral concept does not apply to the code."}),
    "assistantSurgeryIndicator": ("assistant-surgery", {
        "0": "An assistant at surgery is paid only when medical necessity is documented.",
        "1": "An assistant at surgery is not paid.",
        "2": "An assistant at surgery may be paid."}),
    "coSurgeonIndicator": ("co-surgeon", {
        "0": "Co-surgeons are not permitted.",
        "1": "Co-surgeons may be paid with supporting documentation.",
        "2": "Co-surgeons are permitted."}),
    "teamSurgeryIndicator": ("team-surgery", {"0": "Team surgery is not permitted."}),
    "globalPeriodDays": ("global-period", {
        "0": "No post-operative days are bundled into the payment.",
        "10": "Ten days of routine post-operative care are bundled into the payment (a minor procedure).",
        "90": "Ninety days of routine post-operative care are bundled into the payment (a major procedure)."}),
}


def medicare(path: Path) -> str:
    out = [provenance("medicare-pfs-indicators", path)]
    for r in rows(path):
        out.append(f"""
cpt:{r['code']} a kg:ProcedureCode ;
    skos:notation "{r['code']}" ;
    skos:inScheme <https://w3id.org/kgapp/id/scheme/cpt> ;
    kg:medicareStatus {lit(r['status'])} ;
    kg:workRVU "{r['work_rvu']}"^^xsd:decimal ;
    kg:globalPeriodDays "{int(r['global_days'])}"^^xsd:integer ;
    kg:preOperativeShare "{r['preop_share']}"^^xsd:decimal ;
    kg:intraOperativeShare "{r['intraop_share']}"^^xsd:decimal ;
    kg:postOperativeShare "{r['postop_share']}"^^xsd:decimal ;
    kg:multipleProcedureIndicator {lit(r['mult_proc'])} ;
    kg:bilateralSurgeryIndicator {lit(r['bilat_surg'])} ;
    kg:assistantSurgeryIndicator {lit(r['asst_surg'])} ;
    kg:coSurgeonIndicator {lit(r['co_surg'])} ;
    kg:teamSurgeryIndicator {lit(r['team_surg'])} ;
    kg:facilityPricingOnly "{'true' if r['facility_only_pricing'] == 'yes' else 'false'}"^^xsd:boolean .
""")
    out.append("\n# What each indicator value means (CMS file documentation, paraphrased).\n")
    for prop, (slug, values) in INDICATORS.items():
        for value, meaning in values.items():
            out.append(f"""
<https://w3id.org/kgapp/id/medicare-indicator/{slug}/{value}> a kg:IndicatorValue ;
    skos:notation {lit(value)} ;
    skos:prefLabel {lit(f"{slug.replace('-', ' ')} indicator {value}")}@en ;
    skos:definition {lit(meaning)}@en ;
    kg:indicatorProperty kg:{prop} .
""")
    return "".join(out)


def nerves(path: Path) -> str:
    out = [provenance("nerves", path)]
    for r in rows(path):
        out.append(f"""
<https://w3id.org/kgapp/id/nerve/{r['slug']}> a kg:CranialNerve ;
    rdfs:label {lit(r['name'])}@en ;
    kg:cranialNerveNumber "{r['cranial_nerve_number']}"^^xsd:integer ;
    kg:cranialNerveNumeral {lit(r['cranial_nerve_roman'])} ;
    skos:exactMatch <{r['uberon']}> , <http://snomed.info/id/{r['snomed_ct']}> .
""")
    return "".join(out)


def icd10cm(path: Path) -> str:
    out = [provenance("icd10cm", path)]
    for r in rows(path):
        out.append(f"""
<https://w3id.org/kgapp/id/icd10cm/{r['code']}> a kg:DiagnosisCode ;
    skos:notation {lit(r['code'])} ;
    skos:prefLabel {lit(r['title'])}@en ;
    kg:billable "{'true' if r['billable'] == 'yes' else 'false'}"^^xsd:boolean .
""")
        for c in r["fits_codes"].split(";"):
            out.append(f"cpt:{c} kg:supportingDiagnosis <https://w3id.org/kgapp/id/icd10cm/{r['code']}> .\n")
    return "".join(out)


def code_set(slug: str, folder: str, cls: str, code: str, label: str, extra=lambda row: ""):
    """A converter for a table of codes with a label: one SKOS concept of ``cls`` per row."""
    def convert(path: Path) -> str:
        out = [provenance(slug, path)]
        for r in rows(path):
            out.append(f"""
<https://w3id.org/kgapp/id/{folder}/{r[code]}> a kg:{cls} ;
    skos:notation {lit(r[code])} ;
    skos:prefLabel {lit(r[label])}@en .
""")
            out.append(extra(r))
        return "".join(out)
    return convert


def _x_modifier_under_59(row: dict) -> str:
    """XE, XS, XP and XU are more specific forms of 59."""
    if row["modifier"] not in ("XE", "XS", "XP", "XU"):
        return ""
    return (f"<https://w3id.org/kgapp/id/modifier/{row['modifier']}> skos:broader "
            "<https://w3id.org/kgapp/id/modifier/59> .\n")


CONVERTERS = {
    "medicare-pfs-indicators": medicare, "nerves": nerves, "icd10cm": icd10cm,
    "place-of-service": code_set("place-of-service", "place-of-service", "PlaceOfService", "pos", "name"),
    "nucc-taxonomy": code_set("nucc-taxonomy", "specialty", "Specialty", "code", "specialty"),
    "modifiers": code_set("modifiers", "modifier", "Modifier", "modifier", "short_meaning", _x_modifier_under_59),
}


def main(reference: Path, data: Path) -> None:
    for slug, convert in CONVERTERS.items():
        text = HEADER + convert(reference / f"{slug}.csv")
        (data / f"ref-{slug}.ttl").write_text(text, encoding="utf-8")
        print(f"wrote data/ref-{slug}.ttl")


if __name__ == "__main__":
    root = Path(__file__).resolve().parent.parent
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else root.parent / "shared" / "reference", root / "data")
