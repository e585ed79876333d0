"""The board's page for merging a duplicate record: a form, a side-by-side confirmation, then the merge."""

from tests.conftest import audit_count, count

from .conftest import csrf_of, field_error, text


def _duplicate(world):
    c = world.clinician
    return world.make_clinician("IE", family_name=c.family_name, given_names=c.given_names,
                                date_of_birth=c.date_of_birth, not_duplicate_of=[c.registry_number],
                                native_name="Siobhán Ní Bhroin")


def test_a_board_merges_a_duplicate_after_comparing_the_two_records(pages, app):
    world = pages.world
    survivor, dup = world.clinician, _duplicate(world)
    world.make_licence(dup, "IE-B2", number="IE2-77")
    board = pages.client("board_ie")
    standing = text(board.get(f"/clinicians/{survivor.registry_number}"))
    assert "Merge a duplicate record into this one" in standing
    path = f"/board/clinicians/{survivor.registry_number}/merge"
    form = board.get(path)
    assert form.status_code == 200 and '<label for="f-merged">' in text(form)
    token = csrf_of(text(form))
    before = count(app, "clinician_merges"), audit_count(app)

    confirm = board.post(path, data={"csrf_token": token, "merged": dup.registry_number,
                                     "reason": "same passport number"})
    page = text(confirm)
    assert confirm.status_code == 200 and "Confirm: these two records are one person" in page
    assert "Siobhán Ní Bhroin" in page and "(rows: licences 1)" in page
    assert (count(app, "clinician_merges"), audit_count(app)) == before  # the comparison wrote nothing

    done = board.post(path, data={"csrf_token": token, "merged": dup.registry_number,
                                  "reason": "same passport number", "confirmed": "yes"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/clinicians/{survivor.registry_number}")
    assert count(app, "clinician_merges") == before[0] + 1
    page = text(board.get(done.headers["Location"]))
    assert f"Record {dup.registry_number} merged into {survivor.registry_number}" in page
    assert "Also recorded under" in page and dup.registry_number in page and "IE2-77" in page
    # the old number's page is the survivor's
    old = text(board.get(f"/clinicians/{dup.registry_number}"))
    assert survivor.registry_number in old and "IE2-77" in old


def test_the_merge_page_shows_refusals_and_bad_input_next_to_the_fields(pages, app):
    world = pages.world
    survivor = world.clinician
    path = f"/board/clinicians/{survivor.registry_number}/merge"
    board = pages.client("board_ie")
    token = csrf_of(text(board.get(path)))
    before = count(app, "clinician_merges"), audit_count(app)
    r = board.post(path, data={"csrf_token": token, "merged": world.other_clinician.registry_number, "reason": ""})
    assert r.status_code == 422 and field_error(text(r), "e-reason")
    # both records have an active sign-in account: refused, the reason shown, nothing written
    r = board.post(path, data={"csrf_token": token, "merged": world.other_clinician.registry_number,
                               "reason": "same person", "confirmed": "yes"})
    assert r.status_code == 409 and "both records have a sign-in account" in text(r)
    assert (count(app, "clinician_merges"), audit_count(app)) == before
    # a board of another state sees no link and may not merge
    fr = pages.client("board_fr")
    assert "Merge a duplicate record" not in text(fr.get(f"/clinicians/{survivor.registry_number}"))
    r = fr.post(path, data={"csrf_token": csrf_of(text(fr.get("/board"))), "merged": "x", "reason": "same"})
    assert r.status_code in (403, 404)
    hub = pages.client("hub_ie")
    assert hub.get(path).status_code == 403
