"""What the phone's route costs: stored bytes per fix, packing and unpacking time, and the upload's validation.

A route at one fix a second (the Geolocation API's usual rate outdoors) on a loop with realistic accuracies and
altitudes, for an hour and for six hours: the ``Route.to_bytes`` blob's size per fix against raw float64 columns,
the time to pack and unpack it, and the time for the upload schema to validate the JSON columns into the domain's
``Route`` (what ``POST /api/runs`` does with a body's ``route``). Usage: ``python benchmarks/route.py``.
"""

from __future__ import annotations

import json
import time

import numpy as np

from soleware.runs.model import Route
from soleware.server.schemas import RouteIn


def loop_route(elapsed_s: float, seed: int = 0) -> Route:
    rng = np.random.default_rng(seed)
    t = np.arange(0.0, elapsed_s, 1.0) + rng.uniform(0, 0.2, int(np.ceil(elapsed_s)))
    angle = 3.0 * t / 400.0
    lat = 31.2304 + 400.0 * np.sin(angle) / 111_195.0 + rng.normal(0, 3e-5, len(t))
    lon = 121.4737 + 400.0 * (1 - np.cos(angle)) / 95_000.0 + rng.normal(0, 3e-5, len(t))
    accuracy = np.round(rng.uniform(3, 15, len(t)), 1)  # browsers give accuracies to 0.1 m or coarser
    altitude = np.round(8.0 + 2.0 * np.sin(t / 300.0) + rng.normal(0, 0.5, len(t)), 1)
    return Route(t, lat, lon, accuracy, altitude)


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main() -> None:
    for hours in (1, 6):
        route = loop_route(3600.0 * hours)
        blob = route.to_bytes()
        n = len(route)
        text = json.dumps(route.to_dict())
        pack = best_of(route.to_bytes)
        unpack = best_of(lambda blob=blob: Route.from_bytes(blob))
        validate = best_of(lambda text=text: RouteIn.model_validate(json.loads(text)).to_route())
        print(
            f"{hours} h, {n} fixes: blob {len(blob)} B = {len(blob) / n:.2f} B/fix (float64 columns: 40 B/fix); "
            f"pack {pack * 1e3:.1f} ms, unpack {unpack * 1e3:.1f} ms; JSON {len(text) / 1e6:.2f} MB, "
            f"parse + validate {validate * 1e3:.0f} ms"
        )


if __name__ == "__main__":
    main()
