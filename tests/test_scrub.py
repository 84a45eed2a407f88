"""The scrubber: each rule, what it must leave alone, the fast path, and the sinks."""

from __future__ import annotations

import io
import json
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_paper import scrub
from trio_paper.codec import dumps
from trio_paper.scrub import MASK, TRIGGERS, Scrubber, ScrubbingStream, scrubbing_terminal
from trio_paper.secrets import SECRET_SUFFIXES, SECRET_WORDS
from trio_paper.store.journal import JournalWriter
from trio_paper.store.recording import Header, RecordingWriter
from trio_paper.store.rundir import new_run

SECRET = "s3cr3t-VALUE-0123456789"
OTHER = "another/secret+value=="


@pytest.fixture
def scrubber() -> Iterator[Scrubber]:
    """A scrubber that knows two secrets, installed for the sinks; the old one put back."""
    installed = Scrubber([SECRET, OTHER])
    previous = scrub.install(installed)
    yield installed
    scrub.install(previous)


# --- values ---------------------------------------------------------------------------------


def test_a_known_value_goes_wherever_it_is(scrubber: Scrubber) -> None:
    assert scrubber.scrub_text(f"boom {SECRET}!") == f"boom {MASK}!"
    assert scrubber.scrub_text(f"x{SECRET}y{OTHER}") == f"x{MASK}y{MASK}"


def test_a_value_goes_in_its_escaped_forms_too() -> None:
    value = 'pa"ss\\word/é€'
    scrubber = Scrubber([value])
    once = orjson.dumps({"error": f"boom {value}"}).decode()
    twice = orjson.dumps({"frame": once}).decode()
    for text in (once, twice, json.dumps(once), repr(value), "q=pa%22ss%5Cword%2F%C3%A9%E2%82%AC"):
        assert "ss" not in scrubber.scrub_text(text).replace("pass", ""), text


def test_each_line_of_a_multi_line_value_goes_too() -> None:
    pem = "-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----"
    scrubber = Scrubber([pem])
    assert scrubber.scrub_text(f"pem {pem}.") == f"pem {MASK}."
    assert scrubber.scrub_text("line 2 is MIIEvQIBADANBgkqhkiG9w0BAQEFAASC") == f"line 2 is {MASK}"


def test_short_values_are_not_scrubbed_by_value() -> None:
    scrubber = Scrubber(["1", "abc", "   ", "long-enough"])
    assert scrubber.short == 2
    assert scrubber.scrub_text("price 101.1 abc long-enough") == f"price 101.1 abc {MASK}"


def test_from_environ_takes_secret_names_only() -> None:
    environ = {
        "BITUNIX_API_KEY": "key-value-123456",
        "MY_TOKEN": "token-value-123456",
        "KEYBOARD": "keyboard-layout-us",
        "SSH_AUTH_SOCK": "/tmp/ssh-agent.sock",
        "SHORT_SECRET": "abc",
    }
    scrubber = Scrubber.from_environ(environ, extra=["config-secret-1234"])
    assert scrubber.names == ("BITUNIX_API_KEY", "MY_TOKEN", "SHORT_SECRET")
    assert scrubber.short == 1
    text = " ".join(environ.values()) + " config-secret-1234"
    assert scrubber.scrub_text(text) == (
        f"{MASK} {MASK} keyboard-layout-us /tmp/ssh-agent.sock abc {MASK}"
    )


