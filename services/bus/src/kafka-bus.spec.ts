// KafkaBus against brokers that misbehave, played by plain TCP servers on loopback: no Kafka needed.
import { afterEach, describe, expect, it } from 'vitest';
import net from 'node:net';
import { KafkaBus } from './kafka-bus.ts';
import type { KafkaLogLevelName } from './kafka-log.ts';

interface FakeBroker {
  address: string;
  /** First bytes each connection sent. */
  received: Buffer[];
  close(): Promise<void>;
}

/** Accepts connections and never answers: a hung broker, or something else on the port. */
async function silentBroker(): Promise<FakeBroker> {
  const received: Buffer[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.once('data', (d) => received.push(Buffer.from(d)));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    address: `127.0.0.1:${port}`,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on. */
async function closedPort(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `127.0.0.1:${port}`;
}

async function failure(p: Promise<unknown>): Promise<{ err: Error; ms: number }> {
  const t0 = Date.now();
  try {
    await p;
  } catch (err) {
    return { err: err as Error, ms: Date.now() - t0 };
  }
  throw new Error('expected a failure');
}

describe('KafkaBus against a broker that does not answer', () => {
  const cleanup: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  async function setup(options: Partial<ConstructorParameters<typeof KafkaBus>[0]> = {}) {
    const broker = await silentBroker();
    const lines: Array<{ level: KafkaLogLevelName; line: string }> = [];
    const bus = new KafkaBus({
      brokers: [broker.address],
      requestTimeoutMs: 1000,
      connectionTimeoutMs: 1000,
      log: (level, line) => lines.push({ level, line }),
      ...options,
    });
    cleanup.push(() => broker.close(), () => bus.close().catch(() => {}));
    return { broker, bus, lines };
  }

  const expectExplained = (err: Error, address: string) => {
    expect(err.message).toContain(`Kafka at ${address} did not answer within 1 s`);
    expect(err.message).toContain('Start the local stack with pnpm stack:up, or check GROKSTREAM_KAFKA_BROKERS.');
  };

  it('fails ensureTopics within the request timeout, naming the address and the fix', async () => {
    const { broker, bus, lines } = await setup();
    const { err, ms } = await failure(bus.ensureTopics([{ topic: 't', partitions: 1 }]));
    expectExplained(err, broker.address);
    expect(err.message).toContain('ensuring topics t');
    expect(ms).toBeLessThan(8000);
    // kafkajs spoke through our logger, in lines, not JSON.
    expect(lines.some((l) => l.line.startsWith('kafka error [BrokerPool] Request ApiVersions'))).toBe(true);
    for (const l of lines) expect(l.line).not.toMatch(/^\{|"timestamp"/);
  });

  it('gives up after 10 s with the default timeouts, where kafkajs alone took 36 s', async () => {
    const broker = await silentBroker();
    const bus = new KafkaBus({ brokers: [broker.address], logLevel: 'nothing' });
    try {
      const { err, ms } = await failure(bus.ensureTopics([{ topic: 't', partitions: 1 }]));
      expect(err.message).toContain(`Kafka at ${broker.address} did not answer within 10 s`);
      expect(ms).toBeGreaterThanOrEqual(9_500);
      expect(ms).toBeLessThan(14_000);
    } finally {
      await bus.close().catch(() => {});
      await broker.close();
    }
  });

  it('fails producer() the same way', async () => {
    const { broker, bus } = await setup();
    const { err, ms } = await failure(bus.producer());
    expectExplained(err, broker.address);
    expect(err.message).toContain('connecting a producer');
    expect(ms).toBeLessThan(8000);
  });

  it('fails a consumer start the same way', async () => {
    const { broker, bus } = await setup({ joinTimeoutMs: 15_000 });
    const consumer = bus.consumer({ groupId: 'g', topics: ['t'], handleBatch: async () => {} });
    const { err, ms } = await failure(consumer.start());
    expect(err.message).toContain(`Kafka at ${broker.address}`);
    expect(err.message).toContain('starting consumer group g on t');
    expect(err.message).toContain('pnpm stack:up');
    expect(ms).toBeLessThan(12_000);
    await consumer.stop();
  });

  it('passes ssl through to the client: the first bytes on the wire are a TLS handshake', async () => {
    // The TLS handshake never completes: each connect attempt ends at the connection timeout.
    const { broker, bus } = await setup({ ssl: true, connectionTimeoutMs: 300, requestTimeoutMs: 300 });
    const { err, ms } = await failure(bus.ensureTopics([{ topic: 't', partitions: 1 }]));
    expect(err.message).toContain(`Kafka at ${broker.address}`);
    expect(ms).toBeLessThan(15_000);
    expect(broker.received.length).toBeGreaterThan(0);
    expect(broker.received[0]![0]).toBe(0x16); // TLS record type: handshake
    // Without ssl, the first bytes are a Kafka request (4-byte size, then ApiVersions = key 18).
    const plain = await setup();
    await failure(plain.bus.ensureTopics([{ topic: 't', partitions: 1 }]));
    expect(plain.broker.received[0]!.readInt16BE(4)).toBe(18);
  });
});

describe('KafkaBus with no broker at the address', () => {
  it('says it cannot reach Kafka at that address, and logs readable lines', async () => {
    const address = await closedPort();
    const lines: string[] = [];
    const bus = new KafkaBus({ brokers: [address], log: (_level, line) => lines.push(line) });
    const { err, ms } = await failure(bus.ensureTopics([{ topic: 't', partitions: 1 }]));
    expect(err.message).toMatch(new RegExp(`^cannot reach Kafka at ${address} \\(connecting\\): .*ECONNREFUSED`));
    expect(err.message).toContain('pnpm stack:up');
    expect(ms).toBeLessThan(15_000);
    expect(lines).toContain(`kafka error [Connection] Connection error: connect ECONNREFUSED ${address} (broker ${address})`);
    await bus.close();
  });

  it('validates its options at construction', () => {
    expect(() => new KafkaBus({ brokers: ['127.0.0.1:1'], maxRequestBytes: 10 })).toThrow(/maxRequestBytes/);
    expect(() => new KafkaBus({ brokers: ['127.0.0.1:1'], requestTimeoutMs: 0 })).toThrow(/requestTimeoutMs/);
    expect(() => new KafkaBus({ brokers: ['127.0.0.1:1'], connectionTimeoutMs: -1 })).toThrow(/connectionTimeoutMs/);
    expect(() => new KafkaBus({ brokers: [] })).toThrow(/no Kafka brokers/);
  });
});
