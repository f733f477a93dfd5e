"""How much memory does one big request cost the run service, and is an oversized one refused before it is read?

Starts ``soleware serve`` (SQLite, one process) afresh for each case and reports the server's peak resident memory
(VmHWM, reset just before) above its resident memory before the request, the answer and the time it took:

* ``50 MB, Content-Length``: a 50 MB run upload announced with its length (only the headers are sent);
* ``50 MB, chunked``: the same body streamed without a length;
* ``6 h, two shoes``: the largest real upload (72,000 strides at 200 steps/min, ~20 MB);
* ``at the limit``: a valid run just under ``max_run_upload_bytes`` (32 MiB).

    PYTHONPATH=src .venv/bin/python benchmarks/upload_memory.py [--cases 50cl,50chunked,6h,limit]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

G_MPS2 = 9.80665


def run_body(n_strides: int, *, seed: int = 0) -> bytes:
    """An upload as the gateway sends it (every field, full float precision), ``n_strides`` over both feet."""
    rnd = random.Random(seed)
    strides = []
    for side in ("left", "right"):
        t_ms = 0
        for _ in range(n_strides // 2):
            t_ms += 600 + rnd.randint(0, 3)
            cadence = rnd.randint(1500, 2000) / 10
            t_end = t_ms / 1000
            strides.append(
                {
                    "side": side,
                    "t_start_s": max(t_end - 120.0 / cadence, (t_ms - 600) / 1000),
                    "t_end_s": t_end,
                    "length_m": rnd.randint(500, 3000) / 1e3,
                    "speed_mps": rnd.randint(1000, 6500) / 1e3,
                    "cadence_spm": cadence,
                    "contact_time_s": rnd.randint(150, 400) / 1e3,
                    "flight_time_s": rnd.randint(0, 200) / 1e3,
                    "strike_angle_deg": rnd.randint(-300, 300) / 10,
                    "strike_type": "forefoot",
                    "impact_g": rnd.randint(10, 900) / 10 / G_MPS2,
                    "gait": "run",
                }
            )
    body = {
        "start_time": "2026-03-01T07:00:00+00:00",
        "time_zone": "UTC",
        "shoe_serials": ["SW-L-0001", "SW-R-0001"],
        "strides": strides,
    }
    return json.dumps(body).encode()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def reset_peak(pid: int) -> None:
    """Start VmHWM afresh (signing in hashes a password with argon2's 64 MiB, which would hide smaller peaks)."""
    Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM")


@contextlib.contextmanager
def server(tmp: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    port = _free_port()
    env = {**os.environ, "SOLEWARE_DATABASE_URL": f"sqlite:///{tmp / f'bench-{port}.db'}"}
    p = subprocess.Popen(
        [sys.executable, "-m", "soleware.cli", "serve", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/api/health").status_code == 200:
                    break
            time.sleep(0.1)
        yield p, url
    finally:
        p.terminate()
        p.wait(30)


def raw_post(url: str, path: str, headers: dict[str, str], chunks: Iterator[bytes]) -> tuple[int, str]:
    """POST over a bare socket (so nothing buffers or fixes up the body); the status and body of the answer."""
    host, port = url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=120) as s:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\n" + "".join(
            f"{k}: {v}\r\n" for k, v in headers.items()
        )
        s.sendall(head.encode() + b"\r\n")
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for chunk in chunks:
                s.sendall(chunk)
        data = b""
        with contextlib.suppress(ConnectionResetError):
            while b"\r\n\r\n" not in data or len(data) < data.index(b"\r\n\r\n") + 4 + 2:
                got = s.recv(65536)
                if not got:
                    break
                data += got
    status = int(data.split(b" ", 2)[1]) if data else 0
    return status, data.partition(b"\r\n\r\n")[2][:200].decode(errors="replace")


def chunked(body: bytes, size: int = 1 << 20) -> Iterator[bytes]:
    for i in range(0, len(body), size):
        part = body[i : i + size]
        yield f"{len(part):x}\r\n".encode() + part + b"\r\n"
    yield b"0\r\n\r\n"


CASES = {
    "50cl": ("50 MB, Content-Length", 185_000, "length"),
    "50chunked": ("50 MB, chunked", 185_000, "chunked"),
    "6h": ("6 h, two shoes (72,000 strides)", 72_000, "length"),
    "limit": ("at the limit", None, "length"),
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", default=",".join(CASES))
    args = ap.parse_args()
    from soleware.server import config

    limit = getattr(config, "RUN_UPLOAD_BYTES", 64 * 1024 * 1024)  # 64 MiB for every route before issue 19

    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for case in args.cases.split(","):
            label, n, mode = CASES[case]
            if n is None:  # largest run under the limit: ~272 bytes a stride in this generator
                n = int(limit / 272) // 2 * 2
                body = run_body(n)
                while len(body) > limit:
                    n -= 2000
                    body = run_body(n)
            else:
                body = run_body(n)
            with server(tmp) as (p, url):
                with httpx.Client(base_url=url) as c:
                    c.post("/api/auth/signup", json={"email": "m@example.com", "password": "memory test"})
                    token = c.post(
                        "/api/auth/signin", json={"email": "m@example.com", "password": "memory test"}
                    ).json()["access_token"]
                time.sleep(0.5)
                reset_peak(p.pid)
                before = peak_rss_mb(p.pid)
                headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
                t0 = time.perf_counter()
                if mode == "length":
                    headers["Content-Length"] = str(len(body))
                    # over our limit only the headers go out: the answer must come before any body byte
                    chunks = iter([body]) if len(body) <= limit else iter(())
                else:
                    headers["Transfer-Encoding"] = "chunked"
                    chunks = chunked(body)
                status, text = raw_post(url, "/api/runs", headers, chunks)
                elapsed = time.perf_counter() - t0
                growth = peak_rss_mb(p.pid) - before
            print(
                f"{label:36s} body {len(body) / 1e6:6.1f} MB  -> {status} in {elapsed:5.1f} s, "
                f"server peak RSS +{growth:6.1f} MB ({growth * 1e6 / len(body):.2f}x the body)  {text[:70]!r}"
            )


if __name__ == "__main__":
    main()
