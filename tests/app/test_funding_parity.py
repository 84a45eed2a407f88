"""The same candles and funding file, synthesized as each venue's frames and replayed through the
same engine: both venues charge a settlement at the rate the file says it settled at.

Bitunix's mark pushes carry the settled rate; Binance's carry the rate due at the next settlement
(``binance_usdm.ws.FUNDING_INTERVAL_MS``). Before, a Binance session charged the first push's
rate after the settlement: the next period's (0.0001 here, not 0.00005728)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from trio_paper.app.replay import replay
from trio_paper.config import Config, evolve
from trio_paper.engine.strategies import load
from trio_paper.sim.synth import from_candles

SETTLED = 1746720000000  # 2025-05-08T16:00:00Z; the file: 5.728e-05 there, 0.0001 at the next


@pytest.mark.parametrize("venue", ["bitunix", "binance_usdm"])
def test_both_venues_charge_the_settlement_at_its_settled_rate(
    venue: str, shared_data: Path, tmp_path: Path
) -> None:
    candles = shared_data / "candles"
    recording = tmp_path / f"{venue}.jsonl.gz"
    from_candles(
        candles / "binance_usdm_BTCUSDT_1m.csv.gz", "2025-05-08T14:00:00Z", 130, 200,
        candles / "binance_usdm_BTCUSDT_funding_rate_8h.csv", "BTCUSDT", 0, recording, venue,
    )  # fmt: skip
    # Wide stops and no breaker: the EMA cross holds a position through 16:00.
    config = evolve(Config(), strategy={"params": {"stop_pct": 5}}, risk={"breaker_losses": 1000})
    strategy = load(config.strategy.name, config.strategy.params)
    result = replay(recording, config, strategy, tmp_path / "home", helpers=False)
    records = [orjson.loads(line) for line in result.run.events.read_bytes().splitlines()]
    funding = [(r["settled"], r["rate"]) for r in records if r["type"] == "funding"]
    assert funding == [(SETTLED, "0.00005728")]
