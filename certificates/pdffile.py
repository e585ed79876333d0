"""Just enough PDF reading to find a certificate's attachment and its page size, with no dependency.

Reads the objects of a PDF as WeasyPrint writes them (top-level objects, FlateDecode streams,
object streams) and resolves the embedded-files name tree to the attachment's bytes. Anything it
cannot read raises PdfError; it never executes or renders anything.

The bytes come from anyone (POST /api/v1/verify takes an anonymous upload), so every number read from
them goes through `_integer` or `_real` (digits and sign checked, a bounded length, a sane maximum), the
work is bounded (the objects defined, the bytes inflated in all, no scan that grows quadratically with the
input), and no other exception than PdfError leaves the public functions for bad input.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

MAX_PDF_BYTES = 8 * 1024 * 1024
_MAX_INFLATED = 32 * 1024 * 1024  # all the streams of one PDF together, once decoded (a certificate: ~110 KB)
_MAX_OBJECTS = 100_000  # object definitions in one PDF, top-level and in object streams (a certificate: ~35)
_MAX_OBJECT_NUMBER = 999_999_999
_MAX_NUMBER_CHARS = 32  # a longer number is refused before it is converted
_SHOWN_CHARS = 40  # of a bad value or a name, in an error message
_OBJECT = re.compile(rb"(?<![0-9])(\d{1,9})\s+(\d{1,5})\s+obj\b")
_STREAM = re.compile(rb"stream\r?\n")
_REF = rb"(\d{1,9})\s+\d{1,5}\s+R"
# One token of a dictionary's value: up to the next whitespace or delimiter.
_TOKEN_CHARS = rb"[^\s\x00/<>\[\]()%{}]"
_TOKEN = rb"(" + _TOKEN_CHARS + rb"+)"
# /Length N, or /Length N G R (an indirect length, which this reader does not follow).
_LENGTH = re.compile(rb"/Length\s+" + _TOKEN + rb"(\s+\d+\s+R(?!" + _TOKEN_CHARS + rb"))?")
_FIRST = re.compile(rb"/First\s+" + _TOKEN)
_COUNT = re.compile(rb"/N\s+" + _TOKEN)
_REAL = re.compile(rb"[+-]?(?:\d+\.?\d*|\.\d+)")
_MEDIA_BOX = re.compile(rb"/MediaBox\s*\[\s*([-+\d.]+)\s+([-+\d.]+)\s+([-+\d.]+)\s+([-+\d.]+)\s*\]")
_PAGE = re.compile(rb"/Type\s*/Page(?![a-z])")
_EF_REF = re.compile(rb"/EF\s*<<\s*/(?:UF|F)\s+" + _REF)
_UF = re.compile(rb"/UF\s*\(")
_F = re.compile(rb"/F\s*\(")
_URI = re.compile(rb"/URI\s*\(")


class PdfError(ValueError):
    """The bytes are not a PDF this reader understands, or the attachment is missing."""


@dataclass
class PdfObject:
    text: bytes  # the object's dictionary or value, without its stream
    stream: bytes | None = None  # the decoded stream data


def _show(value: bytes | str) -> str:
    """A bad value or a name from the file, short enough for an error message."""
    text = value.decode("latin-1") if isinstance(value, bytes | bytearray) else value
    return repr(text[:_SHOWN_CHARS] + ("..." if len(text) > _SHOWN_CHARS else ""))


def _integer(token: bytes, what: str, maximum: int) -> int:
    """`token` as a non-negative integer of at most `maximum`: an optional "+" and ASCII digits, else PdfError."""
    digits = token[1:] if token[:1] == b"+" else token
    if not digits or len(digits) > _MAX_NUMBER_CHARS or not digits.isdigit():  # bytes.isdigit: ASCII only
        raise PdfError(f"{what} is not a non-negative integer: {_show(token)}")
    value = int(digits)
    if value > maximum:
        raise PdfError(f"{what} is {_show(token)}, more than {maximum}")
    return value


def _real(token: bytes, what: str) -> float:
    """`token` as a PDF real number (optional sign, digits, at most one point), else PdfError."""
    if len(token) > _MAX_NUMBER_CHARS or not _REAL.fullmatch(token):
        raise PdfError(f"{what} is not a number: {_show(token)}")
    return float(token)


def _inflate(data: bytes, limit: int, whole: bool) -> bytes:
    """`data` inflated, in at most `limit` bytes; `whole`: the data is the stream's exact /Length, so it must hold
    the end of the Flate data (else the stream was cut short)."""
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error as exc:
        raise PdfError(f"a stream is not valid Flate data: {exc}") from None
    if len(out) > limit:
        raise PdfError(f"the streams inflate beyond the size limit ({_MAX_INFLATED} bytes in all)")
    if whole and not inflater.eof:
        raise PdfError("a stream's Flate data is cut short")
    return out


def _decode(dictionary: bytes, raw: bytes, limit: int, whole: bool) -> bytes:
    if b"/FlateDecode" in dictionary:
        return _inflate(raw, limit, whole)
    if b"/Filter" in dictionary:
        raise PdfError("a stream uses a filter this reader does not know")
    if len(raw) > limit:
        raise PdfError(f"the streams inflate beyond the size limit ({_MAX_INFLATED} bytes in all)")
    return raw


def _stream_length(dictionary: bytes, number: int) -> int | None:
    """The stream's direct /Length, or None when it has none or an indirect one (then "endstream" ends it)."""
    length = _LENGTH.search(dictionary)
    if length is None or length[2] is not None:
        return None
    return _integer(length[1], f"the /Length of object {number}", MAX_PDF_BYTES)


