"""`make run`: embedded services, migrations, demo data, web and worker in the foreground; Ctrl-C stops everything."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from pathlib import Path

from config import VAR_DIR
from devtools.services import start_missing, stop_processes


def _interrupt(signum, _frame):
    raise KeyboardInterrupt


def gunicorn_command(bind: str, *options: str) -> list[str]:
    """gunicorn serving wsgi:app as `make run` does: 2 workers × 4 threads, 15 minutes for a request (a large upload
    through the portal), plus options."""
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        *["--bind", bind, "--workers", "2", "--threads", "4", "--timeout", "900"],
        "--no-control-socket",  # one shared ~/.gunicorn/gunicorn.ctl for every gunicorn otherwise: they would clash
        *options,
        "wsgi:app",
    ]


def ensure_secret_key(var_dir: Path) -> Path:
    """The key file `make run` uses: made once with 48 random bytes (64 characters), readable by the owner only."""
    path = var_dir / "secret_key"
    if not path.exists():
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(secrets.token_urlsafe(48) + "\n")
    os.chmod(path, 0o600)
    return path


def main() -> int:
    # Explicit handlers: a shell that starts us in the background leaves SIGINT ignored, and SIGTERM (systemd, CI)
    # must clean up the same way Ctrl-C does.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    host = os.environ.get("HOST", "127.0.0.1")
    port = os.environ.get("PORT", "5000")
    # Direct uploads: the browser PUTs parts to the embedded S3 server. It listens on 127.0.0.1 only and every request
    # must carry a signature, so any origin may call it; browsers on other machines cannot reach it, hence proxy mode
    # when the portal itself is served beyond this machine.
    services = start_missing(VAR_DIR, allow_origin="*")
    env = {**os.environ, **services.env, "PYTHONUNBUFFERED": "1"}
    if not env.get("SECRET_KEY") and not env.get("SECRET_KEY_FILE"):
        env["SECRET_KEY_FILE"] = str(ensure_secret_key(VAR_DIR))
    if (
        host not in ("127.0.0.1", "localhost", "::1")
        and not os.environ.get("UPLOAD_MODE")
        and not os.environ.get("S3_PUBLIC_ENDPOINT_URL")
    ):
        env["UPLOAD_MODE"] = "proxy"
    env.setdefault("PUBLIC_URL", f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else host}:{port}")
    bindir = Path(sys.executable).parent
    flask = [str(bindir / "flask"), "--app", "wsgi"]
    procs: list[subprocess.Popen] = []
    try:
        subprocess.run(flask + ["db", "upgrade"], env=env, check=True)
        subprocess.run(flask + ["storage", "init"], env=env, check=True, stdout=subprocess.DEVNULL)
        # The published demo contest's twelve clips go through the real pipeline on the first start (about a minute).
        print("seeding the demo (first start: processing the published demo's clips, about a minute)…", flush=True)
        subprocess.run(flask + ["demo", "seed", "--published"], env=env, check=True, stdout=subprocess.DEVNULL)
        procs.append(subprocess.Popen(gunicorn_command(f"{host}:{port}", "--access-logfile", "-"), env=env))
        # The media worker, and a mail worker of its own so that a reset mail never waits behind a transcode.
        procs.append(subprocess.Popen(flask + ["worker", "--queue", env.get("RQ_QUEUE", "clips")], env=env))
        procs.append(subprocess.Popen(flask + ["worker", "--queue", env.get("MAIL_QUEUE", "mail")], env=env))
        time.sleep(1.5)
        from app.demo import ACCOUNTS, DEMO_PASSWORD

        print("\n" + "=" * 72)
        print(f"  Clip Contest Portal is running:  http://{host}:{port}/")
        print(f"  Demo logins (password for all: {DEMO_PASSWORD}; admin manages organisers):")
        for email, name, role, _unit in ACCOUNTS:
            print(f"    {role.value:<10} {email:<22} {name}")
        if "SMTP_URL" in services.env:
            sink = services.env["SMTP_URL"]
            print(f"  Mail goes to a local SMTP server ({sink}) that keeps each message in {VAR_DIR / 'mail'};")
            print("  the organisers' Outbox (Hộp thư đi) lists it, with an invitation to svhtt@demo.vn.")
        print("  Press Ctrl-C to stop the portal, the workers, Redis, the S3 server and the mail server.")
        print("=" * 72 + "\n", flush=True)
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        print("a portal process exited; stopping everything", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\nstopping…", flush=True)
        return 0
    finally:
        # No second Ctrl-C or SIGTERM may break off the clean-up: Redis and the S3 server would outlive `make run`.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_processes(procs, timeout=10)
        services.stop()


if __name__ == "__main__":
    sys.exit(main())
