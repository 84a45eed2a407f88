"""Faults the exchange simulator injects: what, when, and for how long.

A fault is written ``KIND@AT[:DURATION][,NAME=VALUE...]`` on the command line (``drop@60``,
``stall@120:30``, ``drip@200:20,rate=2``) or as a YAML schedule; both are parsed strictly, and a
bad spec is a ``FaultError`` that names it. ``AT`` and ``DURATION`` are seconds of real time since
the simulator started, whatever the playback speed. ``docs/simulator.md`` describes each kind.
"""

from __future__ import annotations

import enum
import heapq
import itertools
import math
from collections.abc import Iterable, Iterator
from pathlib import Path

import attrs
import yaml

from ..codec import MalformedMessage, config_converter, structure
from ..errors import UsageError


class FaultError(UsageError, ValueError):
    """A fault spec or schedule that cannot be used; the message names it."""


class FaultKind(enum.Enum):
    CLOSE = "close"
    """Every open socket gets a close frame (1000)."""
    DROP = "drop"
    """Every open socket is reset: no close frame."""
    STALL = "stall"
    """Sockets stay open and pings are answered, but no data is sent."""
    REFUSE = "refuse"
    """An outage: open sockets are dropped and new handshakes refused with HTTP 503."""
    GARBAGE = "garbage"
    """Frames that are not JSON: text, and binary that is not UTF-8."""
    INVALID = "invalid"
    """Copies of data frames that break the schema: a price as a number, a missing key."""
    EXTRA = "extra"
    """Copies of kline frames with a field Bitunix does not send."""
    DUPLICATE = "duplicate"
    """Data frames sent twice."""
    REORDER = "reorder"
    """A data frame held back until after the next frame of its channel."""
    DRIP = "drip"
    """At most ``rate`` data frames per second; the rest queue up behind."""
    PONG_LATE = "pong-late"
    """JSON pings answered ``delay`` seconds late."""
    PONG_NEVER = "pong-never"
    """JSON pings not answered at all."""
    ABSURD = "absurd"
    """Copies of data frames with schema-valid absurd values: an ask of 1e30, a bid of 1e-20,
    a kline high and close of 1e30, a funding rate of 500 %."""
    FUTURE = "future"
    """Copies of data frames stamped far from now: ``ts`` of 2**63-1, then 2**62."""
    FLOOD = "flood"
    """Each push sent ``count`` more times in a row: thousands of frames a second."""


_PARAMS: dict[FaultKind, dict[str, float]] = {
    FaultKind.CLOSE: {},
    FaultKind.DROP: {},
    FaultKind.STALL: {"duration": 10.0},
    FaultKind.REFUSE: {"duration": 10.0},
    FaultKind.GARBAGE: {"count": 2},
    FaultKind.INVALID: {"count": 2},
    FaultKind.EXTRA: {"count": 1},
    FaultKind.DUPLICATE: {"count": 5},
    FaultKind.REORDER: {"count": 3},
    FaultKind.DRIP: {"duration": 20.0, "rate": 2.0},
    FaultKind.PONG_LATE: {"duration": 30.0, "delay": 10.0},
    FaultKind.PONG_NEVER: {"duration": 30.0},
    FaultKind.ABSURD: {"count": 3},
    FaultKind.FUTURE: {"count": 2},
    FaultKind.FLOOD: {"duration": 5.0, "count": 200},
}
"""The parameters each kind takes, with their defaults. Any other parameter is an error."""

WINDOWED = frozenset(k for k, params in _PARAMS.items() if "duration" in params)
"""Kinds that last ``duration`` seconds; the others act once, on ``count`` frames or sockets."""


@attrs.frozen
class Fault:
    """One scheduled fault, every parameter resolved (0 where the kind takes none)."""

    kind: FaultKind
    at: float
    duration: float = 0.0
    count: int = 0
    rate: float = 0.0
    delay: float = 0.0

    @classmethod
    def make(
        cls,
        kind: FaultKind | str,
        at: float,
        *,
        duration: float | None = None,
        count: int | None = None,
        rate: float | None = None,
        delay: float | None = None,
    ) -> Fault:
        """A fault with the kind's defaults for what is not given; ``FaultError`` if invalid."""
        name = kind.value if isinstance(kind, FaultKind) else kind
        return _resolve(FaultSpec(name, at, duration, count, rate, delay))

    def __str__(self) -> str:
        text = f"{self.kind.value}@{_number(self.at)}"
        if self.kind in WINDOWED:
            text += f":{_number(self.duration)}"
        for name in ("count", "rate", "delay"):
            if name in _PARAMS[self.kind]:
                text += f",{name}={_number(getattr(self, name))}"
        return text


@attrs.frozen
class FaultSpec:
    """A fault as written in a schedule file: checked and given defaults by ``_resolve``."""

    kind: str
    at: float
    duration: float | None = None
    count: int | None = None
    rate: float | None = None
    delay: float | None = None


