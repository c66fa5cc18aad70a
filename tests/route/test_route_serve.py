"""`slm serve --router`: the server in front of the router. Request model
auto routes, local / remote force (anything else is a 404); every answer
carries the "slm" object, a stream's first chunk too (costs null there, the
last chunk complete); the remote is a real `slm serve` or the fault server;
fallbacks, a cut stream (no fallback, an error event), /metrics per route,
and the key reaching the remote as a Bearer token and nowhere else."""
import http.client
import json

import pytest

from conftest import KEY, Serve, closed_port, config
import fault_server

REMOTE_COST = (1000 * 2.50 + 500 * 10.00) / 1e6  # the fault server's usage at the prices
SIMPLE = "What is Python?"  # the fixture classifier: NEGATIVE 0.512 > 0.5 -> local
COMPLEX = "Design a distributed RAG system with fault tolerance"  # 0.428 -> remote


def post(srv, body, raw=False):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=60)
    c.request("POST", "/v1/chat/completions", json.dumps(body),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read().decode()
    c.close()
    return r.status, (data if raw else json.loads(data))


def chat(srv, prompt, model="auto", **kw):
    return post(srv, {"model": model, "messages": [{"role": "user", "content": prompt}], **kw})


def events(srv, prompt, model="auto"):
    """(status, [parsed data objects], saw [DONE])"""
    status, text = post(srv, {"model": model, "stream": True,
                              "stream_options": {"include_usage": True},
                              "messages": [{"role": "user", "content": prompt}]}, raw=True)
    out, done = [], False
    for block in text.split("\n\n"):
        if not block.startswith("data: "):
            continue
        data = block[6:]
        if data == "[DONE]":
            done = True
        else:
            out.append(json.loads(data))
    return status, out, done


def local_cost(u):
    return (u["prompt_tokens"] * 0.02 + u["completion_tokens"] * 0.05) / 1e6


def metrics(srv):
    c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=10)
    c.request("GET", "/metrics")
    text = c.getresponse().read().decode()
    c.close()
    vals = {}
    for line in text.splitlines():
        if line.startswith("slm_router_"):
            k, v = line.rsplit(" ", 1)
            vals[k] = float(v)
    return vals


@pytest.fixture
def router_server(tmp_path):
    started = []

    def start(base_url, **kw):
        s = Serve(router=config(tmp_path, base_url, **kw))
        started.append(s)
        return s
    yield start
    for s in started:
        rc, log = s.stop()
        assert rc == 0, log
        assert KEY not in log


def test_routes_with_real_remote(router_server, serve):
    srv = router_server(serve.base)
    st, a = chat(srv, SIMPLE)
    assert st == 200, a
    s = a["slm"]
    assert (s["route"], s["fallback"], s["attempts"]) == ("local", False, 0)
    assert s["classifier"]["label"] == "NEGATIVE" and s["classifier"]["score"] > 0.5
    assert a["model"] == "stories260K" and a["choices"][0]["message"]["content"]
    assert s["usage"]["prompt_tokens"] == a["usage"]["prompt_tokens"] > 0
    assert s["cost_usd"] == pytest.approx(local_cost(a["usage"]), abs=1e-15)
    st, b = chat(srv, COMPLEX)
    assert st == 200, b
    s = b["slm"]
    assert (s["route"], s["fallback"], s["attempts"]) == ("remote", False, 1)
    assert b["model"] == "big" and "NEGATIVE" in s["reason"]
    u = b["usage"]  # the remote `slm serve`'s own count
    assert u["prompt_tokens"] > 0 and u["completion_tokens"] > 0
    assert s["cost_usd"] == pytest.approx((u["prompt_tokens"] * 2.5 + u["completion_tokens"] * 10) / 1e6,
                                          abs=1e-15)
    assert s["cost_if_remote_usd"] == s["cost_usd"]
    m = metrics(srv)
    assert m['slm_router_requests_total{route="local"}'] == 1
    assert m['slm_router_requests_total{route="remote"}'] == 1
    assert m['slm_router_cost_usd_total{route="local"}'] == pytest.approx(a["slm"]["cost_usd"], rel=1e-6)
    assert m['slm_router_cost_usd_total{route="remote"}'] == pytest.approx(s["cost_usd"], rel=1e-6)
    assert m["slm_router_cost_if_remote_usd_total"] == pytest.approx(
        a["slm"]["cost_if_remote_usd"] + s["cost_if_remote_usd"], rel=1e-6)


