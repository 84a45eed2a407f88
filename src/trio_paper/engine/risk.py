"""Risk: sizes every entry, gates the order flow, and stops trading when losses say so.

- Size = equity × risk% ÷ stop distance, capped by max leverage and max notional, rounded down
  to the lot step, refused under the minimum notional. Percent means percent everywhere:
  ``risk_per_trade_pct: 1`` risks 1 % of equity.
- Gates: orders per rolling minute, minimum time between entries, the per-trade risk cap.
- Circuit breaker: N losing trades in a row, or equity X % below the UTC day's start →
  flatten, no entries until the next UTC day (or a reset).
- Daily loss limit: realized net loss on the UTC day ≥ Y % of the day's starting equity →
  flatten, no entries until the next UTC day.
- Kill switch → cancel everything, flatten, and stop for good.

Every refusal is a ``reject`` record with its reason; every trip a ``risk`` record.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal

import attrs

from ..model import Side
from ..times import DAY_MS, MINUTE_MS
from .broker import Broker, Emit
from .intents import Enter
from .records import RecordType
from .state import ZERO, Order
from .steps import on_step

HUNDRED = Decimal(100)
CALM_MARGIN = Decimal("1e-20")


@attrs.frozen
class RiskSettings:
    risk_pct: Decimal
    max_risk_pct: Decimal
    default_stop_pct: Decimal
    max_leverage: Decimal
    max_notional: Decimal
    min_notional: Decimal
    lot_step: Decimal
    tick_size: Decimal
    max_orders_per_minute: int
    min_entry_interval_ms: int
    breaker_losses: int
    breaker_drawdown_pct: Decimal
    daily_loss_limit_pct: Decimal


@attrs.define
class RiskState:
    day: int | None = None
    day_start_equity: Decimal = ZERO
    day_realized: Decimal = ZERO
    losses_in_a_row: int = 0
    checked_realized: Decimal | None = None
    halted_until: int | None = None
    halt_reason: str | None = None
    killed: bool = False
    order_times: list[int] = attrs.Factory(list)
    last_entry: int | None = None


class Risk:
    """The gate between strategy and broker: sizes an entry from the stop and the equity, and
    refuses what the limits forbid (leverage, notional, orders per minute, the gap between
    entries); halts on the loss breaker or the daily loss limit until the next UTC day; the kill
    switch stops trading for good. Every refusal and halt is a journal record."""

    def __init__(
        self, settings: RiskSettings, state: RiskState, broker: Broker, emit: Emit
    ) -> None:
        self.settings = settings
        self.state = state
        self.broker = broker
        self.emit = emit
        self._calm: tuple[Decimal, Decimal, Decimal | None] = (ZERO, ZERO, None)
        """``_calm_above``'s answer and the day's start and realized loss it was made for."""

    # --- the clock ---------------------------------------------------------------------------

    def on_time(self, t: int) -> None:
        """Roll the UTC day; a halt that ran to the day's end is lifted."""
        s = self.state
        day = t // DAY_MS * DAY_MS  # utc_day(t), without the call: every input passes here
        if s.day == day:
            return
        first = s.day is None
        s.day = day
        s.day_start_equity = self.broker.equity()
        s.day_realized = ZERO
        if s.halted_until is not None and t >= s.halted_until:
            self.emit(RecordType.RISK, event="resumed", reason=s.halt_reason)
            s.halted_until = None
            s.halt_reason = None
        if not first:
            self.emit(RecordType.RISK, event="new_day", equity=s.day_start_equity)

    def quiet(self, t: int) -> bool:
        """Whether, the account flat, ``on_time(t)`` and ``check_limits(t)`` would do nothing:
        ``t`` is in the day already rolled, and no limit is to be looked at (killed, halted, or
        nothing realized since the last look). Their own early returns, said once more."""
        s = self.state
        return t // DAY_MS * DAY_MS == s.day and (
            s.killed or s.halted_until is not None or s.checked_realized == s.day_realized
        )

    # --- intents → orders ----------------------------------------------------------------------

    def check_entry(self, t: int, intent: Enter) -> Order | str:
        """An order sized and cleared for the broker, or the reason it is refused."""
        s, cfg, broker = self.state, self.settings, self.broker
        position = broker.position
        self.check_limits(t)
        if s.killed:
            return "kill switch is on"
        if s.halted_until is not None:
            return f"entries halted ({s.halt_reason}) until the next UTC day"
        # With fill_at next_open an exit asked for on this bar is still waiting: the entry
        # queues behind it, so [Exit, Enter] reverses as it does when orders fill at once.
        closing = broker.closing_at_next_open()
        if position.qty and not closing:
            held = "long" if position.qty > 0 else "short"
            return f"already {held}: exit first"
        if any(not o.reduce_only for o in broker.state.orders):
            return "an entry order is already working"
        if intent.client_id is not None and broker.knows_id(intent.client_id):
            return f"duplicate client order id {intent.client_id!r}"
        recent = [x for x in s.order_times if x > t - MINUTE_MS]
        if len(recent) >= cfg.max_orders_per_minute:
            return f"{cfg.max_orders_per_minute} orders in the last minute"
        if s.last_entry is not None and t - s.last_entry < cfg.min_entry_interval_ms:
            ago, minimum = (t - s.last_entry) / 1000, cfg.min_entry_interval_ms / 1000
            return f"last entry {ago:g} s ago, minimum {minimum:g} s"
        risk_pct = intent.risk_pct if intent.risk_pct is not None else cfg.risk_pct
        if risk_pct > cfg.max_risk_pct:
            return f"risk {risk_pct}% is over the per-trade cap of {cfg.max_risk_pct}%"
        # Sized at the price the entry will fill at — slippage included, and the market price
        # for a limit that crosses on arrival — so the caps hold at the fill.
        entry = broker.entry_price(intent.side, t, intent.price)
        if entry is None:
            return "no fresh price to size against"
        stop = intent.stop
        if stop is None:
            offset = entry * cfg.default_stop_pct / HUNDRED
            stop = self._tick(entry - offset if intent.side is Side.BUY else entry + offset)
        distance = (entry - stop) * intent.side.sign
        if distance <= 0:
            return f"stop {stop} is on the wrong side of entry {entry}"
        if intent.target is not None and (intent.target - entry) * intent.side.sign <= 0:
            return f"target {intent.target} is on the wrong side of entry {entry}"
        equity = broker.equity()
        if intent.qty is not None:
            qty = on_step(intent.qty, cfg.lot_step, ROUND_FLOOR)
            refused = self._over_limits(qty, entry, equity)
            if refused is not None:
                return refused
        else:
            qty = equity * risk_pct / HUNDRED / distance
            qty = min(qty, equity * cfg.max_leverage / entry, cfg.max_notional / entry)
            qty = on_step(qty, cfg.lot_step, ROUND_FLOOR)
        notional = qty * entry
        if qty <= 0 or notional < cfg.min_notional:
            return (
                f"size {qty} ({notional:.2f} USDT) is under the minimum notional {cfg.min_notional}"
            )
        freed = position.margin if closing else ZERO
        if notional / broker.settings.leverage > broker.available() + freed:
            return "insufficient margin"
        order_id = intent.client_id or broker.new_order_id()
        s.order_times = [*recent, t]
        s.last_entry = t
        return Order(
            order_id,
            intent.side,
            intent.kind,
            qty,
            t,
            intent.tag or "entry",
            price=intent.price,
            stop=stop,
            target=intent.target,
            trail_pct=intent.trail_pct,
        )

    def _over_limits(self, qty: Decimal, entry: Decimal, equity: Decimal) -> str | None:
        """Why a fixed-size entry is refused by the caps a sized one is held to, if it is: a
        fixed size is never shrunk to fit them."""
        cfg = self.settings
        notional = qty * entry
        if notional > cfg.max_notional:
            return f"size {qty} ({notional:.2f} USDT) is over the max notional {cfg.max_notional}"
        if notional > equity * cfg.max_leverage:
            return (
                f"size {qty} ({notional:.2f} USDT) is over the max leverage {cfg.max_leverage}× "
                f"of equity {equity:.2f}"
            )
        return None

    def note_exit(self, t: int) -> None:
        """Count an exit against the per-minute gate; exits themselves are never refused."""
        self.state.order_times = [x for x in self.state.order_times if x > t - MINUTE_MS] + [t]

    # --- after every fill ----------------------------------------------------------------------

    def on_trade_closed(self, net: Decimal) -> None:
        s = self.state
        s.day_realized += net
        s.losses_in_a_row = s.losses_in_a_row + 1 if net < 0 else 0

    def check_limits(self, t: int) -> None:
        """Trip the breaker or the daily limit when their conditions hold."""
        s, cfg = self.state, self.settings
        if s.killed or s.halted_until is not None or s.day is None:
            return
        if not self.broker.position.qty and s.checked_realized == s.day_realized:
            return  # flat and nothing realized since the last look: nothing can have moved
        s.checked_realized = s.day_realized
        equity = self.broker.equity()
        calm = self._calm_above()
        if calm is not None and equity > calm and s.losses_in_a_row < cfg.breaker_losses:
            return  # most calls, while a position is open: nothing below can trip
        reason = None
        drawdown = (
            (s.day_start_equity - equity) / s.day_start_equity * HUNDRED
            if s.day_start_equity
            else ZERO
        )
        if s.losses_in_a_row >= cfg.breaker_losses:
            reason = f"breaker: {s.losses_in_a_row} losing trades in a row"
        elif drawdown >= cfg.breaker_drawdown_pct:
            reason = f"breaker: equity {drawdown:.2f}% below the day's start"
        elif (
            s.day_start_equity
            and -s.day_realized / s.day_start_equity * HUNDRED >= cfg.daily_loss_limit_pct
        ):
            reason = f"daily loss limit: {-s.day_realized:.2f} USDT realized loss today"
        if reason is None:
            return
        s.halted_until = s.day + DAY_MS
        s.halt_reason = reason
        s.losses_in_a_row = 0
        self.emit(RecordType.RISK, event="halt", reason=reason, until=s.halted_until, equity=equity)
        self.broker.cancel_all("risk halt")
        self.broker.close_position(t, "risk_halt")

    def _calm_above(self) -> Decimal | None:
        """An equity above which neither the drawdown breaker nor the daily loss limit can trip
        today; None if there is none (the day started at zero or below, or the day's realized
        loss is at its limit already). Remade only when the day's start or realized loss moves.

        The breaker's level, ``start × (1 − pct/100)``, raised by ``start × 10⁻²⁰``: far more
        than the rounding of ``check_limits``' division (relative 10⁻²⁷), so an equity above it
        never gives a drawdown that rounds up to the percentage.
        """
        s, cfg = self.state, self.settings
        start, realized, calm = self._calm
        if start is s.day_start_equity and realized is s.day_realized:
            return calm
        start, realized, calm = s.day_start_equity, s.day_realized, None
        if start > 0 and -realized / start * HUNDRED < cfg.daily_loss_limit_pct:
            calm = start - start * cfg.breaker_drawdown_pct / HUNDRED + start * CALM_MARGIN
        self._calm = (start, realized, calm)
        return calm

    def kill(self, t: int, source: str) -> None:
        self.state.killed = True
        self.emit(RecordType.RISK, event="kill", source=source)
        self.broker.cancel_all("kill switch")
        self.broker.close_position(t, "kill")

    def reset(self) -> None:
        """Lift a halt by hand (``trio-paper risk reset``); the kill switch stays."""
        self.state.halted_until = None
        self.state.halt_reason = None
        self.state.losses_in_a_row = 0

    def _tick(self, price: Decimal) -> Decimal:
        return on_step(price, self.settings.tick_size)
