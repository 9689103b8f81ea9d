"""A deterministic BODS 0.4 JSON Lines file of N statements for the import benchmark (bench/bods_import.py).

Company by company: the company (an entity with a company number, an LEI for some), one or two people or a parent
company holding it (people with a birth date and nationalities, parents with their own number), the relationships
(shareholding and voting rights, exact or a range, a board seat for some), and for about one company in twenty an
update: the relationship again as `updated` with another share from a later date, or the company renamed.
"""

import hashlib
import json
import random
from pathlib import Path

PUBLICATION = {
    "publicationDate": "2024-06-01",
    "bodsVersion": "0.4",
    "license": "http://opendefinition.org/licenses/cc-zero",
    "publisher": {"name": "Benchmark Register"},
}
SOURCE = {"type": ["officialRegister"], "description": "Benchmark Register", "retrievedAt": "2024-05-30"}
WORDS = [
    "Halcyon",
    "Meridian",
    "Aurora",
    "Cobalt",
    "Juniper",
    "Northwind",
    "Sable",
    "Vertex",
    "Lumen",
    "Orchid",
    "Quarry",
    "Harbor",
    "Granite",
    "Willow",
    "Ember",
    "Atlas",
    "Beacon",
    "Cedar",
    "Delta",
    "Falcon",
    "Garnet",
    "Helix",
    "Iris",
    "Kestrel",
    "Lotus",
    "Maple",
    "Nimbus",
    "Onyx",
    "Pioneer",
    "Quill",
    "Raven",
    "Sierra",
]
FORMS = ("Ltd", "Limited", "GmbH", "LLC", "Holdings Ltd", "S.A.", "B.V.", "Inc.")
GIVEN = [
    "Maria",
    "John",
    "Aiko",
    "Chen",
    "Fatima",
    "Lars",
    "Olga",
    "Pedro",
    "Sofia",
    "Tomas",
    "Amara",
    "Ravi",
    "Elena",
    "Kofi",
    "Noor",
    "Ivan",
]
FAMILY = [
    "Esteves",
    "Smith",
    "Tanaka",
    "Wang",
    "Haddad",
    "Berg",
    "Ivanova",
    "Silva",
    "Rossi",
    "Novak",
    "Okafor",
    "Patel",
    "Petrova",
    "Mensah",
    "Khan",
    "Popov",
]
COUNTRIES = (("GB", "United Kingdom"), ("DE", "Germany"), ("FR", "France"), ("US", "United States"), ("JP", "Japan"))


def _statement_id(seed: int, number: int) -> str:
    return hashlib.sha256(f"{seed}:{number}".encode()).hexdigest()[:36]


class _Writer:
    def __init__(self, seed: int, total: int, out):
        self.seed, self.total, self.out, self.count = seed, total, out, 0
        self.random = random.Random(seed)

    @property
    def full(self) -> bool:
        return self.count >= self.total

    def write(self, record_id: str, record_type: str, details: dict, status: str = "new", on: str = "2024-01-15"):
        if self.full:
            return
        self.count += 1
        statement = {
            "statementId": _statement_id(self.seed, self.count),
            "declarationSubject": record_id,
            "statementDate": on,
            "recordId": record_id,
            "recordType": record_type,
            "recordStatus": status,
            "publicationDetails": PUBLICATION,
            "source": SOURCE,
            "recordDetails": {"isComponent": False, **details},
        }
        self.out.write(json.dumps(statement, ensure_ascii=False) + "\n")


def _company_name(rng: random.Random, number: int) -> str:
    return f"{rng.choice(WORDS)} {rng.choice(WORDS)} {number} {rng.choice(FORMS)}"


def _entity(name: str, number: int, rng: random.Random) -> dict:
    identifiers = [{"id": f"{number:08d}", "scheme": "GB-COH", "schemeName": "Companies House"}]
    if rng.random() < 0.3:
        identifiers.append({"id": f"5493{number:016d}", "scheme": "XI-LEI", "schemeName": "Global LEI Index"})
    return {
        "entityType": {"type": "registeredEntity"},
        "name": name,
        "jurisdiction": {"name": "United Kingdom", "code": "GB"},
        "identifiers": identifiers,
    }


def _person(rng: random.Random) -> dict:
    given, family = rng.choice(GIVEN), rng.choice(FAMILY)
    code, country = rng.choice(COUNTRIES)
    return {
        "personType": "knownPerson",
        "names": [{"type": "legal", "fullName": f"{given} {family}", "givenName": given, "familyName": family}],
        "birthDate": f"{rng.randint(1940, 1999)}-{rng.randint(1, 12):02d}",
        "nationalities": [{"code": code, "name": country}],
    }


def _interests(rng: random.Random, share: float | None, start: str, holders: int = 1) -> list[dict]:
    if share is None:
        low = rng.choice((25, 50, 75) if holders == 1 else (0, 25))
        share_of = {"minimum": low, "exclusiveMaximum": low + 25}
    else:
        share_of = {"exact": share}
    interests = [
        {"type": kind, "directOrIndirect": "direct", "beneficialOwnershipOrControl": True, "share": share_of}
        | {"startDate": start}
        for kind in ("shareholding", "votingRights")
    ]
    if rng.random() < 0.2:
        interests.append({"type": "appointmentOfBoard", "directOrIndirect": "direct", "startDate": start})
    return interests


def _relationship(subject: str, holder: str, interests: list[dict]) -> dict:
    return {"subject": subject, "interestedParty": holder, "interests": interests}


def generate(path: Path, statements: int, seed: int = 1) -> Path:
    """Write `statements` BODS 0.4 statements, one per line, to `path` (the same file for the same arguments)."""
    with Path(path).open("w", encoding="utf-8") as out:
        writer = _Writer(seed, statements, out)
        rng = writer.random
        company = 0
        while not writer.full:
            company += 1
            number = 10_000_000 + company
            record = f"gb-coh-{number}"
            name = _company_name(rng, number)
            writer.write(record, "entity", _entity(name, number, rng))
            holders = []
            if rng.random() < 0.25:  # a parent company holds it
                parent_number = number + 50_000_000
                parent = f"gb-coh-{parent_number}"
                writer.write(parent, "entity", _entity(_company_name(rng, parent_number), parent_number, rng))
                holders.append((parent, 100.0))
            else:
                people = rng.choice((1, 1, 2))
                for index in range(people):
                    person = f"person-{company}-{index}"
                    writer.write(person, "person", _person(rng))
                    holders.append((person, None if rng.random() < 0.4 else round(100 / people, 2)))
            for index, (holder, share) in enumerate(holders):
                relationship = f"rel-{company}-{index}"
                writer.write(
                    relationship,
                    "relationship",
                    _relationship(record, holder, _interests(rng, share, "2019-03-01", len(holders))),
                )
                if rng.random() < 0.05:  # a later version of the holding
                    later = _interests(rng, round(rng.uniform(10, 100 / len(holders)), 2), "2023-07-01")
                    writer.write(
                        relationship, "relationship", _relationship(record, holder, later), "updated", "2023-07-02"
                    )
            if rng.random() < 0.02:  # the company renamed
                renamed = _entity(_company_name(rng, number), number, rng)
                writer.write(record, "entity", renamed, "updated", "2023-09-01")
    return Path(path)
