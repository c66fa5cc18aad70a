"""A fault-injecting OpenAI-compatible server for the router's tests
(Python stdlib only, loopback). The first path segment picks the behaviour
and names a counter, so each test uses fresh names:

    POST /<mode>-<tag>/v1/chat/completions

modes: ok (a well-formed answer, streamed as SSE when asked), fail500once
(500, then ok), r429once (429 + Retry-After: 1, then ok), r429ms (429 +
retry-after-ms: 300, then ok), always500, slow (no byte for 5 s), malformed
(200 with broken JSON), e401 (401 whose message echoes the key, as some
servers do), cut (one SSE chunk, then the connection closes), echo (ok,
answering with the last user message), judge (ok, answering "Grade: 7"),
nousage (a non-streamed answer without usage), stall (headers, then no
body for 5 s).

GET /_stats/<mode>-<tag> -> {"count": requests seen, "auth": [Authorization
headers], "bodies": [request bodies]}.
"""
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Paris is the capital of France."
USAGE = {"prompt_tokens": 1000, "completion_tokens": 500, "total_tokens": 1500}


class State:
    def __init__(self):
        self.lock = threading.Lock()
        self.seen = {}

    def record(self, key, auth, body):
        with self.lock:
            s = self.seen.setdefault(key, {"count": 0, "auth": [], "bodies": []})
            s["count"] += 1
            s["auth"].append(auth)
            s["bodies"].append(body)
            return s["count"]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"  # the body ends where the connection does

    def log_message(self, fmt, *args):
        pass

    def send_json(self, status, obj, headers=()):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path.startswith("/_stats/"):
            key = self.path[len("/_stats/"):]
            with self.server.state.lock:
                s = self.server.state.seen.get(key, {"count": 0, "auth": [], "bodies": []})
                self.send_json(200, s)
        else:
            self.send_json(404, {"error": {"message": "not found"}})

    def answer(self, req, text=ANSWER):
        model = req.get("model", "m")
        if not req.get("stream"):
            self.send_json(200, {
                "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": model,
                "choices": [{"index": 0, "message": {"role": "assistant", "content": text},
                             "finish_reason": "stop"}],
                "usage": USAGE})
            return
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = text.split(" ")
        for i, w in enumerate(words):
            delta = {"content": (w if i == 0 else " " + w)}
            if i == 0:
                delta["role"] = "assistant"
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
        last = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
        self.wfile.write(b"data: " + json.dumps(last).encode() + b"\n\n")
        if (req.get("stream_options") or {}).get("include_usage"):
            u = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": model,
                 "choices": [], "usage": USAGE}
            self.wfile.write(b"data: " + json.dumps(u).encode() + b"\n\n")
        self.wfile.write(b"data: [DONE]\n\n")

    def answer_nousage(self, req):
        self.send_json(200, {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "m",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": ANSWER},
                         "finish_reason": "stop"}]})

    def do_POST(self):
        parts = self.path.split("/")
        key = parts[1] if len(parts) > 1 else ""
        mode = key.split("-")[0]
        n = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(n)
        try:
            req = json.loads(raw)
        except ValueError:
            req = {}
        auth = self.headers.get("Authorization")
        count = self.server.state.record(key, auth, raw.decode("utf-8", "replace"))
        if not self.path.endswith("/chat/completions"):
            return self.send_json(404, {"error": {"message": "no such path"}})
        if mode == "ok":
            return self.answer(req)
        if mode == "echo":
            msgs = req.get("messages") or [{"content": ""}]
            return self.answer(req, msgs[-1].get("content", ""))
        if mode == "fail500once":
            if count == 1:
                return self.send_json(500, {"error": {"message": "boom", "type": "server_error"}})
            return self.answer(req)
        if mode == "always500":
            return self.send_json(500, {"error": {"message": "always down", "type": "server_error"}})
        if mode == "r429once":
            if count == 1:
                return self.send_json(429, {"error": {"message": "slow down", "type": "rate_limit_error"}},
                                      [("Retry-After", "1")])
            return self.answer(req)
        if mode == "r429ms":
            if count == 1:
                return self.send_json(429, {"error": {"message": "slow down"}},
                                      [("retry-after-ms", "300")])
            return self.answer(req)
        if mode == "judge":
            return self.answer(req, "Grade: 7")
        if mode == "nousage":
            return self.answer_nousage(req)
        if mode == "stall":  # headers at once, the body 5 s later: the total timeout ends it
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.flush()
            time.sleep(5)
            return
        if mode == "slow":
            time.sleep(5)
            return self.answer(req)
        if mode == "malformed":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b'{"choices": [{"message": ')
            return
        if mode == "e401":
            return self.send_json(401, {"error": {
                "message": f"Incorrect API key provided: {auth}", "type": "invalid_request_error",
                "code": "invalid_api_key"}})
        if mode == "cut":
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                     "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Once upon"},
                                  "finish_reason": None}]}
            self.wfile.write(b"data: " + json.dumps(chunk).encode() + b"\n\n")
            self.wfile.flush()
            return  # HTTP/1.0: closing the connection ends the body mid-stream
        return self.send_json(400, {"error": {"message": f"unknown mode {mode}"}})


def start():
    """(server, base address) of a server on a free loopback port, in a thread."""
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    srv.daemon_threads = True
    srv.state = State()
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"
