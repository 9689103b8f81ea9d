"""A synthetic ownership graph for the screening benchmark, in an empty database built by the migrations.

    python bench/generate.py --parties 100000 --interests 300000 --vendors 10000 --seed 1 \
        --database-url sqlite:////tmp/bench.db [--today 2026-12-07]

What it makes (deterministic for a seed):
- parties: the vendors' own entities, 5 big rival companies, holding companies on 8 levels above the vendors,
  persons, and about 1% unspecified (anonymous/unknown) owners;
- one vendor organisation per vendor party, with a profile and an approved disclosure version each (most
  approved within the last 12 months, about 10% stale), and one buyer organisation with 5 rivals and a user
  (BUYER_EMAIL / BUYER_PASSWORD) to sign in as;
- interests: shareholding chains from level 8 down to the vendors (each entity held by 1-4 parties of the level
  above, sometimes two levels above), the rivals holding stakes (majority and minority) at every level, cross-
  holdings that close cycles, exact shares (summing to at most 100 per subject), ranges with exclusive bounds,
  missing shares, start and end dates (some ended, some not yet started), voting rights, appointment of the
  board, board and senior roles held by persons in vendors and in rival subsidiaries, a few
  otherInfluenceOrControl / unknownInterest; most recorded as admin facts, about 5% through the vendor's
  disclosure;
- commercial ties from vendors to rivals and their subsidiaries.

On PostgreSQL the database named in the URL is dropped and created again; on SQLite the file is deleted first.
"""

import random
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import click
from sqlalchemy import create_engine, insert, text
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace.accounts.names import org_name_key  # noqa: E402  (a pure function: no app needed)
from marketplace.parties.matching import match_columns  # noqa: E402  (the parties' stored match keys)

BUYER_EMAIL = "bench-buyer@bench.example"
BUYER_PASSWORD = "bench-password-2026"  # noqa: S105  (a synthetic benchmark account)
RIVALS = 5
LEVELS = 8
BATCH = 10_000
# The day the register is dated from (its ties' start and end dates, its approvals' ages): today, unless --today
# names another, so that a register made on another day gives the same findings digest.
TODAY = date.today()
NOW = datetime.now(UTC)
MODALITIES = ["image", "video", "text", "audio", "3d_lidar", "multimodal"]
CERTIFICATIONS = ["soc2_type2", "iso27001", "hipaa", "gdpr", "iso9001", "tisax"]
# BODS-like share bands: (min, max, min exclusive, max exclusive)
BANDS = [
    (0, 25, True, True),
    (25, 50, False, True),
    (50, 75, False, True),
    (75, 100, False, False),
    (5, 10, False, True),
    (10, 25, False, False),
]


