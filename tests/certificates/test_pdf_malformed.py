"""Crafted and damaged PDFs: the reader raises only PdfError, and POST /api/v1/verify answers MALFORMED and logs it.

Each file here once made certificates.pdffile raise ValueError (int() of a non-number or of 5000 digits) and the
verification answer 500, or made it read a wrong attachment, spend unbounded memory or quadratic time; or it is a
damage the reader must keep refusing cleanly (bad xref and trailer numbers, deep nesting, a missing endobj).
"""

from __future__ import annotations

import io
import random
import re
import zlib

import pytest
import sqlalchemy as sa

from certificates import render
from certificates.pdffile import PdfError, attachment, attachments, link_uris, page_sizes, read_objects
from registry.core.db import db
from tests.conftest import count

NAME = render.ATTACHMENT_NAME
HUGE = b"9" * 5000  # int() refuses more than 4300 digits (ValueError), before anything else is checked


def pdf_of(*objects: bytes, tail: bytes = b"") -> bytes:
    return b"%PDF-1.7\n" + b"".join(objects) + tail + b"%%EOF\n"


def obj(number: int, body: bytes) -> bytes:
    return b"%d 0 obj\n" % number + body + b"\nendobj\n"


def stream(number: int, dictionary: bytes, data: bytes, length: bytes | None = None) -> bytes:
    """An object with a stream; `length` is what /Length says (the true length when None)."""
    length = b"%d" % len(data) if length is None else length
    return obj(number, b"<< " + dictionary + b" /Length " + length + b" >>\nstream\n" + data + b"\nendstream")


def filespec(number: int = 1, target: int = 2, name: bytes = NAME.encode()) -> bytes:
    return obj(number, b"<< /Type /Filespec /F (%s) /UF (%s) /EF << /F %d 0 R >> >>" % (name, name, target))


def with_attachment(data: bytes, length: bytes | None = None, dictionary: bytes = b"/Type /EmbeddedFile") -> bytes:
    """A small PDF whose credential.vc.jwt attachment is object 2, with `data` as its stream."""
    return pdf_of(filespec(), stream(2, dictionary, data, length))


def object_stream(dictionary: bytes, data: bytes) -> bytes:
    """A small PDF with object stream 3 holding `data` (its header and objects), and a Filespec pointing at 2."""
    return pdf_of(filespec(), stream(3, b"/Type /ObjStm " + dictionary, data))


FLATE = b"/Type /EmbeddedFile /Filter /FlateDecode"
PACKED = zlib.compress(b"header.payload.signature")

