"""Run ffmpeg/ffprobe contained: wall-clock timeout, rlimits, low priority, own process group, no network."""

from __future__ import annotations

import contextlib
import ctypes
import functools
import logging
import math
import os
import resource
import selectors
import shutil
import signal
import subprocess
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

log = logging.getLogger(__name__)

GiB = 1 << 30
MiB = 1 << 20

# Measured on a 2-core box (ffmpeg 5.1, 22 threads): VmPeak 1.19 GB for a 1080p 3-rung ladder, 1.49 GB for a 4K
# 10-bit HEVC source. Thread count (hence stacks and malloc arenas) grows with cores, so the cap does too.
DEFAULT_ADDRESS_SPACE = int(1.5 * GiB + 512 * MiB * (os.cpu_count() or 1))
# Enough for every ffmpeg thread plus the unshare exec; far below anything a descriptor leak needs.
DEFAULT_OPEN_FILES = 256
DEFAULT_NICE = 10
STDERR_TAIL = 64 * 1024
# How long pipes may stay open after the child exited (a forked straggler holding them) before we stop reading.
PIPE_GRACE_S = 0.5
# Children see only this: no proxies, no HOME, C locale so messages we grep stay English.
CHILD_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LC_ALL": "C"}


class SandboxError(Exception):
    """The child could not be run to completion (timeout, runaway output, spawn failure)."""


class Timeout(SandboxError):
    """The child outlived its wall-clock budget and was killed with its whole process group."""


@dataclass(frozen=True)
class Limits:
    """Resource caps applied in the child before exec; None leaves a limit as inherited."""

    cpu_s: int | None = None
    address_space: int | None = DEFAULT_ADDRESS_SPACE
    file_size: int | None = None
    open_files: int | None = DEFAULT_OPEN_FILES
    nice: int = DEFAULT_NICE


@dataclass(frozen=True)
class Completed:
    """What a finished child left behind."""

    returncode: int
    stdout: bytes
    stderr: bytes
    elapsed_s: float


def _libc_prctl() -> Callable[..., int] | None:
    """Resolve prctl now: dlopen in a forked child of a threaded parent can deadlock."""
    try:
        return ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None


_PRCTL = _libc_prctl()
_PR_SET_PDEATHSIG = 1


def _lower(which: int, soft: int, hard: int) -> None:
    """Set a limit, clamped to the current hard limit: an unprivileged worker may only lower limits."""
    _, current = resource.getrlimit(which)
    if current != resource.RLIM_INFINITY:
        soft, hard = min(soft, current), min(hard, current)
    resource.setrlimit(which, (soft, hard))


