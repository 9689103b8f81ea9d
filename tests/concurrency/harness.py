"""What the race and fault tests share: committed data, clients signed in without a password check, many requests
released at once, and a real gunicorn server with several workers.

These tests cannot use the rolled-back transaction of the other tests: each thread (or server worker) has its own
connection, so every row they race over is committed first.
"""

import contextlib
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import event

from marketplace.accounts.sessions import start_session
from marketplace.accounts.web_sessions import SESSION_KEY
from marketplace.extensions import db

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def committed(app, build):
    """Run build() in the app's context, commit what it wrote, and return its result (ids, not rows)."""
    with app.app_context():
        result = build()
        db.session.commit()
        db.session.remove()
    return result


def _session_of(app, user_id: int) -> dict:
    """What a signed-in user's cookie holds, for a session recorded now (no password check)."""
    from marketplace.accounts.models import User

    with app.app_context():
        user = db.session.get(User, user_id)
        started = start_session(db.session, user, ip_address="127.0.0.1", user_agent="race")
        db.session.commit()
        values = {"_user_id": user.get_id(), "_fresh": True, SESSION_KEY: started.key}
        db.session.remove()
    return values


def signed_in_client(app, user_id: int):
    """A test client signed in as the user, as login_as does: a recorded session, no password check."""
    client = app.test_client()
    with client.session_transaction() as flask_session:
        flask_session.update(_session_of(app, user_id))
    return client


def session_cookie(app, user_id: int) -> str:
    """The signed session cookie of a user signed in now, valid for any server sharing the app's SECRET_KEY."""
    return app.session_interface.get_signing_serializer(app).dumps(_session_of(app, user_id))


@dataclass
class Outcome:
    """One racer's answer: the HTTP status, where it redirected, and the page it ended on (or the exception)."""

    status: int
    location: str = ""
    text: str = ""
    error: str = ""


