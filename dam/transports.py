"""How batches reach the data dam: HTTPS to its ingest interface, or files in a directory.

``transport_from_settings()`` picks one from ``DAM_TRANSPORT``:

* ``http``: ``HttpTransport`` posts to ``DAM_URL`` + ``/ingest/v1/batches``, signed with
  ``DAM_KEY_ID``/``DAM_SECRET`` exactly as the interface says (``X-Dam-Signature: sha256=`` + hex
  HMAC-SHA256 of ``<timestamp>.<raw body>``), TLS certificates verified, with connect and read
  timeouts (``DAM_TIMEOUT_SECONDS``). It also reads back subjects and manifests for reconciliation:
  the interface has no list form, one ``GET`` per subject, so many are asked at once over up to
  ``DAM_READ_CONNECTIONS`` kept-alive connections (one per reading thread).
* ``directory``: ``DirectoryTransport`` writes each batch as one JSON file into ``DAM_DIRECTORY``
  (temporary name, then an atomic rename), for the embedded default and air-gapped sites, and
  answers ``accepted`` for every message. It cannot read anything back.

Anything that keeps a batch from being answered (unreachable, timeout, ``429``/``5xx``, ``401``…)
raises ``TransportError``; ``retry_after`` carries the dam's ``Retry-After`` when it gave one.
"""

from __future__ import annotations

import hashlib
import hmac
import http.client
import json
import os
import ssl
import threading
import time
import uuid
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

__all__ = [
    "DirectoryTransport",
    "HttpTransport",
    "PreparedBatch",
    "Transport",
    "TransportError",
    "batch_body",
    "sign",
    "transport_from_settings",
]

BATCHES_PATH = "/ingest/v1/batches"
SUBJECTS_PATH = "/ingest/v1/subjects/"
MANIFESTS_PATH = "/ingest/v1/manifests/"


class TransportError(Exception):
    """The dam did not answer the request: try again later (``retry_after`` seconds if known)."""

    def __init__(self, message: str, *, code: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.retry_after = retry_after


class Transport(Protocol):
    def send_batch(self, batch: dict[str, Any]) -> list[dict[str, Any]]: ...

    def subject_read(self, pseudonym: str) -> dict[str, Any] | None: ...

    def manifest_read(self, manifest_id: str) -> dict[str, Any] | None: ...

    def subjects_read(self, pseudonyms: Sequence[str]) -> list[dict[str, Any] | None]: ...

    def manifests_read(self, manifest_ids: Sequence[str]) -> list[dict[str, Any] | None]: ...


class PreparedBatch(dict[str, Any]):
    """A batch whose exact bytes were built by delivery (``body``), payloads spliced in as stored.
    Its ``messages`` are the envelopes without their payloads, for reading ids and counting."""

    body: bytes


def batch_body(batch: dict[str, Any]) -> bytes:
    """The exact bytes sent (and signed): compact UTF-8 JSON (or the prepared batch's own)."""
    prepared: bytes | None = getattr(batch, "body", None)
    if prepared is not None:
        return prepared
    return json.dumps(batch, ensure_ascii=False, separators=(",", ":")).encode()


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=`` + lowercase hex HMAC-SHA256 of ``<timestamp>.<raw body>``, keyed with ``secret``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value.strip()))
    except ValueError:
        # The HTTP date form is allowed by HTTP, though the interface speaks of seconds.
        from email.utils import parsedate_to_datetime

        try:
            return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
        except (TypeError, ValueError):
            return None