@attrs.frozen
class Cycle:
    """A fault every ``every`` seconds from ``start``, taking ``kinds`` in turn, forever."""

    every: float
    kinds: tuple[FaultKind, ...]
    start: float

    def faults(self) -> Iterator[Fault]:
        for n in itertools.count():
            yield Fault.make(self.kinds[n % len(self.kinds)], self.start + n * self.every)


@attrs.frozen
class CycleSpec:
    seconds: float
    kinds: list[str] | None = None
    start: float | None = None


@attrs.frozen
class ScheduleFile:
    """The YAML schedule: ``faults:`` a list of faults, ``every:`` an optional cycle."""

    faults: list[FaultSpec] = attrs.Factory(list)
    every: CycleSpec | None = None


@attrs.frozen
class FaultPlan:
    """What the simulator will do to its clients, and when. The empty plan does nothing.

    Build one with ``FaultPlan.parse(["drop@60"])``, ``FaultPlan.load(path)``,
    ``FaultPlan.every(60)`` or ``FaultPlan.of(Fault.make("stall", 5, duration=3))``, and combine
    them with ``+``.
    """

    faults: tuple[Fault, ...] = ()
    cycle: Cycle | None = None

    @classmethod
    def of(cls, *faults: Fault) -> FaultPlan:
        return cls(tuple(sorted(faults, key=lambda f: f.at)))

    @classmethod
    def every(
        cls,
        seconds: float,
        kinds: Iterable[FaultKind | str] = tuple(FaultKind),
        *,
        start: float | None = None,
    ) -> FaultPlan:
        """A fault every ``seconds`` (the first at ``start``, default ``seconds``), cycling
        through ``kinds`` with their default parameters."""
        return cls(cycle=_cycle(seconds, [_kind(k) for k in kinds], start))

    @classmethod
    def parse(cls, specs: Iterable[str], option: str = "--fault") -> FaultPlan:
        """Command-line specs (``option``: ``sim --fault``, ``run --sim-fault``), each
        ``KIND@AT[:DURATION][,NAME=VALUE...]`` or ``every@SECONDS[,kinds=K1+K2...][,start=S]``."""
        plan = cls()
        for text in specs:
            try:
                plan += _parse_spec(text)
            except FaultError as exc:
                raise FaultError(f"{option} {text!r}: {exc}") from None
        return plan

    @classmethod
    def load(cls, path: Path) -> FaultPlan:
        """A YAML schedule file; errors name the file and the key."""
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise FaultError(f"{path}: cannot read ({exc.strerror or exc})") from None
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            raise FaultError(f"{path}: not valid YAML ({exc})") from None
        try:
            schedule = structure(data or {}, ScheduleFile, "$", using=config_converter)
        except MalformedMessage as exc:
            key = exc.where.removeprefix("$").removeprefix(".") or "(top level)"
            raise FaultError(f"{path}: {key}: {exc.reason}") from None
        faults = []
        for index, spec in enumerate(schedule.faults):
            try:
                faults.append(_resolve(spec))
            except FaultError as exc:
                raise FaultError(f"{path}: faults[{index}]: {exc}") from None
        cycle = None
        if schedule.every is not None:
            every = schedule.every
            try:
                kinds = list(FaultKind) if every.kinds is None else [_kind(k) for k in every.kinds]
                cycle = _cycle(every.seconds, kinds, every.start)
            except FaultError as exc:
                raise FaultError(f"{path}: every: {exc}") from None
        return cls.of(*faults) + cls(cycle=cycle)

    def __add__(self, other: FaultPlan) -> FaultPlan:
        if self.cycle is not None and other.cycle is not None:
            raise FaultError("only one 'every' cycle per plan")
        return FaultPlan(
            tuple(sorted(self.faults + other.faults, key=lambda f: f.at)),
            self.cycle or other.cycle,
        )

    def schedule(self) -> Iterator[Fault]:
        """Every fault in time order; endless when the plan has a cycle."""
        cycled = self.cycle.faults() if self.cycle is not None else iter(())
        return heapq.merge(self.faults, cycled, key=lambda f: f.at)

    def __str__(self) -> str:
        parts = [str(f) for f in self.faults]
        if self.cycle is not None:
            kinds = "+".join(k.value for k in self.cycle.kinds)
            parts.append(
                f"every@{_number(self.cycle.every)},kinds={kinds},start={_number(self.cycle.start)}"
            )
        return " ".join(parts) or "none"


