"""A local stand-in for SendGrid's v3 mail/send API, for the real client to talk to.

The real `sendgrid` client is pointed at it through its `host` argument. It records every
request and answers from a queue the test fills; with an empty queue it accepts (202).
"""

import base64
import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"


@dataclass
class Answer:
    """One programmed response."""

    status: int = 202
    body: dict | None = None
    headers: dict = field(default_factory=dict)
    #: Seconds to wait before answering, to make the client time out.
    delay: float = 0.0


@dataclass
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    headers: dict
    body: dict | None


class FakeSendGrid:
    """The running fake: `.url` for the client, `.requests` seen, `.answers` to give."""

    def __init__(self):
        self.requests: list[Recorded] = []
        #: Answers (or bare status codes) handed out in order; empty means 202 Accepted.
        self.answers: list[Answer | int] = []
        #: Requests answered 2xx: what SendGrid would actually have taken.
        self.accepted: list[Recorded] = []
        #: Seconds added to every answer, like the real API's round trip.
        self.latency: float = 0.0
        self._ids = itertools.count(1)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._server.daemon_threads = True
        host, port = self._server.server_address[:2]
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> "FakeSendGrid":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # Helpers to queue the answers SendGrid gives in real life.
    def accept(self, message_id: str | None = None) -> None:
        headers = {"X-Message-Id": message_id} if message_id else {}
        self.answers.append(Answer(202, headers=headers))

    def rate_limit(self, retry_after: int = 30) -> None:
        body = {"errors": [{"field": None, "message": "too many requests"}]}
        self.answers.append(Answer(429, body=body, headers={"Retry-After": str(retry_after)}))

    def error(self, status: int, message: str, field_name: str | None = None) -> None:
        body = {"errors": [{"message": message, "field": field_name, "help": None}]}
        self.answers.append(Answer(status, body=body))

    def slow(self, seconds: float) -> None:
        self.answers.append(Answer(202, delay=seconds))

    def _next_answer(self) -> Answer:
        with self._lock:
            answer = self.answers.pop(0) if self.answers else Answer()
        if isinstance(answer, int):
            answer = Answer(answer)
        if answer.status == 202 and "X-Message-Id" not in answer.headers:
            answer.headers = {**answer.headers, "X-Message-Id": f"fake{next(self._ids):06d}"}
        return answer

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):  # noqa: N802 (http.server's naming)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                recorded = Recorded("POST", self.path, dict(self.headers.items()), body)
                with fake._lock:
                    fake.requests.append(recorded)
                if self.path != "/v3/mail/send":
                    return self._send(Answer(404, body={"errors": [{"message": "not found"}]}))
                answer = fake._next_answer()
                if 200 <= answer.status < 300:
                    with fake._lock:
                        fake.accepted.append(recorded)
                if fake.latency:
                    time.sleep(fake.latency)
                self._send(answer)

            def _send(self, answer: Answer):
                if answer.delay:
                    time.sleep(answer.delay)
                payload = json.dumps(answer.body).encode() if answer.body is not None else b""
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    if payload:
                        self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(payload)))
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(payload)
                except (BrokenPipeError, ConnectionResetError):
                    # The client gave up (a timeout test); nothing to answer.
                    pass
                self.close_connection = True

            def log_message(self, format, *args):
                pass

        return Handler


class WebhookSigner:
    """Signs event webhook posts the way SendGrid does, with a fresh P-256 test key."""

    def __init__(self):
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        der = self.private_key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        #: What SendGrid's settings page shows: base64 DER SubjectPublicKeyInfo, no PEM lines.
        self.public_key = base64.b64encode(der).decode("ascii")

    def signature(self, body: bytes, timestamp: str) -> str:
        """Base64 DER ECDSA/SHA-256 signature over timestamp + body."""
        raw = self.private_key.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(raw).decode("ascii")

    def headers(self, body: bytes, timestamp: int | str | None = None) -> dict:
        """The two headers SendGrid sends with a signed post."""
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        return {
            SIGNATURE_HEADER: self.signature(body, stamp),
            TIMESTAMP_HEADER: stamp,
            "Content-Type": "application/json",
        }