class HttpTransport:
    """The dam's ingest interface over HTTPS (plain HTTP only for loopback test servers)."""

    def __init__(
        self,
        *,
        url: str,
        key_id: str,
        secret: str,
        timeout: float = 10.0,
        connect_timeout: float = 5.0,
        ssl_context: ssl.SSLContext | None = None,
        read_connections: int = 1,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ImproperlyConfigured("DAM_URL must be an https:// address")
        self.url = url
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.base_path = parts.path.rstrip("/")
        self.key_id = key_id
        self.secret = secret
        self.timeout = timeout
        self.connect_timeout = connect_timeout
        # Certificates and host names are always verified (the default context does both).
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._connection: http.client.HTTPConnection | None = None
        self.read_connections = max(1, read_connections)
        # Reading many at once: a thread pool, each thread with a transport (a connection) of its own.
        self._readers: ThreadPoolExecutor | None = None
        self._reader_local = threading.local()
        self._reader_transports: list[HttpTransport] = []
        self._reader_lock = threading.Lock()

    # -- the interface ------------------------------------------------------------------------

    def send_batch(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        body = batch_body(batch)
        status, headers, data = self._request("POST", BATCHES_PATH, body)
        if status != 200:
            raise self._error(status, headers, data)
        try:
            results = json.loads(data)["results"]
        except (ValueError, KeyError, TypeError) as exc:
            raise TransportError(
                "the dam's answer is not the expected JSON", code="bad_answer"
            ) from exc
        if not isinstance(results, list) or len(results) != len(batch["messages"]):
            raise TransportError("the dam did not answer every message", code="bad_answer")
        return results

    def subject_read(self, pseudonym: str) -> dict[str, Any] | None:
        return self._read(SUBJECTS_PATH + quote(pseudonym, safe=""))

    def manifest_read(self, manifest_id: str) -> dict[str, Any] | None:
        return self._read(MANIFESTS_PATH + quote(manifest_id, safe=""))

    def subjects_read(self, pseudonyms: Sequence[str]) -> list[dict[str, Any] | None]:
        """``subject_read`` of each, in order, up to ``read_connections`` at a time. The first
        ``TransportError`` is raised (after the requests already under way have finished)."""
        return self._read_many(SUBJECTS_PATH, pseudonyms)

    def manifests_read(self, manifest_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        return self._read_many(MANIFESTS_PATH, manifest_ids)

    def close(self) -> None:
        if self._readers is not None:
            self._readers.shutdown(wait=True)
            self._readers = None
        with self._reader_lock:
            readers, self._reader_transports = self._reader_transports, []
        for reader in readers:
            reader.close()
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    # -- plumbing -----------------------------------------------------------------------------

    def _read_many(self, prefix: str, keys: Sequence[str]) -> list[dict[str, Any] | None]:
        paths = [prefix + quote(key, safe="") for key in keys]
        if self.read_connections == 1 or len(paths) <= 1:
            return [self._read(path) for path in paths]
        if self._readers is None:
            self._readers = ThreadPoolExecutor(
                max_workers=self.read_connections, thread_name_prefix="dam-read"
            )
        futures = [self._readers.submit(self._read_in_thread, path) for path in paths]
        return [future.result() for future in futures]

    def _read_in_thread(self, path: str) -> dict[str, Any] | None:
        reader: HttpTransport | None = getattr(self._reader_local, "transport", None)
        if reader is None:
            reader = HttpTransport(
                url=self.url,
                key_id=self.key_id,
                secret=self.secret,
                timeout=self.timeout,
                connect_timeout=self.connect_timeout,
                ssl_context=self.ssl_context,
            )
            self._reader_local.transport = reader
            with self._reader_lock:
                self._reader_transports.append(reader)
        return reader._read(path)

    def _read(self, path: str) -> dict[str, Any] | None:
        status, headers, data = self._request("GET", path, b"")
        if status == 404:
            return None
        if status != 200:
            raise self._error(status, headers, data)
        try:
            answer = json.loads(data)
        except ValueError as exc:
            raise TransportError("the dam's answer is not JSON", code="bad_answer") from exc
        if not isinstance(answer, dict):
            raise TransportError("the dam's answer is not a JSON object", code="bad_answer")
        return answer

    def _headers(self, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        headers = {
            "X-Dam-Key": self.key_id,
            "X-Dam-Timestamp": timestamp,
            "X-Dam-Signature": sign(self.secret, timestamp, body),
            "Accept": "application/json",
        }
        if body:
            headers["Content-Type"] = "application/json"
        return headers

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            if self.scheme == "https":
                self._connection = http.client.HTTPSConnection(
                    self.host, self.port, timeout=self.connect_timeout, context=self.ssl_context
                )
            else:
                self._connection = http.client.HTTPConnection(
                    self.host, self.port, timeout=self.connect_timeout
                )
            self._connection.connect()
            assert self._connection.sock is not None
            self._connection.sock.settimeout(self.timeout)
        return self._connection

    def _request(self, method: str, path: str, body: bytes) -> tuple[int, Any, bytes]:
        # A kept-alive connection the server has closed fails on first use: one fresh retry then.
        for fresh in (self._connection is None, True):
            try:
                connection = self._connect()
                connection.request(method, self.base_path + path, body=body or None,
                                   headers=self._headers(body))  # fmt: skip
                response = connection.getresponse()
                data = response.read()
                if response.will_close:
                    self.close()
                return response.status, response.headers, data
            except TimeoutError as exc:
                self.close()
                raise TransportError("the dam did not answer in time", code="timeout") from exc
            except (
                ConnectionError,
                http.client.RemoteDisconnected,
                http.client.BadStatusLine,
            ) as exc:
                self.close()
                if fresh:
                    raise TransportError(
                        f"the dam cannot be reached ({type(exc).__name__})", code="unreachable"
                    ) from exc
            except (OSError, http.client.HTTPException) as exc:
                self.close()
                raise TransportError(
                    f"the dam cannot be reached ({type(exc).__name__})", code="unreachable"
                ) from exc
        raise AssertionError("unreachable")

    def _error(self, status: int, headers: Any, data: bytes) -> TransportError:
        try:
            detail = str(json.loads(data).get("error", ""))[:200]
        except (ValueError, AttributeError):
            detail = ""
        message = f"the dam answered HTTP {status}" + (f" ({detail})" if detail else "")
        return TransportError(
            message, code=f"http_{status}", retry_after=_retry_after(headers.get("Retry-After"))
        )


class DirectoryTransport:
    """One JSON file per batch in ``directory``: written under a temporary name, then renamed."""

    def __init__(self, *, directory: Path | str) -> None:
        self.directory = Path(directory)

    def send_batch(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        body = batch_body(batch)
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"batch-{time.strftime('%Y%m%dT%H%M%S')}-{batch.get('batch_id') or uuid.uuid4()}"
            temporary = self.directory / f".{name}.tmp"
            with temporary.open("wb") as handle:
                handle.write(body)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(temporary, self.directory / f"{name}.json")
        except OSError as exc:
            raise TransportError(
                f"the drop directory cannot be written ({exc.strerror})", code="unwritable"
            ) from exc
        return [{"id": message["id"], "status": "accepted"} for message in batch["messages"]]

    def subject_read(self, pseudonym: str) -> dict[str, Any] | None:
        raise TransportError(
            "the directory transport cannot read anything back from the dam; reconciliation "
            "needs DAM_TRANSPORT=http",
            code="cannot_read_back",
        )

    def manifest_read(self, manifest_id: str) -> dict[str, Any] | None:
        raise TransportError(
            "the directory transport cannot read anything back from the dam; reconciliation "
            "needs DAM_TRANSPORT=http",
            code="cannot_read_back",
        )

    def subjects_read(self, pseudonyms: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.subject_read(p) for p in pseudonyms]

    def manifests_read(self, manifest_ids: Sequence[str]) -> list[dict[str, Any] | None]:
        return [self.manifest_read(m) for m in manifest_ids]

    def close(self) -> None:
        pass


def transport_from_settings() -> Transport:
    kind = settings.DAM_TRANSPORT
    if kind == "http":
        return HttpTransport(
            url=settings.DAM_URL,
            key_id=settings.DAM_KEY_ID,
            secret=settings.DAM_SECRET,
            timeout=settings.DAM_TIMEOUT_SECONDS,
            connect_timeout=min(settings.DAM_TIMEOUT_SECONDS, 5.0),
            read_connections=settings.DAM_READ_CONNECTIONS,
        )
    if kind == "directory":
        return DirectoryTransport(directory=settings.DAM_DIRECTORY)
    raise ImproperlyConfigured("DAM_TRANSPORT must be http or directory")