def read_objects(pdf: bytes) -> dict[int, PdfObject]:
    """Every object of the PDF by number (the last definition wins, as in an incremental update)."""
    if not isinstance(pdf, bytes | bytearray) or not pdf.startswith(b"%PDF-"):
        raise PdfError("not a PDF file")
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfError(f"the PDF is larger than {MAX_PDF_BYTES} bytes")
    pdf = bytes(pdf)
    objects: dict[int, PdfObject] = {}
    defined = 0  # object definitions read, to bound the work
    decoded = 0  # stream bytes decoded, to bound the memory
    position = 0
    while True:
        match = _OBJECT.search(pdf, position)
        if match is None:
            break
        defined += 1
        if defined > _MAX_OBJECTS:
            raise PdfError(f"the PDF defines more than {_MAX_OBJECTS} objects")
        number, start = _integer(match[1], "an object number", _MAX_OBJECT_NUMBER), match.end()
        end = pdf.find(b"endobj", start)
        if end < 0:
            raise PdfError(f"object {number} has no end")
        body = pdf[start:end]
        stream_at = _STREAM.search(body)
        trimmed = body.rstrip()
        if stream_at is not None and trimmed.endswith(b"endstream"):
            dictionary = body[: stream_at.start()]
            data_start = stream_at.end()
            data_end = trimmed.rfind(b"endstream")
            length = _stream_length(dictionary, number)
            if length is None:
                raw = body[data_start:data_end].rstrip(b"\r\n")
            elif data_start + length > data_end:
                raise PdfError(f"the stream of object {number} is shorter than its /Length {length}")
            else:
                raw = body[data_start : data_start + length]
            stream = _decode(dictionary, raw, _MAX_INFLATED - decoded, whole=length is not None)
            decoded += len(stream)
            objects[number] = PdfObject(dictionary.strip(), stream)
            # The stream may contain "endobj"; continue after the real end of the stream.
            position = start + data_start + len(raw)
            real_end = pdf.find(b"endobj", position)
            position = (real_end if real_end >= 0 else end) + 6
        else:
            objects[number] = PdfObject(body.strip())
            position = end + 6
    for number, obj in list(objects.items()):
        if obj.stream is not None and b"/ObjStm" in obj.text:
            inner = _object_stream(obj, number)
            defined += len(inner)
            if defined > _MAX_OBJECTS:
                raise PdfError(f"the PDF defines more than {_MAX_OBJECTS} objects")
            objects.update(inner)
    return objects


