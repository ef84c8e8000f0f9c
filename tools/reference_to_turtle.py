"""Regenerate data/ref-*.ttl from ../shared/reference/*.csv (run by hand when the reference tables change).

The reference tables are checked facts; this turns each row into triples in kgapp's vocabulary, with
the file and its public origin as provenance. Explanations of indicator values are kgapp's own
paraphrase of the CMS documentation summarised in the reference README.
"""

from __future__ import annotations

import csv
import hashlib
import sys
from importlib.metadata import version
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from icd10cm_to_turtle import icd10cm_turtle

HEADER = """@prefix kg:      <https://w3id.org/kgapp/ontology#> .
@prefix rdfs:    <http://www.w3.org/2000/01/rdf-schema#> .
@prefix xsd:     <http://www.w3.org/2001/XMLSchema#> .
@prefix skos:    <http://www.w3.org/2004/02/skos/core#> .
@prefix prov:    <http://www.w3.org/ns/prov#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
@prefix id:      <https://w3id.org/kgapp/id/> .
@prefix src:     <https://w3id.org/kgapp/id/source/> .
@prefix cpt:     <https://w3id.org/kgapp/id/code/cpt/> .
@prefix hcpcs:   <https://w3id.org/kgapp/id/code/hcpcs/> .
"""

