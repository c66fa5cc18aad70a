"""Raw HTTP against `slm serve`: the bad-input matrix (each with its status
and OpenAI error JSON), headers, methods, body limits, malformed requests,
the API key, the access log, /metrics, a client that drops mid-stream, and
SIGTERM during a stream."""
import http.client
import json
import os
import re
import signal
import socket
import threading
import time

import pytest

from conftest import API_KEY, Server

CHAT = "/v1/chat/completions"
OK_MSG = [{"role": "user", "content": "Once upon a time"}]

# (body, status, error code) — every row must give exactly that.
BAD_INPUTS = [
    ("{", 400, "invalid_json"),
    ("not json at all", 400, "invalid_json"),
    ('{"messages": [] } trailing', 400, "invalid_json"),
    ("[1, 2]", 400, "invalid_json"),
    ("", 400, "invalid_json"),
    ({}, 400, "missing_field"),
    ({"messages": []}, 400, "invalid_value"),
    ({"messages": "hello"}, 400, "invalid_type"),
    ({"messages": [1, 2]}, 400, "invalid_type"),
    ({"messages": [{"content": "x"}]}, 400, "invalid_type"),
    ({"messages": [{"role": 3, "content": "x"}]}, 400, "invalid_type"),
    ({"messages": [{"role": "robot", "content": "x"}]}, 400, "invalid_value"),
    ({"messages": [{"role": "user", "content": 42}]}, 400, "invalid_type"),
    ({"messages": [{"role": "user", "content": {"text": "x"}}]}, 400, "invalid_type"),
    ({"messages": [{"role": "user", "content": [{"type": "image_url"}]}]}, 400,
     "unsupported_content"),
    ({"messages": [{"role": "user"}]}, 400, "missing_field"),
    ({"messages": OK_MSG, "max_tokens": -5}, 400, "invalid_value"),
    ({"messages": OK_MSG, "max_tokens": "ten"}, 400, "invalid_type"),
    ({"messages": OK_MSG, "max_completion_tokens": 0}, 400, "invalid_value"),
    ({"messages": OK_MSG, "temperature": 2.5}, 400, "invalid_value"),
    ({"messages": OK_MSG, "temperature": -1}, 400, "invalid_value"),
    ({"messages": OK_MSG, "top_p": 1.01}, 400, "invalid_value"),
    ({"messages": OK_MSG, "top_k": -3}, 400, "invalid_value"),
    ({"messages": OK_MSG, "min_p": -0.5}, 400, "invalid_value"),
    ({"messages": OK_MSG, "seed": "abc"}, 400, "invalid_type"),
    ({"messages": OK_MSG, "n": 3}, 400, "unsupported_parameter"),
    ({"messages": OK_MSG, "presence_penalty": 1.0}, 400, "unsupported_parameter"),
    ({"messages": OK_MSG, "frequency_penalty": -3}, 400, "invalid_value"),
    ({"messages": OK_MSG, "stop": 7}, 400, "invalid_type"),
    ({"messages": OK_MSG, "stop": ["a"] * 17}, 400, "invalid_value"),
    ({"messages": OK_MSG, "stream": "yes"}, 400, "invalid_type"),
    ({"messages": OK_MSG, "stream_options": []}, 400, "invalid_type"),
    ({"messages": [{"role": "user", "content": "time " * 2000}]}, 400, "context_length_exceeded"),
    ({"messages": [{"role": "user", "content": "time " * 2000}], "stream": True}, 400,
     "context_length_exceeded"),
]


def check_error(status, hdrs, body, want_status, want_code=None):
    assert status == want_status, body
    assert hdrs["content-type"].startswith("application/json")
    err = json.loads(body)["error"]
    assert isinstance(err["message"], str) and err["message"]
    assert isinstance(err["type"], str)
    if want_code:
        assert err["code"] == want_code, err


@pytest.mark.parametrize("body,status,code", BAD_INPUTS,
                         ids=[f"bad{i}" for i in range(len(BAD_INPUTS))])
