"""What a session logs of a record, for people: UTC times and cents; the journal keeps digits."""

from __future__ import annotations

from decimal import Decimal

from trio_paper.runtime.session import _brief


def test_a_record_logs_with_iso_times_and_money_to_the_cent() -> None:
    exit_record = {
        "seq": 7, "ts": 1746707400000, "type": "exit", "trade": 2, "reason": "stop",
        "price": Decimal("97123.4"), "pnl": Decimal("-12.345678"), "fees": Decimal("0.0582741"),
        "net": Decimal("-12.4039521"), "opened": 1746707340000, "held_ms": 60000,
    }  # fmt: skip
    line = _brief(exit_record)
    assert line == (
        "trade=2 reason=stop price=97123.4 pnl=-12.35 fees=0.06 net=-12.40 "
        "opened=2025-05-08T12:29:00.000Z held_ms=60000"
    )
    assert exit_record["pnl"] == Decimal("-12.345678")  # only the line is rounded
