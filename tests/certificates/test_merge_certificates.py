"""Merging two records of one person leaves issued certificates as they were signed: they keep the merged number,
verify as before, and become the survivor's to download, to see verified, and to be revoked by cascade."""

from tests.certificates.conftest import Issuing


def test_a_merged_records_certificate_stays_valid_and_follows_the_person(issuing: Issuing):
    world, client = issuing.world, issuing.client
    c = world.clinician
    dup = world.make_clinician("IE", family_name=c.family_name, given_names=c.given_names,
                               date_of_birth=c.date_of_birth, not_duplicate_of=[c.registry_number])
    cert = issuing.certificate("DUP-CERT", clinician=dup)
    pdf_before = issuing.pdf(cert["id"], who="board_ie")
    credential = issuing.credential(cert["id"], who="board_ie")
    assert issuing.verify(token=credential, who="board_fr")["outcome"] == "VALID"  # logged under the duplicate

    r = client.post(f"/api/v1/clinicians/{c.registry_number}/merges",
                    json={"merged": dup.registry_number, "reason": "same person"}, headers=world.h("board_ie"))
    assert r.status_code == 201, r.get_json()
    assert r.get_json()["moved"] == {"certificates": 1, "completions": 1, "verifications": 1}

    # the survivor (signed in as themself) lists it, downloads the same bytes, and sees who verified it
    mine = client.get("/api/v1/me/certificates", headers=world.h("clinician")).get_json()
    assert [m["id"] for m in mine] == [cert["id"]]
    assert issuing.pdf(cert["id"]) == pdf_before
    seen = client.get("/api/v1/me/verifications", headers=world.h("clinician")).get_json()
    assert [(v["organisation"]["code"], v["outcome"]) for v in seen] == [("FR-B", "VALID")]

    # the credential is unchanged: it still names the number it was issued under, and verifies VALID
    checked = issuing.verify(token=credential)
    assert checked["outcome"] == "VALID"
    assert checked["payload"]["credentialSubject"]["registryNumber"] == dup.registry_number

    # a cascade after the merge still reaches it
    r = client.post(f"/api/v1/completions/{cert['completion_id']}/withdrawal", json={"reason": "entered twice"},
                    headers=world.h("hub_ie"))
    assert r.status_code == 200, r.get_json()
    assert issuing.verify(token=credential)["outcome"] == "REVOKED"