# --- patterns -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("api_key=abc123 symbol=BTCUSDT", "api_key=*** symbol=BTCUSDT"),
        ("password: hunter2, user: bob", "password: ***, user: bob"),
        ('{"apiKey": "abc", "symbol": "BTCUSDT"}', '{"apiKey": "***", "symbol": "BTCUSDT"}'),
        ('{"sign":"9f8e","nonce":"n1"}', '{"sign":"***","nonce":"n1"}'),
        ("{'api-key': 'abc', 'nonce': 'n1'}", "{'api-key': '***', 'nonce': 'n1'}"),
        ("Config(api_secret='abc', symbol='X')", "Config(api_secret='***', symbol='X')"),
        ('{"frame":"{\\"token\\":\\"abc\\"}"}', '{"frame":"{\\"token\\":\\"***\\"}"}'),
        ("X-BAPI-SIGN: 0xabc\nnonce: 7", "X-BAPI-SIGN: ***\nnonce: 7"),
        ("Authorization: Basic dXNlcjpwYXNz", "Authorization: Basic ***"),
        ("authorization=Bearer abc.def.ghi", "authorization=Bearer ***"),
        ("sent Bearer eyJhbGciOiJI.eyJzdWIi.SflKxw then", "sent Bearer *** then"),
        ("wss://bob:pa55@fapi.bitunix.com/public/", "wss://***@fapi.bitunix.com/public/"),
        ("https://ghp_token@github.com/o/r.git", "https://***@github.com/o/r.git"),
        (
            "GET https://h/api/v1/k?symbol=BTCUSDT&apiKey=AK1&timestamp=17&sign=beef#x",
            "GET https://h/api/v1/k?symbol=BTCUSDT&apiKey=***&timestamp=17&sign=***#x",
        ),
        ("PGPASSWORD=hunter2 clientSecret=abc", "PGPASSWORD=*** clientSecret=***"),
    ],
)
def test_patterns(text: str, expected: str) -> None:
    assert Scrubber().scrub_text(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "monkey=1 keyboard=2 keys=3 author: me signal=long turnkey=4",
        "the key is missing; tokens: 5; password reset",
        "config.yaml: venue.api_key looks like a secret, put it in the environment",
        "wss://fapi.bitunix.com/public/ and mail bob@example.com",
        "Bearer of bad news",
    ],
)
def test_lookalikes_pass(text: str) -> None:
    assert Scrubber().scrub_text(text) == text


def test_ids_hashes_and_prices_pass_intact() -> None:
    """The origin project's "any 32-character run" rule ate its own ids; there is none here."""
    scrubber = Scrubber.from_environ(
        {"BITUNIX_API_KEY": "4f1c2b7d9e0a8b6c", "BITUNIX_API_SECRET": "a1b2c3d4e5f6a7b8c9d0"}
    )
    record = {
        "run_id": "20261124-190512-replay",
        "hex_id": "3f9a1c0e7b2d4e6f8a0b1c2d3e4f5a6b",
        "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "uuid": "123e4567-e89b-12d3-a456-426614174000",
        "order": "o17",
        "client_order_id": "trio-1746707340010-17",
        "price": "99400.1",
        "qty": "0.0001",
        "ts": 1746707340206,
        "time": "2025-05-08T12:29:00.123Z",
        "base64": "SGVsbG8gd29ybGQsIHRoaXMgaXMgbm90IGEgc2VjcmV0Lg==",
    }
    line = dumps(record)
    assert scrubber.scrub_bytes(line) is line
    text = line.decode()
    assert scrubber.scrub_text(text) is text


KEYS = st.sampled_from(
    ["api_key", "apiKey", "sign", "token", "password", "auth", "KeyError", "symbol", "price"]
) | st.text(max_size=12)
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=500, deadline=None)
@given(st.dictionaries(KEYS, JSON, max_size=6))
def test_json_stays_json(record: dict[str, object]) -> None:
    """Masking never breaks a journal line, nor a frame inside a recording line."""
    scrubber = Scrubber(["planted-secret-1"])
    line = orjson.dumps(record)
    orjson.loads(scrubber.scrub_bytes(line))
    nested = orjson.loads(scrubber.scrub_bytes(orjson.dumps({"frame": line.decode()})))
    orjson.loads(nested["frame"])


def test_a_masked_record_shows_what_it_hid() -> None:
    line = orjson.dumps({"api_key": None, "sign": 123, "token": True, "password": "it's"})
    assert orjson.loads(Scrubber().scrub_bytes(line)) == {
        "api_key": None,
        "sign": MASK,
        "token": True,
        "password": MASK,
    }


# --- the fast path --------------------------------------------------------------------------


def test_every_secret_word_holds_a_trigger() -> None:
    """The fast path looks for the triggers only: a secret word without one would never be seen."""
    for word in (*SECRET_WORDS, *SECRET_SUFFIXES):
        assert any(trigger in word for trigger in TRIGGERS), word