def test_bad_input_matrix(server, body, status, code):
    s, h, b = server.request("POST", CHAT, body if isinstance(body, str) else json.dumps(body))
    check_error(s, h, b, status, code)


def test_bad_completion_inputs(server):
    for body, code in [({}, "missing_field"), ({"prompt": 5}, "invalid_type"),
                       ({"prompt": ["a", "b"]}, "unsupported_parameter"),
                       ({"prompt": [1, -1]}, "invalid_value"),
                       ({"prompt": "x", "max_tokens": -1}, "invalid_value"),
                       ({"prompt": "time " * 2000}, "context_length_exceeded")]:
        s, h, b = server.request("POST", "/v1/completions", body)
        check_error(s, h, b, 400, code)
    s, h, b = server.request("POST", "/v1/completions", {"prompt": [1, 999999]})
    check_error(s, h, b, 400)


def test_unknown_fields_ignored(server):
    s, _, r = server.json("POST", CHAT, {"messages": OK_MSG, "max_tokens": 3, "logit_bias": {},
                                         "user": "u", "tools": None, "whatever": [1, {"a": 2}]})
    assert s == 200 and r["choices"][0]["message"]["role"] == "assistant"


def test_not_found_and_methods(server):
    s, h, b = server.request("GET", "/v2/nothing")
    check_error(s, h, b, 404)
    s, h, b = server.request("GET", CHAT)
    check_error(s, h, b, 405)
    assert h["allow"] == "POST"
    s, h, b = server.request("DELETE", "/v1/models")
    check_error(s, h, b, 405)
    assert h["allow"] == "GET"
    s, h, b = server.request("PUT", "/health", "{}")
    check_error(s, h, b, 405)


def test_health_models_tokenize(server):
    s, _, r = server.json("GET", "/health")
    assert s == 200 and r["status"] == "ok"
    s, _, r = server.json("GET", "/v1/models")
    assert r["object"] == "list" and r["data"][0]["id"] == "stories260K"
    s, _, r = server.json("POST", "/tokenize", {"content": "Once upon a time"})
    assert s == 200 and len(r["tokens"]) >= 2
    s, _, d = server.json("POST", "/detokenize", {"tokens": r["tokens"]})
    assert s == 200 and d["content"].strip() == "Once upon a time"
    s, h, b = server.request("POST", "/detokenize", {"tokens": [100000]})
    check_error(s, h, b, 400)
    s, h, b = server.request("POST", "/v1/classify", {"input": "good"})
    check_error(s, h, b, 400, "model_not_supported")


def test_body_limit(small_server):
    s, h, b = small_server.request("POST", CHAT, json.dumps({"messages": OK_MSG, "pad": "x" * 8000}))
    check_error(s, h, b, 413)
    # chunked upload past the limit, no Content-Length
    with socket.create_connection(("127.0.0.1", small_server.port), timeout=10) as sock:
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        for _ in range(3):
            sock.sendall(b"800\r\n" + b"x" * 0x800 + b"\r\n")
        sock.sendall(b"0\r\n\r\n")
        assert b" 413 " in sock.recv(4096).split(b"\r\n")[0] + b" "
    s, _, _ = small_server.request("GET", "/health")
    assert s == 200


def _wait_slot_free(small_server):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s, _, _ = small_server.request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 2})
        if s == 200:
            return s
        time.sleep(0.05)
    return s


