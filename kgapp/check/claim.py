"""A claim line as the check reads it: code, modifiers, place of service, payer, diagnoses; refused when malformed."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from kgapp.errors import KgappError

MAX_MODIFIERS = 4  # a claim line (CMS-1500 / 837P) has four modifier slots
MAX_DX = 12  # a claim carries at most twelve diagnosis pointers
_CODE = re.compile(r"^(?:\d{4}[0-9FTU]|[A-V]\d{4})$")  # CPT (Category I–III) or HCPCS Level II
_MODIFIER = re.compile(r"^[0-9A-Z]{2}$")
_POS = re.compile(r"^\d{2}$")
_PAYER = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_DX = re.compile(r"^([A-Z][0-9][0-9A-Z])\.?([0-9A-Z]{0,4})$")


class ClaimError(KgappError):
    """A claim line the check cannot read (HTTP 400, CLI exit 2); says which field and why."""

    status = 400


@dataclass(frozen=True)
class Claim:
    code: str
    modifiers: tuple[str, ...] = ()
    pos: str | None = None
    payer: str | None = None
    dx: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["modifiers"], out["dx"] = list(self.modifiers), list(self.dx)
        return out


def _values(value: str | Iterable[str] | None) -> list[str]:
    """Repeated fields, or several values in one field separated by spaces or commas."""
    if value is None:
        return []
    items = [value] if isinstance(value, str) else list(value)
    return [part for item in items for part in re.split(r"[\s,]+", str(item).strip()) if part]


def normalise_dx(text: str) -> str:
    """``g510`` → ``G51.0``: upper case, the dot after the third character (ICD-10-CM's written form)."""
    m = _DX.match(text.strip().upper())
    if not m:
        raise ClaimError(f"dx {text!r} is not written like an ICD-10-CM code (a letter, two characters, "
                         "then up to four more, e.g. G51.0 or S04.51XA)")
    return m.group(1) + ("." + m.group(2) if m.group(2) else "")


def parse_claim(code: str | None, modifiers: str | Iterable[str] | None = None, pos: str | None = None,
                payer: str | None = None, dx: str | Iterable[str] | None = None) -> Claim:
    """A Claim from raw fields (form, query string, CSV or CLI); ClaimError names the first bad field."""
    code = (code or "").strip().upper()
    if not code:
        raise ClaimError("code is required (a CPT or HCPCS code such as 64868 or J0585)")
    if not _CODE.match(code):
        raise ClaimError(f"code {code!r} is not a CPT or HCPCS code (five characters: 64868, 0232T, J0585)")
    mods = list(dict.fromkeys(m.upper() for m in _values(modifiers)))
    for m in mods:
        if not _MODIFIER.match(m):
            raise ClaimError(f"modifier {m!r} is not a modifier (two letters or digits, e.g. 50, LT, XS)")
    if len(mods) > MAX_MODIFIERS:
        raise ClaimError(f"{len(mods)} modifiers given; a claim line has room for {MAX_MODIFIERS}")
    pos = (pos or "").strip() or None
    if pos is not None and not _POS.match(pos):
        raise ClaimError(f"pos {pos!r} is not a CMS place-of-service code (two digits, e.g. 11, 22, 24)")
    payer = (payer or "").strip().lower() or None
    if payer is not None and not _PAYER.match(payer):
        raise ClaimError(f"payer {payer!r} is not a payer id (lower-case words joined by hyphens, e.g. "
                         "aetna, blue-cross-blue-shield)")
    codes = list(dict.fromkeys(normalise_dx(d) for d in _values(dx)))
    if len(codes) > MAX_DX:
        raise ClaimError(f"{len(codes)} diagnoses given; a claim carries at most {MAX_DX}")
    return Claim(code, tuple(mods), pos, payer, tuple(codes))
