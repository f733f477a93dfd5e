"""Server settings, from the environment (``SOLEWARE_*``) or a ``.env`` file."""

from __future__ import annotations

from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["RUN_UPLOAD_BYTES", "Settings"]

#: The largest real run upload (POST /api/runs, the gateway's JSON): 6 h from two shoes at 200 steps/min is
#: 2 feet × 100 strides/min × 360 min = 72,000 strides; the gateway's body for them with every field at full float
#: precision is 19.7 MB (273 bytes a stride with ``json.dumps``' spaces; 18.0 MB as httpx sends it, see
#: tests/server/test_api_limits.py). 32 MiB leaves 1.7× for longer or faster runs.
RUN_UPLOAD_BYTES = 32 * 1024 * 1024


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SOLEWARE_", env_file=".env", extra="ignore")

    #: SQLAlchemy URL; empty = SQLite in the user's data directory
    database_url: str = ""
    #: migrate the database to the head revision when the server starts
    auto_migrate: bool = True
    #: largest body of every request not named below (sign-in, sign-up, profile, shoes, live values): these
    #: are a few kB at most (a sign-up with every field at its longest, escaped as \uXXXX, stays under 16 KiB)
    max_body_bytes: int = 16 * 1024
    #: largest run upload from the gateway (POST /api/runs), see RUN_UPLOAD_BYTES
    max_run_upload_bytes: int = RUN_UPLOAD_BYTES
    #: largest raw IMU upload (POST /api/runs/recording, CSV + JSON per foot; spooled to disk, not memory)
    max_recording_upload_bytes: int = 64 * 1024 * 1024
    #: largest import of files from other apps (POST /api/runs/import, FIT/TCX/GPX or zips; spooled to disk)
    max_import_bytes: int = 64 * 1024 * 1024
    #: sign-in throttling (see soleware.runs.storage.throttle): failures allowed free per client address and per
    #: account, then each further attempt waits twice as long as the one before, up to ``sign_in_max_delay_s``
    sign_in_free_attempts: int = 5
    sign_in_base_delay_s: float = 1.0
    sign_in_max_delay_s: float = 300.0
    #: failures are forgotten this long after the last one
    sign_in_window_s: float = 900.0
    #: seconds a live run stays "live" without an update
    live_timeout_s: float = 120.0
    #: mark the web app's session cookies Secure (HTTPS only) even when the request arrived over plain HTTP (set it
    #: behind a proxy that terminates TLS); requests that arrive over HTTPS always get Secure cookies
    cookie_secure: bool = False
