// Issue 7 as a test, run on every bus: 10,000 malformed messages of every kind (some near the
// broker's 1 MB limit) with 1,000 good events among them. A committing group (like ingest) and a
// non-committing one (like the detector) both handle every good event and write exactly one
// letter per bad message; a restart of the non-committing group writes none again.
// Registered by events.spec.ts (memory) and tests/integration/bus-dead-letters.test.ts (Kafka).
import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomUUID } from 'node:crypto';
import { EventCodec, exampleStepMetrics, type DeadLetter } from '@grokstream/schemas';
import type { Bus, OutgoingMessage, Producer } from './bus.ts';
import { eventConsumer, type EventConsumer, type ReceivedEvent } from './events.ts';
import { scanAll } from './read-all.ts';
import { largestValueBytes, KAFKA_DEFAULT_MAX_MESSAGE_BYTES } from './request-size.ts';
import { DEAD_LETTER_MAX_MESSAGE_BYTES } from './topics.ts';
import { waitUntil } from './wait.ts';

export interface DeadLetterAcceptanceOptions {
  /** Bound on each phase (delivery, restart). */
  timeoutMs: number;
  /** Where timings go (the issue asks for them). */
  report?: (line: string) => void;
}

const BAD = 10_000;
const GOOD = 1_000;
const NEAR_LIMIT = 6;
const RUNS = 20;

/** Small deterministic PRNG, so a failure reproduces. */
function prng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const digest = (b: Buffer) => createHash('sha1').update(b).digest('hex');

interface Corpus {
  messages: OutgoingMessage[];
  goodIds: Set<string>;
  /** sha1 of each bad payload -> the decode error kind it must get ('' when any kind will do). */
  bad: Map<string, string>;
}

