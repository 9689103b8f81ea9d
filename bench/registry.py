"""The party registry at scale: suggested duplicates and the merge confirmation, on a register made by
bench/generate.py.

    python bench/registry.py --database-url sqlite:////tmp/bench-groups.db

Ours, each the median of --repeats in one process:
- a party's page: its suggested duplicates (registry.duplicates_of, through the party's own identifiers and name
  blocks) for --parties random parties;
- the merge confirmation's two party pages (registry.party_detail twice);
- the registry's list: the newest window of parties (registry.suggested_duplicates, one page).
The obvious way, beside it in the same run: every suggestion of the whole registry worked out at once (the code the
registry used before issue 13, kept here in `every_suggestion`), which the party page and the merge confirmation
filtered to one party, twice for the merge page. It runs once, under --naive-limit seconds, or is reported as not
finished. Prints one JSON object.
"""

import json
import os
import random
import resource
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

import click
from sqlalchemy import func, select

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from marketplace import create_app  # noqa: E402
from marketplace.accounts.models import Role, User  # noqa: E402
from marketplace.extensions import db  # noqa: E402
from marketplace.parties import registry  # noqa: E402
from marketplace.parties.matching import longest_likely  # noqa: E402
from marketplace.parties.models import Party, PartyIdentifier, PartyKind  # noqa: E402
from marketplace.parties.variants import all_distinct_pairs  # noqa: E402


def every_suggestion(session, deadline: float) -> dict[tuple[int, int], str] | None:
    """Every suggested pair of the registry, as the registry found them before issue 13: all unmerged parties and
    identifiers read, identifier groups compared pairwise, names compared within head and tail blocks. None when
    `deadline` (time.monotonic) passes first."""
    parties = {p.id: p for p in session.execute(select(Party).where(Party.merged_into_id.is_(None))).scalars()}
    distinct = all_distinct_pairs(session)
    pairs: dict[tuple[int, int], str] = {}

    def suggest(a: Party, b: Party, reason: str | None) -> None:
        key = (min(a.id, b.id), max(a.id, b.id))
        if reason is not None and key not in distinct:
            pairs.setdefault(key, reason)

    by_value = defaultdict(list)
    for row in session.execute(
        select(PartyIdentifier).where(PartyIdentifier.scheme != registry.ALIAS_SCHEME).order_by(PartyIdentifier.id)
    ).scalars():
        if row.party_id in parties and row.value_normalized:
            by_value[row.value_normalized].append(row)
    for rows in by_value.values():
        for i, left in enumerate(rows):
            for right in rows[i + 1 :]:
                a, b = parties[left.party_id], parties[right.party_id]
                suggest(a, b, registry._identifier_reason(left, right, a, b))
    buckets = defaultdict(list)
    for party in parties.values():
        if party.match_key and party.kind != PartyKind.UNSPECIFIED:
            buckets[(party.kind, "head", party.match_head)].append(party)
            buckets[(party.kind, "tail", party.match_tail)].append(party)
    for members in buckets.values():
        if time.monotonic() > deadline:
            return None
        members.sort(key=lambda party: (len(party.match_key), party.id))
        for i, party in enumerate(members):
            longest = longest_likely(len(party.match_key))
            for other in members[i + 1 :]:
                if len(other.match_key) > longest:
                    break
                suggest(party, other, registry._names_alike(party.match_key, party.name, other.match_key, other.name))
    return pairs


def _median_ms(samples: list[float]) -> float:
    return round(statistics.median(samples) * 1000, 1)


@click.command()
@click.option("--database-url", required=True)
@click.option("--parties", "sample_size", default=20, show_default=True, help="random parties whose pages are timed")
@click.option("--repeats", default=3, show_default=True)
@click.option("--naive-limit", default=600.0, show_default=True, help="seconds the obvious way may run; 0: not run")
@click.option("--seed", default=1, show_default=True)
def main(database_url: str, sample_size: int, repeats: int, naive_limit: float, seed: int) -> None:
    os.environ["DATABASE_URL"] = database_url
    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        session = db.session
        admin = session.execute(select(User).where(User.role == Role.ADMIN)).scalars().first()
        if admin is None:  # the generator makes no admin: a transient one, rolled back at the end
            admin = User(email="bench-admin@bench.example", password_hash="-", role=Role.ADMIN, name="Bench")  # noqa: S106 (no password)
            session.add(admin)
            session.flush()
        total = session.execute(select(func.count(Party.id)).where(Party.merged_into_id.is_(None))).scalar_one()
        ids = list(session.execute(select(Party.id).where(Party.merged_into_id.is_(None))).scalars())
        sample = random.Random(seed).sample(ids, min(sample_size, len(ids)))

        party_page, merge_page, found = [], [], 0
        for party_id in sample:
            started = time.perf_counter()
            found += len(registry.duplicates_of(session, session.get(Party, party_id)))
            party_page.append(time.perf_counter() - started)
        for first, second in zip(sample, sample[1:], strict=False):
            started = time.perf_counter()
            registry.party_detail(session, admin, first)
            registry.party_detail(session, admin, second)
            merge_page.append(time.perf_counter() - started)
        list_page = []
        for _ in range(repeats):
            started = time.perf_counter()
            page = registry.suggested_duplicates(session, admin)
            list_page.append(time.perf_counter() - started)

        # 0: the obvious way is not run (at 1,000,000 parties reading every party and identifier into objects, before
        # any deadline can be checked, takes longer than the limits that make sense; it did not finish at 100,000).
        started = time.monotonic()
        everything = every_suggestion(session, started + naive_limit) if naive_limit > 0 else None
        naive_seconds = time.monotonic() - started
        session.rollback()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {
        "database": database_url.split(":", 1)[0],
        "parties": total,
        "load_average": os.getloadavg(),
        "ours": {
            "party_page_ms_median": _median_ms(party_page),
            "party_page_ms_max": round(max(party_page) * 1000, 1),
            "duplicates_found_on_sampled_pages": found,
            "merge_confirmation_ms_median": _median_ms(merge_page),
            "list_page_ms_median": _median_ms(list_page),
            "list_page_pairs": len(page.pairs),
        },
        "obvious_way": {
            "every_suggestion_seconds": round(naive_seconds, 2) if everything is not None else None,
            "finished": everything is not None,
            "limit_seconds": naive_limit,
            "pairs": len(everything) if everything is not None else None,
            "note": "the party page and the merge confirmation each worked this out and filtered it "
            "(the merge confirmation twice)",
        },
        "peak_rss_mib": round(peak_mib),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
