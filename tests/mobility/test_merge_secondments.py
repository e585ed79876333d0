"""Merging two records of one person whose secondments overlap is refused until one of them is cancelled."""

from tests.conftest import audit_count, count, problem
from tests.mobility.conftest import approve, iso, proposed, ready


def test_overlapping_approved_secondments_block_a_merge(client, exchange, app):
    world = exchange
    c = world.clinician
    dup = world.make_clinician("IE", family_name=c.family_name, given_names=c.given_names,
                               date_of_birth=c.date_of_birth, not_duplicate_of=[c.registry_number])
    dup_licence = world.make_licence(dup, "IE-B", number="IE-2221-0777")
    ready(app, world)
    ready(app, world, dup, dup_licence)
    mine = proposed(client, world)                                                   # d(10) .. d(100)
    assert approve(client, world, mine).status_code == 200
    theirs = proposed(client, world, who="board_ie", clinician=dup, starts_on=iso(50), ends_on=iso(120))
    assert approve(client, world, theirs).status_code == 200
    url = f"/api/v1/clinicians/{c.registry_number}/merges"
    body = {"merged": dup.registry_number, "reason": "one nurse registered twice"}

    before = count(app, "clinician_merges"), count(app, "secondments"), audit_count(app)
    r = client.post(url, json=body, headers=world.h("board_ie"))
    assert r.status_code == 409
    assert problem(r)["unmet"] == [{"condition": "no_overlap", "detail": f"secondment {mine} of {c.registry_number} "
                                                                          f"and secondment {theirs} of "
                                                                          f"{dup.registry_number} overlap"}]
    assert (count(app, "clinician_merges"), count(app, "secondments"), audit_count(app)) == before

    # once the duplicate's secondment is cancelled the records merge, and both secondments are the survivor's
    r = client.post(f"/api/v1/secondments/{theirs}/cancellation", headers=world.h("board_ie"),
                    json={"reason": "registered twice"})
    assert r.status_code == 200, r.get_json()
    r = client.post(url, json=body, headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["moved"]["secondments"] == 1
    listed = client.get(f"/api/v1/secondments/{theirs}", headers=world.h("clinician"))
    assert listed.status_code == 200 and listed.get_json()["clinician"] == c.registry_number
