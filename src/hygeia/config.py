"""One Settings object for the whole platform (``HYGEIA_*`` environment variables).

Nothing else in Hygeia reads ``os.environ``: call :func:`get_settings`.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from platformdirs import user_data_dir
from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "change-me-not-a-secret"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def _default_data_dir() -> Path:
    return Path(user_data_dir("hygeia", appauthor=False))


class Settings(BaseSettings):
    """Platform settings. Every field can be set as ``HYGEIA_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix="HYGEIA_", extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir, description="Where Hygeia keeps its files.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL of the store; empty means a SQLite file in data_dir.",
    )
    reference_dir: Path = Field(
        default=_REPO_ROOT.parent / "shared" / "reference",
        description="External reference data (PharmCAT, NEWS2 tables, MIMIC-IV demo, ...).",
    )
    require_reference: bool = Field(
        default=False, description="Fail, rather than skip, acceptance tests whose reference data is absent."
    )
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET), description="Key for signing session tokens and pseudonyms."
    )
    token_ttl_minutes: int = Field(default=8 * 60, ge=1, description="Lifetime of an API bearer token.")
    demo_mode: bool = Field(default=False, description="Demo server: allows the default secret. Never in production.")
    host: str = "127.0.0.1"
    port: int = 8000

    def resolved_database_url(self) -> str:
        """The store's URL: the configured one, or a SQLite file in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'hygeia.db'}"

    def has_default_secret(self) -> bool:
        return self.secret_key.get_secret_value() == DEFAULT_SECRET

    def reference(self, *parts: str) -> Path:
        """A path inside the reference data directory."""
        return self.reference_dir.joinpath(*parts)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once from the environment)."""
    return Settings()
