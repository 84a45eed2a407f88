"""The benchmark's exchange: the simulator in a process of its own, logging when it sends.

``python -m bench.live_sim RECORDING --speed S --sends FILE [--once]`` serves RECORDING on
loopback (``open_simulator``), prints one JSON line with its URLs, and serves until SIGTERM or
SIGINT; the line also gives its exchange clock (``clock``: the exchange time at a
``perf_counter_ns``, and the speed) for the session to run on. Then it writes FILE: for every
data push handed to a socket, ``hash(text)`` and the ``time.perf_counter_ns()`` just before the
hand-over (``Simulator.on_push``), as int64 pairs.

Run with ``PYTHONHASHSEED=0`` like the session it serves, so that ``hash(text)`` names a
frame identically in both processes; ``perf_counter_ns`` is CLOCK_MONOTONIC on Linux, one clock
for the whole machine.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from array import array
from pathlib import Path

import orjson
import trio

from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import open_simulator
from trio_paper.sim.tape import load_tape


async def serve(recording: Path, speed: float, loop: bool, sends: array[int]) -> None:
    tape = load_tape(recording)
    # No random delay before a subscription's data: at thousands of times real speed, the
    # default 0.1-0.6 s would skip minutes of the recording.
    rules = ExchangeRules(subscribe_delay_s=(0.0, 0.0))
    async with open_simulator(tape, speed=speed, loop=loop, align=False, rules=rules) as sim:

        def stamp(text: str) -> None:
            sends.append(hash(text))
            sends.append(time.perf_counter_ns())

        sim.on_push = stamp
        # The exchange's clock now, on the machine's monotonic clock: the session reads its
        # time off it, so the frames' times are current to it (and pass its sanity bounds).
        clock = {"exchange_ms": sim.exchange_now(), "perf_ns": time.perf_counter_ns()}
        line = {
            "ws_url": sim.ws_url, "rest_url": sim.rest_url, "pushes": len(tape),
            "clock": {**clock, "speed": speed},
        }  # fmt: skip
        print(orjson.dumps(line).decode(), flush=True)
        with trio.open_signal_receiver(signal.SIGTERM, signal.SIGINT) as signals:
            async for _ in signals:
                return


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.live_sim")
    parser.add_argument("recording", type=Path)
    parser.add_argument("--speed", type=float, required=True)
    parser.add_argument("--sends", type=Path, required=True)
    parser.add_argument("--once", action="store_true", help="play the recording once, no loop")
    args = parser.parse_args()
    if sys.flags.hash_randomization:
        parser.error("run with PYTHONHASHSEED=0: frames are named by hash(text)")
    sends: array[int] = array("q")
    trio.run(serve, args.recording, args.speed, not args.once, sends)
    args.sends.write_bytes(sends.tobytes())


if __name__ == "__main__":
    main()
