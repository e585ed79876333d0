"""Just enough PDF reading to find a certificate's attachment and its page size, with no dependency.

Reads the objects of a PDF as WeasyPrint writes them (top-level objects, FlateDecode streams,
object streams) and resolves the embedded-files name tree to the attachment's bytes. Anything it
cannot read raises PdfError; it never executes or renders anything.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass

MAX_PDF_BYTES = 8 * 1024 * 1024
_MAX_INFLATED = 32 * 1024 * 1024
_OBJECT = re.compile(rb"(?<![0-9])(\d{1,9})\s+(\d{1,5})\s+obj\b")
_STREAM = re.compile(rb"stream\r?\n")
_REF = rb"(\d{1,9})\s+\d{1,5}\s+R"


class PdfError(ValueError):
    """The bytes are not a PDF this reader understands, or the attachment is missing."""


@dataclass
class PdfObject:
    text: bytes  # the object's dictionary or value, without its stream
    stream: bytes | None = None  # the decoded stream data


def _inflate(data: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        out = inflater.decompress(data, _MAX_INFLATED)
    except zlib.error as exc:
        raise PdfError(f"a stream is not valid Flate data: {exc}") from None
    if inflater.unconsumed_tail:
        raise PdfError("a stream inflates beyond the size limit")
    return out


def _decode(dictionary: bytes, raw: bytes) -> bytes:
    if b"/FlateDecode" in dictionary:
        return _inflate(raw)
    if b"/Filter" in dictionary:
        raise PdfError("a stream uses a filter this reader does not know")
    return raw


def read_objects(pdf: bytes) -> dict[int, PdfObject]:
    """Every object of the PDF by number (the last definition wins, as in an incremental update)."""
    if not isinstance(pdf, bytes | bytearray) or not pdf.startswith(b"%PDF-"):
        raise PdfError("not a PDF file")
    if len(pdf) > MAX_PDF_BYTES:
        raise PdfError(f"the PDF is larger than {MAX_PDF_BYTES} bytes")
    objects: dict[int, PdfObject] = {}
    position = 0
    while True:
        match = _OBJECT.search(pdf, position)
        if match is None:
            break
        number, start = int(match[1]), match.end()
        end = pdf.find(b"endobj", start)
        if end < 0:
            raise PdfError(f"object {number} has no end")
        body = pdf[start:end]
        stream_at = _STREAM.search(body)
        if stream_at is not None and body.rstrip().endswith(b"endstream"):
            dictionary = body[: stream_at.start()]
            length = re.search(rb"/Length\s+(\d+)(?!\s+\d+\s+R)", dictionary)
            data_start = stream_at.end()
            if length:
                raw = body[data_start : data_start + int(length[1])]
            else:
                raw = body[data_start : body.rstrip().rfind(b"endstream")].rstrip(b"\r\n")
            objects[number] = PdfObject(dictionary.strip(), _decode(dictionary, raw))
            # The stream may contain "endobj"; continue after the real end of the stream.
            position = start + data_start + len(raw)
            real_end = pdf.find(b"endobj", position)
            position = (real_end if real_end >= 0 else end) + 6
        else:
            objects[number] = PdfObject(body.strip())
            position = end + 6
    for number, obj in list(objects.items()):
        if obj.stream is not None and b"/ObjStm" in obj.text:
            objects.update(_object_stream(obj, number))
    return objects


def _object_stream(obj: PdfObject, number: int) -> dict[int, PdfObject]:
    first = re.search(rb"/First\s+(\d+)", obj.text)
    count = re.search(rb"/N\s+(\d+)", obj.text)
    if not first or not count or obj.stream is None:
        raise PdfError(f"object stream {number} lacks /N or /First")
    header = obj.stream[: int(first[1])].split()
    if len(header) != 2 * int(count[1]):
        raise PdfError(f"object stream {number} has a damaged header")
    pairs = [(int(header[i]), int(header[i + 1])) for i in range(0, len(header), 2)]
    data = obj.stream[int(first[1]) :]
    found = {}
    for n, (inner, offset) in enumerate(pairs):
        end = pairs[n + 1][1] if n + 1 < len(pairs) else len(data)
        found[inner] = PdfObject(data[offset:end].strip())
    return found


def _literal(text: bytes) -> str:
    return text.decode("latin-1")


def attachments(pdf: bytes) -> dict[str, bytes]:
    """The embedded files of a PDF by name (from the catalog's EmbeddedFiles name tree and file specifications)."""
    objects = read_objects(pdf)
    found: dict[str, bytes] = {}
    for obj in objects.values():
        if b"/Filespec" not in obj.text or b"/EF" not in obj.text:
            continue
        name = re.search(rb"/UF\s*\(([^)]*)\)", obj.text) or re.search(rb"/F\s*\(([^)]*)\)", obj.text)
        ref = re.search(rb"/EF\s*<<\s*/(?:UF|F)\s+" + _REF, obj.text)
        if not name or not ref:
            continue
        target = objects.get(int(ref[1]))
        if target is None or target.stream is None:
            raise PdfError(f"attachment {_literal(name[1])!r} points at a missing stream")
        found[_literal(name[1])] = target.stream
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
        if re.search(rb"/Type\s*/Page(?![a-z])", obj.text):
            box = re.search(rb"/MediaBox\s*\[\s*([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s+([-\d.]+)\s*\]", obj.text)
            if box:
                x0, y0, x1, y1 = (float(v) for v in box.groups())
                sizes.append((x1 - x0, y1 - y0))
    return sizes


def link_uris(pdf: bytes) -> list[str]:
    """The URIs of the PDF's link annotations."""
    uris = []
    for obj in read_objects(pdf).values():
        uris += [_literal(m) for m in re.findall(rb"/URI\s*\(([^)]*)\)", obj.text)]
    return uris
