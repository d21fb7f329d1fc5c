#!/usr/bin/env bash
# The whole local stack (Kafka + ClickHouse) as local processes on loopback.
# Usage: deploy/local/stack.sh up|down|status   (pnpm stack:up | stack:down | stack:status)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

case "${1:-}" in
  up)
    # Each start is a no-op when that service already runs.
    bash "$HERE/clickhouse.sh" start
    bash "$HERE/kafka.sh" start
    cat <<EOF

Stack is up. Tests, services and benchmarks find it through these variables:
  export GROKSTREAM_KAFKA_BROKERS=127.0.0.1:${GROKSTREAM_KAFKA_PORT:-19092}
  export GROKSTREAM_CLICKHOUSE_URL=http://127.0.0.1:${GROKSTREAM_CLICKHOUSE_HTTP_PORT:-18123}
Kafka also listens with SASL (PLAIN) on :${GROKSTREAM_KAFKA_SASL_PORT:-19094} and TLS on :${GROKSTREAM_KAFKA_SSL_PORT:-19095}: see deploy/local/README.md.
EOF
    ;;
  down)
    # Stop both even if the first one fails.
    rc=0
    bash "$HERE/kafka.sh" stop || rc=$?
    bash "$HERE/clickhouse.sh" stop || rc=$?
    exit "$rc"
    ;;
  status)
    # Exit 0 only when both run and answer.
    rc=0
    bash "$HERE/kafka.sh" status || rc=$?
    bash "$HERE/clickhouse.sh" status || rc=$?
    exit "$rc"
    ;;
  *)
    echo "usage: $0 up|down|status" >&2
    exit 2
    ;;
esac
