"""The demo's rounds: when a round of runs is done, and what is still missing."""

from __future__ import annotations

import json

from soleware.demo import round_settled, unsynced
from soleware.link.gateway import SyncStore


def _stats(path, side: str, runs: list[tuple[int, int, bool]]) -> None:
    """A shoe's ``--stats`` file: its runs as (run id, strides, acknowledged), all complete."""
    path.write_text(
        json.dumps(
            {
                "serial": f"SW-{side[0].upper()}-0001",
                "side": side,
                "strides_sent": sum(n for _, n, _ in runs),
                "runs": [
                    {"run_id": rid, "stride_count": n, "acknowledged": ack, "complete": True}
                    for rid, n, ack in runs
                ],
            }
        )
    )


def test_a_round_waits_for_every_run_the_shoes_finished(tmp_path):
    """The demo moves on only once both shoes' runs are stored: one foot stored alone (the other late) is not
    enough; what is still missing is named."""

    class Gateway:
        stores = {s: SyncStore(tmp_path / f"{s}.json") for s in ("SW-L-0001", "SW-R-0001")}

        def settled(self, runs: int) -> bool:
            return True

    gw = Gateway()
    left, right = tmp_path / "shoe-left-2.json", tmp_path / "shoe-right-2.json"
    assert unsynced(gw, [left, right]) == ["shoe-left-2 (still running)", "shoe-right-2 (still running)"]
    _stats(left, "left", [(1, 12, True), (260, 257, False)])
    _stats(right, "right", [(1, 14, True), (262, 258, False)])
    gw.stores["SW-R-0001"].uploaded.add(262)
    assert not round_settled(gw, [left, right])
    assert unsynced(gw, [left, right]) == ["left shoe's run 260 (257 strides)"]
    gw.stores["SW-L-0001"].rejected[260] = "422 ..."
    assert round_settled(gw, [left, right])
