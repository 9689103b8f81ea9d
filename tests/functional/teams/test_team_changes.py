"""The owner changes the team: roles and approvers, removing a member (whose sessions end at once), handing
ownership over (one owner always); members leave; every refusal says what to do instead."""

from html import unescape

from flask import g, url_for
from sqlalchemy import func, select

from marketplace.accounts.models import AccountSession, OrgRole, User
from marketplace.audit.models import AuditRecord
from tests.factories import PASSWORD, BuyerFactory, BuyerOrgFactory, VendorFactory


def _signed_in(app, email):
    """Another browser, signed in with the password."""
    browser = app.test_client()
    g.pop("_login_user", None)  # the test's app context is shared by every client's requests
    response = browser.post("/sign-in", data={"email": email, "password": PASSWORD})
    assert response.status_code == 303
    g.pop("_login_user", None)
    return browser


def _open(browser, method, path, **kwargs):
    g.pop("_login_user", None)
    g.pop("account_session", None)
    return browser.open(path, method=method, **kwargs)


def _text(response) -> str:
    return unescape(response.get_data(as_text=True))


def _lab():
    org = BuyerOrgFactory(name="Northwind AI")
    owner = BuyerFactory(org_id=org.id, name="Maya Owner", email="maya@lab.example", org_role=OrgRole.OWNER)
    manager = BuyerFactory(org_id=org.id, name="Oscar Manager", email="oscar@lab.example", org_role=OrgRole.MANAGER)
    member = BuyerFactory(org_id=org.id, name="Priya Member", email="priya@lab.example", org_role=OrgRole.MEMBER)
    return org, owner, manager, member


def _owners(session, org_id) -> int:
    return session.execute(
        select(func.count()).where(User.org_id == org_id, User.org_role == OrgRole.OWNER, User.removed_at.is_(None))
    ).scalar_one()


def test_removing_a_member_signs_them_out_at_once_in_every_browser(app, session):
    org, owner, _manager, member = _lab()
    owners_browser = _signed_in(app, owner.email)
    laptop, phone = _signed_in(app, member.email), _signed_in(app, member.email)
    assert _open(laptop, "GET", "/team").status_code == 200

    response = _open(owners_browser, "POST", url_for("teams.remove", member_id=member.id))

    assert response.status_code == 303
    for browser in (laptop, phone):  # the next request of each is signed out
        after = _open(browser, "GET", "/team")
        assert after.status_code == 302 and "/sign-in" in after.headers["Location"]
    assert session.query(AccountSession).filter_by(user_id=member.id, ended_at=None).count() == 0
    # And the password signs in no more, with a message that says why.
    again = _open(app.test_client(), "POST", "/sign-in", data={"email": member.email, "password": PASSWORD})
    assert again.status_code == 400 and "removed from its organisation" in _text(again)
    team = _text(_open(owners_browser, "GET", "/team"))
    assert "Priya Member is removed and signed out everywhere." in team
    assert f'data-testid="member-{member.id}"' not in team
    record = session.query(AuditRecord).filter_by(action="user.removed", subject_id=member.id).one()
    assert record.actor_id == owner.id and record.buyer_org_id == org.id


def test_the_owner_cannot_remove_itself_nor_leave(client, login_as, session):
    org, owner, _manager, _member = _lab()
    login_as(owner)
    removed = _text(client.post(url_for("teams.remove", member_id=owner.id), follow_redirects=True))
    assert "You are the owner: hand ownership to a colleague before you leave." in removed
    left = _text(client.post(url_for("teams.leave"), follow_redirects=True))
    assert "You are the owner of Northwind AI: hand ownership to a colleague before you leave." in left
    assert session.get(User, owner.id).removed_at is None and _owners(session, org.id) == 1


def test_a_member_leaves_and_is_signed_out(client, login_as, session):
    _org, _owner, _manager, member = _lab()
    login_as(member)
    response = client.post(url_for("teams.leave"))
    assert response.status_code == 303 and "/sign-in" in response.headers["Location"]
    assert session.get(User, member.id).removed_at is not None
    g.pop("_login_user", None)
    assert client.get("/team").status_code == 302
    assert session.query(AuditRecord).filter_by(action="user.left", subject_id=member.id).count() == 1


