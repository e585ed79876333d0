"""Short verification codes to type in: XXXX-XXXX-XXXX in Crockford base32 with a check character.

The alphabet has no I, L, O or U, so what is read aloud or copied from paper cannot be confused.
Eleven random characters (55 bits from `secrets`) are followed by a check character
(registry.core.checkchar, Damm over GF(32)), which catches every single mistyped character and
every swap of two neighbours.
"""

from __future__ import annotations

import secrets

from registry.core.checkchar import ALPHABET, check_symbol

_VALUE = {char: value for value, char in enumerate(ALPHABET)}
# Crockford's decoding rules for look-alikes.
_LOOKALIKES = str.maketrans({"O": "0", "I": "1", "L": "1"})
_SEPARATORS = str.maketrans("", "", " -\u2010\u2011\u2012\u2013\u2014\u2212_.\t")
CODE_LENGTH = 12
GROUP = 4


class InvalidCode(ValueError):
    """Text that is not a well-formed verification code (wrong length, characters or check character)."""


def _group(code: str) -> str:
    return "-".join(code[i : i + GROUP] for i in range(0, len(code), GROUP))


def new_verification_code() -> str:
    """A fresh random code such as 7K3M-Q9XD-2HT8 (the last character checks the rest)."""
    payload = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH - 1))
    return _group(payload + check_symbol(payload))


def normalise_code(text: str) -> str:
    """The canonical XXXX-XXXX-XXXX form of what a person typed; raises InvalidCode.

    Case, spaces and hyphens do not matter; O reads as 0, I and L as 1.
    """
    if not isinstance(text, str):
        raise InvalidCode("a verification code is text")
    compact = text.upper().translate(_SEPARATORS).translate(_LOOKALIKES)
    if len(compact) != CODE_LENGTH:
        raise InvalidCode(f"a verification code has {CODE_LENGTH} characters, this has {len(compact)}")
    bad = sorted({char for char in compact if char not in _VALUE})
    if bad:
        raise InvalidCode("a verification code cannot contain " + ", ".join(repr(char) for char in bad))
    if check_symbol(compact[:-1]) != compact[-1]:
        raise InvalidCode("the code has a typing mistake (its check character does not match)")
    return _group(compact)


def is_valid_code(text: str) -> bool:
    """Whether `text` normalises to a well-formed code."""
    try:
        normalise_code(text)
    except InvalidCode:
        return False
    return True
