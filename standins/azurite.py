"""The real Azurite Table service, started on a free loopback port, in memory.

Installed by scripts/install-tools into .tools/azurite (or found via $AZURITE_TABLE). Started
with telemetry off: only loopback is ever contacted.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Azurite's documented development account: public by design, accepted only by Azurite.
ACCOUNT = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)


class AzuriteNotInstalled(RuntimeError):
    pass


def azurite_table_command() -> str:
    candidates = [
        os.environ.get("AZURITE_TABLE", ""),
        str(ROOT / ".tools" / "azurite" / "node_modules" / ".bin" / "azurite-table"),
        shutil.which("azurite-table") or "",
    ]
    for candidate in candidates:
        if candidate and Path(candidate).exists():
            return candidate
    raise AzuriteNotInstalled(
        "Azurite is not installed: run scripts/install-tools (it installs it from npm into "
        ".tools/azurite), or set AZURITE_TABLE to an azurite-table executable"
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Azurite:
    """`with Azurite() as azurite:` gives `azurite.connection_string` for a fresh table service."""

    def __init__(self) -> None:
        self.port = free_port()
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: tempfile.TemporaryDirectory[str] | None = None

    @property
    def connection_string(self) -> str:
        return (
            f"DefaultEndpointsProtocol=http;AccountName={ACCOUNT};AccountKey={ACCOUNT_KEY};"
            f"TableEndpoint=http://127.0.0.1:{self.port}/{ACCOUNT};"
        )

    def start(self, timeout: float = 60.0) -> Azurite:
        self._workdir = tempfile.TemporaryDirectory(prefix="azurite-")
        self._process = subprocess.Popen(
            [
                azurite_table_command(),
                "--tableHost",
                "127.0.0.1",
                "--tablePort",
                str(self.port),
                "--inMemoryPersistence",
                "--disableTelemetry",
                "--skipApiVersionCheck",
                "--silent",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self._workdir.name,  # Azurite writes its debug/extent files here, if any
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                err = (
                    self._process.stderr.read().decode(errors="replace")
                    if self._process.stderr
                    else ""
                )
                raise RuntimeError(
                    f"Azurite exited at start (code {self._process.returncode}): {err}"
                )
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.02)  # it listens ~1-2 s after the spawn; poll finely
        self.stop()
        raise RuntimeError(f"Azurite did not listen on 127.0.0.1:{self.port} within {timeout} s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            try:
                self._process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            if self._process.stderr:
                self._process.stderr.close()
            self._process = None
        if self._workdir is not None:
            self._workdir.cleanup()
            self._workdir = None

    def __enter__(self) -> Azurite:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