def test_model_forces_and_stream(router_server, endpoint):
    url, stats = endpoint("ok")
    srv = router_server(url)
    st, a = chat(srv, SIMPLE, model="remote")
    assert st == 200 and a["slm"]["route"] == "remote" and a["slm"]["reason"] == "forced remote"
    assert a["choices"][0]["message"]["content"] == fault_server.ANSWER
    assert a["slm"]["cost_usd"] == pytest.approx(REMOTE_COST, abs=1e-12)
    st, b = chat(srv, COMPLEX, model="local")
    assert st == 200 and b["slm"]["route"] == "local" and b["slm"]["reason"] == "forced local"
    st, c = chat(srv, SIMPLE, model="gpt-5")
    assert st == 404 and c["error"]["code"] == "model_not_found"
    # streamed, remote: the first chunk carries "slm" (costs not known yet), the last complete
    st, ev, done = events(srv, COMPLEX)
    assert st == 200 and done
    first = ev[0]["slm"]
    assert (first["route"], first["fallback"]) == ("remote", False)
    assert first["cost_usd"] is None and "classifier" in first and "usage" not in first
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in ev if e["choices"])
    assert text == fault_server.ANSWER
    last = [e for e in ev if e["choices"] and e["choices"][0]["finish_reason"]][0]["slm"]
    assert (last["route"], last["attempts"]) == ("remote", 1)
    assert last["cost_usd"] == pytest.approx(REMOTE_COST, abs=1e-12)
    assert ev[-1]["usage"]["prompt_tokens"] == 1000
    # streamed, local
    st, ev, done = events(srv, SIMPLE)
    assert st == 200 and done and ev[0]["slm"]["route"] == "local"
    last = [e for e in ev if e["choices"] and e["choices"][0]["finish_reason"]][0]["slm"]
    assert last["cost_usd"] == pytest.approx(local_cost(last["usage"]), abs=1e-15)
    s = stats()
    assert s["count"] == 2 and s["auth"] == [f"Bearer {KEY}"] * 2


def test_fallback_when_remote_refused(router_server):
    srv = router_server(f"http://127.0.0.1:{closed_port()}/v1", remote={"retries": 0})
    st, a = chat(srv, COMPLEX)
    assert st == 200
    s = a["slm"]
    assert (s["route"], s["fallback"], s["attempts"]) == ("local", True, 1)
    assert "remote unavailable" in s["reason"]
    st, ev, done = events(srv, COMPLEX)
    assert st == 200 and done
    assert (ev[0]["slm"]["route"], ev[0]["slm"]["fallback"]) == ("local", True)
    m = metrics(srv)
    assert m['slm_router_fallbacks_total{route="local"}'] == 2
    assert m['slm_router_requests_total{route="local"}'] == 2


def test_cut_stream_no_fallback(router_server, endpoint):
    url, stats = endpoint("cut")
    srv = router_server(url)
    st, ev, done = events(srv, SIMPLE, model="remote")
    assert st == 200 and done
    assert ev[0]["slm"]["route"] == "remote"
    text = "".join(e["choices"][0]["delta"].get("content", "") for e in ev if e.get("choices"))
    assert text == "Once upon"  # the partial text was passed on, then the error
    assert "cut" in ev[-1]["error"]["message"]
    st, body = chat(srv, SIMPLE, model="remote")  # not streamed: a 502 with the account
    assert st == 502 and body["error"]["code"] == "route_failed"
    assert body["slm"]["cut"] is True and body["slm"]["fallback"] is False
    assert stats()["count"] == 2  # one request each, never retried
    assert metrics(srv)['slm_router_requests_total{route="failed"}'] == 2