def _preexec(limits: Limits, cpu_s: int) -> Callable[[], None]:
    """Build the post-fork hook; it only makes syscalls, no allocation-heavy Python."""

    def apply() -> None:
        # The worker may die hard (OOM killer, SIGKILL from RQ); the encoder must not outlive it.
        if _PRCTL is not None:
            _PRCTL(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _lower(resource.RLIMIT_CORE, 0, 0)
        # Soft limit sends SIGXCPU, hard limit SIGKILL a few seconds later.
        _lower(resource.RLIMIT_CPU, cpu_s, cpu_s + 5)
        for which, value in (
            (resource.RLIMIT_AS, limits.address_space),
            (resource.RLIMIT_FSIZE, limits.file_size),
            (resource.RLIMIT_NOFILE, limits.open_files),
        ):
            if value is not None:
                _lower(which, value, value)
        if limits.nice:
            os.nice(limits.nice)

    return apply


@functools.cache
def network_isolation() -> tuple[str, ...]:
    """Command prefix that runs a child in an empty network namespace, or () where the OS refuses."""
    unshare = shutil.which("unshare")
    if unshare is None:
        log.warning("unshare not found; ffmpeg runs with the host network (whitelists still apply)")
        return ()
    # Root can create a namespace directly; others need a user namespace, which hardened kernels may forbid.
    for prefix in ((unshare, "--net", "--"), (unshare, "--net", "--map-root-user", "--")):
        try:
            done = subprocess.run([*prefix, "true"], capture_output=True, timeout=10, env=CHILD_ENV)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return prefix
    log.warning("cannot create a network namespace here; ffmpeg runs with the host network (whitelists still apply)")
    return ()


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """SIGKILL every process in the child's group; the group id is the child's pid (start_new_session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)


def _leader_exited(proc: subprocess.Popen[bytes]) -> bool:
    """True once the child has exited, without reaping it (so its pid, hence the group id, cannot be reused)."""
    try:
        return os.waitid(os.P_PID, proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
    except ChildProcessError:
        return True


def run(
    cmd: Sequence[str],
    *,
    timeout: float,
    cwd: str | os.PathLike[str] | None = None,
    limits: Limits = Limits(),
    on_stdout_line: Callable[[str], None] | None = None,
    max_stdout: int = 16 * MiB,
    isolate_network: bool = True,
) -> Completed:
    """Run cmd to completion within timeout seconds; stdout goes to on_stdout_line if given, else is returned."""
    cpu_s = limits.cpu_s if limits.cpu_s is not None else math.ceil(timeout * (os.cpu_count() or 1)) + 5
    argv = [*(network_isolation() if isolate_network else ()), *map(os.fspath, cmd)]
    started = time.monotonic()
    deadline = started + timeout
    try:
        proc = subprocess.Popen(
            argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=CHILD_ENV,
            start_new_session=True,
            close_fds=True,
            preexec_fn=_preexec(limits, cpu_s),
        )
    except OSError as exc:
        raise SandboxError(f"cannot start {argv[0]}: {exc}") from exc
    stdout, stderr = proc.stdout, proc.stderr
    assert stdout is not None and stderr is not None  # both are PIPE
    out, err, pending = bytearray(), bytearray(), b""
    try:
        with selectors.DefaultSelector() as sel:
            sel.register(stdout, selectors.EVENT_READ, "out")
            sel.register(stderr, selectors.EVENT_READ, "err")
            exited_at = None
            while sel.get_map():
                now = time.monotonic()
                if now >= deadline:
                    raise Timeout(f"{os.path.basename(argv[0])} exceeded {timeout:.0f}s")
                if exited_at is None and _leader_exited(proc):
                    exited_at = now
                if exited_at is not None and now - exited_at > PIPE_GRACE_S:
                    break  # the leader is done; a straggler it forked is holding the pipes open
                for key, _ in sel.select(timeout=min(deadline - now, 0.25)):
                    chunk = os.read(key.fd, 65536)
                    if not chunk:
                        sel.unregister(key.fileobj)
                    elif key.data == "err":
                        # Keep the tail only: ffmpeg can repeat a warning per frame for hours.
                        err += chunk
                        del err[:-STDERR_TAIL]
                    elif on_stdout_line is not None:
                        *lines, pending = (pending + chunk).split(b"\n")
                        for line in lines:
                            on_stdout_line(line.decode("utf-8", "replace"))
                    else:
                        out += chunk
                        if len(out) > max_stdout:
                            raise SandboxError(f"{os.path.basename(argv[0])} wrote more than {max_stdout} bytes")
        # Pipes closed; the leader is exiting. Wait unreaped, then sweep any stragglers it forked.
        while not _leader_exited(proc):
            if time.monotonic() >= deadline:
                raise Timeout(f"{os.path.basename(argv[0])} exceeded {timeout:.0f}s")
            time.sleep(0.005)
        if pending and on_stdout_line is not None:
            on_stdout_line(pending.decode("utf-8", "replace"))
    finally:
        _kill_group(proc)
        proc.wait()
        stdout.close()
        stderr.close()
    return Completed(proc.returncode, bytes(out), bytes(err), time.monotonic() - started)
