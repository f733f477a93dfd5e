"""How many wrong passwords does ``soleware serve --workers N`` check before it makes a client wait?

Starts a throwaway PostgreSQL (scripts/postgres) and the service with N workers on a fresh database, signs a runner
up, then sends ``--attempts`` wrong passwords at once, each on a fresh connection (so they spread over the
workers), and counts the answers: 401 (checked: the password was wrong) and 429 (told to wait, not checked).
One budget shared by every worker means 401 × ``sign_in_free_attempts`` (5), whatever N.

    PYTHONPATH=src .venv/bin/python benchmarks/sign_in_budget.py [--workers 2] [--attempts 30]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]


async def attempts(url: str, n: int) -> collections.Counter[int]:
    async def wrong(i: int) -> int:
        async with httpx.AsyncClient(headers={"Connection": "close"}, timeout=60) as c:
            body = {"email": "budget@example.com", "password": f"wrong guess {i}"}
            return (await c.post(url + "/api/auth/signin", json=body)).status_code

    return collections.Counter(await asyncio.gather(*(wrong(i) for i in range(n))))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--attempts", type=int, default=30)
    args = ap.parse_args()
    import psycopg

    with tempfile.TemporaryDirectory() as d:
        pg = ["bash", str(ROOT / "scripts/postgres")]
        server = subprocess.run([*pg, "start", d], check=True, capture_output=True, text=True)
        server_url = server.stdout.strip().splitlines()[-1]
        try:
            name = "budget_" + uuid.uuid4().hex[:8]
            with psycopg.connect(server_url, autocommit=True) as conn:
                conn.execute(f"CREATE DATABASE {name}")
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
                port = s.getsockname()[1]
            env = {**os.environ, "SOLEWARE_DATABASE_URL": server_url.rsplit("/", 1)[0] + "/" + name}
            p = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "soleware.cli",
                    "serve",
                    "--port",
                    str(port),
                    "--workers",
                    str(args.workers),
                ],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            url = f"http://127.0.0.1:{port}"
            try:
                for _ in range(600):
                    with contextlib.suppress(httpx.HTTPError):
                        if httpx.get(url + "/api/health").status_code == 200:
                            break
                    time.sleep(0.1)
                body = {"email": "budget@example.com", "password": "the right one"}
                assert httpx.post(url + "/api/auth/signup", json=body).status_code == 201
                counts = asyncio.run(attempts(url, args.attempts))
            finally:
                p.terminate()
                p.wait(30)
        finally:
            subprocess.run([*pg, "stop", d], check=False, capture_output=True)
    print(
        f"--workers {args.workers}, {args.attempts} wrong passwords at once on fresh connections: "
        + ", ".join(f"{n} × {status}" for status, n in sorted(counts.items()))
    )


if __name__ == "__main__":
    main()
