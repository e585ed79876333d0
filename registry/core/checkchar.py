"""Check characters over the Crockford base-32 alphabet (Damm's algorithm on GF(32)).

The quasigroup x∘y = a·x + y over GF(2^5) with a ∉ {0, 1} is weakly totally anti-symmetric,
so one check symbol catches every single-symbol substitution and every swap of two
neighbours, the two commonest typing errors. (Luhn mod 32 misses some swaps.)
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
READ_AS = str.maketrans({"O": "0", "I": "1", "L": "1"})
_MODULUS = 0b100101  # x^5 + x^2 + 1, irreducible over GF(2)
_A = 2  # the element x: neither 0 nor 1


def _times_a(value: int) -> int:
    value <<= 1
    if value & 0b100000:
        value ^= _MODULUS
    return value


def _step(interim: int, symbol: int) -> int:
    return _times_a(interim) ^ symbol


def check_symbol(payload: str) -> str:
    """The symbol that makes `payload + symbol` validate."""
    interim = 0
    for ch in payload:
        interim = _step(interim, INDEX[ch])
    # interim∘c = a·interim + c = 0 in characteristic 2, so c = a·interim.
    return ALPHABET[_times_a(interim)]


def is_valid(symbols: str) -> bool:
    """True when the last symbol is the check symbol of the others."""
    if not symbols or any(ch not in INDEX for ch in symbols):
        return False
    interim = 0
    for ch in symbols:
        interim = _step(interim, INDEX[ch])
    return interim == 0
