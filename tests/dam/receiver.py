"""A strict data dam on loopback, written from the ingest interface text (version 1).

It is a real HTTP server (``ThreadingHTTPServer`` on 127.0.0.1, HTTP/1.1 keep-alive) that checks
what the interface demands and nothing of our client's own making:

* authentication: ``X-Dam-Key`` known, ``X-Dam-Timestamp`` within 300 s of its clock,
  ``X-Dam-Signature`` = ``sha256=`` + hex HMAC-SHA256 of ``<timestamp>.<raw body>`` -> else ``401``;
* ``POST /ingest/v1/batches``: JSON object ``{batch_id, sent_at, messages}`` (``400`` otherwise),
  at most 1,000 messages and 5 MiB (``413``); per message: envelope and payload exactly as the
  text, the subject's sequence from 1 without gaps (``sequence_gap``), ``duplicate`` for an id
  accepted before, ``withdrawn`` after the subject withdrew, ``unknown_subject`` for a manifest
  naming a subject never registered, ``invalid`` for anything malformed or carrying personal data;
* ``GET /ingest/v1/subjects/{pseudonym}`` and ``GET /ingest/v1/manifests/{manifest_id}``.

Tests tell it to misbehave (``fail``: answer a status, optionally with ``Retry-After``; ``hang``:
process, then answer only after a delay; ``drop``: process, then close without answering) and set
which samples of a manifest were physically received. Everything received is kept (``bodies``)
so tests can look at every byte sent.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import threading
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote

MAX_MESSAGES = 1000
MAX_BYTES = 5 * 1024 * 1024
CLOCK_WINDOW = 300

TYPES = {"subject.registered", "consent.updated", "subject.withdrawn", "manifest.submitted"}
SEXES = {"female", "male", "other", "unknown"}
LEVELS = {"no_further_contact", "no_further_collection", "no_further_use"}
FATES = {"destroy", "retain_anonymized"}
SAMPLE_TYPES = {"WB_EDTA", "SERUM", "PLASMA", "URINE", "DNA", "BUFFY_COAT"}

# Personal data the dam looks for in every string and key it receives.
EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
PHONE = re.compile(r"(?<!\d)(\+?82[ -]?1\d|01[016789])[ -]?\d{3,4}[ -]?\d{4}(?!\d)")
RRN = re.compile(r"(?<!\d)\d{6}-?[1-8]\d{6}(?!\d)")
DATE_ONLY = re.compile(r"^\d{4}-?\d{2}-?\d{2}$")
# Identifiers that are random hex by construction (message ids, digests) are not read as text.
HEX_IDENTIFIER = re.compile(
    r"^(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32,})$"
)
PERSONAL_KEYS = {
    "name", "given", "family", "phone", "telecom", "email", "e_mail", "address", "birthdate",
    "birth_date", "dob", "rrn", "resident_registration_number",
}  # fmt: skip


class Invalid(Exception):
    pass


def _iso_with_offset(value: Any, what: str) -> dt.datetime:
    if not isinstance(value, str):
        raise Invalid(f"{what} is not a string")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid(f"{what} is not ISO 8601") from exc
    if parsed.tzinfo is None:
        raise Invalid(f"{what} has no offset")
    return parsed


def _keys(obj: Any, required: set[str], what: str, optional: frozenset[str] = frozenset()) -> None:
    if not isinstance(obj, dict):
        raise Invalid(f"{what} is not an object")
    missing = required - obj.keys()
    extra = obj.keys() - required - optional
    if missing or extra:
        raise Invalid(f"{what}: missing {sorted(missing)}, unexpected {sorted(extra)}")


def personal_data_in(value: Any, path: str = "") -> str | None:
    """Where in ``value`` something looks like personal data, or ``None``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if str(key).lower() in PERSONAL_KEYS:
                return f"{path}.{key}"
            found = personal_data_in(item, f"{path}.{key}")
            if found:
                return found
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found = personal_data_in(item, f"{path}[{index}]")
            if found:
                return found
    elif isinstance(value, str) and not HEX_IDENTIFIER.match(value):
        if EMAIL.search(value) or PHONE.search(value) or RRN.search(value):
            return path
        if DATE_ONLY.match(value):
            return path  # a bare date: the dam only takes full timestamps and a birth year
    return None


@dataclass
class Subject:
    sequence: int = 0
    status: str = "active"
    samples: list[str] = field(default_factory=list)


@dataclass
class Fault:
    kind: str  # "fail" | "hang" | "drop"
    status: int = 500
    retry_after: str | None = None
    seconds: float = 0.0


