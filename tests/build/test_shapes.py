"""The shapes accept the shipped data and catch each kind of broken data with the right message."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kgapp.build import load_inputs, validate_inputs
from kgapp.config import Config
from kgapp.sources import resource_dir


@pytest.fixture(scope="module")
def shipped_report():
    return validate_inputs(load_inputs(Config()))


def test_shipped_data_conforms(shipped_report):
    assert shipped_report.conforms, shipped_report.as_text()


EXPECTED_WARNINGS = {
    ("64868", "BilateralModifierConflictShape", "modifier-guidance/seed-000/64868-50"),
    ("64600", "ModifierForEMCodeOnProcedureCode", "modifier-guidance/seed-004/64600-24"),
    ("64600", "InjectionSiteOfAnotherCode", "anatomical-site/trigeminal-ganglion"),
    ("64600", "IndicationOfAnotherNerve", "indication/severe-facial-motor-dysfunction"),
    ("64612", "AlternativeTreatmentIsTheCodesAgent", "treatment/botulinum-toxin-injection"),
    ("64612", "AgentOfAnotherProcedureType", "agent/neurolytic-agent"),
}


def warning_keys(report):
    return {(w.focus.rsplit("/", 1)[-1], w.shape.rsplit("#", 1)[-1], w.value.split("/id/", 1)[-1])
            for w in report.warnings}


def test_the_warnings_are_the_known_conflicts(shipped_report):
    assert warning_keys(shipped_report) == EXPECTED_WARNINGS
    for w in shipped_report.warnings:
        code = w.focus.rsplit("/", 1)[-1]
        seed = {"64868": "seed-000-64868.ttl", "64612": "seed-003-64612.ttl", "64600": "seed-004-64600.ttl"}[code]
        # both sides of each conflict are named as sources, and the message names them too
        assert seed in w.sources and any(s.startswith("ref-") for s in w.sources), w.sources
        assert "reference file" in w.message, w.message
    bilateral = next(w for w in shipped_report.warnings if w.shape.endswith("#BilateralModifierConflictShape"))
    assert "ref-medicare-pfs-indicators.ttl" in bilateral.sources


def mutated(tmp_path: Path, filename: str, old: str, new: str):
    """Validate a copy of the shipped data with one textual change in one file."""
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    path = data / filename
    text = path.read_text(encoding="utf-8")
    assert old in text, f"mutation anchor not found in {filename}: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return validate_inputs(load_inputs(Config(data_dirs=(data,))))


def only_violation(report, focus_suffix: str, message_part: str):
    hits = [v for v in report.violations if v.focus.endswith(focus_suffix) and message_part in v.message]
    assert hits, report.as_text()
    return hits[0]


def test_dropped_notation(tmp_path):
    # The code's notation appears in the seed and in the fee-schedule file: drop both.
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    for name in ("seed-003-64612.ttl", "ref-medicare-pfs-indicators.ttl"):
        p = data / name
        p.write_text(p.read_text(encoding="utf-8").replace('skos:notation "64612" ;', ""), encoding="utf-8")
    report = validate_inputs(load_inputs(Config(data_dirs=(data,))))
    v = only_violation(report, "/code/cpt/64612", "exactly one skos:notation")
    assert v.path.endswith("core#notation")
    assert "seed-003-64612.ttl" in v.sources


def test_bad_code_notation(tmp_path):
    report = mutated(tmp_path, "seed-004-64600.ttl", 'skos:notation "64600"', 'skos:notation "6460"')
    only_violation(report, "/code/cpt/64600", "four digits, then a digit or capital letter")


def test_mistyped_number(tmp_path):
    report = mutated(tmp_path, "ref-medicare-pfs-indicators.ttl",
                     'kg:globalPeriodDays "90"^^xsd:integer', 'kg:globalPeriodDays "ninety"')
    v = only_violation(report, "/code/cpt/64864", "global period")
    assert v.path.endswith("#globalPeriodDays")


def test_mistyped_cranial_nerve_number(tmp_path):
    report = mutated(tmp_path, "ref-nerves.ttl", 'kg:cranialNerveNumber "7"^^xsd:integer',
                     'kg:cranialNerveNumber "VII"')
    only_violation(report, "/nerve/facial", "cranialNerveNumber")


def test_donor_nerve_pointing_at_a_payer(tmp_path):
    report = mutated(tmp_path, "seed-000-64868.ttl", "kg:donorNerve nerve:hypoglossal", "kg:donorNerve payer:cigna")
    v = only_violation(report, "/code/cpt/64868", "donor nerve must be a kg:Nerve")
    assert v.value == "https://w3id.org/kgapp/id/payer/cigna"


def test_guidance_without_source(tmp_path):
    report = mutated(tmp_path, "seed-003-64612.ttl",
                     'kg:usageNote "Report it when both sides of the face are injected in the same session."@en ;\n'
                     '    prov:wasDerivedFrom src:seed-003 .',
                     'kg:usageNote "Report it when both sides of the face are injected in the same session."@en .')
    only_violation(report, "/modifier-guidance/seed-003/64612-50", "must name the source")


def test_policy_with_unknown_payer(tmp_path):
    report = mutated(tmp_path, "seed-004-64600.ttl", "kg:payer payer:aetna ;", "kg:payer payer:acme ;")
    only_violation(report, "/payer-policy/seed-004/aetna", "exactly one kg:Payer")


def test_guidance_with_neither_note_nor_gap(tmp_path):
    report = mutated(tmp_path, "seed-004-64600.ttl", "kg:gapSubject mg:64600-24 ;", "kg:gapSubject cpt:64600 ;")
    only_violation(report, "/modifier-guidance/seed-004/64600-24", "usage note, or an information gap")


def test_place_of_service_not_in_code_set(tmp_path):
    report = mutated(tmp_path, "reading-001-64866.ttl", "cpt:64866 kg:placeOfService pos:24 ;",
                     "cpt:64866 kg:placeOfService pos:99 ;")
    only_violation(report, "/code/cpt/64866", "place of service must be a kg:PlaceOfService")


def test_bilateral_indicator_out_of_range(tmp_path):
    report = mutated(tmp_path, "ref-medicare-pfs-indicators.ttl", 'kg:bilateralSurgeryIndicator "1"',
                     'kg:bilateralSurgeryIndicator "7"')
    only_violation(report, "/code/cpt/64612", "bilateral surgery indicator")


def test_warning_disappears_when_sources_agree(tmp_path):
    # With a bilateral indicator of 1 the modifier-50 guidance for 64868 is no longer a conflict.
    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    p = data / "ref-medicare-pfs-indicators.ttl"
    text = p.read_text(encoding="utf-8")
    block_start = text.index("cpt:64868 a kg:ProcedureCode")
    head, block = text[:block_start], text[block_start:]
    p.write_text(head + block.replace('kg:bilateralSurgeryIndicator "0"', 'kg:bilateralSurgeryIndicator "1"', 1),
                 encoding="utf-8")
    report = validate_inputs(load_inputs(Config(data_dirs=(data,))))
    assert report.conforms
    assert warning_keys(report) == {k for k in EXPECTED_WARNINGS if k[0] != "64868"}


def test_office_setting_for_facility_only_code_warns(tmp_path):
    report = mutated(tmp_path, "reading-000-64868.ttl", "cpt:64868 kg:placeOfService pos:21 ;",
                     "cpt:64868 kg:placeOfService pos:21, pos:11 ;")
    assert report.conforms
    assert any(w.shape.endswith("#OfficeSettingConflictShape") and w.focus.endswith("/64868")
               for w in report.warnings)


def test_hoisted_property_shapes_report_exactly_what_nested_ones_do(tmp_path):
    """kgapp gives property shapes their node shape's targets for speed; results must not change."""
    from pyshacl import validate as pyshacl_validate

    from kgapp.build.validate import hoist_property_shapes, read_report

    data = tmp_path / "data"
    shutil.copytree(resource_dir("data"), data)
    p = data / "seed-000-64868.ttl"
    text = p.read_text(encoding="utf-8")
    for old, new in [("kg:donorNerve nerve:hypoglossal", "kg:donorNerve payer:aetna"),
                     ('skos:notation "64868"', 'skos:notation "6486"'),
                     ("kg:typicalPatientAge 48", 'kg:typicalPatientAge "48"'),
                     ("kg:payer payer:cigna ;", "")]:
        assert old in text
        text = text.replace(old, new, 1)
    p.write_text(text, encoding="utf-8")
    inputs = load_inputs(Config(data_dirs=(data,)))

    def results(shapes):
        _, graph, _ = pyshacl_validate(inputs.asserted, shacl_graph=shapes, advanced=True, allow_warnings=True)
        return {(r.severity, r.focus, r.path, r.value, r.message, r.shape) for r in read_report(graph).results}

    nested, hoisted = results(inputs.shapes), results(hoist_property_shapes(inputs.shapes))
    assert len(nested) >= 5
    assert hoisted == nested


