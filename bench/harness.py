"""What the benchmarks that run against a real server share: gunicorn started and stopped as the README's production
section runs it, its workers' memory, and signing in through the real form."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import click
import requests

ROOT = Path(__file__).resolve().parents[1]
TIMEOUT_S = 60
APP = "marketplace:create_app()"
SECRET_KEY = "soak-secret-key-not-a-real-one"  # noqa: S105  (a benchmark's throwaway server)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Gunicorn:
    """`gunicorn --workers N` serving `app` (the marketplace by default) on 127.0.0.1, in a process group of its own.

    `ready_path` is fetched until it answers 200 and every worker is up."""

    def __init__(
        self,
        database_url: str,
        workers: int,
        log_path: Path,
        app: str = APP,
        port: int | None = None,
        ready_path: str = "/sign-in",
        chdir: Path = ROOT,
    ):
        self.database_url = database_url
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log_path = log_path
        self.app = app
        self.ready_path = ready_path
        self.chdir = chdir
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET_KEY,
            "MARKETPLACE_ENV": "development",
            "DEMO_LOGINS": "0",
            "LOGIN_RATE_LIMIT": "100000 per minute",
            "LOGIN_IP_RATE_LIMIT": "100000 per minute",
        }
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
                [
                    sys.executable,
                    "-m",
                    "gunicorn",
                    "--workers",
                    str(self.workers),
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    self.app,
                ],
                cwd=self.chdir,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if (
                    requests.get(self.url + self.ready_path, timeout=5).status_code == 200
                    and len(self.worker_pids()) == self.workers
                ):
                    return
            except requests.RequestException:
                pass
            time.sleep(0.3)
        self.stop()
        raise click.ClickException(f"gunicorn did not start; see {self.log_path}")

    def worker_pids(self) -> list[int]:
        """The master's children, from /proc."""
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                except OSError:
                    continue
                if self.process and int(fields[1]) == self.process.pid:
                    found.append(int(entry.name))
        return sorted(found)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(10)


def rss_mib(pid: int) -> float | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html)
    if not found:
        raise click.ClickException("no CSRF token on the page")
    return found.group(1)


def sign_in_session(base: str, email: str, password: str, totp_secret: str = "") -> requests.Session:
    """A browser signed in through the real form (and the second factor's, given the account's secret)."""
    browser = requests.Session()
    page = browser.get(base + "/sign-in", timeout=TIMEOUT_S)
    answer = browser.post(
        base + "/sign-in",
        timeout=TIMEOUT_S,
        allow_redirects=False,
        data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
    )
    if answer.status_code in (302, 303) and "/sign-in/code" in answer.headers.get("Location", "") and totp_secret:
        import pyotp

        page = browser.get(base + "/sign-in/code", timeout=TIMEOUT_S)
        answer = browser.post(
            base + "/sign-in/code",
            timeout=TIMEOUT_S,
            allow_redirects=False,
            data={"csrf_token": csrf_token(page.text), "code": pyotp.TOTP(totp_secret).now()},
        )
    if answer.status_code not in (302, 303) or "/sign-in" in answer.headers.get("Location", ""):
        raise click.ClickException(f"sign-in failed for {email}: {answer.status_code}")
    return browser
