"""The image, end to end: build it with podman, run a simulator session in it with host
directories as its volumes, stop it with SIGTERM, and check on the host what it left; and the
same with ``--serve``, its port published on the host's loopback, asked from the host.

Slow (an image build, then a session of about 20 s) and it needs podman, so it runs only when
asked: ``make container-test`` sets ``TRIO_PAPER_CONTAINER_TEST=1`` and says how to reach
podman on the machine:

- ``TRIO_PAPER_IMAGE``: the tag to build and test (default ``localhost/trio-paper:test``);
- ``TRIO_PAPER_BASE``: ``--build-arg BASE=...`` (default: the Containerfile's own);
- ``TRIO_PAPER_PODMAN_RUNTIME``: ``podman --runtime ...`` (default: podman's own).
"""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("TRIO_PAPER_IMAGE") or "localhost/trio-paper:test"
BASE = os.environ.get("TRIO_PAPER_BASE") or None
RUNTIME = os.environ.get("TRIO_PAPER_PODMAN_RUNTIME") or None
DEFAULT_BASE = "docker.io/library/python:3.11-slim-bookworm"  # the Containerfile's ARG BASE
HOME = "/home/trader"  # TRIO_PAPER_HOME in the image
VOLUMES = ("runs", "logs", "state")
MAX_ADDED_MB = 100  # what the image may add to its base: the venv (~90 MB, Dask ~38 MB of it)
FRAMES_BEFORE_STOP = 60  # market frames recorded before the SIGTERM: ~15 s of the demo
STOP_TIMEOUT_S = 30  # podman's SIGKILL comes after this; a graceful stop takes ~2 s
FAKE_SECRET = "cs-container-test-4f1d9c2b7e"
SERVE_PORT = 8080  # where a --serve session listens inside the container
STOP_GRACE_S = 10.0  # session.stop_grace_s: a serving session stops within it, open page or not

pytestmark = [
    pytest.mark.container,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("podman") is None, reason="podman is not installed"),
    pytest.mark.skipif(
        os.environ.get("TRIO_PAPER_CONTAINER_TEST") != "1",
        reason="builds the image and runs a session in it (1-2 min): `make container-test` "
        "runs it (or set TRIO_PAPER_CONTAINER_TEST=1)",
    ),
]


