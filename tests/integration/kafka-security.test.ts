// Kafka SASL and TLS settings from the environment, end to end against the local broker's
// SASL_PLAINTEXT (PLAIN, user grokstream) and SSL listeners (deploy/local/README.md): settings
// read by readSettings(), a bus from the shell's kafkaBus(), and the CLI in a child process.
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Batch, KafkaBus } from '@grokstream/bus';
import { createLogger, kafkaBus, readSettings, type Settings } from '@grokstream/shell';
import { HOW_TO_START } from './services.ts';

const REPO = resolve(import.meta.dirname, '..', '..');
const BIN = join(REPO, 'services', 'cli', 'bin', 'grokstream.js');
const STACK_DIR = resolve(REPO, process.env.GROKSTREAM_STACK_DIR ?? join('.grokstream', 'stack'));
const SASL_BROKERS = `127.0.0.1:${process.env.GROKSTREAM_KAFKA_SASL_PORT ?? '19094'}`;
const SSL_BROKERS = `127.0.0.1:${process.env.GROKSTREAM_KAFKA_SSL_PORT ?? '19095'}`;
/** What kafka.sh generates at the first start, unless GROKSTREAM_KAFKA_SASL_PASSWORD gives the password. */
const PASSWORD_FILE = join(STACK_DIR, 'kafka', 'sasl.password');
const CA_FILE = join(STACK_DIR, 'kafka', 'ca.pem');
/** How long a refused login or an untrusted certificate may take to fail. */
const FAIL_WITHIN_MS = 15_000;

type Env = Record<string, string | undefined>;

/** The SASL password as the broker knows it: the variable kafka.sh was started with, else its file. */
function saslPassword(): Env {
  const direct = process.env.GROKSTREAM_KAFKA_SASL_PASSWORD;
  return direct ? { GROKSTREAM_KAFKA_SASL_PASSWORD: direct } : { GROKSTREAM_KAFKA_SASL_PASSWORD_FILE: PASSWORD_FILE };
}

const SASL_ENV: Env = {
  GROKSTREAM_KAFKA_BROKERS: SASL_BROKERS,
  GROKSTREAM_KAFKA_SASL_MECHANISM: 'plain',
  GROKSTREAM_KAFKA_SASL_USERNAME: 'grokstream',
  ...saslPassword(),
};

function busFrom(env: Env, lines: string[] = []): { settings: Settings; bus: KafkaBus } {
  const settings = readSettings(env);
  const log = createLogger('warn', (line) => lines.push(line));
  return { settings, bus: kafkaBus(settings.kafka, 'kafka-security-test', log) };
}

function reachable(address: string): Promise<string | undefined> {
  const [host, port] = address.split(':');
  return new Promise((done) => {
    const socket = connect({ host, port: Number(port), timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      done(undefined);
    });
    socket.once('timeout', () => {
      socket.destroy();
      done('timeout');
    });
    socket.once('error', (err) => done(err.message));
  });
}

/** Creates a topic, sends one message and reads it back through a new consumer group. */
async function roundTrip(bus: KafkaBus): Promise<void> {
  const topic = `security-${randomUUID()}`;
  const value = `hello ${randomUUID()}`;
  try {
    await bus.ensureTopics([{ topic, partitions: 1 }]);
    expect(await bus.partitionCount(topic)).toBe(1);
    const producer = await bus.producer();
    await producer.send(topic, [{ key: 'k', value: Buffer.from(value) }]);
    await producer.close();
    let received: (text: string) => void = () => {};
    const first = new Promise<string>((r) => (received = r));
    const consumer = bus.consumer({
      groupId: `g-${randomUUID()}`,
      topics: [topic],
      fromBeginning: true,
      handleBatch: async (batch: Batch) => {
        for (const m of batch.messages) received(m.value.toString());
      },
    });
    await consumer.start();
    const got = await Promise.race([first, new Promise<string>((_, reject) => setTimeout(() => reject(new Error('no message within 30 s')), 30_000))]);
    expect(got).toBe(value);
    await consumer.stop();
    expect(await bus.endOffsets(topic)).toEqual([{ partition: 0, offset: '1' }]);
  } finally {
    await bus.close();
  }
}

/** Runs `op`, which must fail within FAIL_WITHIN_MS; returns the error, its causes and stack as text. */
async function failure(op: () => Promise<unknown>): Promise<{ message: string; text: string; ms: number }> {
  const t0 = Date.now();
  let caught: unknown;
  try {
    await op();
  } catch (err) {
    caught = err;
  }
  const ms = Date.now() - t0;
  expect(caught, 'the operation should have failed').toBeInstanceOf(Error);
  expect(ms).toBeLessThan(FAIL_WITHIN_MS);
  const parts: string[] = [];
  for (let e: unknown = caught; e instanceof Error && parts.length < 16; e = e.cause) parts.push(String(e), e.stack ?? '');
  return { message: (caught as Error).message, text: parts.join('\n'), ms };
}

