"""A local Mosquitto broker on a free loopback port, for tests, benchmarks and demos.

The temporary configuration enables persistence (sessions and queued QoS 1 messages survive a
restart), lifts the queue limit (``max_queued_messages 0``) so a monitor outage loses nothing, and
raises the in-flight window so batch acknowledgement is not throttled to 20 messages.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

MOSQUITTO_CANDIDATES = ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")


def find_mosquitto() -> str | None:
    found = shutil.which("mosquitto")
    return found or next((p for p in MOSQUITTO_CANDIDATES if os.access(p, os.X_OK)), None)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class LocalBroker:
    """``with LocalBroker(tmp_dir) as b: ... b.port ... b.restart()``."""

    def __init__(self, directory: Path, port: int | None = None, executable: str | None = None) -> None:
        exe = executable or find_mosquitto()
        if exe is None:
            raise FileNotFoundError("mosquitto not found: install it (apt-get install mosquitto) or put it on PATH")
        self.executable = exe
        self.directory = directory
        self.port = port or free_port()
        self.proc: subprocess.Popen[bytes] | None = None
        directory.mkdir(parents=True, exist_ok=True)
        self.config = directory / "mosquitto.conf"
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {directory}/\n"
            "autosave_interval 1\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            "max_keepalive 60\n"
            f"log_dest file {directory}/mosquitto.log\n"
            # as root, Mosquitto would drop to user "mosquitto", who cannot write this directory
            + ("user root\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else "")
        )

    def start(self, timeout: float = 10.0) -> None:
        self.proc = subprocess.Popen([self.executable, "-c", str(self.config)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = (self.directory / "mosquitto.log")
                raise RuntimeError(f"mosquitto exited ({self.proc.returncode}): "
                                   f"{log.read_text()[-500:] if log.exists() else ''}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"mosquitto did not listen on port {self.port} within {timeout:g} s")

    def stop(self) -> None:
        """Graceful stop (SIGTERM): Mosquitto writes its persistence file on the way out."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def __enter__(self) -> LocalBroker:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()
