"""Whatever changes, and in whatever order, the verdicts stored for buyer-side lists agree with a live screening
of every (buyer, vendor) pair: every change re-screens every vendor whose verdict it can change.

Seeded random walks through the services: disclosures filed, submitted, approved, sent back and rejected, with
ties between random parties, other platform vendors among them (shares in each other, board seats and roles
elsewhere, in vendors and rivals); admin facts; rivals named and dropped; policies; merges of parties.
"""

import random
from datetime import timedelta

import pytest
from sqlalchemy import select

from marketplace.accounts.models import Organization
from marketplace.db_types import utcnow
from marketplace.disclosures import service as disclosures
from marketplace.disclosures.facts import FactInput, record_fact
from marketplace.disclosures.models import DisclosureStatus, DisclosureVersion
from marketplace.parties.models import Party
from marketplace.parties.registry import RegistryError, merge_parties
from marketplace.screening.engine.verdicts import DEFAULT_ACTIONS
from marketplace.screening.models import Rival
from marketplace.screening.services.policy import PolicyError, PolicyInput, save_policy
from marketplace.screening.services.refresh import refresh_verdicts
from marketplace.screening.services.rivals import RivalError, add_rival_by_name, remove_rival
from tests.factories import (
    AdminFactory,
    BuyerFactory,
    PartyFactory,
    PersonFactory,
    VendorFactory,
    VendorOrgFactory,
    VerifiedVendorOrgFactory,
)

REFUSED = (disclosures.DisclosureError, RivalError, PolicyError, RegistryError)
VENDORS = ("Polyglot Response Co", "Scalewise Data", "Tagly", "Annotate Co")
ENTITIES = ("Cobalt Social", "Helix Compute", "Granite Holdings", "Granite Holdings Ltd", "Orbit Fund")
PEOPLE = ("Mallory Probe", "Dana Reyes", "Dana Reyes-Li")
STEPS = 30


