"""``soleware demo``: the whole system at once — two virtual shoes, a phone, a server and a web page.

Every part is the real program in its own process (run service, virtual radio, one process per shoe), talking
real Bluetooth LE over virtual controllers and HTTP over loopback; the gateway runs in the demo's process, with its
live terminal view.
"""

from __future__ import annotations

from soleware.demo._phone import phone_main
from soleware.demo._processes import free_port
from soleware.demo._run import DEFAULT_PLAN, main, round_settled, run_demo, unsynced

__all__ = ["DEFAULT_PLAN", "free_port", "main", "phone_main", "round_settled", "run_demo", "unsynced"]
