#!/usr/bin/env bash
# Local ClickHouse server (Debian's clickhouse-server package) as a plain process on loopback.
# Usage: deploy/local/clickhouse.sh install|start|stop|status
# Ports: GROKSTREAM_CLICKHOUSE_HTTP_PORT (18123), GROKSTREAM_CLICKHOUSE_TCP_PORT (19000).
# Data, logs, config and pid file: $GROKSTREAM_STACK_DIR/clickhouse (default .grokstream/stack/clickhouse).
# Read-only user grokstream_reader: password from GROKSTREAM_CLICKHOUSE_READER_PASSWORD, else from
# $GROKSTREAM_STACK_DIR/clickhouse/reader.password (generated at the first start, mode 600).
SERVICE=clickhouse   # prefix of log lines (lib.sh)
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

CH_DIR="$STACK_DIR/clickhouse"
DATA_DIR="$CH_DIR/data"
LOG_DIR="$CH_DIR/logs"
CONFIG="$CH_DIR/config.xml"
PIDFILE="$CH_DIR/clickhouse.pid"
ERR_LOG="$LOG_DIR/clickhouse-server.err.log"
STDOUT_LOG="$LOG_DIR/stdout.log"   # start-up failures before the logger is configured
READER_PASSWORD_FILE="$CH_DIR/reader.password"
PATTERN="--config-file=$CONFIG"    # identifies our server process in /proc/PID/cmdline
START_TIMEOUT=60

install() {
  local missing=()
  command -v clickhouse-server >/dev/null || missing+=(clickhouse-server clickhouse-client)
  command -v curl >/dev/null || missing+=(curl)   # the health check
  if ((${#missing[@]} == 0)); then
    log "already installed: $(command -v clickhouse-server)"
    return 0
  fi
  apt_install "${missing[@]}"
}

# Health: the HTTP interface answers /ping with "Ok.".
healthy() { [[ "$(curl -sf --max-time 2 "http://127.0.0.1:$CLICKHOUSE_HTTP_PORT/ping" 2>/dev/null)" == "Ok." ]]; }

# The read-only user's password and where it comes from (lib.sh: the environment, else a generated file).
reader_password() { stack_password GROKSTREAM_CLICKHOUSE_READER_PASSWORD "$READER_PASSWORD_FILE"; }
reader_password_source() { stack_password_source GROKSTREAM_CLICKHOUSE_READER_PASSWORD "$READER_PASSWORD_FILE"; }

start() {
  local pid
  pid="$(running_pid "$PIDFILE" "$PATTERN")"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid) on http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"
    return 0
  fi
  install
  require_free_port "$CLICKHOUSE_HTTP_PORT" "ClickHouse HTTP"
  require_free_port "$CLICKHOUSE_TCP_PORT" "ClickHouse native TCP"
  mkdir -p "$DATA_DIR"/{tmp,user_files,format_schemas} "$LOG_DIR"
  # Re-rendered every start, so changed ports take effect.
  render "$LOCAL_DIR/clickhouse/config.xml" "$CONFIG"
  # users.xml holds only the SHA-256 of the reader's password (18.16 reads password_sha256_hex).
  # sha256sum rather than an argument: the password never appears in a process list.
  local CLICKHOUSE_READER_PASSWORD_HASH
  CLICKHOUSE_READER_PASSWORD_HASH="$(reader_password | sha256sum | cut -d' ' -f1)"
  # Private: a weak password from the environment could be recovered from its hash.
  rm -f "$CH_DIR/users.xml"
  (umask 077 && render "$LOCAL_DIR/clickhouse/users.xml" "$CH_DIR/users.xml")
  # Keep the previous run's error log and stdout as *.prev, so a failure report (ours, or CI's)
  # shows only this start's errors. The main log is left to ClickHouse's own rotation.
  local f
  for f in "$ERR_LOG" "$STDOUT_LOG"; do [[ -f "$f" ]] && mv -f "$f" "$f.prev"; done
  log "starting on http://127.0.0.1:$CLICKHOUSE_HTTP_PORT (tcp :$CLICKHOUSE_TCP_PORT, data in $CH_DIR)"
  start_detached "$PIDFILE" "$STDOUT_LOG" clickhouse-server "$PATTERN"
  if ! wait_healthy "$START_TIMEOUT" "$PIDFILE" "$PATTERN" healthy; then
    show_logs 80 "$ERR_LOG" "$STDOUT_LOG"
    stop_service "$PIDFILE" "$PATTERN" >/dev/null
    die "ClickHouse did not start; full logs in $LOG_DIR"
  fi
  log "ready (pid $(cat "$PIDFILE")): GROKSTREAM_CLICKHOUSE_URL=http://127.0.0.1:$CLICKHOUSE_HTTP_PORT"
  log "read-only user grokstream_reader: password from $(reader_password_source)"
}

status() {
  local pid
  pid="$(running_pid "$PIDFILE" "$PATTERN")"
  if [[ -z "$pid" ]]; then
    log "stopped (data in $CH_DIR)"
    return 3
  fi
  if healthy; then
    log "running (pid $pid) on http://127.0.0.1:$CLICKHOUSE_HTTP_PORT, tcp :$CLICKHOUSE_TCP_PORT, data in $CH_DIR"
  else
    log "process $pid is alive but /ping does not answer on port $CLICKHOUSE_HTTP_PORT (logs: $LOG_DIR)"
    return 1
  fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_service "$PIDFILE" "$PATTERN" ;;
  status) status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