# --- each report-vs-code-set rule fires on the shipped data and is silent once the claim is corrected ---

def _only_that_warning_gone(report, shape: str):
    assert report.conforms, report.as_text()
    assert warning_keys(report) == {k for k in EXPECTED_WARNINGS if k[1] != shape}


def _fires(shipped_report, shape: str, focus: str, *words: str):
    hits = [w for w in shipped_report.warnings if w.shape.endswith("#" + shape) and w.focus.endswith(focus)]
    assert len(hits) == 1
    for word in words:
        assert word in hits[0].message, hits[0].message
    return hits[0]


def test_em_modifier_on_procedure_code(shipped_report, tmp_path):
    _fires(shipped_report, "ModifierForEMCodeOnProcedureCode", "/64600",
           "seed report 004", "modifier 24", "evaluation and management", "modifiers.csv")
    # a modifier meant for procedure codes is no conflict
    report = mutated(tmp_path, "seed-004-64600.ttl", "kg:modifier mod:24 ;", "kg:modifier mod:58 ;")
    _only_that_warning_gone(report, "ModifierForEMCodeOnProcedureCode")


def test_em_modifier_rule_reads_the_modifier_table(tmp_path):
    # if the code set said 24 went on procedure codes, the same guidance would not be flagged
    report = mutated(tmp_path, "ref-modifiers.ttl", "code-category/evaluation-and-management> .\n\n"
                     "<https://w3id.org/kgapp/id/modifier/25>", "code-category/procedure> .\n\n"
                     "<https://w3id.org/kgapp/id/modifier/25>")
    _only_that_warning_gone(report, "ModifierForEMCodeOnProcedureCode")


