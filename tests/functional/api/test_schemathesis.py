"""Schemathesis against the app in-process (WSGI), with a lab's, a vendor's and a platform admin's token: generated
requests for every operation of the OpenAPI document, bounded to a few examples each. No answer is a 500, and every
answer conforms to the document (status code, content type, headers, body)."""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from marketplace.accounts.models import Organization
from marketplace.parties.models import TieOrigin
from tests.factories import (
    BidFactory,
    BuyerFactory,
    DisclosureFactory,
    InterestFactory,
    JobFactory,
    QuestionFactory,
    VerifiedVendorFactory,
)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


@pytest.fixture
def world(session, token_for, admin_token_for):
    """A lab with a job (ids from 1, so generated ids sometimes hit it), a vendor that bid on it, asked about it and
    filed a disclosure version with a tie, and a token of each and of a platform admin."""
    lab, vendor = BuyerFactory(), VerifiedVendorFactory()
    job = JobFactory(buyer_org_id=lab.org_id)
    BidFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    QuestionFactory(job_id=job.id, vendor_org_id=vendor.org_id)
    version = DisclosureFactory(vendor_org_id=vendor.org_id, number=2)
    InterestFactory(
        subject_party_id=session.get(Organization, vendor.org_id).party_id,
        origin=TieOrigin.DISCLOSURE,
        disclosure_id=version.id,
    )
    return {
        "lab": token_for(lab, name="lab"),
        "vendor": token_for(vendor, name="vendor"),
        "admin": admin_token_for(name="admin"),
    }


SETTINGS = settings(
    max_examples=6,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.mark.parametrize("who", ["lab", "vendor", "admin"])
def test_the_api_answers_as_its_document_says(app, world, who):
    """Each operation of the document in turn, a few generated requests each. (Schemathesis' own pytest loader,
    from_fixture, does not run under pytest 9: its cases are driven here with Hypothesis directly.)"""
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @SETTINGS
        def conforms(case):
            case.call_and_validate(headers={"Authorization": f"Bearer {world[who]}"}, checks=CHECKS)

        conforms()