def test_handing_ownership_over_keeps_exactly_one_owner(client, login_as, session):
    org, owner, manager, _member = _lab()
    login_as(owner)
    response = client.post(url_for("teams.transfer"), data={"new_owner": manager.id}, follow_redirects=True)
    assert "Oscar Manager is now the owner; you are a manager." in _text(response)
    session.expire_all()
    assert session.get(User, manager.id).org_role == OrgRole.OWNER
    assert session.get(User, owner.id).org_role == OrgRole.MANAGER
    assert _owners(session, org.id) == 1
    assert session.query(AuditRecord).filter_by(action="organization.ownership_transferred").count() == 1
    # The former owner is a manager now: the owner's pages refuse it, naming who may.
    g.pop("_login_user", None)
    again = client.post(url_for("teams.transfer"), data={"new_owner": owner.id})
    assert again.status_code == 403
    assert "As a manager of your organisation you cannot hand ownership over: ask the owner." in _text(again)


def test_ownership_goes_only_to_a_colleague(client, login_as, session):
    org, owner, _manager, _member = _lab()
    stranger = BuyerFactory(name="Someone Else")
    login_as(owner)
    for target in (stranger.id, owner.id, 999_999):
        text = _text(client.post(url_for("teams.transfer"), data={"new_owner": target}, follow_redirects=True))
        assert "There is no such member of your organisation." in text or "You are the owner already" in text
    assert session.get(User, stranger.id).org_role == OrgRole.OWNER  # its own organisation's, untouched
    assert _owners(session, org.id) == 1


def test_the_owner_makes_a_member_a_manager_and_an_approver(client, login_as, session):
    _org, owner, _manager, member = _lab()
    login_as(owner)
    response = client.post(url_for("teams.change_role", member_id=member.id), data={"role": "manager", "approver": "y"})
    assert response.status_code == 303
    session.expire_all()
    changed = session.get(User, member.id)
    assert (changed.org_role, changed.approver) == (OrgRole.MANAGER, True)
    record = session.query(AuditRecord).filter_by(action="user.role_changed", subject_id=member.id).one()
    assert record.before == {"role": "member", "approver": False}
    assert record.after == {"role": "manager", "approver": True}


def test_there_is_one_owner_and_it_changes_only_by_handing_over(client, login_as, session):
    org, owner, manager, _member = _lab()
    login_as(owner)
    text = _text(
        client.post(url_for("teams.change_role", member_id=manager.id), data={"role": "owner"}, follow_redirects=True)
    )
    assert "Choose manager or member." in text
    assert _owners(session, org.id) == 1


def test_a_vendor_has_no_approvers(client, login_as, session):
    owner = VendorFactory(org_role=OrgRole.OWNER)
    colleague = VendorFactory(org_id=owner.org_id, org_role=OrgRole.MEMBER)
    login_as(owner)
    text = _text(
        client.post(
            url_for("teams.change_role", member_id=colleague.id),
            data={"role": "member", "approver": "y"},
            follow_redirects=True,
        )
    )
    assert "Approvers approve a lab's awards: a vendor has none." in text
    assert session.get(User, colleague.id).approver is False


def test_the_last_approver_stays_while_the_lab_sets_an_amount(client, login_as, session):
    org, owner, manager, _member = _lab()
    manager.approver = True
    org.award_approval_above_minor = 5_000_000
    session.flush()
    login_as(owner)
    removed = _text(client.post(url_for("teams.remove", member_id=manager.id), follow_redirects=True))
    assert "Oscar Manager is your lab's last approver: name another approver, or remove the amount first." in removed
    demoted = _text(
        client.post(url_for("teams.change_role", member_id=manager.id), data={"role": "manager"}, follow_redirects=True)
    )
    assert "is your lab's last approver" in demoted
    session.expire_all()
    assert session.get(User, manager.id).approver and session.get(User, manager.id).removed_at is None


def test_the_owner_sets_the_approval_amount_once_there_is_an_approver(client, login_as, session):
    org, owner, manager, _member = _lab()
    login_as(owner)
    amount = url_for("teams.approval_amount")
    refused = client.post(amount, data={"amount": "50,000", "currency": "USD"})
    assert refused.status_code == 400  # beside the field, the form filled in as typed
    assert "Name an approver first" in _text(refused) and 'value="50,000"' in _text(refused)
    assert session.get(type(org), org.id).award_approval_above_minor is None
    bad = client.post(amount, data={"amount": "lots", "currency": "USD"})
    assert bad.status_code == 400 and "“lots” is not an amount of money" in _text(bad)

    manager.approver = True
    session.flush()
    page = _text(client.post(amount, data={"amount": "50,000", "currency": "USD"}, follow_redirects=True))
    assert "Awards above $50,000.00 wait for an approver (Oscar Manager)" in page
    assert session.get(type(org), org.id).award_approval_above_minor == 5_000_000
    assert session.query(AuditRecord).filter_by(action="organization.approval_amount_set").count() == 1
    cleared = _text(client.post(amount, data={"amount": "", "currency": "USD"}, follow_redirects=True))
    assert "Awards no longer need approval." in cleared and "No award needs approval." in cleared


