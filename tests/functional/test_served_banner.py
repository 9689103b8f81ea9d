"""The real servers the app runs under (gunicorn in production, Werkzeug's in the demo) name no software version."""

import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.functional.payments.stripe_support import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _server_header(command: list[str], port: int, database_url: str) -> list[str]:
    env = {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "banner-test"}
    process = subprocess.Popen(  # noqa: S603 (our own servers)
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1) as response:  # noqa: S310
                    return response.headers.get_all("Server")
            except OSError:
                time.sleep(0.1)
        pytest.fail(f"{command[0]} did not answer")
    finally:
        process.terminate()
        process.wait(10)


@pytest.mark.parametrize("server", ["gunicorn", "werkzeug"])
def test_the_server_banner_names_no_software(database_url, server):
    port = free_port()
    if server == "gunicorn":
        command = [str(BIN / "gunicorn"), "--workers", "1", "--bind", f"127.0.0.1:{port}", "marketplace:create_app()"]
    else:
        command = [str(BIN / "flask"), "--app", "marketplace", "run", "--port", str(port)]
    banners = _server_header(command, port, database_url)
    assert banners and all(banner == "arms-length" for banner in banners), banners
