"""An HTTP proxy in front of an S3 server that injects faults: a real network-level error path
for retry tests. Subclasses decide which request gets which fault (`fault_for`)."""

from __future__ import annotations

import http.client
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

Fault = tuple[str, float] | None
"""("status", 503) answers with that S3 error; ("delay", seconds) answers late; None forwards."""

_ERROR_CODES = {503: "SlowDown", 500: "InternalError", 403: "AccessDenied"}


class S3FaultProxy:
    def __init__(self, upstream: str) -> None:
        self.upstream = urlsplit(upstream).netloc
        self.refusing = False
        self._listen(0)
        self.url = f"http://127.0.0.1:{self.port}"

    def _listen(self, port: int) -> None:
        self.server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def refuse(self) -> None:
        """Stop listening: new connections are refused; open ones are closed at their next request."""
        self.refusing = True
        self.server.shutdown()
        self.server.server_close()

    def accept(self) -> None:
        """Listen again, on the same port."""
        if self.refusing:
            self._listen(self.port)
            self.refusing = False

    def fault_for(self, method: str, path: str) -> Fault:
        return None

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers "Expect: 100-continue" at once

            def _handle(self) -> None:
                proxy.handle(self)

            do_GET = do_PUT = do_HEAD = do_POST = do_DELETE = _handle

            def log_message(self, *args: object) -> None:
                pass

        return Handler

    def handle(self, req: BaseHTTPRequestHandler) -> None:
        body = req.rfile.read(int(req.headers.get("Content-Length") or 0))
        fault = self.fault_for(req.command, req.path)
        if self.refusing:  # a kept-alive connection: hang up without an answer
            req.close_connection = True
            return
        if fault and fault[0] == "status":
            self._reply_error(req, int(fault[1]))
            return
        if fault and fault[0] == "delay":
            time.sleep(float(fault[1]))
        self._forward(req, body)

    def _reply_error(self, req: BaseHTTPRequestHandler, status: int) -> None:
        payload = f"<Error><Code>{_ERROR_CODES[status]}</Code><Message>injected</Message></Error>".encode()
        req.send_response(status)
        req.send_header("Content-Type", "application/xml")
        req.send_header("Content-Length", str(len(payload)))
        req.end_headers()
        req.wfile.write(payload)

    def _forward(self, req: BaseHTTPRequestHandler, body: bytes) -> None:
        conn = http.client.HTTPConnection(self.upstream, timeout=10)
        headers = {k: v for k, v in req.headers.items() if k.lower() != "expect"}
        conn.request(req.command, req.path, body=body or None, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        try:
            req.send_response(resp.status)
            for name, value in resp.getheaders():
                if name.lower() not in ("transfer-encoding", "connection", "content-length", "server", "date"):
                    req.send_header(name, value)
            # a HEAD answer has no body: its Content-Length is the object's, as upstream said
            length = resp.getheader("Content-Length", "0") if req.command == "HEAD" else str(len(data))
            req.send_header("Content-Length", length)
            req.end_headers()
            if req.command != "HEAD":
                req.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
