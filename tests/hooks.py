"""A webhook receiver on loopback for tests: a threaded HTTP server whose handler reads
each POST's body and answers it with no body."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class HookServer(ThreadingHTTPServer):
    """Serves `handler` on `host` (a free port) from a daemon thread; `received` is the
    handler's to fill."""

    def __init__(self, handler, host="127.0.0.1"):
        self.received = []
        super().__init__((host, 0), handler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class HookHandler(BaseHTTPRequestHandler):
    """`do_POST` calls `answer(body)`, which returns the status and any headers to send."""

    def do_POST(self):
        status, headers = self.answer(self.rfile.read(int(self.headers["Content-Length"])))
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def answer(self, body):
        raise NotImplementedError

    def log_message(self, *args):
        pass