def podman(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess[str]:
    command = ["podman", *(["--runtime", RUNTIME] if RUNTIME else []), *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if check and result.returncode != 0:
        pytest.fail(f"`{shlex.join(command)}` exited {result.returncode}:\n{result.stderr}")
    return result


def as_invoking_user() -> list[str]:
    """Run the container so that what it writes in a host directory belongs to whoever runs
    this: rootless podman maps our uid into the container (keep-id); root podman (and docker)
    just runs the process as our uid:gid."""
    rootless = podman("info", "--format", "{{.Host.Security.Rootless}}").stdout.strip()
    if rootless == "true":
        return ["--userns=keep-id"]
    return ["--user", f"{os.getuid()}:{os.getgid()}"]


@pytest.fixture(scope="module")
def image() -> str:
    build_args = ["--build-arg", f"BASE={BASE}"] if BASE else []
    started = time.monotonic()
    # --format docker: the OCI image format has no HEALTHCHECK; podman would drop it
    podman(
        "build", "--format", "docker", *build_args, "--file", "Containerfile", "--tag", IMAGE,
        str(REPO), timeout=900,
    )  # fmt: skip
    print(f"\nbuilt {IMAGE} in {time.monotonic() - started:.0f} s")
    return IMAGE


def image_size(name: str) -> int:
    return int(podman("image", "inspect", "--format", "{{.Size}}", name).stdout)


def test_image_is_small_unprivileged_and_declares_its_health_check(image: str) -> None:
    size, base = image_size(image), image_size(BASE or DEFAULT_BASE)
    added = (size - base) / 1e6
    print(f"\n{image}: {size / 1e6:.0f} MB, {added:.0f} MB over its base")
    assert added <= MAX_ADDED_MB, f"the image adds {added:.0f} MB to its base"
    config = orjson.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == "trader"
    assert config["StopSignal"] == "SIGTERM"
    assert sorted(config["Volumes"]) == sorted(f"{HOME}/{name}" for name in VOLUMES)
    assert config["Entrypoint"] + config["Cmd"] == ["trio-paper", "run", "--minutes", "10"]
    health = orjson.loads(
        podman("image", "inspect", "--format", "{{json .HealthCheck}}", image).stdout
    )
    assert health["Test"] == ["CMD", "trio-paper", "status", "--check"]


@pytest.fixture
def container_name() -> Iterator[str]:
    name = f"trio-paper-test-{os.getpid()}"
    podman("rm", "--force", name, check=False)
    yield name
    podman("rm", "--force", "--time", "0", name, check=False)


def test_sigterm_ends_a_session_and_the_host_user_owns_what_it_left(
    image: str, container_name: str, tmp_path: Path
) -> None:
    for name in VOLUMES:
        (tmp_path / name).mkdir()
    env_file = tmp_path / "secrets.env"
    env_file.write_text(
        f"BITUNIX_API_KEY=ck-container-test-0a9b8c7d\nBITUNIX_API_SECRET={FAKE_SECRET}\n"
    )
    mounts = [f"--volume={tmp_path / name}:{HOME}/{name}:z" for name in VOLUMES]
    # --network none: --sim is offline, its exchange is on the container's own loopback
    podman(
        "run", "--detach", "--name", container_name, "--network", "none",
        "--stop-timeout", str(STOP_TIMEOUT_S), *as_invoking_user(), "--env-file", str(env_file),
        *mounts, image, "run", "--sim", "--minutes", "1",
    )  # fmt: skip
    started = time.monotonic()
    try:
        wait_for_frames(tmp_path / "runs", container_name)
        check_health(image, container_name, tmp_path)
        print(f"\nsending SIGTERM {time.monotonic() - started:.0f} s after the start")
        stop_started = time.monotonic()
        podman("stop", "--time", str(STOP_TIMEOUT_S), container_name, timeout=STOP_TIMEOUT_S + 30)
        stop_s = time.monotonic() - stop_started
        state = podman("inspect", "--format", "{{.State.ExitCode}}", container_name).stdout
    finally:
        logs = podman("logs", container_name, check=False)
        print(logs.stdout + logs.stderr)
    print(f"stopped in {stop_s:.1f} s")
    assert int(state) == 0
    assert stop_s < STOP_TIMEOUT_S - 5, "the session did not stop on SIGTERM: podman killed it"

    ended_by_sigterm(tmp_path)
    left = list(everything_under(tmp_path, VOLUMES))
    assert len(left) > 10
    strangers = [f"{p} ({p.lstat().st_uid}:{p.lstat().st_gid})" for p in left if not ours(p)]
    assert not strangers, f"not owned by {os.getuid()}:{os.getgid()}: {strangers}"
    leaks = holding(left, FAKE_SECRET)
    assert not leaks, f"the secret from --env-file reached {leaks}"


def ended_by_sigterm(volumes: Path) -> dict[str, Any]:
    """The run on the host's volumes ended on SIGTERM and left its reports; its session_end."""
    latest = volumes / "runs" / "latest"
    for path in (latest / "summary.html", latest / "events.jsonl", latest / "summary.json"):
        assert path.is_file(), path
    assert (volumes / "logs" / "system.jsonl").is_file()
    end: dict[str, Any] = orjson.loads((latest / "events.jsonl").read_bytes().splitlines()[-1])
    assert end["type"] == "session_end"
    assert end["reason"] == "signal SIGTERM"
    assert end["feed"]["frames"] >= FRAMES_BEFORE_STOP
    manifest = orjson.loads((latest / "manifest.json").read_bytes())
    assert (manifest["exit_code"], manifest["exit_reason"]) == (0, "signal SIGTERM")
    return end


def holding(paths: list[Path], secret: str) -> list[Path]:
    """The regular files among ``paths`` that contain ``secret``."""
    return [
        p for p in paths if p.is_file() and not p.is_symlink() and secret.encode() in p.read_bytes()
    ]


def test_serve_answers_through_a_published_port_and_sigterm_still_ends_it(
    image: str, container_name: str, tmp_path: Path
) -> None:
    """``run --serve 0.0.0.0:8080`` in the container, its port published on the host's loopback
    only: from the host, the token guards ``/healthz``, ``/metrics`` parses, the HEALTHCHECK asks
    ``/healthz``; ``podman stop`` ends the session within its grace, an open page or not."""
    for name in VOLUMES:
        (tmp_path / name).mkdir()
    token = f"st-container-test-{secrets.token_hex(8)}"
    # in a file, not on podman's command line (which a failure prints)
    env_file = tmp_path / "serve.env"
    env_file.write_text(
        f"TRIO_PAPER_SERVE_TOKEN={token}\n"
        f"TRIO_PAPER_HEALTHZ=http://127.0.0.1:{SERVE_PORT}/healthz\n"
    )
    port = free_loopback_port()
    mounts = [f"--volume={tmp_path / name}:{HOME}/{name}:z" for name in VOLUMES]
    podman(
        "run", "--detach", "--name", container_name, "--publish", f"127.0.0.1:{port}:{SERVE_PORT}",
        "--stop-timeout", str(STOP_TIMEOUT_S), *as_invoking_user(), "--env-file", str(env_file),
        *mounts, image, "run", "--sim", "--minutes", "1", "--serve", f"0.0.0.0:{SERVE_PORT}",
    )  # fmt: skip
    auth = {"Authorization": f"Bearer {token}"}
    try:
        wait_for_frames(tmp_path / "runs", container_name)
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            health = client.get("/healthz", headers=auth)
            assert health.status_code == 200, health.text
            assert health.json()["status"] == "ok"
            assert client.get("/healthz").status_code == 401
            assert client.get("/healthz", headers={"Authorization": "Bearer no"}).status_code == 401
            metrics = client.get("/metrics", headers=auth)
            assert metrics.status_code == 200, metrics.text
            served_frames = sample(metrics.text, "trio_paper_frames_total")
            assert served_frames > 0
            assert sample(metrics.text, "trio_paper_feed_connected") == 1
            check_serving_health(image, container_name, env_file)
            with client.stream("GET", "/events", headers=auth) as page:  # a page left open
                assert page.status_code == 200
                next(page.iter_bytes())
                stop_started = time.monotonic()
                podman("stop", "--time", str(STOP_TIMEOUT_S), container_name,
                       timeout=STOP_TIMEOUT_S + 30)  # fmt: skip
                stop_s = time.monotonic() - stop_started
        state = podman("inspect", "--format", "{{.State.ExitCode}}", container_name).stdout
    finally:
        logs = podman("logs", container_name, check=False)
        print(logs.stdout + logs.stderr)
    print(f"stopped in {stop_s:.1f} s")
    assert int(state) == 0
    assert stop_s < STOP_GRACE_S, "the serving session did not stop within its grace"
    end = ended_by_sigterm(tmp_path)
    assert served_frames <= end["feed"]["frames"]
    leaks = holding(list(everything_under(tmp_path, VOLUMES)), token)
    assert not leaks, f"the serve token reached {leaks}"
    assert token not in logs.stdout + logs.stderr, "the serve token reached the output"


def free_loopback_port() -> int:
    """A port on the host's loopback that nothing listens on now (other tests run alongside)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sample(text: str, name: str) -> float:
    """The value of the unlabelled sample ``name`` in Prometheus text, parsed as Prometheus does."""
    values = [
        s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name and not s.labels
    ]
    assert len(values) == 1, f"{name}: {len(values)} samples"
    return values[0]


def check_serving_health(image: str, container: str, env_file: Path) -> None:
    """``podman healthcheck run`` says healthy, and the same command, ``status --check``, gives
    the session's own ``/healthz`` verdict (it asks ``TRIO_PAPER_HEALTHZ``, with the token).

    Where exec cannot start a process, the command runs in a sibling container sharing the
    session's network namespace (so its 127.0.0.1:8080) and given the same environment."""
    if podman("exec", container, "true", check=False).returncode == 0:
        result = podman("healthcheck", "run", container, check=False)
        assert result.returncode == 0, f"unhealthy: {result.stdout}{result.stderr}"
        verdict = podman("exec", container, "trio-paper", "status", "--check", check=False)
    else:
        verdict = podman(
            "run", "--rm", "--network", f"container:{container}", "--env-file", str(env_file),
            image, "status", "--check", check=False,
        )  # fmt: skip
    assert verdict.returncode == 0, f"unhealthy: {verdict.stdout}{verdict.stderr}"
    body = orjson.loads(verdict.stdout)
    assert (body["status"], body["feed_connected"]) == ("ok", True), body


def wait_for_frames(runs: Path, container: str, timeout_s: float = 90) -> None:
    """Until the session has recorded ``FRAMES_BEFORE_STOP`` market frames.

    Its run is the only one in ``runs`` (``runs/latest`` points at a run once it has ended)."""
    deadline = time.monotonic() + timeout_s
    frames = 0
    while time.monotonic() < deadline:
        for recording in runs.glob("*/recording.jsonl"):
            frames = recording.read_bytes().count(b'"frame":')
            if frames >= FRAMES_BEFORE_STOP:
                return
        running = podman("inspect", "--format", "{{.State.Running}}", container).stdout.strip()
        assert running == "true", "the container stopped before any trading data flowed"
        time.sleep(1)
    pytest.fail(f"only {frames} market frames after {timeout_s:.0f} s")


def check_health(image: str, container: str, volumes: Path) -> None:
    """``podman healthcheck run`` (an exec of the image's HEALTHCHECK in the container).

    Where exec cannot start a process (a runtime adapter that only fixes up ``run``), the same
    command runs in a sibling container sharing the session's volumes and PID namespace."""
    probe = podman("exec", container, "true", check=False)
    if probe.returncode == 0:
        result = podman("healthcheck", "run", container, check=False)
        assert result.returncode == 0, f"unhealthy: {result.stdout}{result.stderr}"
        return
    print(f"\npodman exec fails here ({probe.stderr.strip()[-120:]}): health command in a sibling")
    mounts = [f"--volume={volumes / name}:{HOME}/{name}:z" for name in VOLUMES]
    result = podman(
        "run", "--rm", "--network", "none", "--pid", f"container:{container}",
        *as_invoking_user(), *mounts, image, "status", "--check", check=False,
    )  # fmt: skip
    assert result.returncode == 0, f"unhealthy: {result.stdout}{result.stderr}"
    assert result.stdout.startswith("healthy:"), result.stdout


def everything_under(root: Path, names: tuple[str, ...]) -> Iterator[Path]:
    for name in names:
        top = root / name
        yield top
        for directory, subdirectories, files in os.walk(top):
            for entry in (*subdirectories, *files):
                yield Path(directory) / entry


def ours(path: Path) -> bool:
    info = path.lstat()
    return info.st_uid == os.getuid() and info.st_gid == os.getgid()
