"""A real PgBouncer in transaction mode in front of the test database, for the worker tests.

Production runs the workers behind a transaction pooler; the tests that start real workers run
once straight to PostgreSQL and once through a PgBouncer this module starts on a free loopback
port, with its own configuration file in a temporary directory.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass(frozen=True)
class Pooler:
    host: str
    port: int


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _executable() -> str:
    found = shutil.which("pgbouncer") or (
        "/usr/sbin/pgbouncer" if Path("/usr/sbin/pgbouncer").exists() else None
    )
    if found is None:
        pytest.fail("PgBouncer is not installed (scripts/system-deps.sh installs it)")
    return found


def pgbouncer_start(
    directory: Path, *, server_host: str, server_port: int, user: str, password: str = ""
) -> Iterator[Pooler]:
    """Run PgBouncer (pool_mode=transaction) until the generator is closed."""
    port = _free_port()
    config = directory / "pgbouncer.ini"
    config.write_text(
        "\n".join(
            [
                "[databases]",
                f"* = host={server_host} port={server_port} user={user}"
                + (f" password={password}" if password else ""),
                "[pgbouncer]",
                "listen_addr = 127.0.0.1",
                f"listen_port = {port}",
                "unix_socket_dir =",
                "auth_type = any",
                "pool_mode = transaction",
                "max_client_conn = 200",
                "default_pool_size = 4",
                "server_reset_query =",
                "ignore_startup_parameters = extra_float_digits,options",
                "",
            ]
        )
    )
    config.chmod(0o644)
    directory.chmod(0o755)
    command = [_executable(), str(config)]
    if os.geteuid() == 0:
        command[1:1] = ["-u", "nobody"]  # PgBouncer refuses to run as root
    log = (directory / "pgbouncer.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail("PgBouncer stopped: " + (directory / "pgbouncer.log").read_text())
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail(
                        "PgBouncer did not listen: " + (directory / "pgbouncer.log").read_text()
                    )
                time.sleep(0.1)
        yield Pooler(host="127.0.0.1", port=port)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)
        log.close()
