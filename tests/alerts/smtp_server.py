#!/usr/bin/python3
"""A real SMTP server (aiosmtpd) for driftwatch's alert tests.

Every accepted message is stored as a numbered folder in --maildir so that a
test, in another process, can read what a client really put on the wire. The
port is written to --port-file only once the socket listens, which is the
readiness signal the Rust helper (tests/common/mail.rs) waits for.

Runs with Debian's /usr/bin/python3 (python3-aiosmtpd), stdlib otherwise.
"""

import argparse
import asyncio
import email.parser
import email.policy
import json
import logging
import os
import signal
import socket
import ssl
import sys
import warnings

from aiosmtpd.smtp import SMTP, AuthResult

log = logging.getLogger("smtp_server")


def write_atomic(path, data):
    """Write then rename, so a reader never sees a half-written file."""
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class Store:
    """Numbered message folders; numbering continues across restarts on the
    same maildir, so a test sees one sequence however often it restarts."""

    def __init__(self, maildir):
        self.maildir = maildir
        os.makedirs(maildir, exist_ok=True)
        used = [0]
        for name in os.listdir(maildir):
            digits = name[len(".tmp-"):] if name.startswith(".tmp-") else name
            if digits.isdigit():
                used.append(int(digits))
        self.next = max(used) + 1

    def save(self, raw, envelope_info):
        seq = self.next
        self.next += 1
        name = f"{seq:04d}"
        tmp = os.path.join(self.maildir, f".tmp-{name}")
        os.mkdir(tmp)
        files = {"message.eml": raw, "envelope.json": json_bytes(envelope_info)}
        files.update(decode_message(raw))
        for fname, data in files.items():
            with open(os.path.join(tmp, fname), "wb") as f:
                f.write(data)
        # The folder appears complete or not at all.
        os.rename(tmp, os.path.join(self.maildir, name))
        return name


def json_bytes(value):
    return json.dumps(value, ensure_ascii=False, indent=2).encode("utf-8")


def decode_message(raw):
    """headers.json, text.txt and html.html: what a human would read.

    Decoding failures are stored as text rather than raised: a malformed
    message is exactly what a test wants to look at, not a lost message."""
    msg = email.parser.BytesParser(policy=email.policy.default).parsebytes(raw)
    headers = {}
    for name, _ in msg.raw_items():
        if name in headers:
            continue
        try:
            # policy.default header objects are str with RFC 2047 decoded.
            values = [str(v) for v in msg.get_all(name, [])]
        except Exception as err:  # noqa: BLE001 - keep the message regardless
            log.warning("header %s not decodable: %s", name, err)
            values = [f"<undecodable: {err}>"]
        headers[name] = values
    return {
        "headers.json": json_bytes(headers),
        "text.txt": body_text(msg, "plain"),
        "html.html": body_text(msg, "html"),
    }


def body_text(msg, subtype):
    part = msg.get_body(preferencelist=(subtype,))
    if part is None:
        return b""
    try:
        text = part.get_content()
    except Exception as err:  # noqa: BLE001
        log.warning("text/%s part not decodable: %s", subtype, err)
        return f"<undecodable: {err}>".encode("utf-8")
    # SMTP carries CRLF; tests compare against Rust strings with \n.
    return text.replace("\r\n", "\n").encode("utf-8")


class Handler:
    def __init__(self, store, reject, tempfail_file):
        self.store = store
        self.reject = {a.lower() for a in reject}
        self.tempfail_file = tempfail_file

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.tempfail_file and os.path.exists(self.tempfail_file):
            log.info("MAIL FROM:<%s> tempfailed", address)
            return "451 4.3.0 try again later"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() in self.reject:
            log.info("RCPT TO:<%s> rejected", address)
            return f"550 5.1.1 <{address}>: recipient rejected"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        auth = session.auth_data
        login = getattr(auth, "login", None)
        info = {
            "mail_from": envelope.mail_from,
            "rcpt_tos": list(envelope.rcpt_tos),
            "auth_user": login.decode("utf-8", "replace") if login else None,
            # The transport in use now: after STARTTLS aiosmtpd swaps in the
            # TLS transport, and with implicit TLS it is TLS from the start.
            "tls": server.transport.get_extra_info("ssl_object") is not None,
        }
        try:
            name = self.store.save(raw, info)
        except Exception:
            log.exception("storing a message failed")
            return "451 4.3.0 could not store the message"
        log.info("stored %s from %s to %s", name, info["mail_from"], info["rcpt_tos"])
        return "250 OK stored as " + name


def make_authenticator(user, password):
    want = (user.encode("utf-8"), password.encode("utf-8"))

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = (auth_data.login, auth_data.password) == want
        if not ok:
            log.info("AUTH %s failed for %r", mechanism, auth_data.login)
        # handled=False makes aiosmtpd answer 535 itself on failure.
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    return authenticator


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--maildir", required=True)
    p.add_argument("--port-file")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--tls", choices=["none", "starttls", "tls"], default="none")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--auth", metavar="USER:PASS")
    p.add_argument("--reject", action="append", default=[], metavar="ADDR")
    p.add_argument("--tempfail-file")
    args = p.parse_args()
    if args.tls != "none" and not (args.cert and args.key):
        p.error("--tls starttls|tls needs --cert and --key")
    if args.auth is not None and ":" not in args.auth:
        p.error("--auth must be USER:PASS")
    return args


async def serve(args):
    store = Store(args.maildir)
    handler = Handler(store, args.reject, args.tempfail_file)
    ctx = None
    if args.tls != "none":
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(args.cert, args.key)

    kwargs = {
        # Not socket.getfqdn(): a DNS lookup per connection can take seconds.
        "hostname": "localhost",
        "enable_SMTPUTF8": True,
    }
    if args.tls == "starttls":
        kwargs.update(tls_context=ctx, require_starttls=True)
    if args.auth is not None:
        user, password = args.auth.split(":", 1)
        kwargs.update(
            auth_required=True,
            authenticator=make_authenticator(user, password),
            # aiosmtpd only counts STARTTLS as TLS, so implicit TLS must not
            # require it; with starttls, AUTH is only offered after STARTTLS.
            auth_require_tls=args.tls == "starttls",
        )

    loop = asyncio.get_running_loop()
    # Bound by hand so that a restart can take the same port back at once
    # (SO_REUSEADDR past TIME_WAIT) and so the real port is known.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", args.port))
    sock.listen(64)
    server = await loop.create_server(
        lambda: SMTP(handler, **kwargs),
        sock=sock,
        ssl=ctx if args.tls == "tls" else None,
    )
    port = sock.getsockname()[1]

    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    if args.port_file:
        write_atomic(args.port_file, f"{port}\n".encode())
    log.info("listening on 127.0.0.1:%d (tls=%s, auth=%s)", port, args.tls,
             args.auth is not None)

    await stop.wait()
    log.info("stopping")
    server.close()
    await server.wait_closed()


def main():
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO,
        format="smtp_server[%(process)d] %(levelname)s %(message)s",
    )
    # aiosmtpd's own INFO lines are per command; its errors still show.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    # Plain-text AUTH is deliberate here (tls=none tests); not worth a warning.
    warnings.filterwarnings("ignore", message="Requiring AUTH while not requiring TLS")
    args = parse_args()
    try:
        asyncio.run(serve(args))
    except Exception:
        log.exception("server failed")
        sys.exit(1)
    finally:
        sys.stderr.flush()


if __name__ == "__main__":
    main()