class DamReceiver:
    """State and behaviour of the fake dam. ``url`` once started."""

    def __init__(
        self,
        *,
        key_id: str = "portal-test",
        secret: str = "test-secret-0123456789",  # noqa: S107
        keep: bool = True,
    ) -> None:
        # ``keep=False`` (the benchmark) keeps ids and sequences only, not every body and message.
        self.keep = keep
        self.key_id = key_id
        self.secret = secret
        self.clock_offset = 0.0
        self.lock = threading.Lock()
        self.subjects: dict[str, Subject] = {}
        self.accepted_ids: set[str] = set()
        # Every accepted message, in the order the dam applied them.
        self.accepted: list[dict[str, Any]] = []
        self.results: list[dict[str, Any]] = []
        self.manifests: dict[str, dict[str, Any]] = {}
        self.received_samples: dict[str, set[str]] = defaultdict(set)
        self.bodies: list[bytes] = []
        # (method, path, status answered, monotonic time received)
        self.requests: list[tuple[str, str, int, float]] = []
        self.faults: list[Fault] = []
        self.rejections: dict[str, tuple[str, str]] = {}
        self.server: ThreadingHTTPServer | None = None
        self.thread: threading.Thread | None = None

    # -- control from tests -------------------------------------------------------------------

    def fail(self, times: int = 1, *, status: int = 500, retry_after: str | None = None) -> None:
        with self.lock:
            self.faults += [Fault("fail", status=status, retry_after=retry_after)] * times

    def hang(self, times: int = 1, *, seconds: float) -> None:
        with self.lock:
            self.faults += [Fault("hang", seconds=seconds)] * times

    def drop(self, times: int = 1) -> None:
        with self.lock:
            self.faults += [Fault("drop")] * times

    def reject(self, message_id: str, *, error: str = "invalid", detail: str = "told to") -> None:
        with self.lock:
            self.rejections[message_id] = (error, detail)

    def receive(self, manifest_id: str, barcodes: list[str]) -> None:
        """The physical samples of a manifest arrived at the dam."""
        with self.lock:
            self.received_samples[manifest_id].update(barcodes)

    def statuses(self) -> dict[str, int]:
        with self.lock:
            counts: dict[str, int] = defaultdict(int)
            for result in self.results:
                counts[
                    result["status"] + (":" + result["error"] if result.get("error") else "")
                ] += 1
            return dict(counts)

    def assert_exactly_once_in_order(self, expected_ids: set[str]) -> None:
        """Every expected message accepted once, nothing else, each subject's in sequence."""
        with self.lock:
            ids = [m["id"] for m in self.accepted]
            assert len(ids) == len(set(ids)), "a message was accepted twice"
            assert set(ids) == expected_ids, (
                f"missing {len(expected_ids - set(ids))}, unexpected {len(set(ids) - expected_ids)}"
            )
            last: dict[str, int] = {}
            for message in self.accepted:
                if "subject" in message:
                    assert message["sequence"] == last.get(message["subject"], 0) + 1
                    last[message["subject"]] = message["sequence"]

    # -- server ---------------------------------------------------------------------------------

    def start(self, port: int = 0) -> DamReceiver:
        receiver = self

        class Handler(_Handler):
            dam = receiver

        ThreadingHTTPServer.allow_reuse_address = True
        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    # -- the interface ------------------------------------------------------------------------

    def authenticate(self, headers: Any, body: bytes) -> bool:
        key = headers.get("X-Dam-Key")
        timestamp = headers.get("X-Dam-Timestamp") or ""
        signature = headers.get("X-Dam-Signature") or ""
        if key != self.key_id or not timestamp.isdigit():
            return False
        if abs(time.time() + self.clock_offset - int(timestamp)) > CLOCK_WINDOW:
            return False
        expected = (
            "sha256="
            + hmac.new(
                self.secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256
            ).hexdigest()
        )
        return hmac.compare_digest(expected, signature)

    def ingest(self, body: bytes) -> tuple[int, dict[str, Any]]:
        if len(body) > MAX_BYTES:
            return 413, {"error": "batch larger than 5 MiB"}
        try:
            batch = json.loads(body.decode("utf-8"))
            _keys(batch, {"batch_id", "sent_at", "messages"}, "batch")
            uuid.UUID(batch["batch_id"])
            _iso_with_offset(batch["sent_at"], "sent_at")
            if not isinstance(batch["messages"], list) or not batch["messages"]:
                raise Invalid("messages is not a non-empty list")
        except (ValueError, UnicodeDecodeError, Invalid, TypeError, AttributeError) as exc:
            return 400, {"error": f"malformed batch: {exc}"}
        if len(batch["messages"]) > MAX_MESSAGES:
            return 413, {"error": "more than 1,000 messages"}
        with self.lock:
            results = [self._apply(message) for message in batch["messages"]]
            if self.keep:
                self.results += results
        return 200, {"results": results}

    def _apply(self, message: Any) -> dict[str, Any]:
        message_id = message.get("id") if isinstance(message, dict) else None
        result: dict[str, Any] = {"id": message_id if isinstance(message_id, str) else ""}
        try:
            self._validate(message)
        except Invalid as exc:
            return {**result, "status": "rejected", "error": "invalid", "detail": str(exc)}
        if message_id in self.accepted_ids:
            return {**result, "status": "duplicate"}
        if message_id in self.rejections:
            error, detail = self.rejections[message_id]
            return {**result, "status": "rejected", "error": error, "detail": detail}
        if message["type"] == "manifest.submitted":
            payload = message["payload"]
            for sample in payload["samples"]:
                if sample["subject"] not in self.subjects:
                    return {**result, "status": "rejected", "error": "unknown_subject",
                            "detail": sample["subject"]}  # fmt: skip
            for sample in payload["samples"]:
                self.subjects[sample["subject"]].samples.append(sample["sample_id"])
            self.manifests[payload["manifest_id"]] = payload
        else:
            subject = self.subjects.get(message["subject"])
            if subject is not None and subject.status == "withdrawn":
                return {**result, "status": "rejected", "error": "withdrawn"}
            current = subject.sequence if subject is not None else 0
            if message["sequence"] > current + 1:
                return {**result, "status": "rejected", "error": "sequence_gap",
                        "detail": f"expected {current + 1}"}  # fmt: skip
            if message["sequence"] <= current:
                return {**result, "status": "rejected", "error": "invalid",
                        "detail": "sequence already used by another message"}  # fmt: skip
            if subject is None:
                if message["type"] != "subject.registered":
                    return {**result, "status": "rejected", "error": "invalid",
                            "detail": "first message of a subject must register it"}  # fmt: skip
                subject = self.subjects[message["subject"]] = Subject()
            elif message["type"] == "subject.registered":
                return {**result, "status": "rejected", "error": "invalid",
                        "detail": "subject already registered"}  # fmt: skip
            subject.sequence = message["sequence"]
            if message["type"] == "subject.withdrawn":
                subject.status = "withdrawn"
        self.accepted_ids.add(message_id)
        if self.keep:
            self.accepted.append(message)
        return {**result, "status": "accepted"}

    def _validate(self, message: Any) -> None:
        if not isinstance(message, dict):
            raise Invalid("message is not an object")
        kind = message.get("type")
        if kind not in TYPES:
            raise Invalid("unknown type")
        if kind == "manifest.submitted":
            _keys(message, {"id", "type", "occurred_at", "payload"}, "envelope")
        else:
            _keys(message, {"id", "type", "subject", "sequence", "occurred_at", "payload"},
                  "envelope")  # fmt: skip
            if not isinstance(message["subject"], str) or not message["subject"]:
                raise Invalid("subject is not a pseudonym")
            sequence = message["sequence"]
            if not isinstance(sequence, int) or isinstance(sequence, bool) or sequence < 1:
                raise Invalid("sequence is not a whole number from 1")
        try:
            uuid.UUID(str(message["id"]))
        except ValueError as exc:
            raise Invalid("id is not a uuid") from exc
        _iso_with_offset(message["occurred_at"], "occurred_at")
        where = personal_data_in(message)
        if where:
            raise Invalid(f"personal data at {where}")
        payload = message["payload"]
        if kind == "subject.registered":
            _keys(payload, {"cohort", "site", "enrolled_on", "birth_year", "sex"}, "payload")
            if not re.fullmatch(r"\d{4}-\d{2}", str(payload["enrolled_on"])):
                raise Invalid("enrolled_on is not YYYY-MM")
            year = payload["birth_year"]
            if not isinstance(year, int) or not 1890 <= year <= dt.datetime.now(dt.UTC).year:
                raise Invalid("birth_year is not a year")
            if payload["sex"] not in SEXES:
                raise Invalid("unknown sex")
            if not all(isinstance(payload[k], str) for k in ("cohort", "site")):
                raise Invalid("cohort and site are codes")
        elif kind == "consent.updated":
            _keys(payload, {"consent_version", "status", "signed_at", "permissions", "fhir"},
                  "payload")  # fmt: skip
            _iso_with_offset(payload["signed_at"], "signed_at")
            if not isinstance(payload["permissions"], list):
                raise Invalid("permissions is not a list")
            for permission in payload["permissions"]:
                _keys(permission, {"item", "granted", "duo"}, "permission")
                if not isinstance(permission["granted"], bool):
                    raise Invalid("granted is not a boolean")
                if not all(re.fullmatch(r"DUO:\d{7}", d) for d in permission["duo"]):
                    raise Invalid("duo terms are DUO:nnnnnnn")
            fhir = payload["fhir"]
            if not isinstance(fhir, dict) or fhir.get("resourceType") != "Consent":
                raise Invalid("fhir is not a Consent resource")
            identifier = (fhir.get("patient") or {}).get("identifier") or {}
            if identifier.get("value") != message["subject"]:
                raise Invalid("the Consent's patient is not the subject pseudonym")
        elif kind == "subject.withdrawn":
            _keys(payload, {"level", "effective_at", "samples"}, "payload")
            _iso_with_offset(payload["effective_at"], "effective_at")
            if payload["level"] not in LEVELS or payload["samples"] not in FATES:
                raise Invalid("unknown level or samples fate")
        else:
            _keys(payload, {"manifest_id", "site", "shipped_at", "samples"}, "payload")
            _iso_with_offset(payload["shipped_at"], "shipped_at")
            if not isinstance(payload["samples"], list):
                raise Invalid("samples is not a list")
            for sample in payload["samples"]:
                _keys(sample, {"sample_id", "subject", "type", "collected_at", "volume_ml"},
                      "sample")  # fmt: skip
                if sample["type"] not in SAMPLE_TYPES:
                    raise Invalid("unknown sample type")
                _iso_with_offset(sample["collected_at"], "collected_at")
                if not isinstance(sample["volume_ml"], int | float):
                    raise Invalid("volume_ml is not a number")

    def subject_view(self, pseudonym: str) -> dict[str, Any] | None:
        with self.lock:
            subject = self.subjects.get(pseudonym)
            if subject is None:
                return None
            return {"subject": pseudonym, "sequence": subject.sequence, "status": subject.status,
                    "samples": list(subject.samples)}  # fmt: skip

    def manifest_view(self, manifest_id: str) -> dict[str, Any] | None:
        with self.lock:
            manifest = self.manifests.get(manifest_id)
            if manifest is None:
                return None
            barcodes = [s["sample_id"] for s in manifest["samples"]]
            received = self.received_samples.get(manifest_id, set())
            return {"manifest_id": manifest_id,
                    "received": [b for b in barcodes if b in received],
                    "missing": [b for b in barcodes if b not in received]}  # fmt: skip