class Walk:
    """The market the walk changes, and one random change at a time (each returns what it did, for the log)."""

    def __init__(self, session, rng: random.Random):
        self.session, self.rng = session, rng
        self.admin = AdminFactory()
        self.buyers = [BuyerFactory(), BuyerFactory()]
        self.vendors = []
        for index, name in enumerate(VENDORS):
            make_org = VerifiedVendorOrgFactory if index % 2 == 0 else VendorOrgFactory
            self.vendors.append(VendorFactory(org_id=make_org(name=name).id))
        for name in ENTITIES:
            PartyFactory(name=name)
        for name in PEOPLE:
            PersonFactory(name=name)
        for buyer in self.buyers:
            add_rival_by_name(session, buyer, "Cobalt Social")

    def names(self) -> list[str]:
        return list(VENDORS) + list(ENTITIES)

    def random_tie(self, vendor_name: str) -> disclosures.TieInput:
        rng = self.rng
        kind = rng.choice(
            [
                "shareholding",
                "shareholding",
                "votingRights",
                "boardMember",
                "seniorManagingOfficial",
                "elsewhere:boardMember",
                "elsewhere:boardMember",
                "elsewhere:seniorManagingOfficial",
                "exclusive_agreement",
                "customer",
            ]
        )
        others = [name for name in self.names() if name != vendor_name]
        if kind in ("boardMember", "seniorManagingOfficial") or kind.startswith("elsewhere:"):
            tie = disclosures.TieInput(
                kind=kind,
                party_name=rng.choice(PEOPLE),
                party_kind="person",
                other_org=rng.choice(others) if kind.startswith("elsewhere:") else "",
            )
        else:
            tie = disclosures.TieInput(kind=kind, party_name=rng.choice(others))
        if kind in ("shareholding", "votingRights"):
            tie.share_exact = float(rng.choice([5, 12, 30, 55]))
        if kind == "customer":
            tie.revenue_share_pct = float(rng.choice([10, 40]))
        if rng.random() < 0.15:  # a former tie: the people rule looks back at it
            today = utcnow().date()
            tie.start_date, tie.end_date = today - timedelta(days=700), today - timedelta(days=30)
        return tie

    def file(self) -> str:
        vendor = self.rng.choice(self.vendors)
        draft = disclosures.draft_of(self.session, vendor.org_id)
        version = draft or disclosures.start_new_version(self.session, vendor)
        org = self.session.get(Organization, vendor.org_id)
        done = []
        for _ in range(self.rng.randint(1, 3)):
            tie = self.random_tie(org.name)
            try:
                disclosures.add_tie(self.session, vendor, version.id, tie)
                done.append(f"{tie.kind} {tie.party_name}{' at ' + tie.other_org if tie.other_org else ''}")
            except REFUSED:
                pass
        if self.rng.random() < 0.25:  # drop a copied tie
            views = disclosures.tie_views(self.session, version)
            if views:
                view = self.rng.choice(views)
                disclosures.remove_tie(self.session, vendor, version.id, view.table, view.id)
                done.append(f"removed {view.kind} {view.party_name}")
        submitted = self.rng.random() < 0.8
        if submitted:
            try:
                disclosures.submit_version(
                    self.session, vendor, version.id, attester_name="Officer", attester_title="CEO", attested=True
                )
            except REFUSED:
                submitted = False
        return f"{org.name} v{version.number}: {', '.join(done)}{' (submitted)' if submitted else ''}"

    def decide(self) -> str:
        waiting = (
            self.session.execute(
                select(DisclosureVersion)
                .where(DisclosureVersion.status == DisclosureStatus.SUBMITTED)
                .order_by(DisclosureVersion.id)
            )
            .scalars()
            .all()
        )
        if not waiting:
            return self.file()
        version = self.rng.choice(waiting)
        decision = self.rng.choice(["approved", "approved", "rejected", "changes_requested"])
        disclosures.decide_version(self.session, self.admin, version.id, decision, "Because.")
        return f"decided {decision} on version {version.id}"

    def fact(self) -> str:
        vendor = self.rng.choice(self.vendors)
        org = self.session.get(Organization, vendor.org_id)
        tie = self.random_tie(org.name)
        if tie.kind in ("customer", "exclusive_agreement") or tie.kind.startswith("elsewhere:"):
            tie = disclosures.TieInput(
                kind="shareholding",
                party_name=self.rng.choice([n for n in self.names() if n != org.name]),
                share_exact=float(self.rng.choice([12, 30, 60])),
            )
        fact = FactInput(
            **vars(tie),
            verification_level="official register",
            source_url="https://registry.example/filing",
            source_date=utcnow().date(),
        )
        try:
            record_fact(self.session, self.admin, org.id, fact)
        except REFUSED:
            return "fact refused"
        return f"fact: {tie.kind} {tie.party_name} {tie.share_exact} in {org.name}"

    def rivals(self) -> str:
        buyer = self.rng.choice(self.buyers)
        named = self.session.execute(select(Rival).where(Rival.buyer_org_id == buyer.org_id)).scalars().all()
        if named and self.rng.random() < 0.4:
            rival = self.rng.choice(named)
            remove_rival(self.session, buyer, rival.id)
            return f"buyer {buyer.org_id} dropped rival {rival.party_id}"
        name = self.rng.choice(["Cobalt Social", "Helix Compute", "Orbit Fund", *VENDORS])
        try:
            add_rival_by_name(self.session, buyer, name)
        except REFUSED:
            return "rival refused"
        return f"buyer {buyer.org_id} named {name}"

    def policy(self) -> str:
        buyer = self.rng.choice(self.buyers)
        exclude_at = float(self.rng.choice([20, 25, 50]))
        actions = {str(rule): str(action) for rule, action in DEFAULT_ACTIONS.items()}
        actions |= {"board": self.rng.choice(["exclude", "review"]), "people": self.rng.choice(["review", "ignore"])}
        save_policy(
            self.session,
            buyer,
            PolicyInput(exclude_at=exclude_at, review_at=10.0, people_window_months=24, actions=actions),
        )
        return f"buyer {buyer.org_id} policy {exclude_at} {actions}"

    def merge(self) -> str:
        pairs = [
            ("Granite Holdings", "Granite Holdings Ltd"),
            ("Dana Reyes", "Dana Reyes-Li"),
            ("Orbit Fund", "Helix Compute"),
        ]
        keep_name, merged_name = self.rng.choice(pairs)
        keep, merged = (
            self.session.execute(select(Party).where(Party.name == name, Party.merged_into_id.is_(None)))
            .scalars()
            .first()
            for name in (keep_name, merged_name)
        )
        if keep is None or merged is None:
            return "nothing to merge"
        try:
            merge_parties(self.session, self.admin, keep.id, merged.id)
        except REFUSED:
            return "merge refused"
        return f"merged {merged_name} into {keep_name}"

    def step(self) -> str:
        change = self.rng.choices(
            [self.file, self.decide, self.fact, self.rivals, self.policy, self.merge], weights=[5, 4, 2, 1, 1, 1]
        )[0]
        return change()


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_stored_verdicts_agree_with_live_screening_after_every_change(session, stored_against_live, seed):
    walk = Walk(session, random.Random(seed))
    refresh_verdicts(session, None)
    done = []
    for _ in range(STEPS):
        done.append(walk.step())
        session.flush()
        assert stored_against_live() == [], "after:\n" + "\n".join(done)