def together(calls, timeout: float = 60) -> list:
    """Run every call in its own thread, all released at the same instant; their results in order.

    An exception is returned in place of the result, so that one racer's failure is an answer the test checks.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        barrier.wait()
        try:
            results[index] = call()
        except Exception as error:  # noqa: BLE001 (the test asserts on it)
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, call), daemon=True) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    assert not any(thread.is_alive() for thread in threads), "a racer never finished"
    return results


def post_and_follow(client, url: str, data: dict | None = None) -> Outcome:
    """POST with a Flask test client and read the page it leads to, flashes included."""
    response = client.post(url, data=data or {})
    location = response.headers.get("Location", "")
    status = response.status_code
    text = response.get_data(as_text=True)
    if status in (302, 303) and location:
        text = client.get(location).get_data(as_text=True)
    return Outcome(status, location, text)


def flashes(text: str) -> list[str]:
    """The flash messages of a page, as the user reads them."""
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m)).strip()
        for m in re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', text, re.S)
    ]


# ---------------------------------------------------------------- a real multi-worker server


def free_port() -> int:
    """A free port below the kernel's ephemeral range: one the kernel never gives an outgoing connection on its
    own, so that it is still free when a server the test stopped (or killed) starts on it again."""
    low = _ephemeral_ports()[0]
    for _ in range(200):
        port = random.randrange(10_000, low)  # noqa: S311 (a port, not a secret)
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port between 10000 and {low}")


def _ephemeral_ports() -> tuple[int, int]:
    try:
        low, high = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
        return int(low), int(high)
    except (OSError, ValueError):
        return 32768, 60999  # Linux's default


class Server:
    """gunicorn serving the app as the README's production section does, on a database the test chose."""

    def __init__(
        self,
        database_url: str,
        instance_dir: Path,
        workers: int = 4,
        extra_env: dict | None = None,
        secret_key: str = "race-secret",  # noqa: S107 (a test server's)
        bound_by_file_permissions: bool = False,
    ):
        self.port = free_port()
        # Root ignores file permissions: the server then runs without that privilege (see bound_by_file_permissions).
        self.prefix = bound_by_file_permissions_prefix() if bound_by_file_permissions else []
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.log = instance_dir / f"gunicorn-{self.port}.log"
        self.env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "SECRET_KEY": secret_key,
            "MARKETPLACE_ENV": "development",
            "DEMO_LOGINS": "0",
            "LOGIN_RATE_LIMIT": "10000 per minute",
            "LOGIN_IP_RATE_LIMIT": "100000 per minute",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self._log_file = None

    def start(self, wait: float = 90) -> "Server":
        self._log_file = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
            [
                *self.prefix,
                sys.executable,
                "-m",
                "gunicorn",
                "--workers",
                str(self.workers),
                "--bind",
                f"127.0.0.1:{self.port}",
                "--graceful-timeout",
                "5",
                "marketplace:create_app()",
            ],
            cwd=PROJECT_ROOT,
            env=self.env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            try:
                if requests.get(self.url + "/sign-in", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise RuntimeError(f"gunicorn did not start:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL the whole process group (master and workers), as a crashed machine would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)
        self._close_log()

    def _close_log(self) -> None:
        if self._log_file is not None:
            self._log_file.close()
            self._log_file = None

    def errors(self) -> str:
        """The tracebacks gunicorn's workers logged, if any."""
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return text if "Traceback" in text else ""

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
        self._close_log()

    def browser_for(self, app, user_id: int) -> requests.Session:
        """A browser-like session already signed in as the user (no password check): the app must share this
        server's SECRET_KEY."""
        assert app.config["SECRET_KEY"] == self.env["SECRET_KEY"]
        browser = requests.Session()
        browser.cookies.set(
            app.config.get("SESSION_COOKIE_NAME", "session"), session_cookie(app, user_id), domain="127.0.0.1", path="/"
        )
        return browser

    def sign_in(self, email: str, password: str) -> requests.Session:
        """A browser-like session signed in through the real form, CSRF token and all."""
        browser = requests.Session()
        page = browser.get(self.url + "/sign-in", timeout=30)
        response = browser.post(
            self.url + "/sign-in",
            timeout=30,
            allow_redirects=False,
            data={"csrf_token": csrf_token(page.text), "email": email, "password": password},
        )
        assert response.status_code in (302, 303), f"sign-in failed for {email}: {response.status_code}"
        return browser


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'<meta name="csrf-token" content="([^"]+)"', html
    )
    assert found, "no CSRF token on the page"
    return found.group(1)


# ---------------------------------------------------------------- taking the database away


class TcpProxy:
    """Forwards a local port to the database server, so that a test can take the database away and bring it back.

    stop() closes the port and cuts every connection through it (both ends), as a network failure or a restarted
    database server would; start() opens the same port again.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.port = free_port()
        self._listener: socket.socket | None = None
        self._acceptor: threading.Thread | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def url_for(self, database_url: str) -> str:
        """The same database URL, through this proxy."""
        from sqlalchemy.engine import make_url

        return make_url(database_url).set(host="127.0.0.1", port=self.port).render_as_string(hide_password=False)

    def start(self) -> "TcpProxy":
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()
        return self

    def stop(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
            # The port is let go only once the thread waiting in accept() on it has returned (within 0.1 s).
            self._acceptor.join(5)
        with self._lock:
            cut, self._open = list(self._open), set()
        for sock in cut:
            _close(sock)

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                _close(client)
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            with self._lock:
                if self._listener is not listener:  # stopped meanwhile
                    _close(client)
                    _close(upstream)
                    return
                self._open.update((client, upstream))
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for sock in (source, sink):
            _close(sock)
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()


# What root may do whatever a file's permissions say (capabilities(7)); a process without them is bound as anyone is.
FILE_PERMISSION_OVERRIDES = "-dac_override,-dac_read_search"


def bound_by_file_permissions_prefix() -> list[str]:
    """The command prefix that makes a process obey file permissions: none needed unless running as root, when
    setpriv(1) drops root's two capabilities that override them (the process stays root, owning the files)."""
    if os.geteuid() != 0:
        return []
    setpriv = shutil.which("setpriv")
    if setpriv is None:
        raise FileNotFoundError("setpriv (util-linux) is needed to run a server bound by file permissions as root")
    return [setpriv, "--bounding-set", FILE_PERMISSION_OVERRIDES, "--inh-caps", FILE_PERMISSION_OVERRIDES, "--"]


def recording_statements(app, fn) -> tuple[Any, list[str]]:
    """fn()'s result and the SQL statements it sent, run in an app context of its own (a transaction, as a request
    has), whose session is removed after."""
    statements: list[str] = []
    with app.app_context():
        listener = lambda *args, **kwargs: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        try:
            return fn(), statements
        finally:
            event.remove(db.engine, "before_cursor_execute", listener)
            db.session.remove()


def tables_named(statements: list[str]) -> set[str]:
    """The app's tables that the statements name."""
    tables = {table.name for table in db.metadata.sorted_tables}
    return {name for name in tables for s in statements if f" {name}" in s or f'"{name}"' in s}
