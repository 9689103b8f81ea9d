"""A member is shown only what a member may do: every form a member's page offers posts to a route the member may
use. Walked on the demo marketplace, following every link a lab's member and a vendor's member can reach from their
home page, and reading every form on each page. The least role per route is the per-role walk's table (LEAST_ROLE),
so a button for a manager's action shown to a member (which would answer 403) is found wherever it is."""

import re
from html import unescape
from urllib.parse import urlsplit

import pytest
from flask import g
from sqlalchemy import select
from werkzeug.exceptions import MethodNotAllowed, NotFound

from marketplace.accounts.models import OrgRole, User
from tests.functional.teams.test_route_walk_per_role import refused_for_role

MEMBERS = {
    "lab": "priya@northwind-ai.example",  # the demo's member of Northwind AI
    "vendor": "rafael@clearlabel.example",  # made a member of ClearLabel Studio here
}
PAGE_LIMIT = 250
SKIP = ("/static/", "/sign-out", "/download", "/files/", "/api/")
LINK = re.compile(r'<a\b[^>]*\bhref="(/[^"#]*)"', re.I)
FORM = re.compile(r"<form\b([^>]*)>", re.I)


def _attribute(tag: str, name: str) -> str | None:
    found = re.search(rf'\b{name}="([^"]*)"', tag, re.I)
    return unescape(found.group(1)) if found else None


def _walk(client, app) -> tuple[int, dict[str, set[str]]]:
    """Every page reachable by links from the home page (GET, same site); each POST form's route -> the pages."""
    adapter = app.url_map.bind("localhost")
    seen, queue, forms = set(), ["/"], {}
    while queue and len(seen) < PAGE_LIMIT:
        path = queue.pop(0)
        if path in seen or any(part in path for part in SKIP):
            continue
        seen.add(path)
        g.pop("_login_user", None)
        response = client.get(path)
        response.close()  # a file's download holds the file open until closed
        if response.status_code in (301, 302, 303):
            queue.append(urlsplit(response.headers["Location"]).path)
            continue
        if response.status_code != 200 or not response.content_type.startswith("text/html"):
            continue
        page = response.get_data(as_text=True)
        for link in LINK.findall(page):
            link = unescape(link)
            if link not in seen:
                queue.append(link)
        for tag in FORM.findall(page):
            if (_attribute(tag, "method") or "get").lower() != "post":
                continue
            action = urlsplit(_attribute(tag, "action") or path).path
            try:
                endpoint, _args = adapter.match(action, method="POST")
            except (NotFound, MethodNotAllowed):
                continue
            forms.setdefault(endpoint, set()).add(path)
    return len(seen), forms


@pytest.mark.parametrize("side", sorted(MEMBERS))
def test_a_members_pages_offer_no_form_a_member_may_not_send(app, client, seed, session, side):
    assert seed().exit_code == 0
    member = session.execute(select(User).where(User.email == MEMBERS[side])).scalar_one()
    member.org_role = OrgRole.MEMBER
    member.approver = False
    session.flush()
    g.pop("_login_user", None)
    signed_in = client.post("/sign-in", data={"email": member.email, "password": "demo-password-2026"})
    assert signed_in.status_code == 303, signed_in.get_data(as_text=True)[:500]

    pages, forms = _walk(client, app)

    assert pages > 15, f"only {pages} pages reached: the walk lost its way"
    assert forms, "no form at all: the walk read nothing"
    offered = {
        endpoint: sorted(where)[:3]
        for endpoint, where in forms.items()
        if refused_for_role(endpoint, "POST", OrgRole.MEMBER)
    }
    assert offered == {}, f"a {side}'s member is offered forms only a manager or the owner may send: {offered}"


def test_a_member_reads_what_it_may_not_change(app, client, seed, session):
    """Where the whole page is a form only a manager or the owner may send, a member still reads what it says: the
    lab's policy and a vendor's profile as disabled fields, with whom to ask."""
    assert seed().exit_code == 0
    for email, path, shown in (
        (MEMBERS["lab"], "/screening/policy", 'name="exclude_at"'),
        (MEMBERS["vendor"], "/profile", 'name="summary"'),
    ):
        member = session.execute(select(User).where(User.email == email)).scalar_one()
        member.org_role = OrgRole.MEMBER
        session.flush()
        browser = app.test_client()
        g.pop("_login_user", None)
        assert browser.post("/sign-in", data={"email": email, "password": "demo-password-2026"}).status_code == 303
        g.pop("_login_user", None)
        page = browser.get(path).get_data(as_text=True)
        assert 'data-testid="role-note"' in page and "a manager or the owner" in page
        read_only = page.split('data-testid="read-only"', 1)[1]
        assert "<fieldset disabled" in read_only and shown in read_only
