"""A fast drop-in for `segno.make(url, error="m", boost_error=False, micro=False)`.

segno picks the data mask the way ISO/IEC 18004 (7.8.3) asks: it applies each of the eight masks and keeps
the one with the lowest penalty score (N1 runs, N2 2x2 blocks, N3 finder-like 1:1:3:1:1 patterns, N4 dark
proportion), the first one on a tie. It does so cell by cell in pure Python, which was about 48 ms of a
61 ms encode. `make_qr` keeps exactly that choice and the same symbol, but scores the masks with big-integer
bit operations:

1. segno encodes the URL once with mask 0 (version choice, codewords, placement, format and version
   information all stay segno's).
2. The symbol is packed into one Python int: its rows, then its columns (the transposed symbol), each
   followed by four light guard bits, so that a shift never carries a module from one line into the next.
   Mask 0 is undone on the encoding region and the format / version information areas and the dark module
   are cleared, as segno scores the symbol before writing them.
3. For each mask the score is a handful of shifts, ANDs and bit counts over that int, reproducing segno's
   rules to the point (see `_penalty`).
4. The chosen mask's symbol is segno's mask-0 symbol with the mask and the format information swapped.

Everything that depends only on the version (the encoding region, the mask patterns, the format information
cells) is computed once per version and cached.

Steps 1 and 4 use segno's `encoder` module (`encode` with a fixed mask, the `Code` tuple it returns), which is
not segno's documented API; pyproject.toml therefore keeps segno to 1.6.x, and tests/certificates/test_qr.py
compares every symbol with `segno.make`, so a change there fails the tests rather than the certificates.
"""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import segno
from segno import encoder

GUARD = 4  # light bits after each line; the widest look-behind (the N3 light area) is 4 modules
N1, N2, N3, N4 = 3, 3, 40, 10  # ISO/IEC 18004 table 11 weights

