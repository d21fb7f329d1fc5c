#!/usr/bin/env bash
# Local single-node Apache Kafka 4 broker (KRaft), run from the jars on Maven Central.
# Usage: deploy/local/kafka.sh install|start|stop|status
# Ports: GROKSTREAM_KAFKA_PORT (19092, PLAINTEXT), GROKSTREAM_KAFKA_CONTROLLER_PORT (19093),
# GROKSTREAM_KAFKA_SASL_PORT (19094, SASL_PLAINTEXT with PLAIN), GROKSTREAM_KAFKA_SSL_PORT (19095, TLS).
# Data, logs and pid file: $GROKSTREAM_STACK_DIR/kafka (default .grokstream/stack/kafka).
# SASL user grokstream: password from GROKSTREAM_KAFKA_SASL_PASSWORD, else from
# $GROKSTREAM_STACK_DIR/kafka/sasl.password (generated at the first start, mode 600).
# TLS: a self-signed CA made at the first start; clients trust $GROKSTREAM_STACK_DIR/kafka/ca.pem.
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
SASL_USER=grokstream
SASL_PASSWORD_FILE="$DIR/sasl.password"    # the SASL user's password, generated once (mode 600)
TLS_DIR="$DIR/tls"                         # the broker's key and certificates (mode 700)
KAFKA_SSL_KEYSTORE="$TLS_DIR/broker.pem"   # private key + certificate chain (ssl.keystore.type=PEM)
CA_FILE="$DIR/ca.pem"                      # the CA certificate clients trust (GROKSTREAM_KAFKA_SSL_CA_FILE)
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

# The SASL user's password and where it comes from (lib.sh: the environment, else a generated file).
sasl_password() { stack_password GROKSTREAM_KAFKA_SASL_PASSWORD "$SASL_PASSWORD_FILE"; }
sasl_password_source() { stack_password_source GROKSTREAM_KAFKA_SASL_PASSWORD "$SASL_PASSWORD_FILE"; }

# Appends the SASL_PLAINTEXT listener's JAAS line (user grokstream and its password) to the
# rendered config $1, which must be private already. The password goes through printf and a pipe,
# never an argument, so it is in no process list. Quoted for JAAS (\ and ") and then for the
# properties file (\); printable ASCII only, since Kafka reads the file as ISO-8859-1.
append_sasl_jaas() {
  local config="$1" password
  password="$(sasl_password)"
  if (($(printf '%s' "$password" | LC_ALL=C tr -d ' -~' | wc -c) > 0)); then
    die "the SASL password (from $(sasl_password_source)) must be printable ASCII"
  fi
  password="${password//\\/\\\\}"
  password="${password//\"/\\\"}"
  password="${password//\\/\\\\}"
  printf 'listener.name.sasl_plaintext.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_%s="%s";\n' \
    "$SASL_USER" "$password" >>"$config"
}

