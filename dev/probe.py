#!/usr/bin/env python3
"""A bounded probe of a running marketplace, as an attacker with the demo's accounts would make it.

    python dev/probe.py --url http://127.0.0.1:5000 --database-url sqlite:///instance/demo.db [--limit 4000]

Signs in over HTTP as every demo buyer and vendor (the admins' second factor is not tried), opens every GET address
of the app with the ids found in the database (bounded by --limit requests per user), and reports, per user:
how many answers of each status, every 5xx, and every page that shows a secret the user may not know:
- a sealed bid's total or unit price before its job's deadline (to anyone but the bidding vendor);
- a confidential job's title or codename, or an invite-only job's title, to a vendor the lab's stored verdict
  does not clear (or that was not invited);
- on a confidential job's own page, the lab's name (to any vendor before the award).
The secrets are read from the database the server uses. Nothing is written: only GETs, after signing in.
"""

import argparse
import html
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections import Counter
from http.cookiejar import CookieJar
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, select  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from marketplace.accounts.models import Organization, Role, User  # noqa: E402
from marketplace.bids.models import Bid  # noqa: E402
from marketplace.db_types import utcnow  # noqa: E402
from marketplace.jobs.models import Job, JobInvitation, Visibility  # noqa: E402
from marketplace.money import format_money  # noqa: E402
from marketplace.screening.models import VerdictRecord  # noqa: E402
from seed_data.seeding import DEMO_PASSWORD  # noqa: E402

ID_ARGUMENTS = {"job_id": Job, "bid_id": Bid, "org_id": Organization}
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, base: str):
        self.base = base.rstrip("/")
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))

    def get(self, path: str) -> tuple[int, str]:
        try:
            with self.opener.open(self.base + path, timeout=30) as response:
                return response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace")

    def sign_in(self, email: str) -> bool:
        _, page = self.get("/sign-in")
        token = next((a or b for a, b in _CSRF.findall(page)), "")
        body = urllib.parse.urlencode({"email": email, "password": DEMO_PASSWORD, "csrf_token": token}).encode()
        try:
            with self.opener.open(self.base + "/sign-in", data=body, timeout=30) as response:
                return "/sign-in" not in response.url
        except urllib.error.HTTPError:
            return False


def secrets_for(session: Session, user: User) -> list[str]:
    """What this user may not see anywhere."""
    now = utcnow()
    found, shown = [], set()
    for job in session.execute(select(Job)).scalars():
        shown |= {format_money(job.budget_min_minor, job.currency), format_money(job.budget_max_minor, job.currency)}
    for bid, job in session.execute(select(Bid, Job).join(Job, Job.id == Bid.job_id)).all():
        figures = [format_money(bid.total_minor, bid.currency), format_money(bid.price_per_unit_minor, bid.currency)]
        if job.bidding_mode == "sealed" and job.bid_deadline > now and bid.vendor_org_id != user.org_id:
            found += figures
        else:
            shown |= set(figures)
    # A sealed figure that some page may show for another reason (a budget, an unsealed bid) proves nothing.
    found = [figure for figure in found if figure not in shown]
    if user.role != Role.VENDOR:
        return found
    cleared = {
        buyer
        for buyer, verdict in session.execute(
            select(VerdictRecord.buyer_org_id, VerdictRecord.verdict).where(VerdictRecord.vendor_org_id == user.org_id)
        )
        if verdict == "clear"
    }
    invited = set(
        session.execute(select(JobInvitation.job_id).where(JobInvitation.vendor_org_id == user.org_id)).scalars()
    )
    for job in session.execute(select(Job)).scalars():
        if job.visibility == Visibility.CONFIDENTIAL and job.buyer_org_id not in cleared and job.status != "awarded":
            found += [job.title, job.codename]
        if job.visibility == Visibility.INVITE_ONLY and (job.id not in invited or job.buyer_org_id not in cleared):
            found.append(job.title)
    return [secret for secret in found if secret and len(secret) >= 5]


def routes(app) -> list:
    return [
        rule
        for rule in app.url_map.iter_rules()
        if "GET" in rule.methods
        and rule.endpoint not in ("static", "accounts.sign_out")
        and not rule.endpoint.startswith("security.")
    ]


def addresses(app, session: Session, limit: int) -> list[str]:
    ids = {name: sorted(session.execute(select(model.id)).scalars())[:40] for name, model in ID_ARGUMENTS.items()}
    out = []
    for rule in routes(app):
        names = sorted(rule.arguments)
        if not names:
            out.append(rule.build({}, append_unknown=False)[1])
            continue
        if len(names) == 1 and names[0] in ids:
            out += [rule.build({names[0]: value}, append_unknown=False)[1] for value in ids[names[0]] + [987654]]
        elif all(name in ids or "id" in name for name in names):
            out.append(rule.build({name: (ids.get(name) or [1])[0] for name in names}, append_unknown=False)[1])
    return out[:limit]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:5000")
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--limit", type=int, default=4000, help="requests per user, at most")
    args = parser.parse_args()

    from marketplace import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": args.database_url})
    engine = create_engine(args.database_url)
    problems = 0
    started = time.monotonic()
    with Session(engine) as session:
        paths = addresses(app, session, args.limit)
        users = (
            session.execute(select(User).where(User.role.in_([Role.BUYER, Role.VENDOR])).order_by(User.id))
            .scalars()
            .all()
        )
        for number, user in enumerate(users, 1):
            browser = Browser(args.url)
            if not browser.sign_in(user.email):
                print(f"{user.email}: could not sign in", file=sys.stderr)
                problems += 1
                continue
            secrets = secrets_for(session, user)
            statuses: Counter = Counter()
            leaks = []
            for path in paths:
                status, body = browser.get(path)
                statuses[status] += 1
                text = html.unescape(body)
                if status >= 500:
                    leaks.append(f"{path}: {status}")
                leaks += [f"{path}: shows {secret!r}" for secret in secrets if secret in text]
            problems += len(leaks)
            counts = ", ".join(f"{code}: {count}" for code, count in sorted(statuses.items()))
            print(
                f"[{number}/{len(users)}] {user.email} ({user.role}): {len(paths)} requests ({counts}); "
                f"{len(secrets)} secrets watched; {len(leaks)} problems",
                flush=True,
            )
            for leak in leaks[:20]:
                print(f"    {leak}")
    print(f"{len(users)} users, {problems} problems, {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
