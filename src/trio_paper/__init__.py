"""trio-paper: paper-trade crypto perpetuals on live exchange data, unattended, replayable.

Where to start reading: ``core.py``. ``Core.on_item`` is the one door: every input of a session
(a frame with its receive time, a tick, a backfill, a stop) goes through it, live, in a replay
and in recovery alike, and comes out as journal records (an ``Outcome``). Everything else is
either below it (what it is made of) or around it (the I/O that feeds it and keeps what it says).

The layers, each importing only from those below it (``make lint`` checks this with
import-linter; the contracts are in ``pyproject.toml``)::

    cli                       arguments → a command; exceptions → exit codes (errors.py)
    app/                      one module per command; a run's life (lifecycle), the one resume
                              flow (catchup), accounts, settings
    logs
    runtime/  sim/  report/   the Trio shell of a live session (session, feed, durable, panel,
                              watchers); the exchange simulator; summary.json and summary.html
    store/                    files: the journal, recordings, checkpoints, the lock, run folders
    core                      decoder + engine for one venue and symbol: the functional core
    inputs                    what a session records and replays
    fidelity, config          the user's settings, checked before anything starts
    engine/  venues/          strategy → risk → broker (pure, sync); each exchange, sans-IO,
                              behind the ``Venue`` interface (venues/venue.py)
    scrub
    model, codec, times, secrets, batch, errors

The public strategy API — ``trio_paper.engine.strategies``, ``trio_paper.engine.intents``,
``trio_paper.model`` — is a promise to users (docs/strategies.md).
"""

__version__ = "0.1.0"
"""The package's version, here and nowhere else (pyproject.toml reads it): looking it up in the
installed metadata cost every command ~0.1 s of imports (``importlib.metadata``, ``email``)."""