SOURCES = {
    "medicare-pfs-indicators": ("Medicare fee-schedule indicators for the five codes",
                                "CMS Medicare Physician Fee Schedule national RVU file (PPRRVU), January 2023 release; unchanged in the July 2024 release",
                                "2023-01"),
    "nerves": ("Anatomy and terminology alignments of the four cranial nerves",
               "UBERON anatomy ontology and SNOMED CT concept identifiers", None),
    "icd10cm": ("ICD-10-CM diagnoses that fit the five codes, with their parent chain from the code set",
                "ICD-10-CM tabular list, FY2026 data as shipped in the PyPI package simple-icd-10-cm "
                + version("simple-icd-10-cm") + " (titles, billable flags, hierarchy, Excludes notes, 7th characters)",
                "2025-10"),
    "place-of-service": ("CMS place-of-service codes used by the five codes",
                         "CMS Place of Service code set", None),
    "nucc-taxonomy": ("NUCC provider taxonomy codes for the specialties the reports name",
                      "NUCC Health Care Provider Taxonomy code set", None),
    "modifiers": ("CPT and HCPCS Level II modifiers the reports name or that are needed around them",
                  "CPT modifier definitions (AMA) and HCPCS Level II modifier definitions (CMS), meanings paraphrased",
                  None),
    "related-codes": ("Neighbouring codes of the five codes and how they relate to them",
                      ("CMS Medicare Physician Fee Schedule RVU file (global periods, add-on status), the HCPCS Level II "
                       "code set (J0585), CPT code structure and CMS billing guidance"), None),
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
    """Fee-schedule indicators. A code with a 0-, 10- or 90-day global surgery period is a procedure code
    (CMS global surgery package), which the modifier rules read as kg:codeCategory."""
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
    kg:facilityPricingOnly "{'true' if r['facility_only_pricing'] == 'yes' else 'false'}"^^xsd:boolean ;
    kg:codeCategory <https://w3id.org/kgapp/id/code-category/procedure> .
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


# How each diagnosis of icd10cm.csv relates to the codes it fits, after the "fits" column of the reference
# README: a reason for doing the procedure (supporting), context only, or a complication. Default: supporting.
DIAGNOSIS_ROLE = {
    "G97.82": "complicationDiagnosis",  # "complications (not a reason for the procedure)"
    "S04.3": "contextDiagnosis",        # "64600 context"
    "G24.5": "contextDiagnosis",        # "64612 context"
}


def icd10cm(path: Path) -> str:
    """Diagnosis nodes come from the simple-icd-10-cm library; which code they fit comes from the CSV."""
    table = rows(path)
    out = [provenance("icd10cm", path), icd10cm_turtle([r["code"] for r in table]), "\n"]
    for r in table:
        role = DIAGNOSIS_ROLE.get(r["code"], "supportingDiagnosis")
        for c in r["fits_codes"].split(";"):
            out.append(f"cpt:{c} kg:{role} <https://w3id.org/kgapp/id/icd10cm/{r['code']}> .\n")
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


MODIFIER_SCHEME = {"CPT (AMA)": "cpt-modifier", "HCPCS Level II (CMS)": "hcpcs-modifier"}
CODE_CATEGORY = {"procedure codes": "procedure", "evaluation and management codes": "evaluation-and-management"}


def _modifier_facts(row: dict) -> str:
    """Code set, what kind of code the modifier is appended to, and 59's more specific X modifiers."""
    m = f"<https://w3id.org/kgapp/id/modifier/{row['modifier']}>"
    out = (f"{m} skos:inScheme <https://w3id.org/kgapp/id/scheme/{MODIFIER_SCHEME[row['code_set']]}> ;\n"
           f"    kg:appliesToCodeCategory <https://w3id.org/kgapp/id/code-category/{CODE_CATEGORY[row['applies_to']]}> .\n")
    if row["modifier"] in ("XE", "XS", "XP", "XU"):
        out += (f"{m} skos:broader <https://w3id.org/kgapp/id/modifier/59> .\n"
                f"<https://w3id.org/kgapp/id/modifier/59> kg:moreSpecificModifier {m} .\n")
    return out


# Neighbouring codes (related-codes.csv). The short names are kgapp's own; the CSV's relation column picks
# the property. The facts below the names are those of the reference README's "Neighbouring codes" section.
RELATED_SHORT_NAME = {
    "64605": "Trigeminal neurolysis at the foramen ovale (second/third division)",
    "64610": "Trigeminal neurolysis at the foramen ovale, imaging-monitored",
    "64885": "Head or neck nerve graft, 4 cm or less",
    "64886": "Head or neck nerve graft, longer than 4 cm",
    "J0585": "OnabotulinumtoxinA, billed per unit",
    "95873": "Electrical-stimulation guidance for chemodenervation (add-on)",
    "95874": "Needle-EMG guidance for chemodenervation (add-on)",
}
RELATION_PROPERTY = {
    "alternative-code-for-another-site": "alternativeCodeForOtherSite",
    "related-repair": "relatedRepairCode",
    "separately-billed-drug": "separatelyBilledDrug",
    "add-on-guidance": "addOnGuidanceCode",
}
CODE_FOLDER = {"CPT (AMA)": ("cpt", "cpt"), "HCPCS Level II (CMS)": ("hcpcs", "hcpcs")}
# the sites each code covers: 64600 only the four named peripheral branches; 64605/64610 the ganglion
# reached through the foramen ovale
SITES = {
    "supraorbital-nerve": "supraorbital nerve (trigeminal branch)",
    "infraorbital-nerve": "infraorbital nerve (trigeminal branch)",
    "mental-nerve": "mental nerve (trigeminal branch)",
    "inferior-alveolar-nerve": "inferior alveolar nerve (trigeminal branch)",
    "trigeminal-ganglion": "trigeminal (Gasserian) ganglion, reached through the foramen ovale",
}
COVERS_SITE = {
    "64600": ["supraorbital-nerve", "infraorbital-nerve", "mental-nerve", "inferior-alveolar-nerve"],
    "64605": ["trigeminal-ganglion"],
    "64610": ["trigeminal-ganglion"],
}
AGENTS = {"botulinum-toxin": "botulinum toxin"}
DRUG_AGENT = {"J0585": "botulinum-toxin"}       # J0585 bills onabotulinumtoxinA
USUAL_AGENT = {"64612": "botulinum-toxin"}      # the usual agent of facial-nerve chemodenervation
NOT_REPORTED_TOGETHER = [("95873", "95874")]   # one or the other for the same service


def _code_iri(code: str) -> str:
    return f"hcpcs:{code}" if code[0].isalpha() else f"cpt:{code}"


def related_codes(path: Path) -> str:
    out = [provenance("related-codes", path)]
    for r in rows(path):
        folder, scheme = CODE_FOLDER[r["code_set"]]
        code = f"{folder}:{r['code']}"
        period = f" ;\n    kg:globalPeriodIndicator {lit(r['global_days'])}" if r["global_days"] else ""
        out.append(f"""
{code} a kg:RelatedCode ;
    skos:notation {lit(r['code'])} ;
    skos:inScheme <https://w3id.org/kgapp/id/scheme/{scheme}> ;
    skos:prefLabel {lit(RELATED_SHORT_NAME[r['code']])}@en{period} .
cpt:{r['relation_to']} kg:{RELATION_PROPERTY[r['relation']]} {code} .
""")
    out.append("\n# Sites each code covers, agents, and codes not reported together.\n")
    for slug, label in SITES.items():
        out.append(f"<https://w3id.org/kgapp/id/anatomical-site/{slug}> a kg:AnatomicalSite ;\n"
                   f"    rdfs:label {lit(label)}@en ;\n    kg:siteOfNerve <https://w3id.org/kgapp/id/nerve/trigeminal> .\n")
    for code, sites in COVERS_SITE.items():
        out.append(f"{_code_iri(code)} kg:coversSite "
                   + ", ".join(f"<https://w3id.org/kgapp/id/anatomical-site/{s}>" for s in sites) + " .\n")
    for slug, label in AGENTS.items():
        out.append(f"<https://w3id.org/kgapp/id/agent/{slug}> a kg:Agent ;\n    rdfs:label {lit(label)}@en .\n")
    for code, agent in DRUG_AGENT.items():
        out.append(f"{_code_iri(code)} kg:drugAgent <https://w3id.org/kgapp/id/agent/{agent}> .\n")
    for code, agent in USUAL_AGENT.items():
        out.append(f"{_code_iri(code)} kg:usualAgent <https://w3id.org/kgapp/id/agent/{agent}> .\n")
    for a, b in NOT_REPORTED_TOGETHER:
        out.append(f"{_code_iri(a)} kg:notReportedWith {_code_iri(b)} .\n{_code_iri(b)} kg:notReportedWith {_code_iri(a)} .\n")
    return "".join(out)


CONVERTERS = {
    "medicare-pfs-indicators": medicare, "nerves": nerves, "icd10cm": icd10cm,
    "place-of-service": code_set("place-of-service", "place-of-service", "PlaceOfService", "pos", "name"),
    "nucc-taxonomy": code_set("nucc-taxonomy", "specialty", "Specialty", "code", "specialty"),
    "modifiers": code_set("modifiers", "modifier", "Modifier", "modifier", "short_meaning", _modifier_facts),
    "related-codes": related_codes,
}


def main(reference: Path, data: Path) -> None:
    for slug, convert in CONVERTERS.items():
        text = HEADER + convert(reference / f"{slug}.csv")
        (data / f"ref-{slug}.ttl").write_text(text, encoding="utf-8")
        print(f"wrote data/ref-{slug}.ttl")


if __name__ == "__main__":
    import argparse

    root = Path(__file__).resolve().parent.parent
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("reference", nargs="?", type=Path, default=root.parent / "shared" / "reference",
                        help="folder of the reference CSV files (default: ../shared/reference beside the checkout)")
    folder = parser.parse_args().reference
    missing = [f"{slug}.csv" for slug in CONVERTERS if not (folder / f"{slug}.csv").is_file()]
    if missing:
        parser.error(f"{folder} lacks {', '.join(missing)}; nothing was written")
    main(folder, root / "data")