def test_queue_full_429(small_server):
    """One slot, no queue: a second request while a stream runs gets 429.

    The stream can only run to the 128-position context (a few ms on stories260K), so on a
    fast machine it may end before the second request arrives (then that one is served, 200):
    up to 10 tries, at least one must find the slot busy, and every 429 must carry Retry-After.
    """
    body = json.dumps({"prompt": "Once", "max_tokens": 400, "stream": True, "temperature": 0})
    busy = 0
    for _ in range(10):
        sock = socket.create_connection(("127.0.0.1", small_server.port), timeout=10)
        sock.sendall(f"POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
        try:
            assert b"200" in sock.recv(64)
            s, h, b = small_server.request("POST", "/v1/completions", {"prompt": "Once", "max_tokens": 2})
            if s != 200:
                check_error(s, h, b, 429, "rate_limit_exceeded")
                assert h["retry-after"] == "1"
                busy += 1
        finally:
            sock.close()
        # the dropped (or finished) stream frees the slot
        assert _wait_slot_free(small_server) == 200
        if busy:
            break
    assert busy >= 1, "the second request never found the one slot busy"


def test_ctx_option(server, small_server):
    """--ctx 128: a 200-token prompt does not fit there, and does on 512 positions."""
    body = {"prompt": "time " * 199, "max_tokens": 2}
    s, h, b = small_server.request("POST", "/v1/completions", body)
    check_error(s, h, b, 400, "context_length_exceeded")
    assert b"128" in b
    s, _, r = server.json("POST", "/v1/completions", body)
    assert s == 200 and r["usage"]["prompt_tokens"] > 128
    # max_tokens beyond the room left: ends at the context, "length"
    s, _, r = small_server.json("POST", "/v1/completions",
                                {"prompt": "time " * 100, "max_tokens": 1000, "temperature": 0})
    assert s == 200
    assert r["usage"]["prompt_tokens"] + r["usage"]["completion_tokens"] <= 128


def test_timeout_ends_request(small_server):
    """--timeout 2: a generation cannot run past it (stories260K, 511 tokens)."""
    t0 = time.monotonic()
    s, _, r = small_server.json("POST", "/v1/completions",
                                {"prompt": "Once", "max_tokens": 100000, "temperature": 1.5})
    assert s == 200
    assert time.monotonic() - t0 < 10
    assert r["choices"][0]["finish_reason"] in ("stop", "length")


def test_malformed_http(server):
    for raw in [b"GARBAGE\r\n\r\n", b"GET / HTTP/9.9\r\n\r\n", b"\x00\x01\x02\r\n\r\n",
                b"POST /v1/chat/completions HTTP/1.1\r\nContent-Length: abc\r\n\r\n",
                b"GET /health HTTP/1.1\r\nHost: x\r\nBad Header\r\n\r\n"]:
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
            sock.sendall(raw)
            try:
                sock.recv(4096)
            except OSError:
                pass
    s, _, _ = server.request("GET", "/health")
    assert s == 200


def test_api_key(keyed_server):
    srv = keyed_server
    for hdrs in [{}, {"Authorization": "Bearer nope"}, {"X-Api-Key": "nope"},
                 {"Authorization": "Basic " + API_KEY}, {"Authorization": "Bearer " + API_KEY + "x"}]:
        s, h, b = srv.request("GET", "/v1/models", headers=hdrs)
        check_error(s, h, b, 401, "invalid_api_key")
    for hdrs in [{"Authorization": "Bearer " + API_KEY}, {"X-Api-Key": API_KEY}]:
        s, _, _ = srv.request("GET", "/v1/models", headers=hdrs)
        assert s == 200
    assert srv.request("GET", "/health")[0] == 200
    assert srv.request("GET", "/metrics")[0] == 200


def test_access_log(server):
    secret = "SECRET-BODY-8c1d"
    server.request("POST", CHAT, {"messages": [{"role": "user", "content": secret}], "max_tokens": 2},
                   headers={"Authorization": "Bearer " + API_KEY})
    server.request("GET", "/v1/x%0d%0aINJECTED%20200%20prompt=0")
    time.sleep(0.2)
    log = server.log_text()
    assert secret not in log and API_KEY not in log
    lines = [l for l in log.splitlines() if " prompt=" in l]
    assert any(re.search(r"POST /v1/chat/completions 200 prompt=\d+ gen=\d+ \d+\.\d+s$", l)
               for l in lines)
    assert not any(l.startswith("INJECTED") for l in log.splitlines())
    assert any("\\x0d\\x0aINJECTED" in l for l in lines)


def test_metrics(server):
    server.request("POST", CHAT, {"messages": OK_MSG, "max_tokens": 4})
    server.request("GET", "/nope")
    s, h, b = server.request("GET", "/metrics")
    assert s == 200 and h["content-type"].startswith("text/plain")
    text = b.decode()
    for name in ["slm_requests_running", "slm_requests_waiting", "slm_prompt_tokens_total",
                 "slm_generated_tokens_total", "slm_time_to_first_token_seconds_bucket",
                 "slm_request_duration_seconds_count", 'slm_errors_total{status="404"}',
                 'slm_http_requests_total{status="200"}']:
        assert name in text, name
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name = re.match(r"[a-zA-Z_][a-zA-Z0-9_]*", line).group(0)
            assert name.startswith("slm_") and ":" not in name
            float(line.rsplit(" ", 1)[1])
    gen = int(re.search(r"^slm_generated_tokens_total (\d+)$", text, re.M).group(1))
    assert gen > 0


def open_stream(port, body):
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    body = json.dumps(body)
    sock.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(body)}\r\n\r\n{body}".encode())
    return sock