def test_a_clean_line_comes_back_as_the_same_object() -> None:
    scrubber = Scrubber([SECRET])
    frame = b'{"seq":5,"t":17467073402,"frame":"{\\"ch\\":\\"depth_book1\\",\\"b\\":[[\\"9\\"]]}"}'
    assert scrubber.scrub_bytes(frame) is frame
    assert scrubber.scrub_text(frame.decode()) == frame.decode()


def test_a_trigger_without_a_secret_changes_nothing() -> None:
    """A word like "monkey" takes the slow path; the bytes written are still the same."""
    line = b'{"strategy":{"name":"monkey","params":{"keys":3}}}'
    assert Scrubber([SECRET]).scrub_bytes(line) == line


def test_bytes_that_are_not_utf8_pass_through() -> None:
    line = b"\xff\xfe token=abc \x80"
    assert Scrubber().scrub_bytes(line) == b"\xff\xfe token=*** \x80"


def test_long_lines_are_not_quadratic() -> None:
    scrubber = Scrubber([SECRET])
    lines = [
        "A" * 1_000_000 + " https://u:p@h",
        "key=1 " * 100_000,
        "://" * 300_000 + "@",
        "x" * 1_000_000 + SECRET,
    ]
    started = time.perf_counter()
    for line in lines:
        scrubber.scrub_text(line)
    assert time.perf_counter() - started < 5  # quadratic would take hours


# --- the sinks ------------------------------------------------------------------------------


def test_journal_and_recording_lines_are_scrubbed(scrubber: Scrubber, tmp_path: Path) -> None:
    with JournalWriter(tmp_path / "events.jsonl") as journal:
        journal.append([{"type": "strategy", "error": f"RuntimeError: boom {SECRET}"}])
    assert (tmp_path / "events.jsonl").read_text() == (
        '{"type":"strategy","error":"RuntimeError: boom ***"}\n'
    )
    header = Header("bitunix", "BTCUSDT", ["trade"], "1min", "2025-05-08T12:29:00Z")
    with RecordingWriter(tmp_path / "recording.jsonl", header) as recording:
        recording.write_line(dumps({"frame": dumps({"apiKey": OTHER}).decode()}))
    last = (tmp_path / "recording.jsonl").read_text().splitlines()[-1]
    assert last == '{"frame":"{\\"apiKey\\":\\"***\\"}"}'


def test_the_manifest_is_scrubbed(scrubber: Scrubber, tmp_path: Path) -> None:
    run = new_run(tmp_path, "replay", run_id="r1")
    run.write_manifest({"ws_url": "wss://u:p@h/", "note": SECRET, "run_id": "r1"})
    assert orjson.loads(run.manifest.read_bytes()) == {
        "ws_url": "wss://***@h/",
        "note": MASK,
        "run_id": "r1",
    }


def test_the_terminal_is_scrubbed(scrubber: Scrubber, capsys: pytest.CaptureFixture[str]) -> None:
    with scrubbing_terminal():
        print(f"error: {SECRET}")
        print(f"warning: {OTHER}", file=sys.stderr)
        inside = sys.stdout
    assert isinstance(inside, ScrubbingStream)
    assert sys.stdout is not inside
    out, err = capsys.readouterr()
    assert (out, err) == (f"error: {MASK}\n", f"warning: {MASK}\n")


def test_a_scrubbing_stream_delegates_the_rest(scrubber: Scrubber) -> None:
    target = io.StringIO()
    stream = ScrubbingStream(target)
    assert stream.write(SECRET) == len(SECRET)
    stream.writelines(["a\n", OTHER])
    assert target.getvalue() == f"{MASK}a\n{MASK}"
    assert stream.isatty() is False


def test_current_is_built_from_the_environment_until_one_is_installed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("TEST_SCRUB_TOKEN", "from-the-environment-1")
    previous = scrub.install(None)
    try:
        assert scrub.scrub_text("a from-the-environment-1 b") == f"a {MASK} b"
        assert scrub.scrub_bytes(b"from-the-environment-1") == MASK.encode()
    finally:
        scrub.install(previous)