def test_alternative_treatment_that_is_the_codes_agent(shipped_report, tmp_path):
    _fires(shipped_report, "AlternativeTreatmentIsTheCodesAgent", "/64612",
           "seed report 003", "botulinum toxin injection", "J0585", "related-codes.csv")
    report = mutated(tmp_path, "seed-003-64612.ttl",
                     "kg:alternativeTreatment tx:botulinum-toxin-injection, tx:microvascular-decompression ;",
                     "kg:alternativeTreatment tx:microvascular-decompression ;")
    _only_that_warning_gone(report, "AlternativeTreatmentIsTheCodesAgent")


def test_agent_term_of_another_procedure_type(shipped_report, tmp_path):
    _fires(shipped_report, "AgentOfAnotherProcedureType", "/64612",
           "seed report 003", "neurolytic agent", "chemical neurolysis", "chemodenervation")
    report = mutated(tmp_path, "seed-003-64612.ttl", "kg:usesAgent agent:neurolytic-agent ;",
                     "kg:usesAgent agent:botulinum-toxin ;")
    _only_that_warning_gone(report, "AgentOfAnotherProcedureType")


def test_injection_site_of_another_code(shipped_report, tmp_path):
    _fires(shipped_report, "InjectionSiteOfAnotherCode", "/64600",
           "seed report 004", "ganglion", "64605 or 64610", "infraorbital", "related-codes.csv")
    report = mutated(tmp_path, "seed-004-64600.ttl",
                     "kg:injectionSite site:trigeminal-ganglion, site:trigeminal-peripheral-branches ;",
                     "kg:injectionSite site:trigeminal-peripheral-branches ;")
    _only_that_warning_gone(report, "InjectionSiteOfAnotherCode")


def test_indication_of_another_nerve(shipped_report, tmp_path):
    _fires(shipped_report, "IndicationOfAnotherNerve", "/64600",
           "seed report 004", "severe facial motor dysfunction", "facial nerve", "trigeminal nerve", "kgapp's reading")
    report = mutated(tmp_path, "seed-004-64600.ttl",
                     "kg:hasIndication ind:trigeminal-neuralgia, ind:severe-facial-motor-dysfunction ;",
                     "kg:hasIndication ind:trigeminal-neuralgia ;")
    _only_that_warning_gone(report, "IndicationOfAnotherNerve")


def test_interpretation_without_basis_is_a_violation(tmp_path):
    report = mutated(tmp_path, "reading-004-64600.ttl", "    kg:mappingBasis basis:kgapp-reading ;\n", "")
    only_violation(report, "/interpretation/seed-004/service-category", "mappingBasis")
