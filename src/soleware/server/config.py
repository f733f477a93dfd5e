"""Server settings, from the environment (``SOLEWARE_*``) or a ``.env`` file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOLEWARE_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL; empty = SQLite in the user's data directory
    database_url: str = ""
    #: migrate the database to the head revision when the server starts
    auto_migrate: bool = True
    #: largest request body accepted (bytes); raw recordings and imported files are the big ones
    max_request_bytes: int = 64 * 1024 * 1024
    #: failed sign-ins allowed per e-mail address and client within ``sign_in_window_s``
    sign_in_attempts: int = 5
    sign_in_window_s: float = 60.0
    #: seconds a live run stays "live" without an update
    live_timeout_s: float = 120.0
