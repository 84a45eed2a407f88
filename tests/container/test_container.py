"""The image, end to end: build it with podman, run a simulator session in it with host
directories as its volumes, stop it with SIGTERM, and check on the host what it left.

Slow (an image build, then a session of about 20 s) and it needs podman, so it runs only when
asked: ``make container-test`` sets ``TRIO_PAPER_CONTAINER_TEST=1`` and says how to reach
podman on the machine:

- ``TRIO_PAPER_IMAGE``: the tag to build and test (default ``localhost/trio-paper:test``);
- ``TRIO_PAPER_BASE``: ``--build-arg BASE=...`` (default: the Containerfile's own);
- ``TRIO_PAPER_PODMAN_RUNTIME``: ``podman --runtime ...`` (default: podman's own).
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

REPO = Path(__file__).resolve().parents[2]
IMAGE = os.environ.get("TRIO_PAPER_IMAGE") or "localhost/trio-paper:test"
BASE = os.environ.get("TRIO_PAPER_BASE") or None
RUNTIME = os.environ.get("TRIO_PAPER_PODMAN_RUNTIME") or None
DEFAULT_BASE = "docker.io/library/python:3.11-slim-bookworm"  # the Containerfile's ARG BASE
HOME = "/home/trader"  # TRIO_PAPER_HOME in the image
VOLUMES = ("runs", "logs", "state")
MAX_ADDED_MB = 60  # what the image may add to its base: the venv (~31 MB) and recordings (~10 MB)
FRAMES_BEFORE_STOP = 60  # market frames recorded before the SIGTERM: ~15 s of the demo
STOP_TIMEOUT_S = 30  # podman's SIGKILL comes after this; a graceful stop takes ~2 s
FAKE_SECRET = "cs-container-test-4f1d9c2b7e"

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
    assert health["Test"] == ["CMD", "python", "-m", "trio_paper.runtime.healthcheck"]


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
        wait_for_frames(tmp_path / "runs" / "latest" / "recording.jsonl", container_name)
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

    latest = tmp_path / "runs" / "latest"
    for path in (latest / "summary.html", latest / "events.jsonl", latest / "summary.json"):
        assert path.is_file(), path
    assert (tmp_path / "logs" / "system.jsonl").is_file()
    end = orjson.loads((latest / "events.jsonl").read_bytes().splitlines()[-1])
    assert end["type"] == "session_end"
    assert end["reason"] == "signal SIGTERM"
    assert end["feed"]["frames"] >= FRAMES_BEFORE_STOP
    manifest = orjson.loads((latest / "manifest.json").read_bytes())
    assert (manifest["exit_code"], manifest["exit_reason"]) == (0, "signal SIGTERM")

    left = list(everything_under(tmp_path, VOLUMES))
    assert len(left) > 10
    strangers = [f"{p} ({p.lstat().st_uid}:{p.lstat().st_gid})" for p in left if not ours(p)]
    assert not strangers, f"not owned by {os.getuid()}:{os.getgid()}: {strangers}"
    leaks = [
        p
        for p in left
        if p.is_file() and not p.is_symlink() and FAKE_SECRET.encode() in p.read_bytes()
    ]
    assert not leaks, f"the secret from --env-file reached {leaks}"


def wait_for_frames(recording: Path, container: str, timeout_s: float = 90) -> None:
    """Until the session has recorded ``FRAMES_BEFORE_STOP`` market frames."""
    deadline = time.monotonic() + timeout_s
    frames = 0
    while time.monotonic() < deadline:
        if recording.exists():
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
