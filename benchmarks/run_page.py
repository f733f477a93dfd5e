"""CPU per request of a run's page and of its strides, this tree against another, called directly.

    .venv/bin/python benchmarks/run_page.py DB --baseline ../main/src [--runs 50] [--rounds 8] [--email ...]

Calls ``run_detail`` and ``run_strides`` of ``soleware.server.routers.runs`` (and, for a tree whose routes
return models, FastAPI's validation and serialisation of them) on ``--runs`` runs drawn from the runner's runs in
the SQLite database DB (e.g. the one ``benchmarks/service.py --keep DIR`` seeds: DIR/load.db; the routes only
read it), in two processes, one per source tree, taking turns so that the machine's drift falls on both alike.
Prints the median CPU time per request of each and the median of the paired ratios, after checking that both
trees answer every run with the same bytes. cProfile of a TestClient sees none of this work (it runs in other
threads): hence direct calls.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ROUTES = ("detail", "strides")


def worker(db: str, email: str, runs: int) -> None:
    """Answers lines on stdin: "check" (a hash of every answer) or a route name (CPU ms per request)."""
    import hashlib

    from fastapi.utils import create_model_field
    from starlette.responses import Response

    from soleware.server.app import create_app
    from soleware.server.config import Settings
    from soleware.server.routers import runs as routes
    from soleware.server.schemas import RunDetail, StrideColumnsOut

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    runner_id = con.execute("SELECT id FROM runners WHERE email = ?", (email,)).fetchone()[0]
    ids = sorted(r[0] for r in con.execute("SELECT id FROM runs WHERE runner_id = ?", (runner_id,)))
    con.close()
    ids = random.Random(19).sample(ids, min(runs, len(ids)))
    store = create_app(Settings(database_url=f"sqlite:///{db}")).state.store

    class Runner:
        id = runner_id

    def call(fn: object, model: type) -> object:
        field = create_model_field(name="r", type_=model, mode="serialization")

        def answer(run_id: str) -> bytes:
            out = fn(run_id, Runner, store)  # type: ignore[operator]
            if isinstance(out, Response):
                return bytes(out.body)
            value, errors = field.validate(out, {}, loc=("r",))
            assert not errors, errors
            return bytes(field.serialize_json(value))

        return answer

    answer = {
        "detail": call(routes.run_detail, RunDetail),
        "strides": call(routes.run_strides, StrideColumnsOut),
    }
    for route in ROUTES:
        for run_id in ids[:3]:
            answer[route](run_id)  # type: ignore[operator]
    print("ready", flush=True)
    for line in sys.stdin:
        what = line.strip()
        if what == "check":
            digest = hashlib.sha256()
            for run_id in ids:
                for route in ROUTES:
                    digest.update(answer[route](run_id))  # type: ignore[operator]
            print(digest.hexdigest(), flush=True)
            continue
        t = time.process_time()
        for run_id in ids:
            answer[what](run_id)  # type: ignore[operator]
        print((time.process_time() - t) / len(ids) * 1000, flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("db", help="the SQLite database file")
    ap.add_argument(
        "--baseline", required=True, metavar="SRC", help="the other source tree (its src directory)"
    )
    ap.add_argument("--runs", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--email", default="load@example.com", help="the runner whose runs are drawn")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.db, args.email, args.runs)
        return
    procs = {}
    for name, src in (("baseline", Path(args.baseline).resolve()), ("this", ROOT / "src")):
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, args.db, "--baseline", args.baseline, "--runs", str(args.runs)]
            + ["--email", args.email, "--worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(src)},
        )
    try:

        def ask(name: str, what: str) -> str:
            p = procs[name]
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(what + "\n")
            p.stdin.flush()
            return p.stdout.readline().strip()

        for p in procs.values():
            assert p.stdout is not None and p.stdout.readline().strip() == "ready"
        same = ask("baseline", "check") == ask("this", "check")
        print(
            f"{args.runs} runs, both routes: {'the same bytes' if same else 'ANSWERS DIFFER'} from both trees"
        )
        cpu: dict[tuple[str, str], list[float]] = {(n, r): [] for n in procs for r in ROUTES}
        for k in range(args.rounds):
            for route in ROUTES:
                for name in ("baseline", "this") if k % 2 == 0 else ("this", "baseline"):
                    cpu[name, route].append(float(ask(name, route)))
        for route in ROUTES:
            old, new = cpu["baseline", route], cpu["this", route]
            ratio = statistics.median(a / b for a, b in zip(old, new, strict=True))
            print(
                f"{route:8s} baseline {statistics.median(old):6.2f} ms  this {statistics.median(new):6.2f} ms"
                f"  (CPU per request, medians of {args.rounds} rounds; paired baseline/this {ratio:.2f}x)"
            )
    finally:
        for p in procs.values():
            if p.stdin is not None:
                p.stdin.close()
            p.wait(60)


if __name__ == "__main__":
    main()