# ISO/IEC 18004 table 10: the module (i = row, j = column) is inverted when the condition holds.
MASK_CONDITIONS = (
    lambda i, j: (i + j) % 2 == 0,
    lambda i, j: i % 2 == 0,
    lambda i, j: j % 3 == 0,
    lambda i, j: (i + j) % 3 == 0,
    lambda i, j: (i // 2 + j // 3) % 2 == 0,
    lambda i, j: (i * j) % 2 + (i * j) % 3 == 0,
    lambda i, j: ((i * j) % 2 + (i * j) % 3) % 2 == 0,
    lambda i, j: ((i + j) % 2 + (i * j) % 3) % 2 == 0,
)

_TO_DIGITS = bytes.maketrans(b"\x00\x01", b"01")


def alignment_centres(version: int) -> list[int]:
    """Row / column coordinates of the alignment pattern centres (ISO/IEC 18004 annex E)."""
    if version < 2:
        return []
    size = 17 + 4 * version
    count = version // 7 + 2
    step = 26 if version == 32 else -(-(4 * version + 4) // (2 * count - 2)) * 2
    return [6] + sorted(size - 7 - k * step for k in range(count - 1))


def format_bits(error_bits: int, mask: int) -> int:
    """The 15-bit format information: BCH(15,5) of the error level bits and the mask, XOR 0x5412."""
    data = (error_bits << 3) | mask
    rem = data << 10
    for bit in range(14, 9, -1):
        if rem >> bit & 1:
            rem ^= 0x537 << (bit - 10)
    return ((data << 10) | rem) ^ 0x5412


def format_cells(size: int) -> list[tuple[int, int, int]]:
    """(row, column, bit index) of both copies of the format information (bit 14 is the most significant).

    The module at (size - 8, 8) is the dark module, not a format bit, so the lower copy has seven bits.
    """
    cells = []
    for k, pos in enumerate((0, 1, 2, 3, 4, 5, 7, 8)):
        cells.append((pos, 8, k))  # upper left, vertical: bits 0..7 from the top
        cells.append((8, pos, 14 - k))  # upper left, horizontal: bits 14..7 from the left
        cells.append((8, size - 1 - k, k))  # upper right: bits 0..7 from the right
    for k in range(7):
        cells.append((size - 1 - k, 8, 14 - k))  # lower left: bits 14..8 from the bottom
    return cells


class _Layout(NamedTuple):
    size: int
    stride: int
    masks: tuple[int, ...]  # per mask: its inverted modules (encoding region only), rows then columns, packed
    cleared: int  # every module except format information, version information and the dark module, packed
    cells: int  # every module, packed (guard bits clear)
    blocks_at: int  # top-left corners of the 2x2 blocks (rows half only), packed
    row_diffs: tuple[tuple[int, ...], ...]  # per mask: per row, the byte-wise XOR taking the mask-0 row there


def _pack(rows: list[bytes], size: int) -> int:
    """Rows of 0/1 bytes, then their columns, each line followed by GUARD light bits; bit p = module p."""
    flat = b"".join(rows)
    pad = b"\x00" * GUARD
    columns = [flat[j::size] for j in range(size)]
    data = pad.join(rows) + pad + pad.join(columns) + pad
    return int(data.translate(_TO_DIGITS)[::-1], 2)


@lru_cache(maxsize=48)
def _layout(version: int) -> _Layout:
    size = 17 + 4 * version
    function = [bytearray(size) for _ in range(size)]  # 1 = function pattern or reserved area

    def mark(top: int, left: int, height: int, width: int) -> None:
        for i in range(top, top + height):
            function[i][left : left + width] = b"\x01" * width

    mark(0, 0, 9, 9)  # finder, separator and format information, upper left
    mark(0, size - 8, 9, 8)  # upper right
    mark(size - 8, 0, 8, 9)  # lower left, with the dark module
    mark(6, 0, 1, size)  # timing patterns
    mark(0, 6, size, 1)
    centres = alignment_centres(version)
    corners = {(centres[0], centres[0]), (centres[0], centres[-1]), (centres[-1], centres[0])} if centres else set()
    for ci in centres:
        for cj in centres:
            if (ci, cj) not in corners:
                mark(ci - 2, cj - 2, 5, 5)
    if version >= 7:
        mark(0, size - 11, 6, 3)  # version information, upper right
        mark(size - 11, 0, 3, 6)  # lower left
    reserved = [bytearray(size) for _ in range(size)]  # format and version information, dark module
    for i, j, _ in format_cells(size):
        reserved[i][j] = 1
    reserved[size - 8][8] = 1
    if version >= 7:
        for i in range(6):
            for j in range(size - 11, size - 8):
                reserved[i][j] = reserved[j][i] = 1

    # Every condition repeats every 12 rows and every 6 columns: one tile per mask, repeated and cut to the
    # encoding region with a byte-wise AND (each module is a 0/1 byte, so the bytes read as an int AND alike).
    ones = [b"\x01" * size] * size
    all_ones = int.from_bytes(ones[0], "big")
    region = [int.from_bytes(row, "big") ^ all_ones for row in function]
    wide = -(-size // 6)
    pattern_rows = []
    for cond in MASK_CONDITIONS:
        tile = [bytes(int(cond(i, j)) for j in range(6)) * wide for i in range(12)]
        pattern_rows.append(
            [(int.from_bytes(tile[i % 12][:size], "big") & region[i]).to_bytes(size, "big") for i in range(size)]
        )
    keep = [(int.from_bytes(row, "big") ^ all_ones).to_bytes(size, "big") for row in reserved]
    stride = size + GUARD
    blocks_at = sum(((1 << (size - 1)) - 1) << (i * stride) for i in range(size - 1))

    # The M level's error bits are 00: the format information depends on the mask alone.
    def format_row_bits(mask: int) -> list[int]:
        bits = format_bits(0, mask)
        rows = [bytearray(size) for _ in range(size)]
        for i, j, k in format_cells(size):
            rows[i][j] = bits >> k & 1
        return [int.from_bytes(row, "big") for row in rows]

    row_masks = [[int.from_bytes(row, "big") for row in rows] for rows in pattern_rows]
    fmt = [format_row_bits(m) for m in range(8)]
    row_diffs = tuple(
        tuple(row_masks[0][i] ^ row_masks[m][i] ^ fmt[0][i] ^ fmt[m][i] for i in range(size)) for m in range(8)
    )
    return _Layout(
        size=size,
        stride=stride,
        masks=tuple(_pack(rows, size) for rows in pattern_rows),
        cleared=_pack(keep, size),
        cells=_pack(ones, size),
        blocks_at=blocks_at,
        row_diffs=row_diffs,
    )


def _penalty(x: int, layout: _Layout) -> int:
    """segno's penalty score (N1 + N2 + N3 + N4) of the packed symbol `x` (rows, then columns).

    Bit k of `x >> d` is module k + d of the same line (or a light guard bit past its end); bit k of
    `x << d` is module k - d (or a guard bit / nothing before its start).
    """
    size, stride = layout.size, layout.stride
    light = ~x & layout.cells

    # N1: a run of L >= 5 same-coloured modules scores N1 + (L - 5) = (its L - 4 windows of five) + N1 - 1.
    windows = (x & x >> 1 & x >> 2 & x >> 3 & x >> 4) | (light & light >> 1 & light >> 2 & light >> 3 & light >> 4)
    runs = windows & ~(windows >> 1)  # the last window of each run
    n1 = windows.bit_count() + (N1 - 1) * runs.bit_count()

    # N2: every 2x2 block of one colour (overlapping blocks count), rows half only.
    block = (x & x >> 1 & x >> stride & x >> (stride + 1)) | (
        light & light >> 1 & light >> stride & light >> (stride + 1)
    )
    n2 = N2 * (block & layout.blocks_at).bit_count()

    # N3: dark-light-dark-dark-dark-light-dark with four light modules before it or after it (modules past
    # the edge count as light). segno searches left to right (top to bottom) and, after counting a
    # pattern, resumes 7 modules on: a qualifying pattern overlapping a counted one (4 or 6 modules
    # after it, the only overlaps 1011101 allows) is not counted.
    starts = x & light >> 1 & x >> 2 & x >> 3 & x >> 4 & light >> 5 & x >> 6
    dark_before = x << 1 | x << 2 | x << 3 | x << 4
    dark_after = x >> 7 | x >> 8 | x >> 9 | x >> 10
    found = starts & ~(dark_before & dark_after)
    n3 = N3 * (found & ~(found << 4 | found << 6)).bit_count()

    # N4: 10 points per full 5 % the dark share is away from 50 % (each module is packed twice).
    dark = x.bit_count() // 2
    percent = float(dark) / (size**2)
    n4 = N4 * int(abs(percent * 100 - 50) / 5)
    return n1 + n2 + n3 + n4


def _unmasked(matrix: tuple[bytearray, ...], layout: _Layout) -> int:
    """The mask-0 symbol packed, with mask 0 undone and the format / version / dark modules cleared."""
    return (_pack(list(matrix), layout.size) & layout.cleared) ^ layout.masks[0]


def penalty_of(matrix) -> int:
    """segno's penalty score of a QR code matrix as it stands (rows of 0/1 modules, 21 to 177 wide)."""
    size = len(matrix)
    return _penalty(_pack([bytes(row) for row in matrix], size), _layout((size - 17) // 4))


def scored_qr(url: str) -> tuple[segno.QRCode, list[int]]:
    """`make_qr(url)` and the penalty score of each of the eight masks, in mask order."""
    code = encoder.encode(url, error="m", mask=0, micro=False, boost_error=False)
    layout = _layout(code.version)
    base = _unmasked(code.matrix, layout)
    scores = [_penalty(base ^ pattern, layout) for pattern in layout.masks]
    best = scores.index(min(scores))  # the first of equal scores wins, as in segno
    if best:
        size = layout.size
        matrix = tuple(
            bytearray((int.from_bytes(row, "big") ^ diff).to_bytes(size, "big"))
            for row, diff in zip(code.matrix, layout.row_diffs[best], strict=True)
        )
        code = code._replace(matrix=matrix, mask=best)
    return segno.QRCode(code), scores


def make_qr(url: str) -> segno.QRCode:
    """The QR code `segno.make(url, error="m", boost_error=False, micro=False)` makes, with the same mask."""
    return scored_qr(url)[0]
