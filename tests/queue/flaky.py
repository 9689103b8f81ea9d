"""A task for the retry test: fails the first time it runs, succeeds the next (counted in Redis, under its key)."""

from flask import current_app

from marketplace import tasks


def fail_once(counter_key: str) -> int:
    runs = tasks.connection(current_app).incr(counter_key)
    if runs == 1:
        raise RuntimeError("the first run of this task fails")
    return runs


def always_fail(*_args: object) -> None:
    raise RuntimeError("this task always fails")
