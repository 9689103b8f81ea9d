"""`flask bods import` killed mid-way, in a real process, then run again: the result is a clean import's."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from marketplace.parties.models import BodsImportRun, Party
from tests.bods_graph import graph
from tests.conftest import migrated_database

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from bench.bods_data import generate  # noqa: E402

STATEMENTS = 40_000


def flask_import(url: str, path: Path) -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [sys.executable, "-m", "flask", "--app", "marketplace", "bods", "import", str(path)],
        env={**os.environ, "DATABASE_URL": url, "REDIS_URL": ""},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_state(engine) -> tuple[int, bool] | None:
    with Session(engine) as session:
        run = session.execute(select(BodsImportRun)).scalar_one_or_none()
        return None if run is None else (run.statements_staged, run.staged)


def party_count(engine) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(Party)).scalar_one()


@pytest.fixture(scope="module")
def register(tmp_path_factory) -> Path:
    return generate(tmp_path_factory.mktemp("register") / "register.jsonl", STATEMENTS)


@pytest.fixture(scope="module")
def clean_graph(tmp_path_factory, register):
    url = migrated_database(tmp_path_factory.mktemp("clean"), "bods_clean")
    done = flask_import(url, register)
    stdout, stderr = done.communicate(timeout=600)
    assert done.returncode == 0, stderr
    engine = create_engine(url)
    with Session(engine) as session:
        yield stdout, graph(session)
    engine.dispose()


@pytest.mark.parametrize("stage", ["staging", "applying"])
def test_an_import_killed_mid_way_resumes_and_ends_as_a_clean_import(tmp_path, register, clean_graph, stage):
    url = migrated_database(tmp_path, f"bods_resume_{stage}")
    engine = create_engine(url)
    interrupted = flask_import(url, register)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and interrupted.poll() is None:
        state = run_state(engine)
        if state is not None and (state[0] > 0 and not state[1] if stage == "staging" else state[1]):
            break
        time.sleep(0.02)
    interrupted.send_signal(signal.SIGKILL)
    interrupted.communicate(timeout=60)  # and closes its pipes

    staged, all_staged = run_state(engine) or (0, False)
    assert 0 < staged <= STATEMENTS and all_staged == (stage == "applying")
    assert party_count(engine) == 0  # nothing of the file in the graph yet

    again = flask_import(url, register)
    stdout, stderr = again.communicate(timeout=600)

    assert again.returncode == 0, stderr
    assert stdout == clean_graph[0]
    assert f"{STATEMENTS} statements; parties " in stdout
    with Session(engine) as session:
        assert graph(session) == clean_graph[1]
        assert session.execute(select(func.count()).select_from(BodsImportRun)).scalar_one() == 0
    engine.dispose()
