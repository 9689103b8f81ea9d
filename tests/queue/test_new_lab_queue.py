"""A lab that joins a platform with many vendors: its first screening of every vendor is queued at sign-up, and until
a worker has stored it, its lists leave out (and count) the vendors they would have had to screen inside the page
(more than SCREENED_LIVE_UP_TO), instead of screening the whole platform in a web request.

Real Redis, real database, RQ's in-process worker (tests/queue/conftest.py).
"""

import re

from sqlalchemy import func, select

from marketplace.accounts.models import Organization, OrgKind, User
from marketplace.accounts.service import sign_up
from marketplace.api import tokens
from marketplace.db_types import utcnow
from marketplace.extensions import db
from marketplace.screening.models import PendingRescreen, VerdictRecord
from tests.factories import InterestFactory, PartyFactory, RivalFactory, VerifiedVendorOrgFactory


def _sign_up(kind: OrgKind, name: str) -> dict:
    """An organisation signed up as a person would (accounts.service.sign_up), its address confirmed."""
    result = sign_up(
        db.session,
        org_name=name,
        kind=kind,
        email=f"{name.lower().replace(' ', '.')}@example.com",
        name="Ada",
        password="a long enough password 1",
    )
    result.user.email_verified_at = utcnow()
    return {"user": result.user.id, "org": result.user.org_id}


def _pending_of(org_id: int) -> list[str]:
    return list(
        db.session.execute(select(PendingRescreen.reason).where(PendingRescreen.buyer_org_id == org_id)).scalars()
    )


def _vendor_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Organization).where(Organization.kind == OrgKind.VENDOR))


def _stored_count(buyer_org_id: int) -> int:
    return db.session.scalar(select(func.count()).where(VerdictRecord.buyer_org_id == buyer_org_id))


def _listed(html: str) -> list[str]:
    return re.findall(r'<tr data-testid="vendor-row"[^>]*>\s*<td><a href="[^"]+">([^<]+)</a>', html)


def test_a_lab_signing_up_queues_its_first_screening_and_a_vendor_signing_up_does_not(bed, build, run_worker):
    build(lambda: [VerifiedVendorOrgFactory() for _ in range(3)])
    lab = build(lambda: _sign_up(OrgKind.BUYER, "Quill Robotics"))
    vendor = build(lambda: _sign_up(OrgKind.VENDOR, "Ledger Labels"))
    with bed.app_context():
        assert _pending_of(lab["org"]) == ["lab joined"]
        assert db.session.scalar(select(func.count()).select_from(PendingRescreen)) == 1  # none for the vendor
        assert _pending_of(vendor["org"]) == []
        assert _stored_count(lab["org"]) == 0  # nothing screened in the sign-up's request
        db.session.remove()

    run_worker()

    with bed.app_context():
        assert _pending_of(lab["org"]) == []
        assert _stored_count(lab["org"]) == _vendor_count()  # every vendor, the one that signed up after it too
        assert db.session.get(Organization, vendor["org"]).kind == OrgKind.VENDOR
        db.session.remove()


