"""The load half of bench/pages.py, in a process of its own (locust patches the standard library with gevent on
import, which the database code of the driver must not see):

    python bench/pages_locust.py PLAN.json RESULTS.json

PLAN.json: {"users": 8, "warmup": 2, "seconds": 8, "targets": [{"name", "url", "path", "cookie", "paired"}, ...],
"reference": {"name", "url", "path"}, "reference_warmup": 1, "reference_seconds": 3}. Each target in turn gets
`users` locust users (FastHttpUser) sending its one GET back to back with no wait (a closed loop: as many requests a
second as the server answers), for `warmup` seconds not counted and `seconds` counted; a paired target has the
reference page measured the same way just before it. Anything but a 200 is a failure. RESULTS.json: per target,
requests, requests/s, p50, p95 and max in ms, failures, and the reference's requests/s just before.
"""

import json
import sys
import time
from pathlib import Path

import gevent
from locust import FastHttpUser, constant, task
from locust.env import Environment


def _user_class(target: dict) -> type[FastHttpUser]:
    headers = {"Cookie": target["cookie"]} if target.get("cookie") else {}

    def page(self: FastHttpUser) -> None:
        with self.client.get(
            target["path"], name=target["name"], headers=headers, allow_redirects=False, catch_response=True
        ) as answer:
            if answer.status_code != 200:
                answer.failure(f"status {answer.status_code}")

    return type(
        "PageUser",
        (FastHttpUser,),
        {"host": target["url"], "wait_time": constant(0), "page": task(page), "abstract": False},
    )


def measure(target: dict, users: int, warmup: float, seconds: float) -> dict:
    env = Environment(user_classes=[_user_class(target)], host=target["url"])
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=users)
    gevent.sleep(warmup)
    env.stats.reset_all()
    started = time.monotonic()
    gevent.sleep(seconds)
    stats = env.stats.total
    elapsed = time.monotonic() - started
    figures = {
        "requests": stats.num_requests,
        "requests_per_s": round(stats.num_requests / elapsed, 1),
        "p50_ms": stats.get_response_time_percentile(0.5),
        "p95_ms": stats.get_response_time_percentile(0.95),
        "max_ms": round(stats.max_response_time, 1),
        "failures": stats.num_failures,
        "errors": sorted({str(error.error) for error in env.stats.errors.values()})[:3],
    }
    runner.quit()
    return figures


def main() -> None:
    plan = json.loads(Path(sys.argv[1]).read_text())
    results = []
    reference = plan.get("reference")
    for target in plan["targets"]:
        result: dict = {"name": target["name"]}
        if reference and target.get("paired"):
            # The reference page just before, so that a page is compared with what the machine gave then.
            near = measure(reference, plan["users"], plan["reference_warmup"], plan["reference_seconds"])
            result["reference_requests_per_s"] = near["requests_per_s"]
            result["reference_failures"] = near["failures"]
        figures = measure(target, plan["users"], plan["warmup"], plan["seconds"])
        result.update(figures)
        results.append(result)
        print(f"{target['name']:<45} {figures['requests_per_s']:8.1f}/s  p50 {figures['p50_ms']} ms", flush=True)
    Path(sys.argv[2]).write_text(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
