"""The demo's processes: start each real program with its log file, stop them all at once."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import os
import signal
import socket
import sys
import time
from pathlib import Path

import httpx

__all__ = ["Demo", "Proc", "free_port", "wait_http", "wait_radio"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclasses.dataclass
class Proc:
    name: str
    process: asyncio.subprocess.Process
    log: Path
    cpu_s: float = 0.0


class Demo:
    """Starts and stops the processes; the gateway lives in this one."""

    def __init__(self, *, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[Proc] = []
        self.exe = [sys.executable, "-m", "soleware.cli"]

    async def spawn(self, name: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        log = self.workdir / f"{name}.log"
        f = log.open("ab")
        p = await asyncio.create_subprocess_exec(
            *self.exe,
            *args,
            stdout=f,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            start_new_session=True,
        )
        f.close()
        proc = Proc(name, p, log)
        self.procs.append(proc)
        return proc

    async def stop(self, proc: Proc) -> None:
        proc.cpu_s = _proc_cpu_s(proc.process.pid) or proc.cpu_s
        if proc.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.process.pid, signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.process.wait(), 5)
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.process.pid, signal.SIGKILL)
                await proc.process.wait()

    async def stop_all(self) -> None:
        """Stop every process at once (each gets 5 s to exit cleanly), so a slow one delays the rest by no more."""
        await asyncio.gather(*(self.stop(proc) for proc in self.procs))


def _proc_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) a running process has used, from /proc (0 where unavailable)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


async def wait_http(url: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    async with httpx.AsyncClient() as c:
        while True:
            try:
                if (await c.get(url + "/api/health")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"the run service did not come up at {url}")
            await asyncio.sleep(0.2)


async def wait_radio(path: Path, count: int, timeout_s: float = 30.0) -> list[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        lines = (
            [x for x in path.read_text().splitlines() if x.startswith("tcp-client:")] if path.exists() else []
        )
        if len(lines) >= count:
            return lines
        if time.monotonic() > deadline:
            raise RuntimeError(f"the virtual radio did not start (see {path})")
        await asyncio.sleep(0.1)