/** The mixed stream: every kind of malformed message, each unique, with good events interleaved. */
export function buildCorpus(codec: EventCodec, seed = 7): Corpus {
  const rand = prng(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const run = (i: number) => `accept-run-${i % RUNS}`;
  const steps = new Map<string, number>();
  const good = (i: number) => {
    const run_id = run(i);
    const step = steps.get(run_id) ?? 0;
    steps.set(run_id, step + 1);
    const e = exampleStepMetrics({ run_id, step, event_id: `accept-${seed}-${i}` });
    return { id: e.event_id, value: codec.encode('StepMetrics', e) };
  };
  const known = codec.fingerprint('StepMetrics');
  const unknownFingerprint = () => {
    for (;;) {
      const fp = bytes(8);
      if (!codec.knownFingerprints().includes(fp.readBigUInt64LE(0))) return fp;
    }
  };
  const bad = new Map<string, string>();
  const badMessages: OutgoingMessage[] = [];
  const add = (value: Buffer, kind: string, key: string | null) => {
    const h = digest(value);
    if (bad.has(h)) return false; // keep payloads unique, so each letter maps to one message
    bad.set(h, kind);
    badMessages.push({ key, value });
    return true;
  };
  const kinds: Array<() => [Buffer, string]> = [
    () => [bytes(1 + int(300)), ''], // random bytes
    () => {
      const b = good(100_000 + int(1e6)).value;
      b[0] = 0xc2;
      return [b, 'bad-magic'];
    },
    () => [Buffer.concat([Buffer.from([0xc3, 0x01]), unknownFingerprint(), bytes(int(200))]), 'unknown-fingerprint'],
    () => {
      const b = good(100_000 + int(1e6)).value;
      return [b.subarray(0, int(b.length)), 'truncated'];
    },
    () => [Buffer.concat([good(100_000 + int(1e6)).value, bytes(1 + int(20))]), 'trailing-bytes'],
    () => {
      const header = Buffer.alloc(10);
      header[0] = 0xc3;
      header[1] = 0x01;
      header.writeBigUInt64LE(known, 2);
      return [Buffer.concat([header, bytes(1 + int(100))]), '']; // a known schema, a garbage body
    },
  ];
  // Near the source topic's limit: the letters wrapping them are over it.
  const near = largestValueBytes(run(0), KAFKA_DEFAULT_MAX_MESSAGE_BYTES) - 64;
  for (let i = 0; i < NEAR_LIMIT; i++) {
    const v = bytes(near - i);
    v[0] = 0x00; // bad magic, whatever the random bytes
    add(v, 'bad-magic', run(i));
  }
  while (badMessages.length < BAD) {
    const [value, kind] = kinds[badMessages.length % kinds.length]!();
    add(value, kind, int(10) === 0 ? null : run(int(RUNS)));
  }
  // Good events go in at random places; the big ones are spread out too.
  steps.clear();
  const goodIds = new Set<string>();
  const messages = [...badMessages];
  for (let i = 0; i < GOOD; i++) {
    const { id, value } = good(i);
    goodIds.add(id);
    messages.splice(int(messages.length + 1), 0, { key: run(i), value });
  }
  return { messages, goodIds, bad };
}

export function deadLetterAcceptance(name: string, makeBus: () => Promise<Bus>, opts: DeadLetterAcceptanceOptions): void {
  describe(`dead letters under a flood of malformed messages: ${name}`, () => {
    const open: Array<{ stop(): Promise<void> } | Producer> = [];
    let bus: Bus | undefined;

    afterEach(async () => {
      for (const c of open.splice(0).reverse()) await ('stop' in c ? c.stop() : c.close());
      await bus?.close();
      bus = undefined;
    });

    it('handles every good event, writes exactly one letter per bad message and group, and none again after a restart', async () => {
      const codec = EventCodec.load();
      const report = opts.report ?? (() => {});
      const t0 = Date.now();
      bus = await makeBus();
      const b = bus;
      const id = randomUUID().slice(0, 8);
      const source = `accept.events.${id}`;
      const dlt = `accept.deadletter.${id}`;
      await b.ensureTopics([
        { topic: source, partitions: 4 },
        { topic: dlt, partitions: 1, config: { 'max.message.bytes': String(DEAD_LETTER_MAX_MESSAGE_BYTES) } },
      ]);
      const corpus = buildCorpus(codec);
      const producer = await b.producer();
      open.push(producer);
      await producer.send(source, corpus.messages);
      const tSent = Date.now();

      const errors: unknown[] = [];
      const logs: string[] = [];
      const group = (groupId: string, commit: boolean, failFirst = 0) => {
        const seen = new Set<string>();
        let failures = failFirst;
        const consumer: EventConsumer = eventConsumer(b, {
          groupId,
          topics: [source],
          fromBeginning: true,
          commit,
          codec,
          deadLetters: producer,
          deadLetterTopic: dlt,
          log: (line) => logs.push(line),
          onError: (err) => errors.push(err),
          retryDelayMs: () => 50,
          handle: async (events: ReceivedEvent[]) => {
            // Like a store that is down at first: the batch (and its letters) come again.
            if (failures > 0) {
              failures--;
              throw new Error('store unavailable');
            }
            for (const e of events) seen.add(e.value.event_id);
          },
        });
        open.push(consumer);
        return { consumer, seen };
      };
      const ingestLike = group(`accept-ingest-${id}`, true, 3);
      const detectorLike = group(`accept-detector-${id}`, false);
      await Promise.all([ingestLike.consumer.start(), detectorLike.consumer.start()]);
      const done = (g: ReturnType<typeof group>) =>
        g.seen.size === GOOD && g.consumer.stats.deadLetters === BAD;
      await waitUntil(() => done(ingestLike) && done(detectorLike), 'every good event and every letter, in both groups', opts.timeoutMs);
      const tHandled = Date.now();

      // What reached the dead-letter topic, per group.
      const letters = new Map<string, DeadLetter[]>();
      const letterBytes = new Map<string, number>();
      await scanAll(b, [dlt], (m) => {
        const d = codec.decode(m.value);
        expect(d.name).toBe('DeadLetter');
        const l = d.value as DeadLetter;
        const list = letters.get(l.consumer) ?? [];
        list.push(l);
        letters.set(l.consumer, list);
        letterBytes.set(l.consumer, (letterBytes.get(l.consumer) ?? 0) + m.value.length);
      });
      for (const g of [ingestLike, detectorLike]) {
        const groupId = g === ingestLike ? `accept-ingest-${id}` : `accept-detector-${id}`;
        const mine = letters.get(groupId) ?? [];
        expect(mine).toHaveLength(BAD);
        expect(new Set(mine.map((l) => `${l.source_partition}/${l.source_offset}`)).size).toBe(BAD);
        expect(new Set(mine.map((l) => l.event_id)).size).toBe(BAD);
        // Each letter carries the original bytes and the reason its kind of damage deserves.
        const payloads = new Set<string>();
        for (const l of mine) {
          const h = digest(l.payload);
          expect(corpus.bad.has(h)).toBe(true);
          payloads.add(h);
          const kind = corpus.bad.get(h)!;
          if (kind) expect(l.error_kind).toBe(kind);
          expect(l.reason.length).toBeGreaterThan(10);
          expect(l.source_topic).toBe(source);
        }
        expect(payloads.size).toBe(BAD);
        expect(new Set(mine.map((l) => l.error_kind))).toEqual(
          new Set(['bad-magic', 'truncated', 'unknown-fingerprint', 'malformed-body', 'trailing-bytes']),
        );
        expect(g.seen).toEqual(corpus.goodIds);
        expect(g.consumer.stats.deadLetterWriteFailures).toBe(0);
      }
      // The committing group's failed batches came again without writing their letters twice.
      expect(errors).toHaveLength(3);
      expect(ingestLike.consumer.stats.deadLettersSkipped).toBeGreaterThan(0);
      expect(logs).toEqual([]);

      // Restart the non-committing group: it reads everything again and writes no letter.
      const dltEnd = await b.endOffsets(dlt);
      expect(Number(dltEnd[0]!.offset)).toBe(2 * BAD);
      await detectorLike.consumer.stop();
      const tRestart = Date.now();
      const again = group(`accept-detector-${id}`, false);
      await again.consumer.start();
      const tSeeded = Date.now();
      expect(again.consumer.stats.deadLettersSeeded).toBe(BAD);
      await waitUntil(
        () => again.seen.size === GOOD && again.consumer.stats.deadLettersSkipped + again.consumer.stats.deadLetters >= BAD,
        'the restarted group to read everything again',
        opts.timeoutMs,
      );
      const tReread = Date.now();
      expect(again.consumer.stats.deadLetters).toBe(0);
      expect(again.consumer.stats.deadLettersSkipped).toBe(BAD);
      expect(await b.endOffsets(dlt)).toEqual(dltEnd);
      report(
        `acceptance on ${name}: ${corpus.messages.length} messages sent in ${tSent - t0} ms; both groups done in ` +
          `${tHandled - tSent} ms (letters: ${[...letterBytes.values()].map((n) => `${(n / 1e6).toFixed(1)} MB`).join(' + ')}); ` +
          `restart seeded ${again.consumer.stats.deadLettersSeeded} letters in ${tSeeded - tRestart} ms and re-read all in ` +
          `${tReread - tSeeded} ms with no new letter; total ${Date.now() - t0} ms`,
      );
    });
  });
}
