"""Registry numbers: random, opaque, in Crockford base32, with a check character.

Format `XXX-XXX-XXC`: eight random symbols and a check symbol (registry.core.checkchar) that
catches every single-symbol typo and every swap of two neighbours.
"""

from __future__ import annotations

import re
import secrets

from registry.core.checkchar import ALPHABET, INDEX, READ_AS, check_symbol, is_valid

_SHAPE = re.compile(r"^[0-9A-Z]{9}$")

__all__ = ["ALPHABET", "new_registry_number", "normalise"]


def _format(symbols: str) -> str:
    return f"{symbols[0:3]}-{symbols[3:6]}-{symbols[6:9]}"


def new_registry_number() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return _format(payload + check_symbol(payload))


def normalise(text: str) -> str | None:
    """The canonical form of a typed registry number, or None if it is not one (bad shape or check)."""
    symbols = re.sub(r"[\s-]", "", text.upper()).translate(READ_AS)
    if not _SHAPE.match(symbols) or any(ch not in INDEX for ch in symbols) or not is_valid(symbols):
        return None
    return _format(symbols)
