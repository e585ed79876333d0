"""Schema building blocks shared by every feature: strict base, safe text, dates, pagination."""

from __future__ import annotations

import io
import json
import re
from datetime import date
from typing import Any

from flask import Request
from marshmallow import RAISE, Schema, ValidationError, fields, validate
from werkzeug.exceptions import RequestEntityTooLarge

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)


class StrictSchema(Schema):
    """Unknown fields are an error, never silently dropped."""

    class Meta:
        unknown = RAISE


class Text(fields.String):
    """A trimmed string with a maximum length and no control characters (PostgreSQL rejects NUL)."""

    def __init__(self, *, max_length: int = 200, min_length: int = 1, multiline: bool = False, **kwargs: Any):
        self.max_length = max_length
        self.min_length = min_length
        self.multiline = multiline
        kwargs.setdefault("validate", validate.Length(min=min_length, max=max_length))
        super().__init__(**kwargs)
        if "maxLength" not in self.metadata:
            self.metadata = {**self.metadata, "maxLength": max_length}

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        text = text.strip()
        if _CONTROL.search(text) or (not self.multiline and ("\n" in text or "\r" in text)):
            raise ValidationError("must not contain control characters")
        return text


class Day(fields.Date):
    """An ISO 8601 calendar date between 1900 and 2200."""

    def __init__(self, **kwargs: Any):
        kwargs.setdefault("validate", validate.Range(min=EARLIEST, max=LATEST, error="must be between {min} and {max}"))
        super().__init__(**kwargs)


class Pattern(validate.Regexp):
    """validate.Regexp over the whole value.

    validate.Regexp uses re.match, with which a pattern ending in "$" also matches before a final "\n": "L-1\n"
    would pass as a licence number and be stored beside "L-1", and a code stored with its "\n" could never be
    looked up again (lookups use re.fullmatch). This uses re.fullmatch, so the patterns keep their "$", which is
    what OpenAPI's ECMA-262 "pattern" (apispec documents any Regexp's pattern) means by the end of the value.
    """

    def __call__(self, value: Any) -> Any:
        if self.regex.fullmatch(value) is None:
            raise ValidationError(self._format_error(value))
        return value


def code_field(length: int, pattern: str, example: str, **kwargs: Any) -> fields.String:
    """An identifier code checked against a pattern (over the whole value), e.g. an ISO country code."""
    return fields.String(
        validate=[validate.Length(equal=length) if length else validate.Length(min=1, max=40),
                  Pattern(pattern, error=f"must look like {example}")],
        metadata={"example": example},
        **kwargs,
    )


STATE_CODE = r"^[A-Z]{2}$"
ISCO_CODE = r"^[0-9]{4}$"
ORG_CODE = r"^[A-Z0-9][A-Z0-9-]{1,39}$"
LANG_CODE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class PageArgs(StrictSchema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    page_size = fields.Integer(load_default=50, validate=validate.Range(min=1, max=200))


class OnDateArgs(StrictSchema):
    on = Day(load_default=None, metadata={"description": "the date to evaluate (default today)"})


def page_schema(item: type[Schema], name: str) -> type[Schema]:
    """An envelope {items, page, page_size, total} around a list of `item`."""
    return type(
        name,
        (Schema,),
        {
            "items": fields.List(fields.Nested(item)),
            "page": fields.Integer(),
            "page_size": fields.Integer(),
            "total": fields.Integer(),
        },
    )


def request_body(req: Request) -> bytes:
    """The request's body, as `req.get_data(cache=True)` gives it. Call it before anything else reads the body.

    Under a server that ends the input stream at the body's end (it sets `wsgi.input_terminated`, as gunicorn
    does), werkzeug reads that stream to its end, refusing a body over the request's limit (413); this does the
    same in one read, without werkzeug's stream wrappers, which cost more than the read itself (about 20 µs of
    a POST /verify's 2 KB). Under any other server werkzeug reads it. Later readers (get_data, form parsing)
    get the same bytes.
    """
    environ = req.environ
    if "wsgi.input_terminated" not in environ:
        return req.get_data(cache=True)
    limit = req.max_content_length
    length = req.content_length
    if limit is not None and length is not None and length > limit:
        raise RequestEntityTooLarge()
    data = environ["wsgi.input"].read(limit + 1 if limit is not None else -1)
    if limit is not None and len(data) > limit:
        raise RequestEntityTooLarge()
    environ["wsgi.input"] = io.BytesIO(data)
    return data


def check_json_body(raw: bytes) -> Any:
    """Refuse a JSON body that parses in Python but cannot be handled: too deep, huge numbers, lone surrogates.
    Returns the parsed document.

    webargs turns only JSONDecodeError into a 400; these would otherwise surface as 500s.
    """
    from registry.core.errors import RegistryError

    try:
        text = raw.decode("utf-8")
        document = json.loads(text)
        # A "\\ud800" escape decodes to a lone surrogate that no UTF-8 database, hash or response can hold.
        # Strict UTF-8 decoding admits no surrogate, so only a \\u escape can bring one in.
        if "\\u" in text:
            json.dumps(document, ensure_ascii=False).encode("utf-8")
    except UnicodeError as exc:
        reason = "text must be UTF-8 without unpaired surrogate escapes" if isinstance(
            exc, UnicodeEncodeError) else "text must be UTF-8"
        raise RegistryError("the body is not valid JSON", errors={"json": [reason]}) from exc
    except RecursionError as exc:
        raise RegistryError("the body is not valid JSON", errors={"json": ["nested too deeply"]}) from exc
    except ValueError as exc:  # JSONDecodeError, and integers longer than Python converts
        raise RegistryError("the body is not valid JSON", errors={"json": ["Invalid JSON body."]}) from exc
    return document
