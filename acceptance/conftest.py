"""Acceptance tests run against the external reference data (``HYGEIA_REFERENCE_DIR``).

Without the data they skip — unless ``HYGEIA_REQUIRE_REFERENCE=1`` (as in CI), when they fail.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from hygeia.config import Settings


@pytest.fixture(scope="session")
def reference() -> Callable[..., Path]:
    """``reference("pgx", "kb")`` → the path, or skip/fail when it is missing."""
    settings = Settings()

    def locate(*parts: str) -> Path:
        path = settings.reference(*parts)
        if not path.exists():
            message = f"reference data missing: {path} (set HYGEIA_REFERENCE_DIR)"
            if settings.require_reference:
                pytest.fail(message)
            pytest.skip(message)
        return path

    return locate
