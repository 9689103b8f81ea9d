"""A real OpenID provider for the tests: oidc-provider-mock in its own process on 127.0.0.1 and a free port (its
own process: its Authlib server code warns, and our warnings-as-errors would break it in a thread of ours)."""

import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

import requests

from tests.mailbox import free_port


@contextmanager
def running_provider(*options: str) -> Iterator[str]:
    """Start the provider (with more of its command-line `options`); yields its issuer URL; stops it at the end."""
    port = free_port()
    process = subprocess.Popen(  # noqa: S603 (our own interpreter, fixed arguments)
        [
            sys.executable,
            "-m",
            "oidc_provider_mock",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--require-nonce",
            *options,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    issuer = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                requests.get(f"{issuer}/.well-known/openid-configuration", timeout=1).raise_for_status()
                break
            except requests.RequestException:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise
                time.sleep(0.1)
        yield issuer
    finally:
        process.terminate()
        process.wait(10)


def idp_user(issuer: str, sub: str, **claims) -> None:
    """What the provider says of `sub` in its id token."""
    response = requests.put(f"{issuer}/users/{quote(sub)}", json=claims, timeout=5)
    assert response.status_code == 204
