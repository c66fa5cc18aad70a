#!/usr/bin/env python3
"""test_nginx.py — two `slm serve` replicas behind nginx as one endpoint
(tools/deploy/), on loopback, with the bundled model. Standard library only.

    python3 tests/deploy/test_nginx.py SLM_BINARY

ctest runs it as deploy_nginx. Exit 0: passed; 1: failed; 77 (ctest: skipped)
with the reason printed, only when nginx is not installed or cannot run.

Scenarios (each on fresh processes, each bounded by per-request timeouts):
  1. SIGTERM: a burst of requests (completions and chat, streamed and not,
     concurrency 8) through nginx; a third of the way in, replica A gets
     SIGTERM. Every request must be answered 200 with the right text: A
     finishes what it runs and refuses new work with 503, nginx sends that to
     replica B, and once A is gone nginx's connection errors go to B too.
  2. SIGKILL: the same, but A is killed. Every request must still be
     answered correctly except streams that A had already begun (their status
     and first bytes came from A alone: such a reply cannot move). Non-streamed
     requests A was running are re-sent to B by nginx (non_idempotent).
  In both, at least one request must show nginx trying A and then B
  (X-Slm-Upstream "A, B"), and B must answer after the stop.
  3. The script itself: tools/deploy/slm-replicas.sh -n 2 starts both
     replicas and nginx, answers requests from both replicas, and on SIGTERM
     stops everything and exits 0.

Correct text: the answer replica A gives to the prompt alone, asked before
the burst (temperature 0; the engine's batches are bit-identical to a lone
sequence, so a reply under load must equal it).
"""
import concurrent.futures
import http.client
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MODEL = ROOT / "weights" / "stories260K"
RENDER = ROOT / "tools" / "deploy" / "slm-replicas.sh"
START_TIMEOUT_S = 60
REQUEST_TIMEOUT_S = 60
N_REQUESTS = 64
CONCURRENCY = 8
STOP_AFTER = N_REQUESTS // 3   # completed requests before replica A is stopped
MAX_TOKENS = 48
PROMPTS = [
    "Once upon a time",
    "The little dog",
    "Lily and Ben went to the park",
    "One day, a big bird",
    "Tom had a red ball",
    "The sun was hot and",
]


