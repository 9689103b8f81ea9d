"""The ownership graph an import wrote, comparable between two databases."""

import json

from sqlalchemy import select

from marketplace.parties.models import BodsStatement, Interest, NoOwnersDeclaration, Party, PartyIdentifier

PARTY_COLUMNS = (
    "kind",
    "party_type",
    "name",
    "name_normalized",
    "match_key",
    "match_telling",
    "jurisdiction",
    "description",
    "unspecified_reason",
    "birth_date",
    "nationalities",
    "entity_subtype",
)
INTEREST_COLUMNS = (
    "interest_type",
    "share_exact",
    "share_min",
    "share_max",
    "share_min_exclusive",
    "share_max_exclusive",
    "start_date",
    "end_date",
    "role_title",
    "note",
    "origin",
    "verification_level",
    "source_description",
    "source_url",
    "source_date",
    "bods_statement_id",
    "bods_record_id",
    "direct_or_indirect",
    "beneficial_ownership_or_control",
    "source_types",
    "bods_end_date",
    "bods_implied",
)


def graph(session) -> dict:
    """Everything an import writes, with parties named by their record (ids differ between databases)."""
    parties = session.execute(select(Party).order_by(Party.id)).scalars().all()
    key = {p.id: p.bods_record_id or f"{p.name}#{n}" for n, p in enumerate(parties)}
    return {
        "parties": sorted((key[p.id], *(getattr(p, c) for c in PARTY_COLUMNS)) for p in parties),
        "identifiers": sorted(
            (key[i.party_id], i.scheme, i.value, i.value_normalized)
            for i in session.execute(select(PartyIdentifier)).scalars()
        ),
        "interests": sorted(
            (key[i.interested_party_id], key[i.subject_party_id], *(str(getattr(i, c)) for c in INTEREST_COLUMNS))
            for i in session.execute(select(Interest)).scalars()
        ),
        "log": sorted(
            (
                s.statement_id,
                s.record_id,
                s.record_type,
                key.get(s.party_id),
                s.statement_date,
                s.content_hash,
                s.record_status,
                json.loads(s.content) if s.content else None,
            )
            for s in session.execute(select(BodsStatement)).scalars()
        ),
        "declarations": sorted(
            (key[d.subject_party_id], d.bods_statement_id, d.bods_record_id, d.end_date, d.description)
            for d in session.execute(select(NoOwnersDeclaration)).scalars()
        ),
    }