# name: (file, a fragment of PdfError's message)
CRAFTED: dict[str, tuple[bytes, str]] = {
    # The two of the report: int(b"ab") and int() of 5000 digits.
    "object stream header not numeric": (
        b"%PDF-1.7\n1 0 obj\n<< /Type /ObjStm /N 1 /First 4 >>\nstream\nab c\nendstream\nendobj\n",
        "an object number in object stream 1 is not a non-negative integer"),
    "length of 5000 digits": (with_attachment(b"abc", length=HUGE), "the /Length of object 2 is not"),
    # Object streams: /N and /First, and the header's numbers.
    "/First of 5000 digits": (object_stream(b"/N 1 /First " + HUGE, b"2 0 <<>>"), "/First of object stream 3"),
    "/N of 5000 digits": (object_stream(b"/N " + HUGE + b" /First 4", b"2 0 <<>>"), "/N of object stream 3"),
    "/N not numeric": (object_stream(b"/N many /First 4", b"2 0 <<>>"), "/N of object stream 3 is not"),
    "/N negative": (object_stream(b"/N -1 /First 4", b"2 0 <<>>"), "/N of object stream 3 is not"),
    "/N fractional": (object_stream(b"/N 1.0 /First 4", b"2 0 <<>>"), "/N of object stream 3 is not"),
    "/N huge": (object_stream(b"/N 99999999 /First 4", b"2 0 <<>>"), "/N of object stream 3 is '99999999', more"),
    "/First beyond the stream": (object_stream(b"/N 1 /First 500", b"2 0 <<>>"), "/First of object stream 3 is"),
    "/First negative": (object_stream(b"/N 1 /First -4", b"2 0 <<>>"), "/First of object stream 3 is not"),
    "header offset negative": (object_stream(b"/N 1 /First 5", b"2 -1 <<>>"), "an offset in object stream 3"),
    "header offset with underscore": (object_stream(b"/N 1 /First 6", b"2 1_0 <<>>"),
                                      "an offset in object stream 3"),
    "header offset beyond the data": (object_stream(b"/N 1 /First 6", b"2 999 <<>>"),
                                      "an offset in object stream 3 is '999', more than"),
    "header object number of 5000 digits": (object_stream(b"/N 1 /First 5003", HUGE + b" 0 <<>>"),
                                            "an object number in object stream 3 is not"),
    "header longer than /N": (object_stream(b"/N 1 /First 8", b"2 0 4 3 <<>>"), "has a damaged header"),
    # Stream lengths: negative, huge, not a number, longer than the stream (a truncated file), and cut Flate data.
    "length negative": (with_attachment(b"abc", length=b"-3"), "the /Length of object 2 is not"),
    "length not numeric": (with_attachment(b"abc", length=b"three"), "the /Length of object 2 is not"),
    "length fractional": (with_attachment(b"abc", length=b"3.0"), "the /Length of object 2 is not"),
    "length beyond the file size": (with_attachment(b"abc", length=b"99999999999"),
                                    "the /Length of object 2 is '99999999999', more than"),
    "length beyond the stream": (with_attachment(b"abc", length=b"40"), "shorter than its /Length 40"),
    "stream cut in the middle": (with_attachment(b"abc")[:-40], "object 2 has no end"),
    "Flate data cut short": (with_attachment(PACKED[:-8], dictionary=FLATE), "Flate data is cut short"),
    "Flate data not Flate": (with_attachment(b"not flate", dictionary=FLATE), "not valid Flate data"),
    # Damage the reader does not depend on, which must stay harmless.
    "bad xref and trailer numbers": (
        pdf_of(obj(1, b"<< /Type /Catalog >>"), tail=b"xref\n0 " + HUGE + b"\n-1 x f\n" + HUGE + b" 65535 n\ntrailer\n"
               b"<< /Size " + HUGE + b" /Root -7 0 R /Prev 1e999 >>\nstartxref\n" + HUGE + b"\n"),
        "no attachment named"),
    "deep nesting": (pdf_of(obj(1, b"<< /Type /Filespec /UF (" + NAME.encode() + b") /EF " + b"<< /A " * 20000
                                + b"[" * 20000 + b"2 0 R" + b"]" * 20000 + b" >>" * 20000 + b" >>"),
                            stream(2, b"/Type /EmbeddedFile", b"abc")), "no attachment named"),
    "object without endobj": (b"%PDF-1.7\n1 0 obj\n<< /Type /Filespec " + b"<<" * 10000, "object 1 has no end"),
    "attachment pointing nowhere, with a long name": (pdf_of(filespec(name=NAME.encode() + b"x" * 100_000, target=9)),
                                                      "points at a missing stream"),
    "streams inflating beyond the limit together": (
        pdf_of(*(stream(n, b"/Filter /FlateDecode", zlib.compress(b"\0" * 1024 * 1024, 9)) for n in range(10, 50))),
        "inflate beyond the size limit"),
    "not a PDF": (b"%!PS-Adobe-3.0\n", "not a PDF file"),
}


def _last_verification(app) -> tuple[str, str]:
    from certificates.models import Verification

    with app.app_context():
        row = db.session.execute(sa.select(Verification.method, Verification.outcome)
                                 .order_by(Verification.id.desc()).limit(1)).one()
        return tuple(row)