class Failure(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise Failure(msg)


def find_nginx():
    path = os.environ.get("NGINX") or shutil.which("nginx")
    if not path and os.access("/usr/sbin/nginx", os.X_OK):
        path = "/usr/sbin/nginx"
    return path


def free_port():
    """A free loopback port below the kernel's ephemeral range, so that no
    `--port 0` replica can be handed the same port before nginx binds it."""
    low = 32768
    try:
        low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pass
    rng = random.Random()
    for _ in range(100):
        port = rng.randrange(max(1024, low - 12000), low)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
                return port
            except OSError:
                continue
    raise Failure("no free loopback port found for nginx")


def http_request(port, method, path, body=None, timeout=REQUEST_TIMEOUT_S):
    """(status, headers dict (lower-case names), body bytes) on a new connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        data = json.dumps(body) if body is not None else None
        hdrs = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=hdrs)
        resp = conn.getresponse()
        payload = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload
    finally:
        conn.close()


def wait_healthy(port, what, proc):
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise Failure(f"{what} exited with {proc.returncode} while starting")
        try:
            status, _, _ = http_request(port, "GET", "/health", timeout=5)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.05)
    raise Failure(f"{what} never answered /health with 200")


class Replica:
    """One `slm serve` on a free loopback port (--port 0, read from its log)."""

    def __init__(self, slm, name, workdir):
        self.name = name
        self.log_path = Path(workdir) / f"{name}.log"
        self.log = open(self.log_path, "wb")
        env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
        env.pop("SLM_API_KEY", None)
        self.proc = subprocess.Popen(
            [slm, "serve", "-m", str(MODEL), "--port", "0", "-t", "1",
             "--parallel", "2", "--queue", "64"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.log, env=env)
        self.port = self._wait_port()
        self.addr = f"127.0.0.1:{self.port}"
        wait_healthy(self.port, f"replica {name}", self.proc)

    def log_text(self):
        return self.log_path.read_text(errors="replace")

    def _wait_port(self):
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            m = re.search(r"listening on http://127\.0\.0\.1:(\d+)", self.log_text())
            if m:
                return int(m.group(1))
            if self.proc.poll() is not None:
                raise Failure(f"replica {self.name} exited with {self.proc.returncode}:\n"
                              f"{self.log_text()}")
            time.sleep(0.02)
        raise Failure(f"replica {self.name} printed no listening line")

    def stop(self, sig=signal.SIGTERM, timeout=30):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise Failure(f"replica {self.name} did not exit {timeout} s after {sig.name}")
        self.log.close()
        return self.proc.returncode


class Nginx:
    """nginx in the foreground on a prefix of its own, from the repo's template."""

    def __init__(self, nginx, prefix, upstreams):
        for attempt in range(3):   # another program may take the port first
            self.port = free_port()
            out = subprocess.run(
                ["bash", str(RENDER), "--render", "--prefix", prefix,
                 "--listen", f"127.0.0.1:{self.port}", *upstreams],
                check=True, capture_output=True, text=True)
            conf = out.stdout.strip()
            check(conf == os.path.join(prefix, "nginx.conf"), f"--render printed {conf!r}")
            err = os.path.join(prefix, "error.log")
            self.proc = subprocess.Popen(
                [nginx, "-p", prefix, "-c", conf, "-e", err, "-g", "daemon off;"],
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=open(os.path.join(prefix, "stderr.log"), "wb"))
            try:
                wait_healthy(self.port, "nginx", self.proc)
                return
            except Failure:
                log = Path(err).read_text(errors="replace") if os.path.exists(err) else ""
                if self.proc.poll() is None or "Address already in use" not in log or attempt == 2:
                    raise Failure(f"nginx did not start:\n{log[-2000:]}")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def request_body(prompt, kind, stream):
    body = {"max_tokens": MAX_TOKENS, "temperature": 0, "seed": 7, "stream": stream}
    if kind == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
    else:
        body["prompt"] = prompt
    return body


PATHS = {"chat": "/v1/chat/completions", "completion": "/v1/completions"}


def answer_text(kind, obj):
    choice = obj["choices"][0]
    return choice["message"]["content"] if kind == "chat" else choice["text"]


def ask(port, prompt, kind, stream):
    """One request; a dict with status, upstream, t_headers, text, finish, error."""
    r = {"kind": kind, "stream": stream, "prompt": prompt, "status": None,
         "upstream": "", "t_headers": None, "text": None, "finish": None, "error": None,
         "id": None}
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=REQUEST_TIMEOUT_S)
    try:
        conn.request("POST", PATHS[kind], body=json.dumps(request_body(prompt, kind, stream)),
                     headers={"Content-Type": "application/json"})
        resp = conn.getresponse()
        r["t_headers"] = time.monotonic()
        r["status"] = resp.status
        r["upstream"] = resp.getheader("X-Slm-Upstream") or ""
        if not stream:
            obj = json.loads(resp.read())
            if resp.status == 200:
                r["text"] = answer_text(kind, obj)
                r["finish"] = obj["choices"][0]["finish_reason"]
                r["id"] = obj["id"]
            else:
                r["error"] = f"status {resp.status}: {obj}"
            return r
        parts, ids, done = [], set(), False
        for raw in resp:
            line = raw.decode().rstrip("\r\n")
            if not line.startswith("data: "):
                continue
            data = line[6:]
            if data == "[DONE]":
                done = True
                break
            chunk = json.loads(data)
            ids.add(chunk["id"])
            for ch in chunk["choices"]:
                piece = ch["delta"].get("content") if kind == "chat" else ch.get("text")
                parts.append(piece or "")
                if ch.get("finish_reason"):
                    r["finish"] = ch["finish_reason"]
        if not done:
            r["error"] = "stream ended without data: [DONE]"
        elif len(ids) != 1:
            r["error"] = f"chunks carry {len(ids)} ids"
        else:
            r["text"] = "".join(parts)
            r["id"] = ids.pop()
    except (OSError, http.client.HTTPException, ValueError, KeyError) as e:
        r["error"] = f"{type(e).__name__}: {e}"
    finally:
        conn.close()
    return r