# Makes the TLS material once: a self-signed CA (certificate in $CA_FILE; its key is discarded once
# it has signed) and the broker's key and certificate for 127.0.0.1 and localhost, valid 10 years.
# Kept across restarts so clients keep trusting the same ca.pem; delete kafka/tls/ for new ones.
ensure_tls() {
  [[ -s "$KAFKA_SSL_KEYSTORE" && -s "$CA_FILE" ]] && return 0
  command -v openssl >/dev/null || apt_install openssl  # makes the SSL listener's certificates
  log "making a self-signed CA and the broker's TLS certificate in $TLS_DIR"
  local work
  rm -rf "$TLS_DIR"
  mkdir -p "$TLS_DIR"
  chmod 700 "$TLS_DIR"
  work="$(mktemp -d "$TLS_DIR/.make.XXXXXX")"
  if ! (
    set -e
    umask 077
    cd "$work"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout ca.key -out ca.pem \
      -subj "/CN=grokstream local Kafka CA" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
    openssl req -newkey rsa:2048 -nodes -keyout broker.key -out broker.csr -subj "/CN=127.0.0.1"
    printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" \
      "extendedKeyUsage=serverAuth" "subjectAltName=IP:127.0.0.1,DNS:localhost" >broker.ext
    openssl x509 -req -in broker.csr -CA ca.pem -CAkey ca.key -days 3650 -extfile broker.ext \
      -set_serial "0x$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')" -out broker.crt
    cat broker.key broker.crt ca.pem >broker.pem
  ) >"$work/openssl.log" 2>&1; then
    show_logs 40 "$work/openssl.log"
    rm -rf "$TLS_DIR"
    die "could not make the TLS certificates with openssl (output above)"
  fi
  mv -f "$work/broker.pem" "$KAFKA_SSL_KEYSTORE"
  mv -f "$work/broker.crt" "$TLS_DIR/broker.crt"
  chmod 644 "$work/ca.pem"
  mv -f "$work/ca.pem" "$CA_FILE"
  rm -rf "$work"   # with the CA's key: nothing more can be signed by it
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
  require_free_port "$KAFKA_SASL_PORT" "Kafka SASL"
  require_free_port "$KAFKA_SSL_PORT" "Kafka SSL"
  mkdir -p "$DATA_DIR" "$LOG_DIR"
  ensure_tls
  # Private: it holds the SASL password.
  rm -f "$CONFIG"
  (umask 077 && render "$LOCAL_DIR/kafka/server.properties" "$CONFIG")
  append_sasl_jaas "$CONFIG"
  # Keep the previous run's logs as *.prev; the health check and a failure report then only see
  # this start.
  local f
  for f in "$SERVER_LOG" "$STDOUT_LOG"; do [[ -f "$f" ]] && mv -f "$f" "$f.prev"; done
  format_once
  log "starting on 127.0.0.1:$KAFKA_PORT (SASL :$KAFKA_SASL_PORT, SSL :$KAFKA_SSL_PORT, controller :$KAFKA_CONTROLLER_PORT, data in $DIR)"
  start_detached "$PIDFILE" "$STDOUT_LOG" "${JAVA[@]}" kafka.Kafka "$CONFIG"
  if ! wait_healthy "$START_TIMEOUT" "$PIDFILE" "$PATTERN" ready; then
    show_logs 80 "$SERVER_LOG" "$STDOUT_LOG"
    # Do not leave a half-started broker holding the ports.
    stop_service "$PIDFILE" "$PATTERN" >/dev/null
    die "Kafka did not start; full logs in $LOG_DIR"
  fi
  log "ready (pid $(cat "$PIDFILE")): GROKSTREAM_KAFKA_BROKERS=127.0.0.1:$KAFKA_PORT"
  log "SASL_PLAINTEXT on 127.0.0.1:$KAFKA_SASL_PORT: mechanism PLAIN, user $SASL_USER, password from $(sasl_password_source)"
  log "SSL on 127.0.0.1:$KAFKA_SSL_PORT: CA certificate in $CA_FILE"
}

status() {
  local pid
  pid="$(running_pid "$PIDFILE" "$PATTERN")"
  if [[ -z "$pid" ]]; then
    log "stopped (data in $DIR)"
    return 3
  fi
  if port_open "$KAFKA_PORT"; then
    log "running (pid $pid) on 127.0.0.1:$KAFKA_PORT, SASL :$KAFKA_SASL_PORT, SSL :$KAFKA_SSL_PORT, controller :$KAFKA_CONTROLLER_PORT, data in $DIR"
    # A broker started before the SASL and SSL listeners existed serves without them.
    local port closed=""
    for port in "$KAFKA_SASL_PORT" "$KAFKA_SSL_PORT"; do port_open "$port" || closed+=" $port"; done
    [[ -z "$closed" ]] || log "WARNING: nothing accepts connections on port(s)$closed: restart Kafka for its SASL and SSL listeners (kafka.sh stop, then start)"
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
