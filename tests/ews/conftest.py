"""A real Mosquitto broker for the MQTT tests (skipped without one unless HYGEIA_REQUIRE_MOSQUITTO=1)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygeia.ews.broker import LocalBroker, find_mosquitto


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalBroker]:
    if find_mosquitto() is None:
        if os.environ.get("HYGEIA_REQUIRE_MOSQUITTO") == "1":
            pytest.fail("HYGEIA_REQUIRE_MOSQUITTO=1 but mosquitto is not installed")
        pytest.skip("mosquitto not installed (apt-get install mosquitto)")
    with LocalBroker(tmp_path / "broker") as b:
        yield b
