"""An SMTP sink for the black-box tests (tests/api/mailbox.rs): it accepts every message and
stores it, for the tests to read, as one JSON file in a directory.

    python3 tests/smtp/sink.py PORT DIRECTORY

Listens on 127.0.0.1:PORT (plain SMTP, no TLS, no authentication) and prints `ready` on stdout
once it does. Each message becomes DIRECTORY/<counter>-<unix time ns>.json (the counter
zero-padded and carried on from the files already there, so a restarted sink keeps the order),
written under a temporary dot-name and renamed, so a reader never sees half a file. Fields:
`mail_from`, `rcpt_tos` (the envelope); `headers` (name as received -> raw values as received,
folding kept, to check for header injection); `subject`, `from`, `to` (decoded, RFC 2047; "" when
absent); `text`, `html` (the decoded text/plain and text/html parts, lines ending in a bare line
feed; "" and null when absent); `raw` (the whole message). A message that does not parse is still
stored, with its raw text, and the error goes to stderr. Exits cleanly on SIGTERM or SIGINT.
Needs aiosmtpd 1.4.6 (`./test` installs it).
"""

import asyncio
import email
import email.policy
import json
import logging
import os
import re
import signal
import sys
import time
import traceback

from aiosmtpd.smtp import SMTP

NAME = re.compile(r"^(\d+)-\d+\.json$")


def clean(text):
    """A str JSON can carry: bytes that were not UTF-8 (kept as surrogates by the parser) become
    U+FFFD, so the file stays valid UTF-8 without lone surrogates."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def part_text(part):
    """The decoded content of a text part (transfer encoding and charset undone)."""
    try:
        text = clean(part.get_content())
    except Exception:  # an unknown charset, a broken encoding: best effort
        payload = part.get_payload(decode=True) or b""
        text = payload.decode("utf-8", "replace")
    return text.replace("\r\n", "\n")


def header_text(message, name):
    """A header's decoded value (several headers of the name joined by ", "), or "". A header
    the parser chokes on is given raw."""
    try:
        values = [str(value) for value in message.get_all(name) or []]
    except Exception:
        traceback.print_exc(file=sys.stderr)
        values = [value for key, value in message.raw_items() if key.lower() == name]
    return clean(", ".join(values))


def describe(raw):
    """The JSON fields of a message from its bytes, as far as it parses."""
    fields = {
        "headers": {},
        "subject": "",
        "from": "",
        "to": "",
        "text": "",
        "html": None,
        "raw": raw.decode("utf-8", "replace"),
    }
    message = email.message_from_bytes(raw, policy=email.policy.default)
    for name, value in message.raw_items():
        fields["headers"].setdefault(clean(name), []).append(clean(value))
    fields["subject"] = header_text(message, "subject")
    fields["from"] = header_text(message, "from")
    fields["to"] = header_text(message, "to")
    text = html = None
    for part in message.walk():
        if part.is_multipart() or part.get_content_disposition() == "attachment":
            continue
        kind = part.get_content_type()
        if kind == "text/plain" and text is None:
            text = part_text(part)
        elif kind == "text/html" and html is None:
            html = part_text(part)
    fields["text"] = text or ""
    fields["html"] = html
    return fields


class Store:
    """Writes each message to the directory, in order."""

    def __init__(self, directory):
        self.directory = directory
        numbers = [int(m.group(1)) for m in map(NAME.match, os.listdir(directory)) if m]
        self.counter = max(numbers, default=0)

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        try:
            fields = describe(raw)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            fields = {"headers": {}, "subject": "", "from": "", "to": "", "text": "",
                      "html": None, "raw": raw.decode("utf-8", "replace")}
        fields["mail_from"] = clean(envelope.mail_from or "")
        fields["rcpt_tos"] = [clean(r) for r in envelope.rcpt_tos]
        try:
            self.write(fields)
        except Exception:
            traceback.print_exc(file=sys.stderr)
            return "451 Requested action aborted: could not store the message"
        return "250 OK"

    def write(self, fields):
        self.counter += 1
        name = f"{self.counter:08d}-{time.time_ns()}.json"
        temporary = os.path.join(self.directory, f".{name}.tmp")
        with open(temporary, "w", encoding="utf-8") as file:
            json.dump(fields, file, ensure_ascii=False, indent=1)
        os.replace(temporary, os.path.join(self.directory, name))


async def serve(port, directory):
    store = Store(directory)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        # A fixed hostname: the default looks up the machine's FQDN, which can take seconds.
        lambda: SMTP(store, hostname="sink.test", enable_SMTPUTF8=True),
        host="127.0.0.1",
        port=port,
    )
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    print("ready", flush=True)
    await stop.wait()
    server.close()
    await server.wait_closed()


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: sink.py PORT DIRECTORY")
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    port, directory = int(sys.argv[1]), sys.argv[2]
    os.makedirs(directory, exist_ok=True)
    asyncio.run(serve(port, directory))


if __name__ == "__main__":
    main()