def expected_answers(replica):
    """Each prompt's answer from replica A alone, non-streamed, by kind."""
    want = {}
    for prompt in PROMPTS:
        for kind in PATHS:
            status, _, data = http_request(replica.port, "POST", PATHS[kind],
                                           request_body(prompt, kind, False))
            check(status == 200, f"replica A alone: {kind} {prompt!r}: status {status}")
            want[(prompt, kind)] = answer_text(kind, json.loads(data))
    return want


def burst(port, stop):
    """N_REQUESTS at CONCURRENCY through nginx; `stop()` runs once
    STOP_AFTER of them have completed. Returns (results, t_stop)."""
    done = [0]
    lock = threading.Lock()
    stop_now = threading.Event()
    t_stop = [None]

    def one(i):
        r = ask(port, PROMPTS[i % len(PROMPTS)], "chat" if i % 4 < 2 else "completion", i % 2 == 1)
        with lock:
            done[0] += 1
            if done[0] == STOP_AFTER:
                stop_now.set()
        return r

    def stopper():
        if stop_now.wait(timeout=REQUEST_TIMEOUT_S * 2):
            t_stop[0] = time.monotonic()
            stop()

    killer = threading.Thread(target=stopper)
    killer.start()
    with concurrent.futures.ThreadPoolExecutor(CONCURRENCY) as pool:
        results = list(pool.map(one, range(N_REQUESTS)))
    killer.join()
    check(t_stop[0] is not None, "the burst ended before replica A was stopped")
    return results, t_stop[0]


def scenario(slm, nginx_bin, sig):
    name = sig.name
    work = tempfile.mkdtemp(prefix=f"slm-deploy-{name}-")
    a = b = ngx = None
    try:
        # start-up 1: replica A; 2: replica B; 3: nginx in front of both
        a = Replica(slm, "A", work)
        b = Replica(slm, "B", work)
        ngx = Nginx(nginx_bin, os.path.join(work, "nginx"), [a.addr, b.addr])
        want = expected_answers(a)

        t0 = time.monotonic()
        results, t_stop = burst(ngx.port, lambda: a.proc.send_signal(sig))
        elapsed = time.monotonic() - t0
        code = a.stop(sig)
        if sig == signal.SIGTERM:
            check(code == 0, f"replica A exited with {code} after SIGTERM:\n{a.log_text()[-2000:]}")

        ok = cut = 0
        retried = after_b = 0
        for i, r in enumerate(results):
            label = f"request {i} ({r['kind']}, {'stream' if r['stream'] else 'plain'})"
            hops = [h.strip() for h in r["upstream"].split(",") if h.strip()]
            if len(hops) > 1:
                retried += 1
                check(hops[-1] == b.addr, f"{label}: retried, but the last try was {hops[-1]}")
            good = (r["status"] == 200 and r["error"] is None
                    and r["text"] == want[(r["prompt"], r["kind"])]
                    and r["finish"] in ("stop", "length"))
            if good:
                ok += 1
                if r["t_headers"] > t_stop and hops and hops[-1] == b.addr:
                    after_b += 1
                continue
            # a stream whose 200 and first bytes came from A alone: A had begun
            # it (had A died before its first byte, nginx would have tried B)
            begun_on_a = r["stream"] and r["status"] == 200 and hops == [a.addr]
            if sig == signal.SIGKILL and begun_on_a:
                cut += 1   # a stream A had begun: cannot move to B
                continue
            raise Failure(f"{name}: {label} not answered correctly: status {r['status']}, "
                          f"upstream {r['upstream']!r}, error {r['error']}, "
                          f"text {r['text']!r} (expected {want[(r['prompt'], r['kind'])]!r})")
        # the two replicas start within a second or so: ids must still differ
        ids = [r["id"] for r in results if r["id"] is not None]
        check(len(set(ids)) == len(ids),
              f"{name}: {len(ids) - len(set(ids))} response ids repeated across the replicas")
        check(retried >= 1, f"{name}: no request was retried on B after A stopped")
        check(after_b >= 1, f"{name}: B answered nothing after A stopped")
        check(cut <= CONCURRENCY, f"{name}: {cut} streams cut, more than were running")
        print(f"deploy_nginx: {name}: {N_REQUESTS} requests at concurrency {CONCURRENCY} in "
              f"{elapsed:.2f} s, replica A stopped after {STOP_AFTER}: {ok} answered correctly, "
              f"{retried} retried on B by nginx, {after_b} answered by B after the stop, "
              f"{cut} streams A had begun cut by the kill")
        b_code = b.stop()
        check(b_code == 0, f"replica B exited with {b_code}:\n{b.log_text()[-2000:]}")
    finally:
        if ngx:
            ngx.stop()
        for r in (a, b):
            if r and r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()
    shutil.rmtree(work, ignore_errors=True)