def _post(issuing, pdf: bytes, who: str = "anonymous"):
    return issuing.client.post("/api/v1/verify", data={"file": (io.BytesIO(pdf), "certificate.pdf")},
                               content_type="multipart/form-data", headers=issuing.h(who))


@pytest.mark.parametrize("case", list(CRAFTED))
def test_the_reader_raises_only_pdf_error(case):
    pdf, message = CRAFTED[case]
    with pytest.raises(PdfError) as raised:
        attachment(pdf, NAME)
    assert type(raised.value) is PdfError
    if message:
        assert message in str(raised.value)
    assert len(str(raised.value)) < 300  # a bad value or a name is shortened, never echoed whole
    for read in (read_objects, attachments, page_sizes, link_uris):  # the rest of the module: PdfError or a result
        try:
            read(pdf)
        except PdfError:
            pass


@pytest.mark.parametrize("case", list(CRAFTED))
def test_the_api_answers_malformed_and_logs_it(issuing, app, case):
    pdf, message = CRAFTED[case]
    before = count(app, "verifications")
    r = _post(issuing, pdf)
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    assert r.mimetype == "application/json"  # an answer, not a problem+json
    body = r.get_json()
    assert body["outcome"] == "MALFORMED" and body["method"] == "pdf" and body["data"] is None
    assert body["pdf"] == {"identical_to_issued": False}
    step = body["steps"][0]
    assert step["state"] == "failed" and step["detail"].startswith(f"no readable {NAME} in the PDF: ")
    if message:
        assert message in step["detail"]
    assert len(step["detail"]) < 400
    assert count(app, "verifications") == before + 1
    assert _last_verification(app) == ("pdf", "MALFORMED")


def test_a_signed_in_caller_gets_the_same_answer(issuing, app):
    r = _post(issuing, CRAFTED["length of 5000 digits"][0], who="board_fr")
    assert r.status_code == 200 and r.get_json()["outcome"] == "MALFORMED"
    assert count(app, "verifications") == 1


def test_too_many_objects():
    pdf = b"%PDF-1.7\n" + b"1 0 obj null endobj\n" * 100_001  # more than an upload may be: the reader alone
    with pytest.raises(PdfError, match="more than 100000 objects"):
        read_objects(pdf)


def test_a_page_size_that_is_not_a_number():
    for box in (b"0 0 1.2.3 5", b"0 0 -- 5", b"0 0 . 5", b"0 0 " + b"9" * 400 + b" 5"):
        pdf = pdf_of(obj(1, b"<< /Type /Page /MediaBox [" + box + b"] >>"))
        with pytest.raises(PdfError, match="a /MediaBox value is not a number"):
            page_sizes(pdf)
    assert page_sizes(pdf_of(obj(1, b"<< /Type /Page /MediaBox [+0 -0. .5 595.25] >>"))) == [(0.5, 595.25)]


def test_no_quadratic_scan_of_unclosed_strings():
    """Each "/UF(" or "/URI(" without a ")" after it once made the regex rescan to the end (about 15 s for this
    file, minutes for 1 MB). The scan is one pass now; its time is not asserted here (machines differ), only
    that such a file gives the right answers."""
    keys = 40_000
    filespec_text = b"<< /Type /Filespec /EF << /F 2 0 R >> " + b"/UF(" * keys + b">>"
    pdf = pdf_of(obj(1, filespec_text), obj(3, b"<< /A << /S /URI " + b"/URI(" * keys + b">> >>"))
    with pytest.raises(PdfError, match="no attachment named"):
        attachment(pdf, NAME)
    assert link_uris(pdf) == []


# --- what valid files may do, which the reader keeps (or now gets right) ----------------------------------------


def test_a_well_formed_small_pdf_is_read():
    assert attachment(with_attachment(b"a.b.c"), NAME) == b"a.b.c"
    assert attachment(with_attachment(PACKED, dictionary=FLATE), NAME) == b"header.payload.signature"
    assert attachment(with_attachment(b"a.b.c", length=b"+5"), NAME) == b"a.b.c"  # a sign is PDF syntax
    assert attachment(with_attachment(b"a.b.c", length=b"0005"), NAME) == b"a.b.c"


