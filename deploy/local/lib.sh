# Shared helpers for deploy/local/kafka.sh and clickhouse.sh. Sourced, never run directly.
# shellcheck shell=bash disable=SC2034  # variables here are used by the scripts that source it
# Services run as plain local processes on loopback: there is no Docker on dev or CI machines.
set -euo pipefail

REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
LOCAL_DIR="$REPO_ROOT/deploy/local"

# Everything a service writes (data, logs, pid files, rendered configs) lives under here, so a
# reset is: stop, then delete this directory. Made absolute because the servers' configs get it.
STACK_DIR="${GROKSTREAM_STACK_DIR:-$REPO_ROOT/.grokstream/stack}"
mkdir -p "$STACK_DIR"
STACK_DIR="$(cd "$STACK_DIR" && pwd)"

KAFKA_PORT="${GROKSTREAM_KAFKA_PORT:-19092}"
KAFKA_CONTROLLER_PORT="${GROKSTREAM_KAFKA_CONTROLLER_PORT:-19093}"
KAFKA_SASL_PORT="${GROKSTREAM_KAFKA_SASL_PORT:-19094}"   # SASL_PLAINTEXT, mechanism PLAIN
KAFKA_SSL_PORT="${GROKSTREAM_KAFKA_SSL_PORT:-19095}"     # SSL (TLS), self-signed CA
CLICKHOUSE_HTTP_PORT="${GROKSTREAM_CLICKHOUSE_HTTP_PORT:-18123}"
CLICKHOUSE_TCP_PORT="${GROKSTREAM_CLICKHOUSE_TCP_PORT:-19000}"
# Checked here because ClickHouse 18.16 silently wraps an out-of-range port (99999 -> 34463).
for _port in "$KAFKA_PORT" "$KAFKA_CONTROLLER_PORT" "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT" "$CLICKHOUSE_HTTP_PORT" "$CLICKHOUSE_TCP_PORT"; do
  if ! [[ "$_port" =~ ^[0-9]+$ ]] || ((_port < 1 || _port > 65535)); then
    echo "deploy/local: invalid port '$_port' in GROKSTREAM_*_PORT" >&2
    exit 2
  fi
done
unset _port

log() { printf '[%s] %s\n' "${SERVICE:-stack}" "$*"; }
die() { printf '[%s] ERROR: %s\n' "${SERVICE:-stack}" "$*" >&2; exit 1; }

# True when something accepts TCP connections on 127.0.0.1:$1.
# bash's /dev/tcp, so a fresh machine needs neither nc nor ss.
port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/127.0.0.1/$1" 2>/dev/null; }

# Fail early and clearly when a port is taken, rather than letting the server die on bind or,
# worse, letting our health check succeed against somebody else's server.
require_free_port() {
  local port="$1" what="$2" holder=""
  port_open "$port" || return 0
  command -v ss >/dev/null && holder="$(ss -ltnpH "sport = :$port" 2>/dev/null | head -3 || true)"
  die "port $port ($what) is already in use${holder:+ by: $holder}. Stop that process or choose other ports (see deploy/local/README.md)."
}

# Prints the pid in pid file $1 when that process is alive and its command line contains $2
# (guards against a stale pid file whose pid was reused by something else). Prints nothing
# otherwise, and always succeeds, so `pid=$(running_pid ...)` is safe under set -e.
running_pid() {
  local pidfile="$1" pattern="$2" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile" 2>/dev/null || true)"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 0
  kill -0 "$pid" 2>/dev/null || return 0
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$pattern" || return 0
  echo "$pid"
}

