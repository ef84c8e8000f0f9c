"""Turtle sources → load → SHACL-validate → reason → a new build written to the store and made current."""

from kgapp.build.pipeline import (
    BuildRejected,
    BuildResult,
    Inputs,
    build,
    load_inputs,
    validate_files,
    validate_inputs,
)

__all__ = ["BuildRejected", "BuildResult", "Inputs", "build", "load_inputs", "validate_files", "validate_inputs"]