def test_a_new_labs_lists_leave_out_what_they_would_screen_in_the_request_until_the_worker_stores_it(
    bed, build, client_for, run_worker, monkeypatch
):
    monkeypatch.setitem(bed.config, "SCREENED_LIVE_UP_TO", 2)

    def market():
        vendors = [VerifiedVendorOrgFactory(name=f"Tern Tagging {n}") for n in range(4)]
        lab = _sign_up(OrgKind.BUYER, "Osprey Vision")
        rival = PartyFactory(name="Kestrel Compute")
        RivalFactory(buyer_org_id=lab["org"], party_id=rival.id)
        InterestFactory(interested_party_id=rival.id, subject_party_id=vendors[0].party_id, share_exact=60.0)
        return {**lab, "vendors": [v.name for v in vendors]}

    ids = build(market)
    lab = client_for(ids["user"])
    with bed.app_context():
        everyone = _vendor_count()
        db.session.remove()

    # Before the worker: every vendor is unstored for the new lab, more than the limit, so none is screened here.
    page = lab.get("/vendors").get_data(as_text=True)
    assert _listed(page) == []
    assert f"{everyone} vendors not yet screened for your lab are not listed" in page
    assert "Updating verdicts: waiting for the queue to start" in page
    rivals = lab.get("/rivals").get_data(as_text=True)
    assert "Kestrel Compute" in rivals and 'data-testid="tied-vendors">0 vendors<' in rivals
    assert f"{everyone} vendors not yet screened for your lab are not counted" in rivals  # short, and says so

    run_worker()

    page = lab.get("/vendors?show_excluded=y").get_data(as_text=True)
    assert 'data-testid="unscreened-vendors"' not in page
    assert "Updating verdicts" not in page
    assert set(ids["vendors"]) <= set(_listed(page))
    assert re.search(r'data-verdict="exclude"[^>]*>\s*<td><a href="[^"]+">Tern Tagging 0<', page)
    rivals = lab.get("/rivals").get_data(as_text=True)
    assert 'data-testid="tied-vendors">1 vendor<' in rivals
    assert 'data-testid="unscreened-vendors"' not in rivals


def test_a_lab_without_stored_verdicts_and_nothing_pending_is_told_what_its_counts_leave_out(
    bed, build, client_for, monkeypatch
):
    """A lab that joined before the platform had a queue: nothing was queued for it, and nothing says it is updating;
    its lists and counts still say which vendors they leave out rather than come up short in silence."""
    monkeypatch.setitem(bed.config, "SCREENED_LIVE_UP_TO", 1)

    def market():
        vendors = [VerifiedVendorOrgFactory(name=f"Snipe Segmenting {n}") for n in range(3)]
        lab = _sign_up(OrgKind.BUYER, "Gannet Maps")
        db.session.execute(PendingRescreen.__table__.delete())  # joined before the queue: nothing pending
        rival = PartyFactory(name="Skua Systems")
        RivalFactory(buyer_org_id=lab["org"], party_id=rival.id)
        InterestFactory(interested_party_id=rival.id, subject_party_id=vendors[0].party_id, share_exact=60.0)
        return lab

    ids = build(market)
    lab = client_for(ids["user"])
    with bed.app_context():
        everyone = _vendor_count()
        db.session.remove()
    rivals = lab.get("/rivals").get_data(as_text=True)
    assert "Updating verdicts" not in rivals
    assert f"{everyone} vendors not yet screened for your lab are not counted" in rivals
    vendors = lab.get("/vendors").get_data(as_text=True)
    assert f"{everyone} vendors not yet screened for your lab are not listed" in vendors

    # The API says it too, beside the counts and the list it leaves them out of.
    def token() -> str:
        return tokens.create_token(db.session, db.session.get(User, ids["user"]), "Sync", ["screening:read"], 30).secret

    secret = build(token)
    headers = {"Authorization": f"Bearer {secret}"}
    listed = bed.test_client().get("/api/v1/rivals", headers=headers).json
    assert listed["unscreened"] == everyone and [r["tied_vendors"] for r in listed["items"]] == [0]
    assert bed.test_client().get("/api/v1/vendors", headers=headers).json["unscreened"] == everyone


def test_a_few_unstored_vendors_are_still_screened_in_the_page(bed, build, client_for, monkeypatch):
    def market():
        lab = _sign_up(OrgKind.BUYER, "Heron Speech")
        db.session.execute(PendingRescreen.__table__.delete())  # as if the worker had stored every verdict...
        vendor = VerifiedVendorOrgFactory(name="Plover Transcripts")  # ...before this vendor joined
        return {**lab, "vendor": vendor.name}

    ids = build(market)
    with bed.app_context():
        monkeypatch.setitem(bed.config, "SCREENED_LIVE_UP_TO", _vendor_count())
        db.session.remove()
    page = client_for(ids["user"]).get(f"/vendors?q={ids['vendor'].replace(' ', '+')}").get_data(as_text=True)
    assert _listed(page) == [ids["vendor"]]
    assert 'data-testid="unscreened-vendors"' not in page
