"""The HTTP API (FastAPI): it only renders what the capabilities compute."""

from hygeia.api.app import create_app

__all__ = ["create_app"]