def test_client_drops_mid_stream(server):
    sock = open_stream(server.port, {"messages": OK_MSG, "max_tokens": 500, "stream": True})
    got = sock.recv(4096)
    assert b"200" in got and b"data: " in got or b"200" in got
    sock.close()
    deadline = time.monotonic() + 20
    running = None
    while time.monotonic() < deadline:
        text = server.request("GET", "/metrics")[2].decode()
        running = int(re.search(r"^slm_requests_running (\d+)$", text, re.M).group(1))
        if running == 0:
            break
        time.sleep(0.05)
    assert running == 0
    assert server.request("GET", "/health")[0] == 200


def test_sigterm_ends_streams_cleanly(fresh_server):
    srv = fresh_server
    result = {}

    def reader():
        conn = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        conn.request("POST", CHAT, body=json.dumps({"messages": OK_MSG, "max_tokens": 500,
                                                    "stream": True, "temperature": 1.0}),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        data = b""
        while True:
            try:
                chunk = resp.read1(65536)
            except OSError:
                break
            if not chunk:
                break
            data += chunk
            if "started" not in result:
                result["started"] = time.monotonic()
        conn.close()
        result["data"] = data

    t = threading.Thread(target=reader)
    t.start()
    deadline = time.monotonic() + 20
    while "started" not in result and time.monotonic() < deadline:
        time.sleep(0.005)
    code = srv.stop()
    t.join(30)
    assert code == 0, srv.log_text()
    assert b"data: [DONE]" in result["data"], "the in-flight stream ended cleanly"
    assert b'"finish_reason":"' in result["data"]
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", srv.port), timeout=2).close()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT, signal.SIGTERM])
def test_signal_idle_exits_0(sig):
    """Whichever thread the signal lands on (OpenBLAS' pool starts before
    main and does not block it), the server stops cleanly."""
    srv = Server("--parallel", "1")
    try:
        srv.request("GET", "/metrics")
        srv.proc.send_signal(sig)
        assert srv.proc.wait(timeout=30) == 0, srv.log_text()
        assert "stopping" in srv.log_text()
    finally:
        if srv.proc.poll() is None:
            srv.proc.kill()
            srv.proc.wait()
        os.unlink(srv.log.name)


def test_api_key_file(tmp_path):
    """--api-key-file: the first line is the key (trailing newline trimmed)."""
    key_file = tmp_path / "key"
    key_file.write_text("file-key-77\n")
    srv = Server("--parallel", "1", "--api-key-file", str(key_file))
    try:
        assert srv.request("GET", "/v1/models")[0] == 401
        assert srv.request("GET", "/v1/models",
                           headers={"Authorization": "Bearer file-key-77"})[0] == 200
        assert "file-key-77" not in srv.log_text()
    finally:
        assert srv.stop() == 0
        os.unlink(srv.log.name)
