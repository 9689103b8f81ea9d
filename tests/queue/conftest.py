"""Fixtures of the task-queue tests: a real Redis, the app on its own migrated database (a worker in another
process, or RQ's in-process SimpleWorker, must read what a change committed), and a queue of this run's own.

Redis is required: a run without it fails here, loudly, never skips (./run-tests starts one). TEST_REDIS_URL picks
the server and database (default redis://127.0.0.1:6379/13); every key this run makes carries its queue's name
(test-<pid>-<random>), so parallel runs never meet, and only those keys are deleted at the end.
"""

import os
import secrets

import pytest
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import delete

from marketplace import tasks
from marketplace.extensions import db
from marketplace.screening.models import PendingRescreen
from tests.concurrency.harness import committed, free_port, signed_in_client
from tests.conftest import make_app, migrated_database

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"


@pytest.fixture(scope="session")
def redis_url():
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    try:
        Redis.from_url(url, socket_connect_timeout=3).ping()
    except RedisError as error:
        pytest.fail(f"Redis is not reachable at {url} ({error}): the queue tests need it (./run-tests starts one).")
    return url


@pytest.fixture(scope="session")
def queue_name():
    return f"test-{os.getpid()}-{secrets.token_hex(4)}"


@pytest.fixture(scope="session")
def queue_database_url(tmp_path_factory):
    return migrated_database(tmp_path_factory.mktemp("queue"), "queue")


@pytest.fixture(scope="session")
def queue_app(queue_database_url, redis_url, queue_name, tmp_path_factory):
    """The app with the queue configured: changes queue their re-screens; retries come back at once."""
    app = make_app(
        queue_database_url,
        UPLOAD_FOLDER=str(tmp_path_factory.mktemp("queue-uploads")),
        PROPAGATE_EXCEPTIONS=False,
        MAIL_SERVER="",
        REDIS_URL=redis_url,
        TASK_QUEUE=queue_name,
        TASK_RETRY_DELAYS=(0, 0),
    )
    yield app
    redis = tasks.connection(app)
    for key in redis.scan_iter(match=f"*{queue_name}*", count=1000):
        redis.delete(key)
    redis.srem("rq:queues", f"rq:queue:{queue_name}")
    for member in redis.smembers("rq:workers"):
        if queue_name in member.decode():
            redis.srem("rq:workers", member)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def bed(queue_app, queue_name):
    """Each test starts with an empty queue and nothing pending, and leaves them so."""

    def clear():
        with queue_app.app_context():
            db.session.execute(delete(PendingRescreen))
            db.session.commit()
            db.session.remove()
        redis = tasks.connection(queue_app)
        for key in redis.scan_iter(match=f"*{queue_name}*", count=1000):
            redis.delete(key)

    clear()
    yield queue_app
    clear()


@pytest.fixture
def cut_off(bed, queue_database_url, tmp_path):
    """The app on the same database and queue with Redis unreachable (nothing listens on its port): what a change
    committed while Redis is down does."""
    app = make_app(
        queue_database_url,
        UPLOAD_FOLDER=str(tmp_path),
        PROPAGATE_EXCEPTIONS=False,
        MAIL_SERVER="",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",
        TASK_QUEUE=bed.config["TASK_QUEUE"],
    )
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def build(bed):
    """build(fn): run fn in the app's context and commit what it wrote (its queued jobs go to Redis then)."""
    return lambda fn: committed(bed, fn)


@pytest.fixture
def client_for(bed):
    return lambda user_id: signed_in_client(bed, user_id)


@pytest.fixture
def run_worker(bed, queue_name):
    """run_worker(): an in-process worker (RQ's SimpleWorker with an app context per job) drains the queue."""

    def run():
        worker = tasks.worker_for(bed, name=f"{queue_name}-inproc-{secrets.token_hex(3)}")
        worker.work(burst=True, logging_level="WARNING")
        return worker

    return run
