"""Comparing two versions' ties, without a database."""

from datetime import date

from marketplace.disclosures.diff import TieView, diff_ties

_ids = iter(range(1, 10_000))


def view(kind="shareholding", party="Cobalt Social", **fields) -> TieView:
    defaults = {
        "table": "interest",
        "kind_label": kind,
        "section": "shareholders",
        "party_kind": "entity",
        "subject_name": "Vendor",
        "shares_apply": kind in ("shareholding", "votingRights"),
    }
    return TieView(id=next(_ids), kind=kind, party_name=party, **{**defaults, **fields})


def statuses(changes):
    return [(c.status, c.tie.party_name) for c in changes]


def test_same_ties_under_new_ids_are_unchanged_even_if_names_are_spelt_differently():
    old = [view(party="Cobalt Social", share_exact=49.0), view("boardMember", party="Rui Costa")]
    new = [view(party="  cobalt   SOCIAL", share_exact=49.0), view("boardMember", party="Rui Costa")]
    assert statuses(diff_ties(old, new)) == [("unchanged", "  cobalt   SOCIAL"), ("unchanged", "Rui Costa")]


def test_added_removed_and_changed_with_old_and_new_values():
    old = [
        view(party="Founder", share_exact=60.0),
        view(party="Fund", share_min=10.0, share_max=20.0),
        view("lender", party="Big Bank", table="commercial"),
    ]
    new = [
        view(party="Founder", share_exact=60.0, end_date=date(2025, 1, 31)),
        view(party="Fund", share_min=10.0, share_max=25.0, share_max_exclusive=True),
        view(party="Angel", share_exact=5.0),
    ]

    changes = diff_ties(old, new)

    assert statuses(changes) == [
        ("changed", "Founder"),
        ("changed", "Fund"),
        ("added", "Angel"),
        ("removed", "Big Bank"),
    ]
    assert [(f.label, f.old, f.new) for f in changes[0].changes] == [("End", "—", "2025-01-31")]
    assert [(f.label, f.old, f.new) for f in changes[1].changes] == [("Share", "10% – 20%", "10% – less than 25%")]
    assert changes[2].old is None and changes[3].new is None


def test_the_key_includes_the_kind_the_subject_and_the_role_title():
    old = [
        view(
            "elsewhere:seniorManagingOfficial",
            party="Rui Costa",
            subject_name="Cobalt Social",
            subject_key="cobalt social",
            role_title="VP Data",
        )
    ]
    new = [
        view(
            "elsewhere:seniorManagingOfficial",
            party="Rui Costa",
            subject_name="Other Lab",
            subject_key="other lab",
            role_title="VP Data",
        ),
        view(
            "elsewhere:boardMember",
            party="Rui Costa",
            subject_name="Cobalt Social",
            subject_key="cobalt social",
            role_title="VP Data",
        ),
    ]
    assert [c.status for c in diff_ties(old, new)] == ["added", "added", "removed"]


def test_a_revenue_share_change_is_shown():
    old = [view("customer", party="Northwind AI", table="commercial", revenue_share_pct=20.0)]
    new = [view("customer", party="Northwind AI", table="commercial", revenue_share_pct=45.5)]
    [change] = diff_ties(old, new)
    assert [(f.label, f.old, f.new) for f in change.changes] == [
        ("Revenue share", "20% of revenue", "45.5% of revenue")
    ]


def test_two_stints_in_one_role_are_paired_by_start_date_then_in_date_order():
    def stint(start, end=None):
        return view("seniorManagingOfficial", party="Rui Costa", start_date=start, end_date=end)

    first, second = stint(date(2015, 1, 1), date(2018, 1, 1)), stint(date(2021, 1, 1))
    changes = diff_ties([second, first], [stint(date(2021, 1, 1), date(2025, 6, 30))])
    assert [(c.status, c.old.start_date) for c in changes] == [
        ("changed", date(2021, 1, 1)),
        ("removed", date(2015, 1, 1)),
    ]
    assert [(f.label, f.old, f.new) for f in changes[0].changes] == [("End", "—", "2025-06-30")]

    changes = diff_ties([second, first], [stint(date(2014, 6, 1), date(2018, 1, 1)), stint(date(2022, 1, 1))])
    assert [(c.status, c.old.start_date, c.new.start_date) for c in changes] == [
        ("changed", date(2015, 1, 1), date(2014, 6, 1)),
        ("changed", date(2021, 1, 1), date(2022, 1, 1)),
    ]


def test_everything_is_added_when_there_is_nothing_to_compare_with():
    assert [c.status for c in diff_ties([], [view(), view("votingRights")])] == ["added", "added"]


def test_share_wording():
    assert view(share_exact=49.0).share_text == "49%"
    assert view(share_min=25.0, share_min_exclusive=True).share_text == "more than 25%"
    assert view(share_min=25.0).share_text == "at least 25%"
    assert view(share_max=10.0).share_text == "up to 10%"
    assert view(share_max=10.0, share_max_exclusive=True).share_text == "less than 10%"
    assert view().share_text == "not given"
    assert view("boardMember").share_text == ""
    assert view(start_date=date(2020, 1, 1)).dates_text == "since 2020-01-01"
    assert view(end_date=date(2020, 1, 1)).dates_text == "until 2020-01-01"