def script_scenario(slm):
    """tools/deploy/slm-replicas.sh starts 2 replicas and nginx; SIGTERM stops all."""
    prefix = tempfile.mkdtemp(prefix="slm-deploy-script-")
    port = free_port()
    env = dict(os.environ, OPENBLAS_CORETYPE="Haswell")
    env.pop("SLM_API_KEY", None)
    out_path = os.path.join(prefix, "script.out")
    with open(out_path, "wb") as out:
        # start-up 4: the script, which starts replicas 1 and 2, then nginx
        proc = subprocess.Popen(
            ["bash", str(RENDER), "-n", "2", "--listen", f"127.0.0.1:{port}",
             "--prefix", prefix, "--slm", slm, "--",
             "-m", str(MODEL), "-t", "1", "--parallel", "2"],
            stdin=subprocess.DEVNULL, stdout=out, stderr=out, env=env, start_new_session=True)
    try:
        def text():
            return Path(out_path).read_text(errors="replace")

        deadline = time.monotonic() + START_TIMEOUT_S * 2
        while "nginx: pid" not in text():
            check(proc.poll() is None, f"slm-replicas.sh exited with {proc.returncode}:\n{text()}")
            check(time.monotonic() < deadline, f"slm-replicas.sh did not start nginx:\n{text()}")
            time.sleep(0.05)
        wait_healthy(port, "nginx of slm-replicas.sh", proc)
        pids = [int(p) for p in re.findall(r"pid (\d+)", text())]
        check(len(pids) == 3, f"expected 2 replica pids and nginx's:\n{text()}")
        upstreams = set()
        for i in range(6):
            r = ask(port, PROMPTS[i], "completion", i % 2 == 1)
            check(r["status"] == 200 and r["error"] is None and r["text"],
                  f"slm-replicas.sh: request {i}: {r}")
            upstreams.add(r["upstream"])
        check(len(upstreams) == 2, f"slm-replicas.sh: answers came from {sorted(upstreams)}")
        proc.send_signal(signal.SIGTERM)
        try:
            code = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            raise Failure(f"slm-replicas.sh did not exit 30 s after SIGTERM:\n{text()}")
        check(code == 0, f"slm-replicas.sh exited with {code} after SIGTERM:\n{text()}")
        for pid in pids:
            try:
                os.kill(pid, 0)
                raise Failure(f"process {pid} still runs after slm-replicas.sh exited")
            except ProcessLookupError:
                pass
        for i in (1, 2):
            log = Path(prefix, f"replica-{i}.log").read_text(errors="replace")
            check("SIGTERM: stopping" in log, f"replica {i} was not stopped by SIGTERM:\n{log}")
        print(f"deploy_nginx: slm-replicas.sh: 2 replicas + nginx started, 6 requests answered "
              f"by both replicas, SIGTERM stopped all, exit 0")
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    shutil.rmtree(prefix, ignore_errors=True)


def main():
    if len(sys.argv) != 2:
        print("usage: test_nginx.py SLM_BINARY", file=sys.stderr)
        return 2
    slm = sys.argv[1]
    nginx_bin = find_nginx()
    if not nginx_bin:
        print("SKIP: nginx is not installed (Debian package nginx; tools/setup-deps.sh installs it)")
        return 77
    try:
        probe = subprocess.run([nginx_bin, "-v"], capture_output=True, text=True)
        reason = probe.stderr.strip() if probe.returncode != 0 else None
    except OSError as e:
        reason = str(e)
    if reason:
        print(f"SKIP: {nginx_bin} cannot run: {reason}")
        return 77
    try:
        scenario(slm, nginx_bin, signal.SIGTERM)
        scenario(slm, nginx_bin, signal.SIGKILL)
        script_scenario(slm)
    except Failure as e:
        print(f"deploy_nginx: FAIL: {e}")
        return 1
    print("deploy_nginx: OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
