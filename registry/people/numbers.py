"""Registry numbers: random, opaque, in Crockford base32, with a Luhn mod 32 check character.

Format `XXX-XXX-XXC`: eight random symbols and a check symbol that catches every
single-symbol typo and every swap of two neighbours.
"""

from __future__ import annotations

import re
import secrets

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SHAPE = re.compile(r"^[0-9A-Z]{9}$")


def check_symbol(payload: str) -> str:
    """Luhn mod N over the Crockford alphabet."""
    n = len(ALPHABET)
    factor = 2
    total = 0
    for ch in reversed(payload):
        addend = factor * _INDEX[ch]
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return ALPHABET[(n - total % n) % n]


def _format(symbols: str) -> str:
    return f"{symbols[0:3]}-{symbols[3:6]}-{symbols[6:9]}"


def new_registry_number() -> str:
    payload = "".join(secrets.choice(ALPHABET) for _ in range(8))
    return _format(payload + check_symbol(payload))


def normalise(text: str) -> str | None:
    """The canonical form of a typed registry number, or None if it is not one (bad shape or check)."""
    symbols = re.sub(r"[\s-]", "", text.upper()).translate(_READ_AS)
    if not _SHAPE.match(symbols) or any(ch not in _INDEX for ch in symbols):
        return None
    if check_symbol(symbols[:8]) != symbols[8]:
        return None
    return _format(symbols)