@attrs.define
class FaultWindows:
    """The faults in force now, as ``trio.current_time()`` deadlines; shared by all sockets."""

    stall_until: float = -math.inf
    refuse_until: float = -math.inf
    drip_until: float = -math.inf
    drip_rate: float = math.inf
    pong_late_until: float = -math.inf
    pong_delay: float = 0.0
    pong_never_until: float = -math.inf
    flood_until: float = -math.inf
    flood_copies: int = 0

    def open(self, fault: Fault, now: float) -> None:
        """Start a windowed fault at ``now``; overlapping windows of a kind merge."""
        until = now + fault.duration
        kind = fault.kind
        if kind is FaultKind.STALL:
            self.stall_until = max(self.stall_until, until)
        elif kind is FaultKind.REFUSE:
            self.refuse_until = max(self.refuse_until, until)
        elif kind is FaultKind.DRIP:
            self.drip_until = max(self.drip_until, until)
            self.drip_rate = fault.rate
        elif kind is FaultKind.PONG_LATE:
            self.pong_late_until = max(self.pong_late_until, until)
            self.pong_delay = fault.delay
        elif kind is FaultKind.PONG_NEVER:
            self.pong_never_until = max(self.pong_never_until, until)
        elif kind is FaultKind.FLOOD:
            self.flood_until = max(self.flood_until, until)
            self.flood_copies = fault.count
        else:
            raise ValueError(f"{kind.value} is not a windowed fault")


# --- parsing ---------------------------------------------------------------------------------


def _kind(name: FaultKind | str) -> FaultKind:
    if isinstance(name, FaultKind):
        return name
    try:
        return FaultKind(name)
    except ValueError:
        known = ", ".join(k.value for k in FaultKind)
        raise FaultError(f"unknown fault kind {name!r}; one of {known}") from None


def _resolve(spec: FaultSpec) -> Fault:
    kind = _kind(spec.kind)
    allowed = _PARAMS[kind]
    _check_seconds("at", spec.at, allow_zero=True)
    values: dict[str, float] = {}
    for name in ("duration", "count", "rate", "delay"):
        value = getattr(spec, name)
        if name not in allowed:
            if value is not None:
                takes = ", ".join(allowed) or "no parameters"
                raise FaultError(f"{kind.value} takes {takes}, not {name}")
        elif value is None:
            values[name] = allowed[name]
        else:
            _check_seconds(name, value, allow_zero=False)
            values[name] = value
    return Fault(
        kind,
        float(spec.at),
        duration=float(values.get("duration", 0.0)),
        count=int(values.get("count", 0)),
        rate=float(values.get("rate", 0.0)),
        delay=float(values.get("delay", 0.0)),
    )


def _check_seconds(name: str, value: float, *, allow_zero: bool) -> None:
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise FaultError(f"{name} must be {'>= 0' if allow_zero else '> 0'}, not {value!r}")


def _cycle(seconds: float, kinds: list[FaultKind], start: float | None) -> Cycle:
    _check_seconds("every", seconds, allow_zero=False)
    if not kinds:
        raise FaultError("a cycle needs at least one kind")
    if start is not None:
        _check_seconds("start", start, allow_zero=True)
    return Cycle(seconds, tuple(kinds), seconds if start is None else start)


def _parse_spec(text: str) -> FaultPlan:
    head, *params = text.split(",")
    name, at_sign, when = head.partition("@")
    if not at_sign:
        raise FaultError("expected KIND@SECONDS, e.g. drop@60 or stall@120:30")
    at_text, colon, duration_text = when.partition(":")
    values = dict(_param(p) for p in params)
    if name == "every":
        if colon:
            raise FaultError("every takes no :DURATION")
        kinds = values.pop("kinds", None)
        start = values.pop("start", None)
        if values:
            raise FaultError(f"every takes kinds and start, not {', '.join(values)}")
        return FaultPlan(
            cycle=_cycle(
                _float("every", at_text),
                [_kind(k) for k in kinds.split("+")] if kinds else list(FaultKind),
                _float("start", start) if start is not None else None,
            )
        )
    if "duration" in values:
        raise FaultError("write the duration as KIND@AT:DURATION")
    unknown = set(values) - {"count", "rate", "delay"}
    if unknown:
        raise FaultError(f"unknown parameter {sorted(unknown)[0]!r}")
    count = values.get("count")
    spec = FaultSpec(
        name,
        _float("at", at_text),
        _float("duration", duration_text) if colon else None,
        _int("count", count) if count is not None else None,
        _float("rate", values["rate"]) if "rate" in values else None,
        _float("delay", values["delay"]) if "delay" in values else None,
    )
    return FaultPlan((_resolve(spec),))


def _param(text: str) -> tuple[str, str]:
    name, eq, value = text.partition("=")
    if not eq or not name or not value:
        raise FaultError(f"expected NAME=VALUE, got {text!r}")
    return name, value


def _float(name: str, text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise FaultError(f"{name}: not a number of seconds: {text!r}") from None
    if not math.isfinite(value):
        raise FaultError(f"{name}: not a number of seconds: {text!r}")
    return value


def _int(name: str, text: str) -> int:
    if not text.isdigit():
        raise FaultError(f"{name}: not a whole number: {text!r}")
    return int(text)


def _number(value: float) -> str:
    return f"{value:g}"