def _object_stream(obj: PdfObject, number: int) -> dict[int, PdfObject]:
    first_at, count_at = _FIRST.search(obj.text), _COUNT.search(obj.text)
    if not first_at or not count_at or obj.stream is None:
        raise PdfError(f"object stream {number} lacks /N or /First")
    stream = obj.stream
    first = _integer(first_at[1], f"the /First of object stream {number}", len(stream))
    count = _integer(count_at[1], f"the /N of object stream {number}", _MAX_OBJECTS)
    # At most 2 * count + 1 pieces: a header with more numbers than /N says is refused without splitting it all.
    header = stream[:first].split(maxsplit=2 * count)
    if len(header) != 2 * count:
        raise PdfError(f"object stream {number} has a damaged header")
    data = stream[first:]
    pairs = [(_integer(header[i], f"an object number in object stream {number}", _MAX_OBJECT_NUMBER),
              _integer(header[i + 1], f"an offset in object stream {number}", len(data)))
             for i in range(0, len(header), 2)]
    # Each object runs to the next offset up (offsets are written in increasing order; this does not rely on it).
    offsets = sorted({offset for _, offset in pairs} | {len(data)})
    following = dict(zip(offsets, offsets[1:], strict=False))
    return {inner: PdfObject(data[offset : following.get(offset, len(data))].strip()) for inner, offset in pairs}


def _strings(key: re.Pattern[bytes], text: bytes) -> Iterator[bytes]:
    """The literal strings after `key` (which ends with "("), each up to the next ")", as re.findall would give
    them for key + rb"([^)]*)\\)"; but in one pass, where findall rescans to the end after each key when no ")"
    follows (quadratic in a crafted file)."""
    position = 0
    while (match := key.search(text, position)) is not None:
        close = text.find(b")", match.end())
        if close < 0:
            return
        yield text[match.end() : close]
        position = close + 1


def _literal(text: bytes) -> str:
    return text.decode("latin-1")


def attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of a PDF by name (from the catalog's EmbeddedFiles name tree and file specifications)."""
    objects = read_objects(pdf)
    found: dict[str, bytes] = {}
    for obj in objects.values():
        if b"/Filespec" not in obj.text or b"/EF" not in obj.text:
            continue
        name = next(_strings(_UF, obj.text), None)
        if name is None:
            name = next(_strings(_F, obj.text), None)
        ref = _EF_REF.search(obj.text)
        if name is None or not ref:
            continue
        target = objects.get(_integer(ref[1], "an object reference", _MAX_OBJECT_NUMBER))
        if target is None or target.stream is None:
            raise PdfError(f"attachment {_show(name)} points at a missing stream")
        found[_literal(name)] = target.stream
    return found


def attachment(pdf: bytes, name: str) -> bytes:
    """The bytes of the attachment called `name`; raises PdfError when there is none."""
    files = attachments(pdf)
    if name not in files:
        raise PdfError(f"the PDF has no attachment named {name!r}")
    return files[name]


def page_sizes(pdf: bytes) -> list[tuple[float, float]]:
    """(width, height) in points of each page, from its MediaBox."""
    sizes = []
    for obj in read_objects(pdf).values():
        if _PAGE.search(obj.text):
            box = _MEDIA_BOX.search(obj.text)
            if box:
                x0, y0, x1, y1 = (_real(v, "a /MediaBox value") for v in box.groups())
                sizes.append((x1 - x0, y1 - y0))
    return sizes


def link_uris(pdf: bytes) -> list[str]:
    """The URIs of the PDF's link annotations."""
    uris = []
    for obj in read_objects(pdf).values():
        uris += [_literal(m) for m in _strings(_URI, obj.text)]
    return uris
