"""How POST /verify reads its body (registry.core.schemas.request_body): in one read under a server that ends the
input stream (gunicorn), through werkzeug otherwise; werkzeug's bytes and refusals either way, and nothing
logged when a body is refused."""

from __future__ import annotations

import io
import json

import pytest
from flask import request
from werkzeug.exceptions import HTTPException

from registry.core.schemas import request_body
from tests.conftest import count, problem

VERIFY = "/api/v1/verify"
LIMIT = 64


def _read(app, reader, data: bytes, environ: dict, limit: int | None) -> tuple[bytes | int, bytes | None]:
    """(body, what get_data gives afterwards), or (the HTTP status refused, None)."""
    with app.test_request_context(VERIFY, method="POST", input_stream=io.BytesIO(data),
                                  content_type="application/json", environ_overrides=environ):
        request.max_content_length = limit
        try:
            first = reader(request)
        except HTTPException as exc:
            return exc.code, None
        return first, request.get_data(cache=True)


def _werkzeug(req):
    return req.get_data(cache=True)


BODY = b'{"token": "' + b"t" * 30 + b'"}'
CASES = {
    "declared": (BODY, {"CONTENT_LENGTH": str(len(BODY))}),
    "declared, shorter than sent": (BODY, {"CONTENT_LENGTH": "10"}),
    "declared, longer than sent": (BODY, {"CONTENT_LENGTH": str(len(BODY) + 9)}),
    "declared over the limit": (BODY * 2, {"CONTENT_LENGTH": str(2 * len(BODY))}),
    "undeclared": (BODY, {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}),
    "undeclared over the limit": (BODY * 2, {"CONTENT_LENGTH": "", "HTTP_TRANSFER_ENCODING": "chunked"}),
    "empty": (b"", {"CONTENT_LENGTH": "0"}),
}


@pytest.mark.parametrize("terminated", [True, False], ids=["server ends the stream", "werkzeug bounds it"])
@pytest.mark.parametrize("limit", [LIMIT, None], ids=["limit", "no limit"])
@pytest.mark.parametrize("case", list(CASES))
def test_the_body_and_its_refusals_are_werkzeugs(app, case, limit, terminated):
    data, environ = CASES[case]
    environ = {**environ, **({"wsgi.input_terminated": True} if terminated else {})}
    ours = _read(app, request_body, data, environ, limit)
    theirs = _read(app, _werkzeug, data, environ, limit)
    if terminated and limit is not None and len(data) > LIMIT:
        assert ours == (413, None)
        if case == "undeclared over the limit":
            # werkzeug stops at the limit and hands over the first LIMIT bytes, which may even parse; refused here.
            assert theirs == (data[:LIMIT], data[:LIMIT])
            return
    elif terminated and case == "declared":
        assert ours == (BODY, BODY)
    assert ours == theirs


def test_an_oversized_verification_is_413_problem_json_and_not_logged(client, app):
    limit = app.config["MAX_CONTENT_LENGTH"]
    data = json.dumps({"token": "x" * limit}).encode()
    before = count(app, "verifications")
    r = client.post(VERIFY, data=data, content_type="application/json",
                    environ_overrides={"wsgi.input_terminated": True})
    assert r.status_code == 413
    assert r.mimetype == "application/problem+json"
    assert str(limit) in problem(r)["detail"]
    assert count(app, "verifications") == before


def test_a_verification_reads_the_same_under_either_kind_of_server(client, app):
    data = json.dumps({"token": "not-a-token"}).encode()
    before = count(app, "verifications")
    answers = [client.post(VERIFY, data=data, content_type="application/json",
                           environ_overrides={"wsgi.input_terminated": True} if terminated else {})
               for terminated in (True, False)]
    assert [r.status_code for r in answers] == [200, 200]
    assert [r.get_json()["outcome"] for r in answers] == ["MALFORMED", "MALFORMED"]
    assert count(app, "verifications") == before + 2
