"""Questions and answers over the API, unattributed as on the job page; the owner's notifications."""

from tests.factories import BuyerFactory, JobFactory, VerifiedVendorFactory


def test_a_vendor_asks_the_lab_answers_every_vendor_reads_it_without_the_askers_name(api, token_for):
    job = JobFactory()
    lab = token_for(BuyerFactory(org_id=job.buyer_org_id), name="lab")
    asker_org = VerifiedVendorFactory()
    asker, other = token_for(asker_org, name="asker"), token_for(VerifiedVendorFactory(), name="other")
    asked = api("POST", f"/api/v1/jobs/{job.id}/questions", asker, json={"text": "Is the data in English?"})
    assert asked.status_code == 201 and asked.json["asked_by_your_organisation"] is True
    question_id = asked.json["id"]
    # Unanswered: the lab and the asker's side see it, other vendors do not.
    assert api("GET", f"/api/v1/jobs/{job.id}/questions", other).json["items"] == []
    assert len(api("GET", f"/api/v1/jobs/{job.id}/questions", lab).json["items"]) == 1
    answered = api("POST", f"/api/v1/jobs/{job.id}/questions/{question_id}/answer", lab, json={"answer": "Yes."})
    assert answered.status_code == 200 and answered.json["answer"] == "Yes."
    seen = api("GET", f"/api/v1/jobs/{job.id}/questions", other)
    assert seen.json["items"][0]["answer"] == "Yes."
    assert seen.json["items"][0]["asked_by_your_organisation"] is False
    assert asker_org.name not in seen.get_data(as_text=True)
    again = api("POST", f"/api/v1/jobs/{job.id}/questions/{question_id}/answer", lab, json={"answer": "Again"})
    assert again.status_code == 409
    # The other vendor's owner was told of the answer.
    notes = api("GET", "/api/v1/notifications", other).json["items"]
    assert [note["kind"] for note in notes] == ["question_answered"]


def test_an_empty_question_is_refused_beside_its_field(api, token_for):
    job = JobFactory()
    response = api("POST", f"/api/v1/jobs/{job.id}/questions", token_for(VerifiedVendorFactory()), json={"text": " "})
    assert response.status_code == 422 and response.json["errors"][0]["field"] == "text"


def test_another_labs_question_cannot_be_answered(api, token_for):
    job = JobFactory()
    asker = token_for(VerifiedVendorFactory(), name="asker")
    question_id = api("POST", f"/api/v1/jobs/{job.id}/questions", asker, json={"text": "When?"}).json["id"]
    stranger = token_for(BuyerFactory(), name="stranger")
    response = api("POST", f"/api/v1/jobs/{job.id}/questions/{question_id}/answer", stranger, json={"answer": "x"})
    assert response.status_code == 404


def test_a_lab_cannot_ask_and_a_vendor_cannot_answer(api, token_for):
    job = JobFactory()
    lab = token_for(BuyerFactory(org_id=job.buyer_org_id), name="lab")
    assert api("POST", f"/api/v1/jobs/{job.id}/questions", lab, json={"text": "?"}).status_code == 403
    vendor = token_for(VerifiedVendorFactory(), name="vendor")
    assert api("POST", f"/api/v1/jobs/{job.id}/questions/1/answer", vendor, json={"answer": "!"}).status_code == 403
