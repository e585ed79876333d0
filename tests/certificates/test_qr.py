"""make_qr: the very QR code segno.make chooses (version, mask, every module), with the mask scored fast.

segno itself is the reference: each URL is encoded by both, and the penalty of every mask is compared with
the score segno's own evaluation gives it.
"""

import random
from datetime import timedelta

import pytest
import segno
from segno import consts, encoder

from certificates.compact import QR_MAX_BYTES, compact_claims, sign_compact_token, verification_url
from certificates.credentials import CertificateKind
from certificates.qr import alignment_centres, format_bits, make_qr, penalty_of, scored_qr
from certificates.render import QR_MAX_VERSION, QrTooLarge, qr_code
from certificates.status_list import status_entry

from .conftest import NOW

PREFIX = "https://registry.example/verify?t="
TOKEN_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_."


def pseudo_random_urls(count: int = 301) -> list[str]:
    """Deterministic URL-like strings of `count` lengths spread evenly from 1 to QR_MAX_BYTES (666, the most
    a version 20 code at level M holds): random tokens, behind the verification URL's prefix when longer than 40."""
    rng = random.Random(18004)
    urls = []
    for k in range(count):
        length = 1 + k * (QR_MAX_BYTES - 1) // (count - 1)
        token = "".join(rng.choice(TOKEN_CHARS) for _ in range(QR_MAX_BYTES))
        urls.append((PREFIX + token)[:length] if length > 40 else token[:length])
    return urls


URLS = pseudo_random_urls()


def segno_make(url):
    return segno.make(url, error="m", boost_error=False, micro=False)


@pytest.fixture
def segno_scores(monkeypatch):
    """The penalty of each mask, in order, as segno's own evaluate_mask scores it during segno.make."""
    scores = []
    evaluate = encoder.evaluate_mask

    def recording(matrix, width, height):
        score = evaluate(matrix, width, height)
        scores.append(score)
        return score

    monkeypatch.setattr(encoder, "evaluate_mask", recording)
    return scores


def assert_same(url, segno_scores):
    """The same version, level, mask, mode and modules as segno.make; the same penalty for each of the 8 masks."""
    segno_scores.clear()
    expected = segno_make(url)
    ours, scores = scored_qr(url)
    assert (ours.version, ours.error, ours.mask, ours.mode) == (
        expected.version,
        expected.error,
        expected.mask,
        expected.mode,
    ), url
    assert ours.matrix == expected.matrix, url
    assert len(segno_scores) == 8
    assert scores == segno_scores, url


@pytest.mark.parametrize("url", URLS, ids=lambda url: f"len{len(url)}")
def test_make_qr_is_the_code_segno_makes_and_scores_each_mask_alike(url, segno_scores):
    assert_same(url, segno_scores)


def test_the_inputs_meet_every_version_1_to_20_and_every_mask():
    assert len(URLS) == 301 and len(URLS[-1]) == QR_MAX_BYTES
    versions, masks = set(), set()
    for url in URLS[::3]:
        qr = make_qr(url)
        versions.add(qr.version)
        masks.add(qr.mask)
    assert versions == set(range(1, 21))
    assert masks == set(range(8))


