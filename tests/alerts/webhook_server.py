#!/usr/bin/python3
"""A real HTTP server that records webhook POSTs for driftwatch's alert tests.

Each POST answered 2xx is stored as DIR/NNNN.json; the others are only
counted in DIR/rejected.count, because a rejected delivery did not happen and
a test asserting on deliveries must not see it. --status-file lets a test
switch the answer (e.g. 503) while the server runs. The port is written to
--port-file once the socket listens (the readiness signal
tests/common/mail.rs waits for). Stdlib only.
"""

import argparse
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def write_atomic(path, data):
    """Write then rename, so a reader never sees a half-written file."""
    tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


class Recorder:
    """Sequence and counter shared by the handler threads; numbering
    continues from what DIR already holds, across restarts."""

    def __init__(self, directory, status_file):
        self.dir = directory
        self.status_file = status_file
        self.lock = threading.Lock()
        os.makedirs(directory, exist_ok=True)
        used = [0]
        for name in os.listdir(directory):
            stem = name[:-len(".json")] if name.endswith(".json") else ""
            if stem.isdigit():
                used.append(int(stem))
        self.next = max(used) + 1
        self.rejected = self._read_rejected()

    def _read_rejected(self):
        try:
            with open(os.path.join(self.dir, "rejected.count")) as f:
                return int(f.read().strip() or 0)
        except FileNotFoundError:
            return 0

    def status(self):
        """Read on every request so a test can flip it at any moment."""
        if not self.status_file:
            return 200
        try:
            with open(self.status_file) as f:
                text = f.read().strip()
        except FileNotFoundError:
            return 200
        try:
            return int(text)
        except ValueError:
            sys.stderr.write(f"webhook_server: bad status file content {text!r}\n")
            return 500

    def store(self, record):
        with self.lock:
            seq = self.next
            self.next += 1
            path = os.path.join(self.dir, f"{seq:04d}.json")
            data = json.dumps(record, ensure_ascii=False, indent=2).encode("utf-8")
            write_atomic(path, data)
        return path

    def reject(self):
        with self.lock:
            self.rejected += 1
            write_atomic(os.path.join(self.dir, "rejected.count"),
                         f"{self.rejected}\n".encode())


class Handler(BaseHTTPRequestHandler):
    # Keep-alive like a real endpoint: HTTP clients pool connections.
    protocol_version = "HTTP/1.1"
    recorder = None  # set in main()

    def do_POST(self):
        try:
            body = self._read_body()
        except ValueError as err:
            self._answer(400, f"bad request: {err}")
            return
        status = self.recorder.status()
        if 200 <= status < 300:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError as err:
                sys.stderr.write(f"webhook_server: body is not UTF-8: {err}\n")
                text = body.decode("utf-8", "replace")
            headers = {}
            for name, value in self.headers.items():
                key = name.lower()
                headers[key] = f"{headers[key]}, {value}" if key in headers else value
            path = self.recorder.store({"path": self.path, "headers": headers, "body": text})
            self._answer(status, "ok", stored=os.path.basename(path))
        else:
            self.recorder.reject()
            self._answer(status, f"simulated failure {status}")

    def _read_body(self):
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip(), 16)
                if size == 0:
                    # Trailers, up to the blank line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("negative Content-Length")
        return self.rfile.read(length)

    def _answer(self, status, text, stored=None):
        body = text.encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        if stored:
            self.send_header("X-Stored-As", stored)
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def log_message(self, fmt, *args):
        sys.stderr.write("webhook_server: %s %s\n" % (self.address_string(), fmt % args))
        sys.stderr.flush()


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dir", required=True)
    p.add_argument("--port-file")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port")
    p.add_argument("--status-file")
    args = p.parse_args()

    Handler.recorder = Recorder(args.dir, args.status_file)
    ThreadingHTTPServer.allow_reuse_address = True  # re-bind after a restart
    ThreadingHTTPServer.daemon_threads = True  # idle keep-alive must not block exit
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    port = server.server_address[1]

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    if args.port_file:
        write_atomic(args.port_file, f"{port}\n".encode())
    sys.stderr.write(f"webhook_server: listening on 127.0.0.1:{port}\n")
    sys.stderr.flush()

    # shutdown() must come from another thread than serve_forever's.
    while not stop.wait(0.5):
        if not thread.is_alive():
            sys.stderr.write("webhook_server: serve loop died\n")
            sys.exit(1)
    server.shutdown()
    server.server_close()
    sys.stderr.write("webhook_server: stopped\n")
    sys.stderr.flush()


if __name__ == "__main__":
    main()