def _empty_database(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        return
    if parsed.get_backend_name() == "postgresql":
        admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
        admin.dispose()
        return
    raise click.UsageError("only sqlite and postgresql URLs are supported")


def _day(rng: random.Random, days_back: int, days_forward: int = 0) -> date:
    return TODAY + timedelta(days=rng.randint(-days_back, days_forward))


class Builder:
    """Rows of every table, with explicit ids."""

    def __init__(self, parties: int, interests: int, vendors: int, seed: int):
        self.rng = random.Random(seed)
        self.n_parties, self.n_interests, self.n_vendors = parties, interests, vendors
        self.parties: list[dict] = []
        self.interests: list[dict] = []
        self.commercial: list[dict] = []
        # exact share already given out per subject, so exact shares sum to at most 100
        self.given: dict[int, float] = {}

    # -- parties -------------------------------------------------------------------------------------------

    def party(self, kind: str, party_type: str, name: str) -> int:
        party_id = len(self.parties) + 1
        self.parties.append(
            {
                "id": party_id,
                "kind": kind,
                "party_type": party_type,
                "name": name,
                "name_normalized": name.lower(),
                "jurisdiction": "",
                "description": "",
                "unspecified_reason": "",
                "bods_record_id": None,
                "merged_into_id": None,
                "created_at": NOW,
                **match_columns(name),
            }
        )
        return party_id

    def make_vendors_and_rivals(self) -> int:
        """The vendors' and rivals' parties; returns how many parties are left to make."""
        self.vendor_parties = [
            self.party("entity", "registeredEntity", f"Vendor {i:05d} Labeling Ltd") for i in range(self.n_vendors)
        ]
        self.rivals = [self.party("entity", "registeredEntity", f"Rival Lab {chr(65 + i)} Inc") for i in range(RIVALS)]
        return self.n_parties - len(self.parties)

    def make_parties(self) -> None:
        rng = self.rng
        rest = self.make_vendors_and_rivals()
        n_unspecified = max(1, rest // 100)
        n_persons = rest * 30 // 100
        n_entities = rest - n_unspecified - n_persons
        # holding companies on levels 1..8 above the vendors (level 0); fewer at the top
        weights = [LEVELS + 2 - level for level in range(1, LEVELS + 1)]
        self.levels: list[list[int]] = [list(self.vendor_parties)] + [[] for _ in range(LEVELS)]
        for i in range(n_entities):
            level = rng.choices(range(1, LEVELS + 1), weights)[0]
            self.levels[level].append(self.party("entity", "registeredEntity", f"Holding {i:06d} SA"))
        self.persons = [self.party("person", "knownPerson", f"Person {i:06d}") for i in range(n_persons)]
        self.unspecified = [
            self.party("unspecified", rng.choice(["anonymousEntity", "unknownPerson"]), f"Undisclosed owner {i}")
            for i in range(n_unspecified)
        ]
        for party_id in self.unspecified:
            self.parties[party_id - 1]["unspecified_reason"] = "subjectUnableToConfirmOrIdentifyBeneficialOwner"

    # -- interests -----------------------------------------------------------------------------------------

    def interest(self, holder: int, subject: int, interest_type: str, share=None, role_title: str = "") -> None:
        """share: None, a float (exact), or a band tuple."""
        rng = self.rng
        exact = smin = smax = None
        min_ex = max_ex = False
        if isinstance(share, tuple):
            smin, smax, min_ex, max_ex = share
        elif share is not None:
            exact = round(share, 3)
        start = end = None
        roll = rng.random()
        if roll < 0.6:
            start = _day(rng, 3650, -30)
        if roll > 0.90:  # ended: mostly within the people window, some long ago
            start = _day(rng, 3650, -800)
            end = _day(rng, 1000, -1)
        elif roll > 0.87:  # not yet started
            start = _day(rng, 0, 365)
            start = start if start > TODAY else TODAY + timedelta(days=1)
        self.interests.append(
            {
                "id": len(self.interests) + 1,
                "interested_party_id": holder,
                "subject_party_id": subject,
                "interest_type": interest_type,
                "share_exact": exact,
                "share_min": smin,
                "share_max": smax,
                "share_min_exclusive": min_ex,
                "share_max_exclusive": max_ex,
                "start_date": start,
                "end_date": end,
                "role_title": role_title,
                "note": "",
                "bods_statement_id": None,
                "origin": "admin_fact",
                "disclosure_id": None,
                "verification_level": "admin-verified",
                "source_description": "",
                "source_url": "",
                "source_date": None,
                "recorded_by_id": None,
                "recorded_at": NOW,
            }
        )

    def share(self, subject: int, wanted: float):
        """An exact share that keeps the subject's exact shares at most 100, or a band, or nothing."""
        rng = self.rng
        roll = rng.random()
        if roll < 0.05:
            return None
        if roll < 0.22:
            return rng.choice(BANDS)
        room = 100.0 - self.given.get(subject, 0.0)
        value = max(0.01, min(wanted, room))
        if room <= 0.01:
            return rng.choice(BANDS)
        self.given[subject] = self.given.get(subject, 0.0) + value
        return value

    def make_chains(self, budget: int) -> None:
        """Each entity of levels 0..7 held by 1-4 parties of the level above (sometimes two above)."""
        rng = self.rng
        made = 0
        subjects = [(level, s) for level in range(LEVELS) for s in self.levels[level]]
        rng.shuffle(subjects)
        top_holders = self.persons[: len(self.persons) // 2]
        while made < budget:
            for level, subject in subjects:
                if made >= budget:
                    break
                holders = rng.randint(1, 4)
                splits = [rng.random() for _ in range(holders)]
                total = rng.uniform(60, 100)
                for weight in splits:
                    if made >= budget:
                        break
                    above = min(LEVELS, level + (2 if rng.random() < 0.1 else 1))
                    pool = self.levels[above] if self.levels[above] and rng.random() < 0.85 else top_holders
                    holder = rng.choice(pool)
                    kind = "votingRights" if rng.random() < 0.07 else "shareholding"
                    self.interest(holder, subject, kind, self.share(subject, total * weight / sum(splits)))
                    made += 1

    def make_rival_stakes(self, count: int) -> None:
        """Rivals hold stakes at every level: majorities (their subsidiaries) and minorities."""
        rng = self.rng
        self.rival_subsidiaries: list[int] = []
        for i in range(count):
            rival = self.rivals[i % RIVALS]
            level = rng.randint(1, LEVELS)
            subject = rng.choice(self.levels[level])
            majority = rng.random() < 0.5
            if majority:
                self.rival_subsidiaries.append(subject)
            wanted = rng.uniform(51, 100) if majority else rng.uniform(1, 30)
            self.interest(rival, subject, "shareholding", self.share(subject, wanted))

    def make_cross_holdings(self, count: int) -> None:
        """Lower entities holding small stakes in higher ones: cycles."""
        rng = self.rng
        for _ in range(count):
            level = rng.randint(0, LEVELS - 2)
            holder = rng.choice(self.levels[level])
            subject = rng.choice(self.levels[rng.randint(level + 1, LEVELS)])
            self.interest(holder, subject, "shareholding", self.share(subject, rng.uniform(0.5, 15)))

    def make_roles(self, count: int) -> None:
        """Board and senior roles by persons in vendors and in rival subsidiaries (and elsewhere)."""
        rng = self.rng
        people = self.persons[len(self.persons) // 2 :] or self.persons
        targets = self.rival_subsidiaries or self.levels[1]
        for i in range(count):
            person = rng.choice(people)
            roll = i % 3
            subject = (
                rng.choice(self.vendor_parties)
                if roll == 0
                else rng.choice(targets)
                if roll == 1
                else rng.choice(self.levels[rng.randint(1, LEVELS)])
            )
            kind = rng.choice(["boardMember", "boardMember", "boardChair", "seniorManagingOfficial"])
            title = {"boardChair": "Chair", "seniorManagingOfficial": "Chief Executive"}.get(kind, "Director")
            self.interest(person, subject, kind, None, title)

    def make_others(self, count: int) -> None:
        rng = self.rng
        for i in range(count):
            subject = rng.choice(self.levels[rng.randint(0, LEVELS - 1)])
            if i % 4 == 0:
                self.interest(rng.choice(self.unspecified), subject, "unknownInterest")
            elif i % 4 == 1:
                self.interest(
                    rng.choice(self.unspecified), subject, "shareholding", self.share(subject, rng.uniform(1, 30))
                )
            elif i % 4 == 2:
                holder = rng.choice(self.rivals) if rng.random() < 0.2 else rng.choice(self.levels[LEVELS])
                self.interest(holder, subject, "otherInfluenceOrControl")
            else:
                holder = rng.choice(self.rivals) if rng.random() < 0.1 else rng.choice(self.levels[LEVELS])
                self.interest(holder, subject, "appointmentOfBoard")

    def make_interests(self) -> None:
        total = self.n_interests
        rival_stakes = max(RIVALS, total // 300)
        cross = total // 30
        roles = total // 5
        others = total // 100
        self.make_rival_stakes(rival_stakes)
        self.make_cross_holdings(cross)
        self.make_roles(roles)
        self.make_others(others)
        self.make_chains(total - len(self.interests))

    def make_commercial(self) -> None:
        rng = self.rng
        targets = self.rivals + self.rival_subsidiaries + self.levels[LEVELS]
        for i in range(self.n_vendors // 2):
            self.commercial.append(
                {
                    "id": i + 1,
                    "vendor_party_id": rng.choice(self.vendor_parties),
                    "counterparty_id": rng.choice(targets),
                    "kind": rng.choice(
                        ["customer", "customer", "exclusive_agreement", "subcontractor", "investor", "lender"]
                    ),
                    "revenue_share_pct": round(rng.uniform(1, 60), 1) if rng.random() < 0.7 else None,
                    "start_date": _day(rng, 2000, -1) if rng.random() < 0.5 else None,
                    "end_date": _day(rng, 500, -1) if rng.random() < 0.1 else None,
                    "note": "",
                    "origin": "admin_fact",
                    "disclosure_id": None,
                    "verification_level": "admin-verified",
                    "source_description": "",
                    "source_url": "",
                    "source_date": None,
                    "recorded_by_id": None,
                    "recorded_at": NOW,
                }
            )

    # -- organisations -------------------------------------------------------------------------------------

    def make_orgs(self, password_hash: str) -> None:
        rng = self.rng
        self.orgs, self.profiles, self.versions, self.users, self.rival_rows = [], [], [], [], []
        self.org_of_party = {}
        keys = set()

        def unique_key(name: str, org_id: int) -> str:
            """Organisation names are unique but for case, punctuation and legal suffix: generated ones may repeat."""
            key = org_name_key(name)
            key = key if key and key not in keys else f"{key}-{org_id}"
            keys.add(key)
            return key

        for i, party_id in enumerate(self.vendor_parties):
            org_id = i + 1
            self.org_of_party[party_id] = org_id
            name = self.parties[party_id - 1]["name"]
            self.orgs.append(
                {
                    "id": org_id,
                    "name": name,
                    "name_key": unique_key(name, org_id),
                    "kind": "vendor",
                    "party_id": party_id,
                    "website": "",
                    "country": "",
                    "suspended_at": None,
                    "suspended_reason": "",
                    "verified_at": None,
                    "created_at": NOW,
                }
            )
            self.profiles.append(
                {
                    "id": org_id,
                    "org_id": org_id,
                    "summary": "",
                    "modalities": rng.sample(MODALITIES, rng.randint(1, 3)),
                    "task_types": [],
                    "certifications": rng.sample(CERTIFICATIONS, rng.randint(0, 2)),
                    "languages": [],
                    "workforce_size": rng.randint(10, 5000),
                    "workforce_locations": [],
                    "data_handling": [],
                    "updated_at": NOW,
                }
            )
            stale = rng.random() < 0.1
            decided = NOW - timedelta(days=rng.randint(400, 900) if stale else rng.randint(1, 360))
            self.versions.append(
                {
                    "id": org_id,
                    "vendor_org_id": org_id,
                    "number": 1,
                    "status": "approved",
                    "summary": "",
                    "created_by_id": None,
                    "created_at": decided - timedelta(days=3),
                    "attested_by_id": None,
                    "attester_name": "Bench Officer",
                    "attester_title": "CFO",
                    "submitted_at": decided - timedelta(days=2),
                    "decided_by_id": None,
                    "decided_at": decided,
                    "decision_reason": "",
                }
            )
        self.buyer_org_id = len(self.orgs) + 1
        self.orgs.append(
            {
                "id": self.buyer_org_id,
                "name": "Bench Buyer AI",
                "name_key": unique_key("Bench Buyer AI", self.buyer_org_id),
                "kind": "buyer",
                "party_id": None,
                "website": "",
                "country": "",
                "suspended_at": None,
                "suspended_reason": "",
                "verified_at": NOW,
                "created_at": NOW,
            }
        )
        self.users.append(
            {
                "id": 1,
                "email": BUYER_EMAIL,
                "name": "Bench Buyer",
                "password_hash": password_hash,
                "role": "buyer",
                "org_id": self.buyer_org_id,
                "timezone": "UTC",
                "session_version": 1,
                "email_verified_at": NOW,
                "created_at": NOW,
            }
        )
        self.rival_rows = [
            {"id": i + 1, "buyer_org_id": self.buyer_org_id, "party_id": rival, "added_by_id": None, "created_at": NOW}
            for i, rival in enumerate(self.rivals)
        ]
        # About 5% of the ties into vendors were disclosed by the vendor rather than recorded by an admin.
        for row in self.interests:
            org_id = self.org_of_party.get(row["subject_party_id"])
            if org_id is not None and rng.random() < 0.05:
                row["origin"], row["disclosure_id"], row["verification_level"] = "disclosure", org_id, "self-declared"


class GroupsBuilder(Builder):
    """A market shaped like a company register: many small corporate groups, not one web.

    Each group is a tree of holding companies under a top owned by people or funds, up to 8 levels deep; most
    vendors sit in a group, the rest stand alone. Investment funds hold minority stakes across groups; the five
    rivals each head a group of subsidiaries that reaches into a small share of vendors (majority and minority
    stakes, board seats, shared directors, contracts, customers). Cross-holdings close cycles inside groups and a
    few between them. Most roles are held by a group's own directors.
    """

    GROUP_DEPTH = [0.30, 0.22, 0.15, 0.11, 0.08, 0.06, 0.05, 0.03]  # weights of depth 1..8
    RIVAL_GROUP = 200
    FUNDS = 2000

    def make_parties(self) -> None:
        rng = self.rng
        rest = self.make_vendors_and_rivals()
        n_unspecified = max(1, rest // 100)
        n_persons = rest * 40 // 100
        n_funds = min(self.FUNDS, rest // 40)
        n_rival_subs = min(RIVALS * self.RIVAL_GROUP, rest // 20)
        n_holdcos = rest - n_unspecified - n_persons - n_funds - n_rival_subs
        self.persons = [self.party("person", "knownPerson", f"Person {i:06d}") for i in range(n_persons)]
        self.unspecified = [
            self.party("unspecified", rng.choice(["anonymousEntity", "unknownPerson"]), f"Undisclosed owner {i}")
            for i in range(n_unspecified)
        ]
        for party_id in self.unspecified:
            self.parties[party_id - 1]["unspecified_reason"] = "subjectUnableToConfirmOrIdentifyBeneficialOwner"
        self.funds = [self.party("entity", "registeredEntity", f"Fund {i:05d} LP") for i in range(n_funds)]
        # parent (None for a group's top), depth (1 for a top) and group of every entity in a tree
        self.parent: dict[int, int | None] = {}
        self.depth: dict[int, int] = {}
        self.group: dict[int, int] = {}
        self.groups: list[list[int]] = []
        self.rival_members: list[int] = []
        for index, rival in enumerate(self.rivals):  # each rival heads its own group, depth 1
            self.parent[rival], self.depth[rival], self.group[rival] = None, 1, index
            self.groups.append([rival])
        for i in range(n_rival_subs):
            group = self.groups[i % RIVALS]
            self._attach(
                self.party("entity", "registeredEntity", f"Rival {chr(65 + i % RIVALS)} Sub {i:04d} Ltd"),
                group,
                rng.choice([m for m in group[-40:] if self.depth[m] < LEVELS] or group[:1]),
            )
            self.rival_members.append(group[-1])
        made = 0
        while made < n_holdcos:
            size = min(n_holdcos - made, max(1, int(rng.paretovariate(1.3))))
            top = self.party("entity", "registeredEntity", f"Holding {made:06d} SA")
            self.parent[top], self.depth[top], self.group[top] = None, 1, len(self.groups)
            group = [top]
            self.groups.append(group)
            wanted = rng.choices(range(1, LEVELS + 1), self.GROUP_DEPTH)[0]
            made += 1
            for _ in range(size - 1):
                deep = [m for m in group if self.depth[m] < wanted]
                above = rng.choice(deep) if deep else top
                self._attach(self.party("entity", "registeredEntity", f"Holding {made:06d} SA"), group, above)
                made += 1
        # Two vendors in three sit inside a group, under any member above the bottom level.
        company_groups = self.groups[RIVALS:]
        for vendor in self.vendor_parties:
            if rng.random() < 0.66 and company_groups:
                group = rng.choice(company_groups)
                above = rng.choice([m for m in group if self.depth[m] < LEVELS] or group[:1])
                self._attach(vendor, group, above)
            else:
                self.parent[vendor], self.depth[vendor], self.group[vendor] = None, 1, len(self.groups)
                self.groups.append([vendor])
        # Each group has its own directors; people serve in one group, a few in two.
        self.directors = {}
        pool = list(self.persons)
        rng.shuffle(pool)
        for index, group in enumerate(self.groups):
            count = max(2, min(12, len(group) // 2 + 1))
            self.directors[index] = [pool[(index * 3 + k) % len(pool)] for k in range(count)]
        # make_commercial's counterparties: the rivals, their subsidiaries, and every other company (level 8 here)
        self.levels = [list(self.vendor_parties)] + [[] for _ in range(LEVELS - 1)]
        vendors = set(self.vendor_parties)
        self.levels.append([e for group in company_groups for e in group if e not in vendors])
        self.rival_subsidiaries = self.rival_members

    def _attach(self, child: int, group: list[int], above: int) -> None:
        self.parent[child], self.depth[child], self.group[child] = above, self.depth[above] + 1, self.group[above]
        group.append(child)

    def _holding(self, holder: int, subject: int, wanted: float) -> None:
        kind = "votingRights" if self.rng.random() < 0.07 else "shareholding"
        self.interest(holder, subject, kind, self.share(subject, wanted))

    def make_interests(self) -> None:
        rng = self.rng
        entities = [e for group in self.groups for e in group]
        outsiders = [e for e in entities if self.group[e] >= RIVALS]
        # Ownership inside groups: the parent holds a majority, people and funds the rest.
        for entity in entities:
            parent = self.parent[entity]
            if entity in self.rivals:
                for person in rng.sample(self.persons, 3):
                    self._holding(person, entity, rng.uniform(2, 20))
                continue
            if parent is not None:
                self._holding(parent, entity, 100.0 if rng.random() < 0.5 else rng.uniform(51, 99))
            owners = rng.randint(1, 4) if parent is None else rng.choice([0, 0, 1, 2])
            for _ in range(owners):
                roll = rng.random()
                holder = (
                    rng.choice(self.funds)
                    if roll < 0.25
                    else rng.choice(self.directors[self.group[entity]])
                    if roll < 0.9
                    else rng.choice(self.persons)
                )
                self._holding(holder, entity, rng.uniform(2, 40))
        for fund in self.funds:  # funds: general partners and, now and then, a fund of funds
            for person in rng.sample(self.persons, rng.randint(1, 3)):
                self._holding(person, fund, rng.uniform(5, 60))
            if rng.random() < 0.1:
                self._holding(rng.choice(self.funds[:50]), fund, rng.uniform(5, 30))
        # The rivals' reach: majorities and minorities in vendors and other groups, seats, directors, contracts.
        vendors = self.vendor_parties
        for vendor in rng.sample(vendors, len(vendors) * 6 // 1000):
            self._holding(rng.choice(self.rival_members), vendor, rng.uniform(51, 100))
        for vendor in rng.sample(vendors, len(vendors) * 15 // 1000):
            self._holding(rng.choice(self.rival_members), vendor, rng.uniform(3, 40))
        for entity in rng.sample(outsiders, len(vendors) // 100):
            self._holding(rng.choice(self.rival_members), entity, rng.uniform(5, 45))
        for vendor in rng.sample(vendors, len(vendors) // 200):
            self.interest(rng.choice(self.rival_members), vendor, "boardMember", None, "Director")
        for vendor in rng.sample(vendors, len(vendors) * 15 // 1000):
            person = rng.choice(self.directors[self.group[rng.choice(self.rival_members)]])
            self.interest(person, vendor, rng.choice(["boardMember", "seniorManagingOfficial"]), None, "Director")
        for vendor in rng.sample(vendors, len(vendors) * 3 // 1000):
            self.interest(
                rng.choice(self.rival_members), vendor, rng.choice(["otherInfluenceOrControl", "appointmentOfBoard"])
            )
        # Cross-holdings: mostly a subsidiary holding a little of a company above it, some across groups.
        for _ in range(self.n_interests // 60):
            holder = rng.choice(entities)
            ancestors = []
            node = self.parent.get(holder)
            while node is not None:
                ancestors.append(node)
                node = self.parent[node]
            subject = rng.choice(ancestors) if ancestors and rng.random() < 0.8 else rng.choice(outsiders)
            if subject != holder:
                self._holding(holder, subject, rng.uniform(0.5, 10))
        # Owners nobody can name, and interests nobody has published.
        for owner in self.unspecified:
            for _ in range(rng.randint(1, 3)):
                self._holding(owner, rng.choice(outsiders), rng.uniform(1, 30))
            if rng.random() < 0.8:
                self.interest(owner, rng.choice(outsiders), "unknownInterest")
        # Officers: the rest of the interests, each entity's roles held mostly by its group's directors.
        kinds = ["boardMember", "boardMember", "boardChair", "seniorManagingOfficial"]
        while len(self.interests) < self.n_interests:
            entity = rng.choice(entities)
            person = rng.choice(self.directors[self.group[entity]]) if rng.random() < 0.97 else rng.choice(self.persons)
            kind = rng.choice(kinds)
            title = {"boardChair": "Chair", "seniorManagingOfficial": "Chief Executive"}.get(kind, "Director")
            self.interest(person, entity, kind, None, title)


SHAPES = {"groups": GroupsBuilder, "dense": Builder}


def _insert(conn, table, rows: list[dict], label: str) -> None:
    with click.progressbar(range(0, len(rows), BATCH), label=f"{label:<18}", file=sys.stderr) as bar:
        for start in bar:
            conn.execute(insert(table), rows[start : start + BATCH])


@click.command()
@click.option("--parties", default=100_000, show_default=True)
@click.option("--interests", default=300_000, show_default=True)
@click.option("--vendors", default=10_000, show_default=True)
@click.option("--seed", default=1, show_default=True)
@click.option(
    "--shape",
    type=click.Choice(sorted(SHAPES)),
    default="groups",
    show_default=True,
    help="groups: many small corporate groups (a register); dense: one web of 8 levels (a stress test)",
)
@click.option("--database-url", required=True, help="sqlite:////tmp/bench.db or postgresql+psycopg://...")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="date the register from this day (noon UTC) instead of today's: the same digest on any day",
)
def main(
    parties: int, interests: int, vendors: int, seed: int, shape: str, database_url: str, today: datetime | None
) -> None:
    """Build the schema with the migrations in an empty database and fill it with a synthetic graph."""
    global TODAY, NOW  # noqa: PLW0603  (module constants the builders read)
    if today is not None:
        TODAY, NOW = today.date(), datetime.combine(today.date(), datetime.min.time().replace(hour=12), UTC)
    import flask_migrate

    from marketplace import create_app
    from marketplace.accounts.models import Organization, User, VendorProfile
    from marketplace.accounts.passwords import hash_password
    from marketplace.disclosures.models import DisclosureVersion
    from marketplace.extensions import db
    from marketplace.parties.models import CommercialTie, Interest, Party
    from marketplace.screening.models import Rival

    if parties < vendors + RIVALS + 100:
        raise click.UsageError("--parties must exceed --vendors by at least 105")
    started = time.perf_counter()
    _empty_database(database_url)
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        flask_migrate.upgrade()
        click.echo(f"schema by migrations: {time.perf_counter() - started:.1f}s", err=True)
        builder = SHAPES[shape](parties, interests, vendors, seed)
        builder.make_parties()
        builder.make_interests()
        builder.make_commercial()
        builder.make_orgs(hash_password(BUYER_PASSWORD))
        click.echo(f"rows built: {time.perf_counter() - started:.1f}s", err=True)
        engine = db.engine
        with engine.begin() as conn:
            _insert(conn, Party.__table__, builder.parties, "parties")
            _insert(conn, Organization.__table__, builder.orgs, "organisations")
            _insert(conn, VendorProfile.__table__, builder.profiles, "profiles")
            _insert(conn, User.__table__, builder.users, "users")
            _insert(conn, DisclosureVersion.__table__, builder.versions, "disclosures")
            _insert(conn, Rival.__table__, builder.rival_rows, "rivals")
            _insert(conn, Interest.__table__, builder.interests, "interests")
            _insert(conn, CommercialTie.__table__, builder.commercial, "commercial ties")
            if engine.dialect.name == "postgresql":
                for table in (
                    "party",
                    "organization",
                    "vendorprofile",
                    "user_account",
                    "disclosureversion",
                    "rival",
                    "interest",
                    "commercialtie",
                ):
                    sql = f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))"  # noqa: S608
                    conn.execute(text(sql))
        if engine.dialect.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM ANALYZE"))
        else:
            with engine.begin() as conn:
                conn.execute(text("ANALYZE"))
    click.echo(
        f"{len(builder.parties)} parties, {len(builder.interests)} interests, "
        f"{len(builder.commercial)} commercial ties, {vendors} vendors, buyer org {builder.buyer_org_id} "
        f"({BUYER_EMAIL}), rivals {builder.rivals}; {time.perf_counter() - started:.1f}s",
        err=True,
    )


if __name__ == "__main__":
    main()