def test_an_indirect_length_is_not_read_as_a_number():
    # "/Length 12 0 R" was read as /Length 1 (the regex backtracked into the reference's number).
    pdf = pdf_of(filespec(), obj(2, b"<< /Type /EmbeddedFile /Length 12 0 R >>\nstream\na.b.c\nendstream"),
                 obj(12, b"5"))
    assert attachment(pdf, NAME) == b"a.b.c"


def test_object_stream_offsets_in_any_order():
    # Objects 1 (the Filespec) and 4 in one object stream, their offsets written in decreasing order.
    spec = b"<< /Type /Filespec /UF (" + NAME.encode() + b") /EF << /F 2 0 R >> >>"
    other = b"<< /Other true >>"
    objects = other + b" " + spec
    header = b"1 %d 4 0 " % (len(other) + 1)
    pdf = pdf_of(stream(3, b"/Type /ObjStm /N 2 /First %d" % len(header), header + objects),
                 stream(2, b"/Type /EmbeddedFile", b"a.b.c"))
    assert attachment(pdf, NAME) == b"a.b.c"
    assert read_objects(pdf)[4].text == other


# --- a real certificate PDF, damaged in many ways ----------------------------------------------------------------


@pytest.fixture(scope="module")
def real_pdf() -> bytes:
    """A certificate as the service renders it (fonts, QR link, object stream, Flate attachment); no database."""
    snapshot = {"kind": "course_completion", "language": "pt", "credential_id": "urn:uuid:x",
                "verification_code": "AAAA-BBBB-CCCC", "issuer": {"id": "i", "name": "Hub", "member_state": "PT"},
                "holder": {"name": "Maria Silva", "registry_number": "R1"}, "facts": [],
                "valid_from": "2026-01-01", "valid_until": None, "issued_on": "2026-01-02"}
    return render.render_pdf(snapshot, "header.payload.signature", "http://registry.test/verify?t=abc")


def _damaged(pdf: bytes):
    """Every number the reader converts, replaced by bad values; cuts; and seeded random byte changes."""
    bad = [b"-1", HUGE, b"abc", b"1.5", b"0", b"99999999999", b"1_0"]
    for key in (rb"/Length (\d+)", rb"/N (\d+)", rb"/First (\d+)"):
        for match in re.finditer(key, pdf):
            for value in bad + [b"%d" % (int(match[1]) + 7)]:
                yield pdf[: match.start(1)] + value + pdf[match.end(1) :]
    for cut in range(0, len(pdf), max(1, len(pdf) // 60)):
        yield pdf[:cut]
    # Random changes to the structure: the bytes outside stream data (inside it, Flate refuses nearly any change).
    inside = [range(m.end(), pdf.index(b"endstream", m.end())) for m in re.finditer(rb"stream\r?\n", pdf)
              if pdf[m.start() - 3 : m.start()] != b"end"]
    structure = [i for i in range(len(pdf)) if not any(i in r for r in inside)]
    rng = random.Random(20260301)
    for _ in range(300):
        data = bytearray(pdf)
        for _ in range(rng.randint(1, 4)):
            data[rng.choice(structure)] = rng.choice(b"0123456789 -+./<>[]()R\n")
        yield bytes(data)


def test_a_damaged_certificate_raises_only_pdf_error(real_pdf):
    assert attachment(real_pdf, NAME) == b"header.payload.signature"
    assert b"/ObjStm" in real_pdf and len(page_sizes(real_pdf)) == 1 and link_uris(real_pdf)
    damaged = 0
    for pdf in _damaged(real_pdf):
        for read in (lambda p: attachment(p, NAME), page_sizes, link_uris):
            try:
                read(pdf)
            except PdfError:
                damaged += 1
    assert damaged > 100
