"""A real HTTP receiver on 127.0.0.1, in a thread: it answers each call as scripted and checks its signature with
the receivers' own `signing.verify`, as a lab's server would. Given a TLS context, it answers https."""

import json
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from marketplace.webhooks import signing


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    path: str
    signed_at: int | None  # the verified timestamp, or None when the signature did not verify
    problem: str = ""

    @property
    def json(self) -> dict:
        return json.loads(self.body)


@dataclass
class Answer:
    status: int = 200
    body: bytes = b'{"received": true}'
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


class Receiver:
    """Scripted answers, one per call (the last one repeats); every call kept, with its signature checked under
    `secret` (set it once the endpoint is registered)."""

    def __init__(self, *answers: Answer, tls: ssl.SSLContext | None = None):
        self.tls = tls
        self.answers = list(answers) or [Answer()]
        self.calls: list[Received] = []
        self.secret = ""
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                try:
                    signed_at, problem = signing.verify(receiver.secret, body, self.headers[signing.HEADER]), ""
                except (signing.BadSignature, KeyError) as error:
                    signed_at, problem = None, str(error)
                with receiver._lock:
                    receiver.calls.append(Received(dict(self.headers), body, self.path, signed_at, problem))
                    answer = receiver.answers[min(len(receiver.calls), len(receiver.answers)) - 1]
                if answer.delay:
                    time.sleep(answer.delay)
                self.send_response(answer.status)
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer.body)))
                self.end_headers()
                self.wfile.write(answer.body)

            def log_message(self, *_args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        if tls is not None:
            # The handshake is made in each request's own thread, so a client that refuses it holds nothing up.
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True, do_handshake_on_connect=False)
            self.server.handle_error = lambda *_args: None  # type: ignore[method-assign]  (a refused handshake)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls is not None else "http"
        return f"{scheme}://127.0.0.1:{self.server.server_address[1]}/hooks/armslength"

    def __enter__(self) -> "Receiver":
        self.thread.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.server.shutdown()
        self.server.server_close()
