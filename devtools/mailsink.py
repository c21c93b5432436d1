"""A local SMTP server (aiosmtpd) that accepts every message and keeps it: `make run` and the tests use it.

`python -m devtools.mailsink --port 8025 --dir var/mail` stores each message as `<time>-<n>.eml` in the folder, in
the order received; the tests run `MailSink` in-process and read its `messages`.
"""

from __future__ import annotations

import argparse
import email
import email.policy
import itertools
import signal
import threading
import time
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller


@dataclass
class Received:
    """One message as the server got it."""

    sender: str
    recipients: list[str]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = email.message_from_bytes(self.data, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        assert part is not None, f"no text/{subtype} part"
        return part.get_content()  # type: ignore[attr-defined]


@dataclass
class MailSink:
    """aiosmtpd handler: accepts every message, remembers it, and writes it to directory when one is given."""

    directory: Path | None = None
    messages: list[Received] = field(default_factory=list)
    # Addresses refused for good at RCPT (550), to test permanent failures.
    refuse: set[str] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: itertools.count = field(default_factory=itertools.count)

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options) -> str:  # noqa: N802
        if address.lower() in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope) -> str:  # noqa: N802 - aiosmtpd's hook name
        received = Received(envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.original_content))
        with self._lock:
            self.messages.append(received)
            if self.directory is not None:
                self.directory.mkdir(parents=True, exist_ok=True)
                name = f"{time.strftime('%Y%m%d-%H%M%S')}-{next(self._counter):05d}.eml"
                (self.directory / name).write_bytes(received.data)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[Received]:
        """The messages received for address."""
        with self._lock:
            return [m for m in self.messages if address.lower() in (r.lower() for r in m.recipients)]


def start_sink(port: int, *, directory: Path | None = None, host: str = "127.0.0.1") -> tuple[Controller, MailSink]:
    """Start a sink on host:port in a background thread; stop it with controller.stop()."""
    sink = MailSink(directory=directory)
    controller = Controller(sink, hostname=host, port=port, ready_timeout=30)
    controller.start()
    return controller, sink


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("var/mail"))
    args = parser.parse_args()
    controller, _sink = start_sink(args.port, directory=args.dir, host=args.host)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    print(f"mail sink on smtp://{args.host}:{args.port}, keeping messages in {args.dir}", flush=True)
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
