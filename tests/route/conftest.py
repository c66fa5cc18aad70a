"""Fixtures of the router tests: the fault-injecting server (fault_server.py),
a real `slm serve` standing in for the large model, router configs written
per test, and `slm route` runs whose outputs are checked for the key.

The binary is $SLM_BIN (ctest passes the tree's own), else build/release/slm.
"""
import json
import os
import re
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

import fault_server

ROOT = Path(__file__).resolve().parents[2]
LOCAL = ROOT / "weights" / "stories260K"
CLASSIFIER = ROOT / "tests" / "fixtures" / "models" / "distilbert_sst2"
KEY_ENV = "SLM_ROUTE_TEST_KEY"
KEY = "sk-route-test-9d41c7e2b0"  # a fixture's key: it must never show up in any output


def slm_bin():
    path = os.environ.get("SLM_BIN") or str(ROOT / "build" / "release" / "slm")
    if not os.path.exists(path):
        pytest.skip(f"no slm binary at {path} (set SLM_BIN)")
    return path


@pytest.fixture(scope="session")
def fault():
    srv, base = fault_server.start()
    yield srv, base
    srv.shutdown()


_tags = iter(range(1, 1 << 30))


@pytest.fixture
def endpoint(fault):
    """endpoint("mode") -> (base_url, stats()) with a fresh counter."""
    srv, base = fault

    def make(mode):
        key = f"{mode}-{next(_tags)}"

        def stats():
            with srv.state.lock:
                return dict(srv.state.seen.get(key, {"count": 0, "auth": [], "bodies": []}))
        return f"{base}/{key}/v1", stats
    return make


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def config(tmp_path, base_url, remote=None, **top):
    cfg = {
        "local": {"model": str(LOCAL), "max_tokens": 12},
        "remote": {"base_url": base_url, "model": "big", "api_key_env": KEY_ENV,
                   "price_in": 2.50, "price_out": 10.00, "max_tokens": 64, "retries": 2,
                   "timeout": {"connect": 1, "first_byte": 1, "total": 10},
                   "backoff": {"initial": 0.05, "max": 0.2}, "retry_after_max": 5},
        "classifier": {"model": str(CLASSIFIER), "label": "NEGATIVE", "threshold": 0.5},
        "fallback": True,
    }
    for k, v in (remote or {}).items():
        cfg["remote"][k] = v
    for k, v in top.items():
        if isinstance(v, dict) and isinstance(cfg.get(k), dict):
            cfg[k].update(v)
        else:
            cfg[k] = v
    path = tmp_path / f"router-{next(_tags)}.json"
    path.write_text(json.dumps(cfg))
    return path


class Run:
    def __init__(self, rc, out, err, seconds):
        self.rc, self.out, self.err, self.seconds = rc, out, err, seconds

    def json(self):
        return json.loads(self.out.strip().splitlines()[-1])


ALL_OUTPUT = []  # every stdout / stderr, for the key check


def route(cfg, *args, key=True, timeout=60, stdin=None):
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    env.pop("SLM_ROUTER_CONFIG", None)
    if key:
        env[KEY_ENV] = KEY
    else:
        env.pop(KEY_ENV, None)
    t0 = time.monotonic()
    p = subprocess.run([slm_bin(), "route", "--config", str(cfg), *args], capture_output=True,
                       text=True, timeout=timeout, env=env, input=stdin)
    run = Run(p.returncode, p.stdout, p.stderr, time.monotonic() - t0)
    ALL_OUTPUT.append(p.stdout + p.stderr)
    assert KEY not in p.stdout and KEY not in p.stderr
    return run


class Serve:
    """A real `slm serve` (stories260K) on a free port, the stand-in large model;
    with router=CFG, `slm serve --router CFG` (the key in its environment)."""

    def __init__(self, router=None):
        self.log = tempfile.NamedTemporaryFile(prefix="slm-route-serve-", suffix=".log", delete=False)
        env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
        env.pop("SLM_API_KEY", None)
        if router:
            env[KEY_ENV] = KEY
            args = ["--router", str(router)]
        else:
            args = ["-m", str(LOCAL), "--api-key", KEY]
        self.proc = subprocess.Popen(
            [slm_bin(), "serve", *args, "--port", "0", "-t", "1"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        deadline = time.monotonic() + 60
        self.port = None
        while time.monotonic() < deadline and self.port is None:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", Path(self.log.name).read_text())
            if m:
                self.port = int(m.group(1))
            elif self.proc.poll() is not None:
                raise RuntimeError("slm serve exited: " + Path(self.log.name).read_text())
            else:
                time.sleep(0.05)
        if self.port is None:
            raise RuntimeError("slm serve printed no listening line")
        while time.monotonic() < deadline and "loaded, ready" not in Path(self.log.name).read_text():
            if self.proc.poll() is not None:
                raise RuntimeError("slm serve exited: " + Path(self.log.name).read_text())
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{self.port}/v1"

    def stop(self):
        """SIGTERM; returns (exit code, the server's stderr)."""
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=30)
        text = Path(self.log.name).read_text()
        ALL_OUTPUT.append(text)
        os.unlink(self.log.name)
        return rc, text


@pytest.fixture(scope="session")
def serve():
    s = Serve()
    yield s
    s.stop()
