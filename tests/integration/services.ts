// Where the integration tests find Kafka and ClickHouse. They never skip: a missing service is
// a failure that says how to start it (CI starts both in .ci/run).
import { parseBrokers } from '../../services/bus/src/kafka-bus.ts';

export const KAFKA_BROKERS = parseBrokers(process.env.GROKSTREAM_KAFKA_BROKERS ?? '127.0.0.1:19092');
export const CLICKHOUSE_URL = process.env.GROKSTREAM_CLICKHOUSE_URL ?? 'http://127.0.0.1:18123';

export const HOW_TO_START =
  'Integration tests need the local stack: run `pnpm stack:up` (or set GROKSTREAM_KAFKA_BROKERS / ' +
  'GROKSTREAM_CLICKHOUSE_URL), or run only the unit tests with `pnpm test:unit`.';

export async function requireClickHouse(): Promise<void> {
  try {
    const res = await fetch(`${CLICKHOUSE_URL}/ping`, { signal: AbortSignal.timeout(5000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
  } catch (err) {
    throw new Error(`ClickHouse is not reachable at ${CLICKHOUSE_URL} (${(err as Error).message}). ${HOW_TO_START}`);
  }
}

export async function requireKafka(): Promise<void> {
  const net = await import('node:net');
  const [host, port] = KAFKA_BROKERS[0]!.split(':');
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port: Number(port), timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    const fail = (why: string) => {
      socket.destroy();
      reject(new Error(`Kafka is not reachable at ${KAFKA_BROKERS.join(',')} (${why}). ${HOW_TO_START}`));
    };
    socket.once('timeout', () => fail('timeout'));
    socket.once('error', (err) => fail(err.message));
  });
}
