"""Partition functions for the engine tests (importable, so worker processes can unpickle them)."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def squares(payload: list[int]) -> list[dict[str, Any]]:
    return [{"i": i, "square": i * i, "label": f"n{i}"} for i in payload]


def flaky(payload: tuple[str, list[int]]) -> list[dict[str, Any]]:
    """Fails the first time it sees a partition (a marker file remembers), then works."""
    folder, items = payload
    marker = Path(folder) / f"seen-{items[0]}"
    if not marker.exists():
        marker.write_text("1")
        raise OSError(f"transient failure on partition starting at {items[0]}")
    return squares(items)


def fails_on_seven(payload: list[int]) -> list[dict[str, Any]]:
    if 7 in payload:
        raise ValueError("item 7 is malformed")
    return squares(payload)
