"""Synthetic data is deterministic, in the real model, and passes the shapes."""

from __future__ import annotations

import hashlib

import pytest

from kgapp.build import load_inputs, validate_inputs
from kgapp.build.synth import code_notation, synthesize
from kgapp.config import Config


def digest(folder):
    h = hashlib.sha256()
    for p in sorted(folder.iterdir()):
        h.update(p.name.encode() + p.read_bytes())
    return h.hexdigest()


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path):
    synthesize(120, tmp_path / "a", seed=3)
    synthesize(120, tmp_path / "b", seed=3)
    synthesize(120, tmp_path / "c", seed=4)
    assert digest(tmp_path / "a") == digest(tmp_path / "b") != digest(tmp_path / "c")


def test_synthetic_data_conforms_with_the_expected_warnings(tmp_path):
    summary = synthesize(300, tmp_path / "d", seed=11, codes_per_file=100)
    report = validate_inputs(load_inputs(Config(data_dirs=(tmp_path / "d",))))
    assert report.conforms, report.as_text()[:2000]
    assert len(report.warnings) == summary["expected_warnings"] > 0
    assert summary["files"] == len(list((tmp_path / "d").iterdir()))


def test_notations_are_five_characters_and_unique():
    notations = [code_notation(i) for i in list(range(0, 500)) + list(range(89_990, 90_600))]
    assert len(set(notations)) == len(notations)
    assert all(len(n) == 5 and n[:4].isdigit() for n in notations)


def test_refuses_a_folder_that_is_not_empty(tmp_path):
    (tmp_path / "x").mkdir()
    (tmp_path / "x" / "keep.txt").write_text("mine")
    with pytest.raises(FileExistsError):
        synthesize(5, tmp_path / "x")
