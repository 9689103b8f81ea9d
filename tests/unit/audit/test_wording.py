"""The audit trail in words: every action the app records reads as a sentence, and changes as field: before → after."""

import re
from pathlib import Path

from marketplace.audit.models import AuditRecord
from marketplace.audit.wording import ACTIONS, action_words, change_lines, describe

APP = Path(__file__).resolve().parents[3] / "marketplace"


def recorded_actions() -> set[str]:
    """Every literal action code passed to record_event (or named beside it) anywhere in the app."""
    found = set()
    for path in APP.rglob("*.py"):
        source = path.read_text()
        for call in re.finditer(r"record_event\((.*?)\n\s*\)", source, re.S):
            found.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', call.group(1)))
        found.update(re.findall(r'^\s+"([a-z_]+\.[a-z_]+)"(?: if .*)?,$', source, re.M))
    return {
        action for action in found if action.split(".")[0] not in {"accounts", "security", "components", "statement"}
    }


def test_every_action_the_app_records_has_a_sentence():
    actions = recorded_actions()
    assert {"bid.placed", "job.published", "nda.accepted", "party.merged"} <= actions  # the scan finds them
    assert sorted(actions - set(ACTIONS)) == []


def test_an_action_without_a_sentence_reads_as_the_words_of_its_code():
    assert action_words("contract.completed") == "contract completed"
    assert action_words("payout_account.created") == "set up a payout account"


def test_changes_read_field_by_field():
    before = {"total_minor": 600000, "turnaround_days": 20, "status": "active", "gone": "x"}
    after = {"total_minor": 550000, "turnaround_days": 20, "status": "withdrawn", "countries": ["PT", "PL"]}
    assert change_lines(before, after) == [
        "total: 600000 → 550000",
        "status: active → withdrawn",
        "gone: x → removed",
        "countries: PT, PL",
    ]
    assert change_lines(None, {"verified": True, "reason": None}) == ["verified: yes", "reason: —"]


def test_a_record_links_to_what_it_concerns():
    record = AuditRecord(
        actor_label="Ada (platform admin)",
        action="disclosure.approved",
        subject_type="disclosure",
        subject_id=7,
        hash="h",
        prev_hash="p",
    )
    said = describe(record)
    assert said.sentence == "Ada (platform admin) approved a disclosure version"
    assert (said.subject, said.link) == ("disclosure version 7", "/admin/disclosures/7")
    waiver = describe(AuditRecord(actor_label="x", action="waiver.added", subject_type="waiver", subject_id=3))
    assert waiver.link is None and waiver.subject == "waiver 3"
