"""What does storing the longest pod run the service takes cost: 6 hours of RSC notifications at 4 Hz?

    .venv/bin/python benchmarks/pod_upload.py [--samples 86400]

Uploads one pod run (``POST /api/runs`` with ``samples``: every column, the total distance counting 0.75 m a
notification) to the app in process on a fresh SQLite database, and reads its page back. Prints the body's size,
the upload's wall time, the stored distance against the one the totals imply, the page's size, and the process's
peak RSS before and after (the baseline is the app's imports and migrations).
"""

from __future__ import annotations

import argparse
import json
import resource
import tempfile
import time

from fastapi.testclient import TestClient

from soleware.server.app import create_app
from soleware.server.config import Settings


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--samples", type=int, default=86_400, help="notifications (6 h at 4 Hz: 86,400)")
    n = parser.parse_args().samples
    with (
        tempfile.TemporaryDirectory() as d,
        TestClient(create_app(Settings(database_url=f"sqlite:///{d}/b.db"))) as c,
    ):
        account = {"email": "bench@example.com", "password": "benchmark password"}
        c.post("/api/auth/signup", json=account)
        token = c.post("/api/auth/signin", json=account).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        body = {
            "start_time": "2026-11-01T07:00:00+00:00",
            "time_zone": "UTC",
            "sensor": {"name": "Stryd", "manufacturer": "Stryd Inc.", "model": "NG", "serial": "A1B2"},
            "samples": {
                "t_s": [round(0.25 * i, 3) for i in range(n)],
                "speed_mps": [3.0078125] * n,
                "cadence_spm": [172.0] * n,
                "stride_length_m": [1.05] * n,
                "total_distance_m": [round(1000 + 0.75 * i, 1) for i in range(n)],
            },
        }
        text = json.dumps(body)
        before = peak_mb()
        t0 = time.perf_counter()
        r = c.post("/api/runs", content=text, headers={**auth, "Content-Type": "application/json"})
        upload_s = time.perf_counter() - t0
        assert r.status_code == 201, r.text
        page = c.get(f"/api/runs/{r.json()['run_id']}", headers=auth)
        print(
            f"{n} samples: body {len(text) / 1e6:.1f} MB, upload {upload_s:.2f} s, "
            f"distance {page.json()['distance_m']:.1f} m (totals imply {0.75 * (n - 1):.1f} m), "
            f"page {len(page.content) / 1e6:.2f} MB, peak RSS {before:.0f} MB before, {peak_mb():.0f} MB after"
        )


if __name__ == "__main__":
    main()
