#!/usr/bin/env bash
# slm-replicas.sh — N `slm serve` replicas behind nginx as one endpoint, no root.
#
#   tools/deploy/slm-replicas.sh [-n N] [--listen HOST:PORT] [--prefix DIR]
#                                [--slm BIN] [-- SERVE_ARGS...]
#       starts N replicas (`slm serve --port 0 SERVE_ARGS...`, each on a free
#       loopback port, read from its "listening on" line), renders
#       tools/deploy/nginx.conf.in into DIR/nginx.conf with them as upstreams,
#       and runs nginx in the foreground on HOST:PORT (default 127.0.0.1:8080).
#       SIGINT/SIGTERM stop nginx (gracefully) and every replica (SIGTERM:
#       they finish running requests), then exit 0. A replica that dies is
#       routed around; the script keeps serving until a signal, or until nginx
#       exits by itself (then it stops the replicas and exits 1).
#
#   tools/deploy/slm-replicas.sh --render [--listen HOST:PORT] [--prefix DIR] HOST:PORT...
#       only writes DIR/nginx.conf for replicas already running at HOST:PORT...
#       (also on other machines) and prints its path; run it with
#       nginx -p DIR -c DIR/nginx.conf -e DIR/error.log -g 'daemon off;'
#
# DIR defaults to a new mktemp directory under ${TMPDIR:-/tmp}; it holds
# nginx.conf, nginx's pid, logs and temporary files, and replica-I.log (each
# replica's stderr: its access log). It is kept after exit, for the logs.
# nginx: the Debian package `nginx` (tools/setup-deps.sh installs it), found
# on $PATH or in /usr/sbin; $NGINX overrides.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"

usage() { sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "slm-replicas: $*" >&2; exit 1; }

n=2
listen=127.0.0.1:8080
prefix=
slm="$root/build/release/slm"
render_only=0
args=()
while [ $# -gt 0 ]; do
  case "$1" in
    -n) n="${2:?-n needs a count}"; shift 2 ;;
    --listen) listen="${2:?--listen needs HOST:PORT}"; shift 2 ;;
    --prefix) prefix="${2:?--prefix needs a directory}"; shift 2 ;;
    --slm) slm="${2:?--slm needs a binary}"; shift 2 ;;
    --render) render_only=1; shift ;;
    -h|--help) usage ;;
    --) shift; args=("$@"); break ;;
    *) if [ $render_only = 1 ]; then args+=("$1"); shift; else die "unknown argument '$1' (--help)"; fi ;;
  esac
done
case "$n" in ''|*[!0-9]*|0) die "-n: expected a count >= 1, got '$n'" ;; esac
case "$listen" in *:[0-9]*) ;; *) die "--listen: expected HOST:PORT, got '$listen'" ;; esac

if [ -z "$prefix" ]; then
  prefix="$(mktemp -d "${TMPDIR:-/tmp}/slm-replicas.XXXXXX")"
fi
mkdir -p "$prefix/tmp"
prefix="$(cd "$prefix" && pwd)"

# render_conf HOST:PORT... — writes $prefix/nginx.conf from the template
render_conf() {
  local upstreams="" u
  for u in "$@"; do
    upstreams+="        server $u max_fails=3 fail_timeout=10s;"$'\n'
  done
  local conf
  conf="$(<"$here/nginx.conf.in")"
  conf="${conf//@PREFIX@/$prefix}"
  conf="${conf//@LISTEN@/$listen}"
  conf="${conf//@TRIES@/$#}"
  conf="${conf//@UPSTREAMS@/${upstreams%$'\n'}}"
  printf '%s\n' "$conf" > "$prefix/nginx.conf"
}

if [ $render_only = 1 ]; then
  [ ${#args[@]} -gt 0 ] || die "--render: give the replicas as HOST:PORT..."
  for u in "${args[@]}"; do
    case "$u" in *:[0-9]*) ;; *) die "--render: expected HOST:PORT, got '$u'" ;; esac
  done
  render_conf "${args[@]}"
  echo "$prefix/nginx.conf"
  exit 0
fi

nginx="${NGINX:-$(command -v nginx || true)}"
[ -n "$nginx" ] || { [ -x /usr/sbin/nginx ] && nginx=/usr/sbin/nginx; }
[ -n "$nginx" ] && [ -x "$nginx" ] || die "nginx not found (Debian: apt-get install nginx, or tools/setup-deps.sh)"
[ -x "$slm" ] || die "no slm binary at $slm (make build, or --slm BIN)"

pids=()
nginx_pid=
stop_all() {
  trap - INT TERM
  [ -n "$nginx_pid" ] && kill -QUIT "$nginx_pid" 2>/dev/null || true   # graceful
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  [ -n "$nginx_pid" ] && wait "$nginx_pid" 2>/dev/null || true
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
}
trap 'stop_all; exit 0' INT TERM
trap 'stop_all' EXIT

# 1. the replicas, each on a free loopback port
ports=()
for i in $(seq 1 "$n"); do
  log="$prefix/replica-$i.log"
  "$slm" serve --port 0 "${args[@]}" </dev/null >/dev/null 2>"$log" &
  pids+=($!)
done
for i in $(seq 1 "$n"); do
  log="$prefix/replica-$i.log"
  pid="${pids[$((i - 1))]}"
  port=
  for _ in $(seq 1 1200); do          # up to 120 s: a large model loads first
    port="$(sed -n 's/.*listening on http:\/\/[^ ]*:\([0-9][0-9]*\) .*/\1/p' "$log" | head -n1)"
    [ -n "$port" ] && break
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "replica $i exited while starting (log: $log)"; }
    sleep 0.1
  done
  [ -n "$port" ] || die "replica $i printed no listening line in 120 s (log: $log)"
  host="$(sed -n 's/.*listening on http:\/\/\(.*\):[0-9][0-9]* .*/\1/p' "$log" | head -n1)"
  ports+=("$host:$port")
  echo "slm-replicas: replica $i: pid $pid, http://$host:$port, log $log" >&2
done
for i in $(seq 1 "$n"); do           # up to 600 s for every model to load
  log="$prefix/replica-$i.log"
  pid="${pids[$((i - 1))]}"
  for _ in $(seq 1 6000); do
    grep -q 'loaded, ready' "$log" && break
    kill -0 "$pid" 2>/dev/null || { tail -n 20 "$log" >&2; die "replica $i exited while loading (log: $log)"; }
    sleep 0.1
  done
  grep -q 'loaded, ready' "$log" || die "replica $i did not load its model in 600 s (log: $log)"
done
echo "slm-replicas: $n replicas ready" >&2

# 2. nginx in front of them
render_conf "${ports[@]}"
"$nginx" -t -q -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" \
  || die "nginx rejected $prefix/nginx.conf"
"$nginx" -p "$prefix" -c "$prefix/nginx.conf" -e "$prefix/error.log" -g 'daemon off;' &
nginx_pid=$!
echo "slm-replicas: nginx: pid $nginx_pid, http://$listen -> $n replicas (prefix $prefix)" >&2

rc=0
wait "$nginx_pid" || rc=$?
nginx_pid=
die "nginx exited (status $rc; log $prefix/error.log); stopping the replicas"
