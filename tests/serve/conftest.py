"""Fixtures of the `slm serve` tests: each server is the real binary, started
by the test itself on a free loopback port (``--port 0``; the port is read
from its "listening on" line), waited for until /health answers 200, and
stopped with SIGTERM, which must end it with exit status 0.

The binary is $SLM_BIN (ctest passes the tree's own), else build/release/slm.
Its stderr (the access log) is kept in a file that tests may read.
"""
import http.client
import json
import os
import re
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "weights" / "stories260K"
API_KEY = "test-key-5f3a9c"  # a fixture's key; tests check it never reaches the log
START_TIMEOUT_S = 60


def slm_bin():
    path = os.environ.get("SLM_BIN") or str(ROOT / "build" / "release" / "slm")
    if not os.path.exists(path):
        pytest.skip(f"no slm binary at {path} (set SLM_BIN)")
    return path


class Server:
    """One running `slm serve`."""

    def __init__(self, *args, env=None):
        self.log = tempfile.NamedTemporaryFile(prefix="slm-serve-", suffix=".log", delete=False)
        full_env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
        full_env.pop("SLM_API_KEY", None)
        if env:
            full_env.update(env)
        self.proc = subprocess.Popen(
            [slm_bin(), "serve", "-m", str(MODEL), "--port", "0", "-t", "1", *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, env=full_env)
        self.port = self._wait_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self._wait_healthy()

    def _wait_port(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise RuntimeError(f"slm serve exited with {self.proc.returncode}:\n{self.log_text()}")
            time.sleep(0.02)
        raise RuntimeError("slm serve printed no listening line")

    def _wait_healthy(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            try:
                status, _, _ = self.request("GET", "/health")
                if status == 200:
                    return
                assert status == 503  # loading
            except OSError:
                pass
            time.sleep(0.02)
        raise RuntimeError("slm serve never became healthy")

    def log_text(self):
        with open(self.log.name, "r", errors="replace") as f:
            return f.read()

    def request(self, method, path, body=None, headers=None, timeout=60):
        """(status, headers dict, body bytes) of one request on a new connection."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        try:
            if isinstance(body, (dict, list)):
                body = json.dumps(body)
            hdrs = {"Content-Type": "application/json"} if body is not None else {}
            hdrs.update(headers or {})
            conn.request(method, path, body=body, headers=hdrs)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
        finally:
            conn.close()

    def json(self, method, path, body=None, headers=None):
        status, hdrs, data = self.request(method, path, body, headers)
        return status, hdrs, json.loads(data)

    def stop(self, timeout=30):
        """SIGTERM; returns the exit status."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise
        return self.proc.returncode


def _served(*args, env=None):
    srv = Server(*args, env=env)
    try:
        yield srv
    finally:
        code = srv.stop()
        log = srv.log_text()
        os.unlink(srv.log.name)
        assert code == 0, f"slm serve exited with {code}:\n{log[-4000:]}"


@pytest.fixture(scope="session")
def server():
    """The main server: 4 slots, a 64-request queue, no key."""
    yield from _served("--parallel", "4", "--queue", "64")


@pytest.fixture(scope="session")
def keyed_server():
    """A server that requires API_KEY (given through the environment)."""
    yield from _served("--parallel", "1", env={"SLM_API_KEY": API_KEY})


@pytest.fixture(scope="session")
def small_server():
    """One slot, no queue, 4 KiB bodies, a 2 s request limit, 128 positions."""
    yield from _served("--parallel", "1", "--queue", "0", "--max-body", "4096",
                       "--timeout", "2", "--ctx", "128")


@pytest.fixture
def fresh_server():
    """A server of the test's own (signals, shutdown)."""
    srv = Server("--parallel", "2")
    yield srv
    if srv.proc.poll() is None:
        srv.proc.kill()
        srv.proc.wait()
    os.unlink(srv.log.name)


@pytest.fixture(scope="session")
def client(server):
    openai = pytest.importorskip("openai")
    return openai.OpenAI(base_url=server.base + "/v1", api_key="unused", max_retries=0)
