"""Short verification codes: grouped, unambiguous, random, self-checking, forgiving of how they are typed."""

import re

import pytest

from certificates.codes import ALPHABET, InvalidCode, is_valid_code, new_verification_code, normalise_code


def test_codes_are_grouped_unambiguous_and_random():
    codes = {new_verification_code() for _ in range(200)}
    assert len(codes) == 200
    for code in codes:
        assert re.fullmatch(r"[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}", code)
        assert normalise_code(code) == code
    assert not set("ILOU") & set(ALPHABET) and len(ALPHABET) == 32


def test_typing_is_forgiven():
    code = new_verification_code()
    typed = " " + code.lower().replace("-", "  ") + " "
    assert normalise_code(typed) == code
    assert normalise_code(code.replace("-", "")) == code
    assert normalise_code(code.replace("-", "\u2013")) == code  # an en dash from a word processor


def test_look_alikes_are_read_as_digits():
    # Find a code containing 0 and 1, then type them as O and I / l.
    code = next(c for c in iter(new_verification_code, None) if "0" in c[:-1] and "1" in c[:-1])
    assert normalise_code(code.replace("0", "O").replace("1", "l")) == code
    assert normalise_code(code.replace("0", "o").replace("1", "I")) == code


def test_every_single_typo_and_neighbour_swap_is_caught():
    code = new_verification_code()
    chars = code.replace("-", "")
    for position in range(len(chars)):
        for replacement in ALPHABET:
            if replacement != chars[position]:
                assert not is_valid_code(chars[:position] + replacement + chars[position + 1 :])
    for position in range(len(chars) - 1):
        if chars[position] != chars[position + 1]:
            swapped = chars[:position] + chars[position + 1] + chars[position] + chars[position + 2 :]
            assert not is_valid_code(swapped)


@pytest.mark.parametrize("text", ["", "ABCD-EFGH", "ABCD-EFGH-JKMN-P", "ABCD-EFGH-JKU0", "ABCD-EFGH-JK*0"])
def test_malformed_codes_are_refused(text):
    with pytest.raises(InvalidCode):
        normalise_code(text)