class _Handler(BaseHTTPRequestHandler):
    dam: DamReceiver
    protocol_version = "HTTP/1.1"
    # The headers and the body of an answer are two writes: without TCP_NODELAY the body waits
    # for the client's delayed ACK (~40 ms a request), which no real server would add.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _answer(
        self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _fault(self) -> Fault | None:
        with self.dam.lock:
            return self.dam.faults.pop(0) if self.dam.faults else None

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BYTES + 1024 * 1024:
            self.close_connection = True
            return self._answer(413, {"error": "too large"})
        body = self.rfile.read(length)
        if self.dam.keep:
            with self.dam.lock:
                self.dam.bodies.append(body)
        if self.path != "/ingest/v1/batches":
            return self._answer(404, {"error": "not found"})
        if not self.dam.authenticate(self.headers, body):
            return self._answer(401, {"error": "authentication"})
        if (self.headers.get("Content-Type") or "").split(";")[0].strip() != "application/json":
            return self._answer(400, {"error": "Content-Type must be application/json"})
        fault = self._fault()
        if fault is not None and fault.kind == "fail":
            headers = {"Retry-After": fault.retry_after} if fault.retry_after else {}
            with self.dam.lock:
                self.dam.requests.append(("POST", self.path, fault.status, time.monotonic()))
            return self._answer(fault.status, {"error": "told to fail"}, headers)
        status, answer = self.dam.ingest(body)
        if self.dam.keep:
            with self.dam.lock:
                self.dam.requests.append(("POST", self.path, status, time.monotonic()))
        if fault is not None and fault.kind == "hang":
            time.sleep(fault.seconds)
        if fault is not None and fault.kind == "drop":
            self.close_connection = True
            return
        self._answer(status, answer)

    def do_GET(self) -> None:
        with self.dam.lock:
            self.dam.requests.append(("GET", self.path, 0, time.monotonic()))
        if not self.dam.authenticate(self.headers, b""):
            return self._answer(401, {"error": "authentication"})
        if self.path.startswith("/ingest/v1/subjects/"):
            view = self.dam.subject_view(unquote(self.path.removeprefix("/ingest/v1/subjects/")))
        elif self.path.startswith("/ingest/v1/manifests/"):
            view = self.dam.manifest_view(unquote(self.path.removeprefix("/ingest/v1/manifests/")))
        else:
            return self._answer(404, {"error": "not found"})
        if view is None:
            return self._answer(404, {"error": "not found"})
        self._answer(200, view)


def serve(port: int, *, key_id: str, secret: str) -> None:
    """Run a lean receiver in the foreground (the benchmark's dam, in a process of its own)."""
    receiver = DamReceiver(key_id=key_id, secret=secret, keep=False).start(port=port)
    assert receiver.thread is not None
    receiver.thread.join()


if __name__ == "__main__":
    import sys

    serve(int(sys.argv[1]), key_id=sys.argv[2], secret=sys.argv[3])