# start_detached PIDFILE OUTFILE CMD...: runs CMD in the background, detached from this shell.
# setsid gives it its own session, so it survives the terminal or CI step that started it (no
# SIGHUP, no need for nohup); stdio goes to files so `pnpm stack:up` does not wait on an
# inherited pipe. The wrapper writes its own pid and then execs, so PIDFILE holds the server's pid.
start_detached() {
  local pidfile="$1" outfile="$2" i; shift 2
  rm -f "$pidfile"
  # shellcheck disable=SC2016  # $$ and $@ belong to the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$pidfile" "$@" </dev/null >>"$outfile" 2>&1 &
  for ((i = 0; i < 50; i++)); do [[ -s "$pidfile" ]] && return 0; sleep 0.1; done
  die "the process did not start (no pid in $pidfile)"
}

# wait_healthy SECONDS PIDFILE PATTERN CHECK: polls the function CHECK every half second.
# Returns 1 as soon as the process dies, or when SECONDS pass without CHECK succeeding.
wait_healthy() {
  local limit="$1" pidfile="$2" pattern="$3" check="$4" start=$SECONDS
  until "$check"; do
    if [[ -z "$(running_pid "$pidfile" "$pattern")" ]]; then
      log "ERROR: the process exited during start-up" >&2
      return 1
    fi
    if ((SECONDS - start >= limit)); then
      log "ERROR: not healthy after ${limit}s" >&2
      return 1
    fi
    sleep 0.5
  done
}

# stop_service PIDFILE PATTERN: graceful stop (SIGTERM, up to 30 s to exit, then SIGKILL).
# A no-op when the service is not running.
stop_service() {
  local pidfile="$1" pattern="$2" pid i
  pid="$(running_pid "$pidfile" "$pattern")"
  if [[ -z "$pid" ]]; then
    rm -f "$pidfile"
    log "not running"
    return 0
  fi
  log "stopping (pid $pid)"
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 300; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      rm -f "$pidfile"
      log "stopped after $((i / 10))s"
      return 0
    fi
    sleep 0.1
  done
  log "still running after 30s: SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  rm -f "$pidfile"
  log "killed"
}

# show_logs LINES FILE...: prints the last LINES lines of each non-empty FILE to stderr.
show_logs() {
  local lines="$1" f; shift
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    printf -- '----- last %s lines of %s -----\n' "$lines" "$f" >&2
    tail -n "$lines" "$f" >&2
  done
}

# render TEMPLATE OUT: copies TEMPLATE to OUT replacing each @NAME@ with the shell variable NAME.
render() {
  local src="$1" dst="$2" name
  local -a edits=()
  for name in $(grep -o '@[A-Z_]*@' "$src" | sort -u | tr -d '@'); do
    [[ -n "${!name+set}" ]] || die "template $src uses @$name@ but \$$name is not set"
    edits+=(-e "s|@$name@|${!name}|g")
  done
  sed "${edits[@]}" "$src" >"$dst"
}

# apt_install PACKAGE...: only where we can (root on Debian/Ubuntu, which is what CI runs).
apt_install() {
  if [[ "$(id -u)" != 0 ]] || ! command -v apt-get >/dev/null; then
    die "missing $*: install it (Debian: apt-get install $*) and retry"
  fi
  log "installing $* with apt-get"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

# stack_password VAR FILE: prints the password in environment variable VAR, else FILE's first line,
# making FILE with a random password (192 bits, hex) when there is none. Never logged.
stack_password() {
  local var="$1" file="$2"
  if [[ -n "${!var:-}" ]]; then
    printf '%s' "${!var}"
    return 0
  fi
  if [[ ! -s "$file" ]]; then
    # Made private before anything is written, and moved into place whole.
    (umask 077 && od -An -tx1 -N24 /dev/urandom | tr -d ' \n' >"$file.tmp" && echo >>"$file.tmp")
    mv -f "$file.tmp" "$file"
  fi
  chmod 600 "$file"
  local password=""
  IFS= read -r password <"$file" || true
  [[ -n "$password" ]] || die "$file is empty: delete it to get a new password, or set $var"
  printf '%s' "$password"
}

# stack_password_source VAR FILE: where stack_password takes it from, for start output (never the password).
stack_password_source() {
  if [[ -n "${!1:-}" ]]; then echo "$1"; else echo "$2"; fi
}