beforeAll(async () => {
  for (const [address, what] of [
    [SASL_BROKERS, 'SASL_PLAINTEXT'],
    [SSL_BROKERS, 'SSL'],
  ] as const) {
    const why = await reachable(address);
    if (why) {
      throw new Error(
        `Kafka's ${what} listener is not reachable at ${address} (${why}). A broker started before these listeners ` +
          `existed needs a restart: bash deploy/local/kafka.sh stop && bash deploy/local/kafka.sh start. ${HOW_TO_START}`,
      );
    }
  }
  if (!process.env.GROKSTREAM_KAFKA_SASL_PASSWORD) expect(existsSync(PASSWORD_FILE), `${PASSWORD_FILE} (kafka.sh start makes it)`).toBe(true);
  expect(existsSync(CA_FILE), `${CA_FILE} (kafka.sh start makes it)`).toBe(true);
});

describe(`SASL PLAIN at ${SASL_BROKERS}`, () => {
  it('ensures topics, produces and consumes with the password from the environment', async () => {
    const lines: string[] = [];
    const { settings, bus } = busFrom(SASL_ENV, lines);
    expect(settings.kafka.brokers).toEqual([SASL_BROKERS]);
    expect(settings.kafka.sasl?.mechanism).toBe('plain');
    expect(settings.kafka.ssl).toBeUndefined();
    await roundTrip(bus);
  });

  it('fails fast with a wrong password: the error names the broker and the failed authentication, never the password', async () => {
    const wrong = `wrong-${randomUUID()}`;
    const lines: string[] = [];
    const { bus } = busFrom({ ...SASL_ENV, GROKSTREAM_KAFKA_SASL_PASSWORD_FILE: undefined, GROKSTREAM_KAFKA_SASL_PASSWORD: wrong }, lines);
    try {
      const topics = await failure(() => bus.ensureTopics([{ topic: `security-${randomUUID()}`, partitions: 1 }]));
      expect(topics.message).toContain(SASL_BROKERS);
      expect(topics.message).toMatch(/authentication failed/i);
      expect(topics.text).not.toContain(wrong);
      const producer = await failure(() => bus.producer());
      expect(producer.message).toContain(SASL_BROKERS);
      expect(producer.message).toMatch(/authentication failed/i);
      expect(producer.text).not.toContain(wrong);
    } finally {
      await bus.close();
    }
    expect(lines.join('\n')).not.toContain(wrong);
  });

  it('refuses a client without SASL on the SASL listener', async () => {
    const { bus } = busFrom({ GROKSTREAM_KAFKA_BROKERS: SASL_BROKERS });
    try {
      const { message } = await failure(() => bus.ensureTopics([{ topic: `security-${randomUUID()}`, partitions: 1 }]));
      expect(message).toContain(SASL_BROKERS);
    } finally {
      await bus.close();
    }
  });
});

describe(`TLS at ${SSL_BROKERS}`, () => {
  it('ensures topics, produces and consumes trusting the CA from GROKSTREAM_KAFKA_SSL_CA_FILE', async () => {
    const { settings, bus } = busFrom({ GROKSTREAM_KAFKA_BROKERS: SSL_BROKERS, GROKSTREAM_KAFKA_SSL_CA_FILE: CA_FILE });
    expect(settings.kafka.ssl).toEqual({ ca: [expect.stringContaining('-----BEGIN CERTIFICATE-----')] });
    await roundTrip(bus);
  });

  it('fails with a certificate error when only the system CAs are trusted', async () => {
    const { settings, bus } = busFrom({ GROKSTREAM_KAFKA_BROKERS: SSL_BROKERS, GROKSTREAM_KAFKA_SSL: 'true' });
    expect(settings.kafka.ssl).toBe(true);
    try {
      const { message } = await failure(() => bus.ensureTopics([{ topic: `security-${randomUUID()}`, partitions: 1 }]));
      expect(message).toContain(SSL_BROKERS);
      expect(message).toMatch(/certificate/i);
      expect(message).toMatch(/GROKSTREAM_KAFKA_SSL_CA_FILE/); // the way out, not "start the stack"
    } finally {
      await bus.close();
    }
  });
});

describe('the CLI over SASL', () => {
  const cli = (env: Env, runId: string) => {
    const childEnv: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    for (const k of Object.keys(childEnv)) if (k.startsWith('GROKSTREAM_KAFKA_')) delete childEnv[k];
    for (const [k, v] of Object.entries(env)) if (v !== undefined) childEnv[k] = v;
    return spawnSync(process.execPath, [BIN, 'stop', '--force', runId], { cwd: REPO, env: childEnv, encoding: 'utf8', timeout: 90_000 });
  };

  it('grokstream stop --force sends StopRun through the SASL listener', () => {
    const runId = `security-${randomUUID()}`;
    const res = cli(SASL_ENV, runId);
    expect(res.error).toBeUndefined();
    expect(res.status, `stdout:\n${res.stdout}\nstderr:\n${res.stderr}`).toBe(0);
    expect(res.stdout).toMatch(new RegExp(`sent StopRun \\S+ to ${runId}`));
  });

  it('with a wrong password it exits non-zero, says authentication failed, and never prints the password', () => {
    const wrong = `wrong-${randomUUID()}`;
    const res = cli({ ...SASL_ENV, GROKSTREAM_KAFKA_SASL_PASSWORD_FILE: undefined, GROKSTREAM_KAFKA_SASL_PASSWORD: wrong }, `security-${randomUUID()}`);
    expect(res.error).toBeUndefined();
    expect(res.status).not.toBe(0);
    expect(res.stderr).toMatch(/authentication failed/i);
    expect(res.stderr).toContain(SASL_BROKERS);
    expect(`${res.stdout}\n${res.stderr}`).not.toContain(wrong);
  });
});