def matrices(rng, size):
    """Random symbols of one size: fair coins, long runs, big blocks, and the overlapping N3 patterns."""
    yield [bytes(rng.getrandbits(1) for _ in range(size)) for _ in range(size)]
    runs = []
    for _ in range(size):
        row = bytearray()
        while len(row) < size:
            row += bytes([rng.getrandbits(1)]) * rng.randint(1, 12)
        runs.append(bytes(row[:size]))
    yield runs
    yield [
        bytes((i // 3 + j // 4 + rng.getrandbits(1) * (rng.random() < 0.1)) % 2 for j in range(size))
        for i in range(size)
    ]
    # 1011101 patterns four and six modules apart, light areas around, at the edges and inside: segno counts
    # the second of an overlapping pair only when the first did not count.
    pieces = [
        b"\x01\x00\x01\x01\x01\x00\x01",
        b"\x00" * 4,
        b"\x01\x00\x01\x01\x01\x00\x01\x01\x01\x00\x01",
        b"\x01\x00\x01\x01\x01\x00\x01\x00\x01\x01\x01\x00\x01",
        b"\x01\x01\x01\x00",
    ]
    crafted = []
    for _ in range(size):
        row = bytearray()
        while len(row) < size:
            row += rng.choice(pieces)
        crafted.append(bytes(row[:size]) if rng.random() < 0.5 else bytes(row[-size:]))
    yield crafted
    yield [bytes(col) for col in zip(*crafted, strict=True)]


@pytest.mark.parametrize("version", [1, 2, 3, 6, 7, 10, 14, 17, 20])
def test_the_penalty_of_any_symbol_is_segnos(version):
    rng = random.Random(version)
    size = 17 + 4 * version
    for matrix in matrices(rng, size):
        expected = sum(encoder.mask_scores([bytearray(row) for row in matrix], size, size))
        assert penalty_of(matrix) == expected


def test_overlapping_finder_like_patterns_count_as_segno_counts_them():
    size = 25
    light = [bytes(size)] * size
    pattern = b"\x01\x00\x01\x01\x01\x00\x01"
    for line, counted in [
        (b"\x00" * 4 + pattern + pattern[3:] + b"\x00" * 10, 1),  # a pair 4 apart, both qualifying
        (b"\x00" * 2 + pattern + pattern[1:] + b"\x00" * 10, 1),  # a pair 6 apart, both qualifying
        (b"\x00" * 4 + pattern + pattern[3:] + pattern[3:] + b"\x00" * 6, 2),  # three 4 apart: 1st and 3rd
        (b"\x01" + pattern + pattern[3:] + b"\x00" * 13, 1),  # the first fails, so the second counts
    ]:
        assert len(line) == size
        matrix = [line] + light[1:]
        n3 = encoder.mask_scores([bytearray(row) for row in matrix], size, size)[2]
        assert n3 == 40 * counted
        assert penalty_of(matrix) == sum(encoder.mask_scores([bytearray(row) for row in matrix], size, size))


def test_the_layout_tables_are_the_standards():
    for version in range(2, 41):
        assert alignment_centres(version) == list(consts.ALIGNMENT_POS[version - 2])
    assert alignment_centres(1) == []
    for mask in range(8):
        assert format_bits(0, mask) == consts.FORMAT_INFO[mask]  # level M
        assert format_bits(1, mask) == consts.FORMAT_INFO[8 + mask]  # level L


NAMES = [
    "Aoife Murphy",
    "Maria da Conceição Albuquerque de Vasconcelos Magalhães-Sampaio Teixeira",
    "Jean-Baptiste Lefèvre",
    "Zoë Ó Briain-Łukasiewicz",
]
BASES = ["https://registry.example", "https://workforce-registry.health-compact.europa.example"]


def test_real_certificate_urls(issuer, make_credential, segno_scores):
    seen = 0
    for n, name in enumerate(NAMES):
        status_base = f"{BASES[1]}/api/v1/status-lists/pt-cftl"
        credential = make_credential(
            issuer,
            kind=CertificateKind.COURSE_COMPLETION,
            subject={"id": f"urn:registry:clinician:PT-OPS-2019-00482{n}", "name": name},
            status=[
                status_entry(f"{status_base}/revocation/12", 131071 - n, "revocation"),
                status_entry(f"{status_base}/suspension/12", 130999 - n, "suspension"),
            ],
        )
        for description in ["ATLS Provider", "Advanced Trauma Life Support – Provider Course, 11th edition"]:
            claims = compact_claims(
                credential,
                subject_name=name,
                registry_number=f"PT-OPS-2019-00482{n}",
                description=description,
                issued_at=NOW - timedelta(days=n),
                status_list_base=f"{BASES[1]}/api/v1/status-lists/",
            )
            token = sign_compact_token(claims, issuer.key, issuer.kid)
            for base in BASES:
                for in_query in (False, True):
                    url = verification_url(base, token, in_query=in_query)
                    assert_same(url, segno_scores)
                    seen += 1
    assert seen == 32


def test_qr_code_still_refuses_what_does_not_fit_version_20():
    uri, version = qr_code(URLS[-1])
    assert version == QR_MAX_VERSION and uri.startswith("data:image/svg+xml")
    assert uri == segno_make(URLS[-1]).svg_data_uri(scale=4, border=2, dark="#000", light="#fff")
    with pytest.raises(QrTooLarge):
        qr_code(URLS[-1] + "x")
