"""The claim check: a claim line in, findings out, each backed by the graph's statements and their sources.

Rules are data (kgapp/check/rules/*.rq, one SPARQL query each); the claim is bound into them as
VALUES, and ICD-10-CM facts the graph does not hold come from the code set itself (kgapp.check.icd).
"""

from kgapp.check.claim import Claim, ClaimError, parse_claim
from kgapp.check.engine import CheckResult, Finding, check_claim
from kgapp.check.rules import Rule, load_rules

__all__ = ["CheckResult", "Claim", "ClaimError", "Finding", "Rule", "check_claim", "load_rules", "parse_claim"]
