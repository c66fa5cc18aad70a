"""Load: 240 requests at concurrency 8 against the 4-slot server (so some
queue), mixed chat / completions, streamed and whole, every one answered
correctly and none lost; a few clients drop their stream midway. Greedy
answers under load are prefixes of the same prompt's greedy answer alone
(the batch does not change results). Prints throughput and p50/p99 latency."""
import http.client
import json
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

N_REQUESTS = 240
CONCURRENCY = 8
N_DROPPED = 8
CHAT_PROMPTS = ["Once upon a time", "Lily", "The dog"]
COMPLETION_PROMPTS = ["Once upon a time", "Tom had a"]
MAX_TOKENS = 48


def post(port, path, body):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200
        return json.loads(resp.read())
    finally:
        conn.close()


def references(port):
    """Greedy answers, each request alone: {(chat, prompt): text}."""
    refs = {}
    for p in CHAT_PROMPTS:
        r = post(port, "/v1/chat/completions", {"messages": [{"role": "user", "content": p}],
                                                "max_tokens": MAX_TOKENS, "temperature": 0})
        refs[(True, p)] = r["choices"][0]["message"]["content"]
    for p in COMPLETION_PROMPTS:
        r = post(port, "/v1/completions", {"prompt": p, "max_tokens": MAX_TOKENS, "temperature": 0})
        refs[(False, p)] = r["choices"][0]["text"]
    return refs


def one(port, i, refs):
    """Sends request i; returns (kind, latency seconds, completion tokens)."""
    rnd = random.Random(i)
    stream = i % 2 == 0
    chat = i % 3 != 0
    max_tokens = rnd.randint(4, MAX_TOKENS)
    prompt = rnd.choice(CHAT_PROMPTS if chat else COMPLETION_PROMPTS)
    if chat:
        path = "/v1/chat/completions"
        body = {"messages": [{"role": "user", "content": prompt}]}
    else:
        path = "/v1/completions"
        body = {"prompt": prompt}
    temperature = rnd.choice([0, 0.8])
    body.update(max_tokens=max_tokens, temperature=temperature, seed=i, stream=stream)
    if stream:
        body["stream_options"] = {"include_usage": True}
    t0 = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
        resp = conn.getresponse()
        assert resp.status == 200, (resp.status, resp.read())
        dropped = stream and i < N_DROPPED
        if dropped:
            resp.read1(64)  # the first bytes, then hang up
            conn.close()
            return "dropped", time.monotonic() - t0, 0
        raw = resp.read().decode()
    finally:
        conn.close()
    if not stream:
        r = json.loads(raw)
        assert r["choices"][0]["finish_reason"] in ("stop", "length")
        n = r["usage"]["completion_tokens"]
        text = r["choices"][0]["message"]["content"] if chat else r["choices"][0]["text"]
    else:
        events = [e[6:] for e in raw.split("\n\n") if e]
        assert events[-1] == "[DONE]"
        chunks = [json.loads(e) for e in events[:-1]]
        assert len({c["id"] for c in chunks}) == 1
        assert chunks[-2]["choices"][0]["finish_reason"] in ("stop", "length")
        n = chunks[-1]["usage"]["completion_tokens"]
        text = "".join((c["choices"][0]["delta"].get("content") or "") if chat
                       else c["choices"][0]["text"] for c in chunks if c["choices"])
    assert 1 <= n <= max_tokens
    if temperature == 0:
        assert refs[(chat, prompt)].startswith(text), (i, text, refs[(chat, prompt)])
    return "ok", time.monotonic() - t0, n


def test_load(server):
    refs = references(server.port)
    t0 = time.monotonic()
    with ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(lambda i: one(server.port, i, refs), range(N_REQUESTS)))
    wall = time.monotonic() - t0
    ok = [r for r in results if r[0] == "ok"]
    assert len(results) == N_REQUESTS
    assert len(ok) == N_REQUESTS - N_DROPPED // 2  # drops: even i < N_DROPPED are streams
    lat = sorted(r[1] for r in ok)
    tokens = sum(r[2] for r in ok)
    p50 = statistics.median(lat)
    p99 = lat[min(len(lat) - 1, int(0.99 * len(lat)))]
    print(f"\n[load] {N_REQUESTS} requests, concurrency {CONCURRENCY}: {N_REQUESTS / wall:.1f} req/s, "
          f"{tokens / wall:.0f} generated tok/s, latency p50 {p50 * 1000:.1f} ms, "
          f"p99 {p99 * 1000:.1f} ms ({wall:.2f} s)")
    # nothing left running or waiting once every client has its answer
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        text = server.request("GET", "/metrics")[2].decode()
        if "slm_requests_running 0" in text and "slm_requests_waiting 0" in text:
            break
        time.sleep(0.05)
    assert "slm_requests_running 0" in text and "slm_requests_waiting 0" in text
