#!/usr/bin/env bash
# Local single-node Apache Kafka 4 broker (KRaft), run from the jars on Maven Central.
# Usage: deploy/local/kafka.sh install|start|stop|status
# Ports: GROKSTREAM_KAFKA_PORT (19092), GROKSTREAM_KAFKA_CONTROLLER_PORT (19093).
# Data, logs and pid file: $GROKSTREAM_STACK_DIR/kafka (default .grokstream/stack/kafka).
SERVICE=kafka   # prefix of log lines (lib.sh)
# shellcheck source=deploy/local/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

POM="$LOCAL_DIR/kafka/pom.xml"             # the version pin
LIB="$LOCAL_DIR/kafka/lib"                 # resolved jars (gitignored; survives a stack reset)
HEAP="${GROKSTREAM_KAFKA_HEAP:-512m}"
DIR="$STACK_DIR/kafka"
DATA_DIR="$DIR/data"
LOG_DIR="$DIR/logs"
CONFIG="$DIR/server.properties"
PIDFILE="$DIR/kafka.pid"
SERVER_LOG="$LOG_DIR/server.log"           # log4j2 (deploy/local/kafka/log4j2.xml)
STDOUT_LOG="$LOG_DIR/stdout.log"           # JVM output before log4j2 is up (crashes, bad flags)
PATTERN="kafka.Kafka $CONFIG"              # identifies our broker process in /proc/PID/cmdline
# The line KafkaRaftServer logs once the broker and controller are both up and serving.
READY_LINE="Kafka Server started"
START_TIMEOUT=90

JAVA=(java "-Xmx$HEAP" -Dlog4j2.configurationFile="$LOCAL_DIR/kafka/log4j2.xml"
  -Dkafka.logs.dir="$LOG_DIR" -cp "$LIB/*")
kafka_java() { "${JAVA[@]}" "$@"; }

install() {
  # Kafka 4 brokers need Java 17+; mvn resolves the jars. CI machines start bare.
  local missing=()
  command -v java >/dev/null || missing+=(openjdk-17-jre-headless)
  command -v mvn >/dev/null || missing+=(maven)
  ((${#missing[@]} == 0)) || apt_install "${missing[@]}"
  local java_version
  java_version="$(java -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')"
  ((${java_version%%.*} >= 17)) || die "Kafka 4 needs Java 17 or newer; found $java_version"

  # Re-resolve only when the pom (the version pin) changes.
  local stamp="$LIB/.pom.sha256" want
  want="$(sha256sum "$POM" | cut -d' ' -f1)"
  if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]] && compgen -G "$LIB/kafka_2.13-*.jar" >/dev/null; then
    log "jars already installed in $LIB"
    return 0
  fi
  log "resolving the Kafka jars from Maven Central into $LIB"
  rm -rf "$LIB"
  # Maven's output only matters when it fails (and even -q -B leaves ANSI escapes behind).
  local mvn_log
  mvn_log="$(mktemp)"
  if ! mvn -q -B -Dstyle.color=never -f "$POM" dependency:copy-dependencies \
    -DoutputDirectory="$LIB" -DincludeScope=runtime >"$mvn_log" 2>&1; then
    show_logs 80 "$mvn_log"
    rm -f "$mvn_log"
    die "could not resolve the Kafka jars with Maven (output above)"
  fi
  rm -f "$mvn_log"
  echo "$want" >"$stamp"
  log "installed $(basename "$(compgen -G "$LIB/kafka_2.13-*.jar")")"
}

# Formats the storage once. The cluster id is kept in the data dir so a re-format after a
# partial reset reuses it.
format_once() {
  [[ -f "$DATA_DIR/meta.properties" ]] && return 0
  local id_file="$DIR/cluster.id" cluster_id
  if [[ ! -s "$id_file" ]]; then
    kafka_java kafka.tools.StorageTool random-uuid 2>>"$STDOUT_LOG" | tail -n1 >"$id_file"
  fi
  cluster_id="$(cat "$id_file")"
  log "formatting storage in $DATA_DIR (cluster id $cluster_id)"
  kafka_java kafka.tools.StorageTool format -t "$cluster_id" -c "$CONFIG" >>"$STDOUT_LOG" 2>&1 || {
    show_logs 80 "$STDOUT_LOG"
    die "storage format failed"
  }
}

ready() { port_open "$KAFKA_PORT" && grep -qF "$READY_LINE" "$SERVER_LOG" 2>/dev/null; }

start() {
  local pid
  pid="$(running_pid "$PIDFILE" "$PATTERN")"
  if [[ -n "$pid" ]]; then
    log "already running (pid $pid) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  install
  require_free_port "$KAFKA_PORT" "Kafka broker"
  require_free_port "$KAFKA_CONTROLLER_PORT" "Kafka controller"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  render "$LOCAL_DIR/kafka/server.properties" "$CONFIG"
  # Keep the previous run's logs as *.prev; the health check and a failure report then only see
  # this start.
  local f
  for f in "$SERVER_LOG" "$STDOUT_LOG"; do [[ -f "$f" ]] && mv -f "$f" "$f.prev"; done
  format_once
  log "starting on 127.0.0.1:$KAFKA_PORT (controller :$KAFKA_CONTROLLER_PORT, data in $DIR)"
  start_detached "$PIDFILE" "$STDOUT_LOG" "${JAVA[@]}" kafka.Kafka "$CONFIG"
  if ! wait_healthy "$START_TIMEOUT" "$PIDFILE" "$PATTERN" ready; then
    show_logs 80 "$SERVER_LOG" "$STDOUT_LOG"
    # Do not leave a half-started broker holding the ports.
    stop_service "$PIDFILE" "$PATTERN" >/dev/null
    die "Kafka did not start; full logs in $LOG_DIR"
  fi
  log "ready (pid $(cat "$PIDFILE")): GROKSTREAM_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
}

status() {
  local pid
  pid="$(running_pid "$PIDFILE" "$PATTERN")"
  if [[ -z "$pid" ]]; then
    log "stopped (data in $DIR)"
    return 3
  fi
  if port_open "$KAFKA_PORT"; then
    log "running (pid $pid) on 127.0.0.1:$KAFKA_PORT, controller :$KAFKA_CONTROLLER_PORT, data in $DIR"
  else
    log "process $pid is alive but port $KAFKA_PORT does not accept connections (logs: $LOG_DIR)"
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