def test_invited_colleagues_join_as_members(client, session):
    from marketplace.accounts import service

    _org, owner, _manager, _member = _lab()
    issued = service.invite_colleague(session, owner, "new@lab.example")
    user = service.accept_invitation(session, issued.invitation, name="New Person", password="a long enough password")
    assert user.org_role == OrgRole.MEMBER and not user.approver


def test_a_member_sees_the_team_but_no_invitation_form(client, login_as):
    _org, _owner, _manager, member = _lab()
    login_as(member)
    page = _text(client.get("/team"))
    assert "You are a member of Northwind AI" in page
    assert "Maya Owner" in page and "Invite a colleague" not in page and "Hand ownership over" not in page
    assert client.post("/team", data={"email": "x@example.com"}).status_code == 403


def _invite_link(page: str) -> str:
    return page.split('data-testid="invite-link"')[0].rsplit('value="', 1)[1].split('"')[0].split("/invite/")[1]


def test_a_removed_colleague_invited_back_gets_the_same_account_as_a_member(app, session):
    """Removal keeps the account (its actions stay in the trail under its name); the owner invites the address
    again, and accepting gives that account back, as a member, with the name and password given now."""
    org, owner, _manager, member = _lab()
    session.get(User, member.id).org_role = OrgRole.MANAGER
    session.commit()
    owners_browser = _signed_in(app, owner.email)
    assert _open(owners_browser, "POST", url_for("teams.remove", member_id=member.id)).status_code == 303

    page = _text(_open(owners_browser, "POST", "/team", data={"email": "Priya@Lab.example"}))
    assert "already has an account" not in page
    token = _invite_link(page)
    joined = _open(
        app.test_client(),
        "POST",
        f"/invite/{token}",
        data={"name": "Priya Back", "password": "q" * 14, "confirm": "q" * 14, "timezone": "Europe/Lisbon"},
    )
    assert joined.status_code == 303

    back = session.get(User, member.id)
    session.refresh(back)
    assert back.removed_at is None and back.org_role == OrgRole.MEMBER and back.name == "Priya Back"
    assert session.execute(select(func.count()).where(User.email == "priya@lab.example")).scalar_one() == 1
    # The old password signs in no more; the new one does.
    old = _open(app.test_client(), "POST", "/sign-in", data={"email": member.email, "password": PASSWORD})
    assert old.status_code == 400
    new = _open(app.test_client(), "POST", "/sign-in", data={"email": member.email, "password": "q" * 14})
    assert new.status_code == 303
    record = session.query(AuditRecord).filter_by(action="user.reinstated", subject_id=member.id).one()
    assert record.buyer_org_id == org.id and record.after["invited_by"] == owner.id


def test_an_address_in_use_elsewhere_cannot_be_invited_even_once_removed_there(client, login_as, session):
    _org, owner, _manager, _member = _lab()
    other_org = BuyerOrgFactory(name="Quarry Analytics")
    elsewhere = BuyerFactory(org_id=other_org.id, email="sam@quarry.example", org_role=OrgRole.MEMBER)
    login_as(owner)
    for removed in (False, True):
        if removed:
            session.get(User, elsewhere.id).removed_at = session.get(User, owner.id).created_at
            session.commit()
        page = _text(client.post("/team", data={"email": "sam@quarry.example"}))
        assert "That person already has an account." in page and 'data-testid="invite-link"' not in page
    # An active colleague cannot be invited again either.
    page = _text(client.post("/team", data={"email": "oscar@lab.example"}))
    assert "That person already has an account." in page


def test_an_invitation_back_accepted_after_the_colleague_returned_otherwise_changes_nobody(session):
    """Made while the colleague was removed; by the time it is accepted the account is active again (its
    provider's SCIM reactivated it): accepting is refused and the account keeps its name and password."""
    from marketplace.accounts import service
    from marketplace.accounts.passwords import verify_password
    from marketplace.accounts.teams import remove_member

    _org, owner, _manager, member = _lab()
    remove_member(session, owner, member.id)
    issued = service.invite_colleague(session, owner, member.email)
    session.get(User, member.id).removed_at = None
    try:
        service.accept_invitation(session, issued.invitation, name="Someone Else", password="r" * 14)
    except service.AccountError as error:
        assert "has an account already" in str(error)
    else:
        raise AssertionError("accepted")
    kept = session.get(User, member.id)
    assert kept.name == "Priya Member" and verify_password(kept.password_hash, PASSWORD)
