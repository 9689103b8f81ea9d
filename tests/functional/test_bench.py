"""The benchmark's scripts still run: a small register of each shape, the runner with short limits, the chart.

Figures are not judged here (speed is measured by the benchmark, not by tests); what is checked is that the
scripts work on this database and that their output says what the README says it does.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select, text

from marketplace.accounts.models import Organization, OrgKind
from marketplace.parties.models import Interest, Party
from tests.conftest import database_url_for

BENCH = Path(__file__).resolve().parents[2] / "bench"


def run(script: str, *args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, str(BENCH / script), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)  # noqa: S603  (ours)


@pytest.mark.parametrize("shape", ["groups", "dense"])
def test_the_generator_makes_the_register_it_is_asked_for(tmp_path, shape):
    url = database_url_for(tmp_path, f"bench_{shape}")
    done = run(
        "generate.py",
        "--parties",
        "3000",
        "--interests",
        "9000",
        "--vendors",
        "300",
        "--shape",
        shape,
        "--database-url",
        url,
    )
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        count = lambda model, *where: conn.execute(select(func.count()).select_from(model).where(*where)).scalar()  # noqa: E731
        assert count(Party) == 3000
        assert count(Interest) == 9000
        assert count(Organization, Organization.kind == OrgKind.VENDOR) == 300
        # Chains, cross-holdings, ranges and dates are all there.
        assert count(Interest, Interest.share_min.is_not(None)) > 0
        assert (
            count(
                Interest,
                Interest.share_exact.is_(None),
                Interest.share_min.is_(None),
                Interest.interest_type == "shareholding",
            )
            > 0
        )
        assert count(Interest, Interest.end_date.is_not(None)) > 0
        assert conn.execute(text("SELECT count(*) FROM rival")).scalar() == 5
    engine.dispose()


def test_the_runner_measures_every_figure_and_the_chart_draws_them(tmp_path):
    url = database_url_for(tmp_path, "bench_run")
    assert (
        run(
            "generate.py", "--parties", "2000", "--interests", "6000", "--vendors", "200", "--database-url", url
        ).returncode
        == 0
    )
    results = tmp_path / "results.json"
    done = run(
        "run.py",
        "--database-url",
        url,
        "--repeats",
        "1",
        "--naive-vendors",
        "20",
        "--naive-seconds",
        "5",
        "--naive-page-seconds",
        "2",
        "--json",
        str(results),
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(results.read_text())
    assert sum(figures["a"]["verdicts"].values()) == 200
    assert figures["a"]["total_s"] > 0 and figures["a_whole_graph"]["total_s"] > 0
    assert figures["b"]["requests"] == 50 and figures["b"]["p95_ms"] >= figures["b"]["p50_ms"] > 0
    assert figures["c"]["vendors"] == 20 and figures["c_naive"]["median_ms"] > 0
    assert 0 < figures["d_before_whole_graph"]["peak_rss_mib"] <= figures["d"]["peak_rss_mib"]
    assert "| screen all vendors, nothing cached | ≤ 2 s |" in done.stdout

    chart = tmp_path / "chart.svg"
    drawn = run("chart.py", str(results), "--out", str(chart))
    assert drawn.returncode == 0, drawn.stderr
    svg = chart.read_text()
    assert svg.startswith("<svg") and svg.count("<rect") >= 7 and "Re-screen after one change" in svg
    assert 0 < figures["a"]["peak_rss_mib"] <= figures["d"]["peak_rss_mib"]

    # The growth curve draws a point per register and series (here the one register, drawn as each size).
    sizes = []
    for parties in (10_000, 100_000, 1_000_000):
        sized = tmp_path / f"growth-{parties}.json"
        sized.write_text(json.dumps({**figures, "rows": {**figures["rows"], "parties": parties}}))
        sizes.append(str(sized))
    growth = tmp_path / "growth.svg"
    drawn = run("growth_chart.py", *sizes, "--out", str(growth))
    assert drawn.returncode == 0, drawn.stderr
    svg = growth.read_text()
    # (a): ours, naive and before; (c): ours and naive; (d): ours and before; a point each per register.
    assert svg.startswith("<svg") and svg.count("<circle") == 9 + 6 + 6
    assert "Screen all vendors for one buyer" in svg and "target at 1M: 5.00 s" in svg

    # Who may see a job, on the same register: every vendor that may see it is told once, through its one user.
    answered = run("who_sees.py", "--database-url", url, "--repeats", "1", "--naive-vendors", "10")
    assert answered.returncode == 0, answered.stderr
    seeing, told = re.search(r"([\d,]+) vendors may see the job, ([\d,]+) users told", answered.stdout).groups()
    assert seeing == told and 0 < int(seeing.replace(",", "")) <= 200
    assert "naive:" in answered.stdout and "ratio naive / ours" in answered.stdout
    # While a re-screen waits: the request tells no one (the bench itself asserts it), a worker's telling does.
    waiting = run("who_sees.py", "--database-url", url, "--repeats", "1", "--naive-vendors", "10", "--pending")
    assert waiting.returncode == 0, waiting.stderr
    assert re.search(r"while a re-screen waits: the request \d+ ms .* the worker's telling", waiting.stdout)
    assert re.search(r"before, told inside the request with every vendor screened live: [\d.]+ s", waiting.stdout)

    # The registry's pages on the same register: every figure measured, the obvious way run to the end.
    timed = run("registry.py", "--database-url", url, "--parties", "5", "--repeats", "1", "--naive-limit", "120")
    assert timed.returncode == 0, timed.stderr
    registry_figures = json.loads(timed.stdout[timed.stdout.index("{") :])
    assert registry_figures["parties"] >= 1000
    ours = registry_figures["ours"]
    assert (
        ours["party_page_ms_median"] > 0
        and ours["merge_confirmation_ms_median"] > 0
        and ours["list_page_ms_median"] > 0
    )
    assert registry_figures["obvious_way"]["finished"] and registry_figures["obvious_way"]["pairs"] is not None


def test_the_soak_serves_mixed_traffic_on_gunicorn_and_reports_each_minute(tmp_path):
    url = database_url_for(tmp_path, "bench_soak")
    results, chart = tmp_path / "soak.json", tmp_path / "soak.svg"
    done = run(
        "soak.py",
        "--database-url",
        url,
        "--seconds",
        "6",
        "--warmup",
        "2",
        "--rate",
        "8",
        "--vendors",
        "6",
        "--json",
        str(results),
        "--svg",
        str(chart),
        "--log",
        str(tmp_path / "gunicorn.log"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(results.read_text())
    # Every request scheduled was sent and answered as the operation answers: no 5xx, no failed connection.
    assert figures["requests"] == 48 and figures["errors"] == 0, figures["error_statuses"]
    assert {"browse_jobs", "job_page", "search_vendors", "bid", "notifications"} <= set(figures["operations"])
    (minute,) = figures["minutes"]
    assert minute["requests"] == 48 and minute["max_ms"] >= minute["p95_ms"] >= minute["p50_ms"] > 0
    assert len(minute["worker_rss_mib"]) == 4 and all(mib > 20 for mib in minute["worker_rss_mib"].values())
    assert "| minute | requests | p50 ms | p95 ms | max ms | errors | worker 1 RSS MiB |" in done.stdout
    svg = chart.read_text()
    assert svg.startswith("<svg") and "p95" in svg and "worker 4" in svg and svg.count("<polyline") == 6


def test_the_page_benchmark_loads_each_page_beside_the_bare_baselines_and_gives_its_share(tmp_path):
    url = database_url_for(tmp_path, "bench_pages")
    results, chart = tmp_path / "pages.json", tmp_path / "pages.svg"
    done = run(
        "pages.py",
        "--database-url",
        url,
        "--seconds",
        "1",
        "--warmup",
        "0.3",
        "--users",
        "2",
        "--workers",
        "2",
        "--only",
        "buyer: notifications",
        "--only",
        "admin: registry party page",
        "--json",
        str(results),
        "--svg",
        str(chart),
        "--log",
        str(tmp_path / "gunicorn.log"),
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(results.read_text())
    pages = {page["name"]: page for page in figures["pages"]}
    # The two baselines, the pages asked for (signed in as the buyer and as the admin, whose second factor the
    # benchmark enters), and the one-row page again at the end.
    assert list(pages) == [
        "baseline: bare Flask",
        "baseline: one-row Jinja",
        "buyer: notifications",
        "admin: registry party page",
        "baseline: one-row Jinja, again",
    ]
    assert all(page["requests"] > 0 and page["failures"] == 0 for page in pages.values()), pages
    assert pages["buyer: notifications"]["statements"] > 0 and pages["baseline: bare Flask"]["statements"] is None
    one_row = (pages["baseline: one-row Jinja"]["ratio"] + pages["baseline: one-row Jinja, again"]["ratio"]) / 2
    assert abs(one_row - 1) < 0.01 and figures["slowest"] in pages
    # Each page is compared with the one-row page measured just before it.
    page = pages["admin: registry party page"]
    assert page["reference_requests_per_s"] > 0
    assert page["ratio"] == pytest.approx(page["requests_per_s"] / page["reference_requests_per_s"], abs=0.001)
    assert "| buyer: notifications |" in done.stdout and "slowest page:" in done.stdout
    svg = chart.read_text()
    assert svg.startswith("<svg") and "target: 25% of the one-row page" in svg and svg.count("<rect") == 6


def test_the_generator_dates_the_register_from_the_day_it_is_given(tmp_path):
    """--today: a register made on any day is dated as if made on that one (its findings digest then does not
    depend on the day the generator ran)."""
    url = database_url_for(tmp_path, "bench_dated")
    args = ("--parties", "2000", "--interests", "6000", "--vendors", "200", "--database-url", url)
    done = run("generate.py", *args, "--today", "2021-03-01")
    assert done.returncode == 0, done.stderr
    engine = create_engine(url)
    with engine.connect() as conn:
        decided = conn.execute(text("SELECT min(decided_at), max(decided_at) FROM disclosureversion")).one()
        starts = conn.execute(text("SELECT max(start_date) FROM interest")).scalar()
    engine.dispose()
    # Approvals 1 to 900 days before that noon; ties starting up to a few years either side of it.
    assert str(decided[0]) > "2018-08-" and str(decided[1]) < "2021-03-01 12"
    assert "2021-03-01" < str(starts) < "2026-01-01"


def test_the_first_vendor_list_bench_times_it_with_and_without_a_queue_and_restores_the_verdicts(tmp_path):
    """bench/first_vendors.py on a register with more vendors than one page screens live (SCREENED_LIVE_UP_TO):
    with a queue the list leaves them all out and says it is updating; without one it screens them all; --restore
    stores every verdict again and leaves nothing pending."""
    url = database_url_for(tmp_path, "bench_first")
    args = ("--parties", "2000", "--interests", "6000", "--vendors", "300", "--database-url", url)
    assert run("generate.py", *args).returncode == 0
    results = tmp_path / "first.json"
    redis_url = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/13")
    done = run("first_vendors.py", "--database-url", url, "--redis-url", redis_url, "--restore", "--json", str(results))
    assert done.returncode == 0, done.stderr
    figures = json.loads(results.read_text())
    assert figures["vendors"] == 300
    assert figures["with_queue"]["vendors_left_out"] == 300 and figures["with_queue"]["says_updating"]
    assert figures["without_queue"]["vendors_left_out"] == 0 and figures["without_queue"]["first_vendors_ms"] > 0
    engine = create_engine(url)
    with engine.connect() as conn:
        stored = conn.execute(
            text(
                "SELECT count(*) FROM verdictrecord v JOIN user_account u ON u.org_id = v.buyer_org_id "
                "WHERE u.email = :e"
            ),
            {"e": "bench-buyer@bench.example"},
        ).scalar()
        pending = conn.execute(text("SELECT count(*) FROM pendingrescreen")).scalar()
    engine.dispose()
    assert stored == 300 and pending == 0


def test_the_lab_job_page_bench_times_the_page_current_and_updating_and_leaves_nothing(tmp_path):
    url = database_url_for(tmp_path, "bench_lab_page")
    args = ("--parties", "2000", "--interests", "6000", "--vendors", "200", "--database-url", url)
    assert run("generate.py", *args).returncode == 0
    done = run("lab_job_page.py", "--database-url", url)
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["current"]["ms"] > 0 and not figures["current"]["says_updating"]
    assert figures["updating"]["says_updating"] and figures["updating"]["count"] == figures["current"]["count"]
    engine = create_engine(url)
    with engine.connect() as conn:
        left = conn.execute(text("SELECT (SELECT count(*) FROM pendingrescreen), (SELECT count(*) FROM job)")).one()
    engine.dispose()
    assert tuple(left) == (0, 0)
