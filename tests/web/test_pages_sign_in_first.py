"""A page that needs a signed-in caller sends an anonymous visitor to sign in before it looks anything up: the
same redirect whether the id, registry number or code in its address exists or not, so nobody learns which do."""

from __future__ import annotations

import pytest

from registry.app import create_app

MISSING_ID = "987654"
MISSING_NUMBER = "K7M2Q9XA4TR"  # a well-formed registry number that no record has (the test world has few)
PUBLIC = {"web.static"}


def _signed_in_get_rules() -> list[str]:
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    return sorted(r.rule for r in app.url_map.iter_rules()
                  if r.endpoint.startswith("web.") and r.endpoint not in PUBLIC and "<" in r.rule
                  and "GET" in r.methods)


RULES = _signed_in_get_rules()


def _fill(rule: str, values: dict[str, str]) -> str:
    path = rule
    for name, value in values.items():
        path = path.replace(name, value)
    assert "<" not in path, f"no value for a parameter of {rule}"
    return path


def test_the_probe_covers_every_page_with_an_object_in_its_address():
    assert len(RULES) >= 14, RULES  # 14 when this was written


@pytest.mark.parametrize("rule", RULES)
def test_an_anonymous_visitor_is_sent_to_sign_in_whether_or_not_the_object_exists(pages, rule):
    world = pages.world
    existing = {
        "<registry_number>": world.clinician.registry_number, "<id:licence_id>": str(world.licence),
        "<id:offering_id>": str(pages.offering_id), "<code>": "IE-B", "<name>": "alerts-late",
        "<kid>": "no-such-kid",
    }
    missing = {"<registry_number>": MISSING_NUMBER, "<code>": "NO-SUCH", "<name>": "no-such-figure",
               "<kid>": "no-such-kid"}
    for key in ("licence_id", "offering_id", "alert_id", "recognition_id", "certificate_id", "completion_id",
                "secondment_id", "account_id"):
        missing[f"<id:{key}>"] = MISSING_ID
        existing.setdefault(f"<id:{key}>", "1")
    anonymous = pages.client()
    for values in (missing, existing):
        path = _fill(rule, values)
        r = anonymous.get(path)
        assert r.status_code == 302, (path, r.status_code)
        assert "/sign-in" in r.headers["Location"], (path, r.headers["Location"])
    # Signed in, the missing object is a 404 page: what the redirect keeps from a visitor.
    if rule == "/licences/<id:licence_id>/decision":
        assert pages.client("board_ie").get(_fill(rule, missing)).status_code == 404
