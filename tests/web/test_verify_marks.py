"""The public verification page: a tick, a cross or a "not checked" mark on each check (with words for screen
readers, not colour alone) and the time of the check in UTC, in English, French and Portuguese."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from registry.core.db import db

from .conftest import d, text


def _certificate(app, world) -> tuple[int, str]:
    from certificates import services as certificates
    from curricula import services as curricula
    from curricula.models import Outcome
    from registry.people import services as people

    with app.app_context():
        hub = curricula.get_hub("IE-HUB")
        completion, _ = curricula.record_completion(
            hub, clinician=people.get_clinician(world.clinician.registry_number),
            course=curricula.get_course("TRAUMA-ITLS"), offering=None, completed_on=d(-10), outcome=Outcome.PASSED,
            score=None, credits=None, reference="MARKS-1", actor=None, today=d(0))
        certificate = certificates.issue(certificates.completion_draft(completion), actor=None)
        db.session.commit()
        return certificate.id, certificate.verification_code


def _checks(page: str) -> list[tuple[str, str, str]]:
    """(check name, state class, cell text) of each row of the checks table."""
    table = page.split('<h2>', 2)[-1]
    rows = re.findall(r'<tr><th scope="row">([^<]*)</th>\s*<td class="(\w+)">(.*?)</td></tr>', table, re.S)
    return [(name, state, re.sub(r"\s+", " ", cell).strip()) for name, state, cell in rows]


def _checked_at(page: str, label: str) -> datetime:
    match = re.search(rf'<p class="checked-at">{re.escape(label)} <time datetime="([0-9TZ:-]+)">'
                      r'(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)</time> UTC</p>', page)
    assert match, f"no '{label} … UTC' line"
    at = datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert match.group(2) == at.strftime("%Y-%m-%d %H:%M:%S")
    assert abs(datetime.now(UTC) - at) < timedelta(minutes=2)
    return at


def test_a_valid_certificate_shows_a_tick_on_every_check_and_when_it_was_checked_in_english(pages, world, app):
    _, code = _certificate(app, world)
    page = text(pages.client().get(f"/verify?code={code}&lang=en"))
    assert '<div class="verdict VALID">' in page
    _checked_at(page, "Checked at")
    checks = _checks(page)
    assert [name for name, _, _ in checks] == ["Format", "Issuer trusted", "Key valid at issuance", "Signature",
                                               "Claims", "Dates", "Not revoked or suspended"]
    for name, state, cell in checks:
        assert state == "passed", (name, cell)
        assert cell.startswith('<span class="mark" aria-hidden="true">✓</span><span class="sr">passed: </span>'), cell
    assert "✗" not in page and "failed" not in page.split("<h2>")[-1]


def test_a_revoked_certificate_shows_a_cross_in_french_and_portuguese(pages, world, app):
    from certificates import services as certificates

    certificate_id, code = _certificate(app, world)
    with app.app_context():
        certificates.revoke(certificates.get_certificate(certificate_id), reason="issued in error", actor=None)
        db.session.commit()
    client = pages.client()
    french = text(client.get(f"/verify?code={code}", headers={"Accept-Language": "fr-FR,fr;q=0.9"}))
    assert '<html lang="fr">' in french
    # The verdict in the page's language, with the outcome code (the same in every state) beneath it.
    assert re.search(r'<div class="verdict bad">\s*RÉVOQUÉ <small class="outcome" lang="en">REVOKED</small></div>',
                     french), french[:3000]
    _checked_at(french, "Vérifié le")
    checks = dict((name, (state, cell)) for name, state, cell in _checks(french))
    state, cell = checks["Ni révoqué ni suspendu"]
    assert state == "failed" and '✗</span><span class="sr">échoué: </span>revoked' in cell
    assert checks["Signature"][0] == "passed" and '✓</span><span class="sr">réussi' in checks["Signature"][1]

    portuguese = text(client.get(f"/verify?code={code}&lang=pt"))
    assert '<html lang="pt">' in portuguese
    assert re.search(r'<div class="verdict bad">\s*REVOGADO <small class="outcome" lang="en">REVOKED</small>',
                     portuguese)
    _checked_at(portuguese, "Verificado em")
    checks = dict((name, (state, cell)) for name, state, cell in _checks(portuguese))
    assert checks["Nem revogado nem suspenso"][0] == "failed"
    assert '✗</span><span class="sr">reprovado: </span>revoked' in checks["Nem revogado nem suspenso"][1]
    assert '✓</span><span class="sr">aprovado: </span>' in checks["Assinatura"][1]


def test_checks_after_a_failed_one_are_marked_not_checked_in_each_language(pages):
    client = pages.client()
    for lang, skipped, label in [("en", "not checked", "Checked at"), ("fr", "non vérifié", "Vérifié le"),
                                 ("pt", "não verificado", "Verificado em")]:
        page = text(client.get(f"/verify?t=not-a-token&lang={lang}"))
        assert '<div class="verdict bad">' in page, page[-2000:]
        verdict = {"en": "NOT VALID", "fr": "NON VALIDE", "pt": "NÃO VÁLIDO"}[lang]
        assert re.search(rf'<div class="verdict bad">\s*{verdict} <small class="outcome" lang="en">MALFORMED</small>',
                         page), page[-3000:]
        _checked_at(page, label)
        checks = _checks(page)
        assert checks[0][1] == "failed" and "✗" in checks[0][2]
        assert checks[1:] and all(state == "skipped" for _, state, _ in checks[1:])
        assert all(cell == f'<span class="mark" aria-hidden="true">–</span> {skipped}' for _, _, cell in checks[1:])


def test_no_checked_at_line_before_anything_is_checked(pages):
    page = text(pages.client().get("/verify"))
    assert 'class="checked-at"' not in page and "✓" not in page


def test_the_labels_of_the_three_languages_have_the_same_keys():
    from certificates.verify_labels import LABELS

    assert set(LABELS["fr"]) == set(LABELS["en"]) == set(LABELS["pt"])
