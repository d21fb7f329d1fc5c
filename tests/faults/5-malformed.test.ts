// Case 5: 10,000 malformed messages of every kind (random bytes, wrong magic, unknown fingerprint,
// truncated, trailing bytes) with 1,000 good events among them, on every topic the services read
// (events, phases, control), while the ingest process and a detector run. Expected: all 1,000 good
// events stored; every malformed message dead-lettered with its reason exactly once per consumer
// group that reads its topic (ingest: all three topics; the detector: the events topic), also after
// the detector restarts (sentinel runs published behind the flood prove the restarted detector
// read past it again); and no service stuck for more than 60 s.
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { EventCodec, TOPICS, newEventId, type AnyEvent, type DeadLetter, type PhaseChanged, type StopRun } from '@grokstream/schemas';
import { EventPublisher, partitionForKey, standardTopics, type KafkaBus, type OutgoingMessage, type Producer } from '@grokstream/bus';
import type { ClickHouseStore } from '@grokstream/store';
import { uniqueId } from './env.ts';
import { ensureStack, sleep } from './stack.ts';
import { detectorReady, ingestReady, killAll, spawnDetector, spawnIngest, writeDetectorConfig, type Proc } from './procs.ts';
import { clickhouse, compareWithReplay, deadLettersOf, kafkaBus, publishedOutputs, readTopics, replay, rowCounts, runEvents, within } from './checks.ts';
import { recordedRun } from './recorded.ts';
import { CaseResult } from './results.ts';

const CASE = 'malformed';
const MALFORMED = 10_000;
const KINDS = ['random-bytes', 'wrong-magic', 'unknown-fingerprint', 'truncated', 'trailing-bytes'] as const;
type Kind = (typeof KINDS)[number];
/** The DecodeError kind each malformed kind must be reported as (random bytes: any kind). */
const EXPECTED_KIND: Record<Kind, string | undefined> = {
  'random-bytes': undefined,
  'wrong-magic': 'bad-magic',
  'unknown-fingerprint': 'unknown-fingerprint',
  truncated: 'truncated',
  'trailing-bytes': 'trailing-bytes',
};
const TOPICS_READ = [TOPICS.events, TOPICS.phases, TOPICS.control];
const STUCK_LIMIT_MS = 60_000;

interface Planned {
  topic: string;
  message: OutgoingMessage;
  kind?: Kind;
}

function phaseChanged(runId: string, i: number): PhaseChanged {
  return {
    event_id: newEventId(),
    run_id: runId,
    seq: i,
    ts: Date.now(),
    step: i,
    phase: 'MEMORIZATION',
    previous_phase: 'WARMUP',
    evidence: { window_start: i, window_end: i, values: { train_acc: 1 }, thresholds: { memorized_train_acc: 0.99 } },
    detector: 'faults-fabricated',
    detector_version: '1',
  };
}

function stopRun(runId: string, i: number): StopRun {
  return {
    event_id: newEventId(),
    run_id: runId,
    seq: i,
    ts: Date.now(),
    command_id: newEventId(),
    policy: 'manual',
    reason: 'fault suite: a good command among malformed ones',
    step: i,
    evidence: { window_start: i, window_end: i, values: {}, thresholds: {} },
    issued_by: 'faults-fabricated',
  };
}

function malformed(codec: EventCodec, kind: Kind, good: Buffer): Buffer {
  switch (kind) {
    case 'random-bytes':
      return randomBytes(1 + Math.floor(Math.random() * 300));
    case 'wrong-magic': {
      const b = Buffer.from(good);
      const at = Math.random() < 0.5 ? 0 : 1;
      b[at] = b[at]! ^ 0x5a;
      return b;
    }
    case 'unknown-fingerprint': {
      const b = Buffer.from(good);
      const known = new Set(codec.knownFingerprints());
      do randomBytes(8).copy(b, 2);
      while (known.has(b.readBigUInt64LE(2)));
      return b;
    }
    case 'truncated':
      // Any strict prefix: shorter than the magic, than the header, or a body that ends early.
      return good.subarray(0, Math.floor(Math.random() * good.length));
    case 'trailing-bytes':
      return Buffer.concat([good, randomBytes(1 + Math.floor(Math.random() * 16))]);
  }
}

describe('fault: 10,000 malformed messages among 1,000 good events', () => {
  const id = uniqueId();
  const database = `faults_malformed_${id}`;
  const detectorName = `faults-mal-${id}`;
  const ingestGroup = `faults-ingest-${id}`;
  const detectorGroup = `grokstream-detector-${detectorName}`;
  const keyPrefix = `faults-mal-${id}-bad-`;
  let config: string;
  let store: ClickHouseStore;
  let ingest: Proc;
  let detector: Proc;
  let bus: KafkaBus;
  let producer: Producer;

  beforeAll(async () => {
    await ensureStack();
    store = clickhouse(database);
    bus = kafkaBus();
    await bus.ensureTopics(standardTopics(4));
    producer = await bus.producer();
    config = writeDetectorConfig(CASE, detectorName);
    ingest = spawnIngest(CASE, { database, group: ingestGroup });
    detector = spawnDetector(CASE, config, 'detector');
    await Promise.all([ingestReady(ingest), detectorReady(detector)]);
  });

  afterAll(async () => {
    await killAll();
    await producer?.close().catch(() => {});
    await bus?.close().catch(() => {});
    await store?.close();
  });

  it('stores the good, dead-letters the bad once per group, and nothing gets stuck', async () => {
    const r = new CaseResult('malformed-10000');
    await r.run(async () => {
      const codec = EventCodec.load();
      // 1,000 good events: 4 recorded runs' first 200 steps (events), 100 PhaseChanged (phases),
      // 100 StopRun for runs that do not exist (control).
      const runIds = [0, 1, 2, 3].map((i) => `faults-mal-${id}-run-${i}`);
      const files = ['modular-add-seed0', 'modular-add-seed1', 'modular-sub-seed0', 'modular-add-seed1'];
      const goodSteps = runIds.flatMap((runId, i) => recordedRun(files[i]!, runId, 200));
      const phaseRun = `faults-mal-${id}-phases`;
      const commandRun = `faults-mal-${id}-commands`;
      const good: Array<{ topic: string; event: AnyEvent }> = [
        ...goodSteps.map((event) => ({ topic: TOPICS.events, event })),
        ...Array.from({ length: 100 }, (_, i) => ({ topic: TOPICS.phases, event: { name: 'PhaseChanged', value: phaseChanged(phaseRun, i) } as AnyEvent })),
        ...Array.from({ length: 100 }, (_, i) => ({ topic: TOPICS.control, event: { name: 'StopRun', value: stopRun(commandRun, i) } as AnyEvent })),
      ];
      const templates = good.map((g) => codec.encode(g.event.name, g.event.value as never));
      const bad: Planned[] = Array.from({ length: MALFORMED }, (_, i) => {
        const kind = KINDS[i % KINDS.length]!;
        return {
          topic: TOPICS_READ[i % TOPICS_READ.length]!,
          kind,
          message: { key: `${keyPrefix}${i}`, value: malformed(codec, kind, templates[i % templates.length]!) },
        };
      });
      const kindOf = new Map(bad.map((b) => [b.message.key!, b.kind!]));
      const topicOf = new Map(bad.map((b) => [b.message.key!, b.topic]));
      const badOnEvents = bad.filter((b) => b.topic === TOPICS.events).length;
      // Good events stay in order per run; malformed ones are spread between them.
      const plan: Planned[] = [];
      let g = 0;
      for (let i = 0; i < bad.length; i++) {
        plan.push(bad[i]!);
        if (i % 10 === 9 && g < good.length) {
          plan.push({ topic: good[g]!.topic, message: { key: good[g]!.event.value.run_id, value: templates[g]! } });
          g++;
        }
      }
      for (; g < good.length; g++) plan.push({ topic: good[g]!.topic, message: { key: good[g]!.event.value.run_id, value: templates[g]! } });

      const t0 = Date.now();
      for (let i = 0; i < plan.length; i += 500) {
        const chunk = plan.slice(i, i + 500);
        for (const topic of TOPICS_READ) {
          const msgs = chunk.filter((p) => p.topic === topic).map((p) => p.message);
          if (msgs.length > 0) await producer.send(topic, msgs);
        }
      }
      const publishMs = Date.now() - t0;
      r.metric('published', { messages: plan.length, good: good.length, malformed: bad.length, malformed_on_events: badOnEvents, publish_ms: publishMs });

      // Nothing stuck: each service gets through everything within 60 s of the last message.
      const storedGood = async () => {
        const steps = await rowCounts(store, 'steps', `run_id IN (${runIds.map((x) => `'${x}'`).join(',')})`, 'run_id, step');
        const phases = await rowCounts(store, 'phases', `run_id = '${phaseRun}' AND detector = 'faults-fabricated'`, 'event_id');
        const commands = await rowCounts(store, 'commands', `run_id = '${commandRun}'`, 'command_id');
        return { steps, phases, commands, total: steps.distinct + phases.distinct + commands.distinct };
      };
      const letters = async (): Promise<DeadLetter[]> => deadLettersOf(await readTopics([TOPICS.deadLetter])).filter((l) => l.run_id.startsWith(keyPrefix));
      const byGroup = (all: DeadLetter[], group: string) => all.filter((l) => l.consumer === group);
      const ingestDone = await within(STUCK_LIMIT_MS, async () => (await storedGood()).total >= good.length, 2000);
      const ingestLettersDone = await within(STUCK_LIMIT_MS, async () => byGroup(await letters(), ingestGroup).length >= MALFORMED, 2000);
      const detectorLettersDone = await within(STUCK_LIMIT_MS, async () => byGroup(await letters(), detectorGroup).length >= badOnEvents, 2000);
      r.metric('caught_up_ms', { ingest_rows: ingestDone ?? null, ingest_dead_letters: ingestLettersDone ?? null, detector_dead_letters: detectorLettersDone ?? null });
      r.check('ingest stored the good events within 60 s', ingestDone !== undefined, ingest.tail(1500));
      r.check('ingest dead-lettered the malformed within 60 s', ingestLettersDone !== undefined, ingest.tail(1500));
      r.check('the detector dead-lettered the malformed within 60 s', detectorLettersDone !== undefined, detector.tail(1500));

      // The detector restarts (clean stop, then start): it must not dead-letter anything again.
      detector.kill('SIGTERM');
      const stopped = await detector.waitExit(30_000);
      r.check('the detector stops cleanly on SIGTERM (exit 0 or 130)', stopped?.code === 0 || stopped?.code === 130, stopped ? `exit ${stopped.code}: ${detector.tail(1500)}` : 'still running 30 s after SIGTERM');
      if (!stopped) await detector.killHard();
      const restarted = spawnDetector(CASE, config, 'detector-restarted');
      const restartT = Date.now();
      await detectorReady(restarted);
      // After the restart, one sentinel run per partition of the events topic, behind the flood:
      // once the restarted detector has published the sentinels' verdicts, it has read past every
      // malformed message again (and would have dead-lettered them a second time by then).
      const partitions = await bus.partitionCount(TOPICS.events);
      const sentinels: string[] = [];
      for (let k = 0; sentinels.length < partitions; k++) {
        const runId = `faults-mal-${id}-sentinel-${k}`;
        if (!sentinels.some((x) => partitionForKey(x, partitions) === partitionForKey(runId, partitions))) sentinels.push(runId);
      }
      const sentinelEvents = sentinels.flatMap((runId) => recordedRun('modular-add-seed0', runId, 200));
      await new EventPublisher(producer, codec).publish(TOPICS.events, sentinelEvents);
      const checked = [...runIds, ...sentinels];
      const events = await runEvents(checked);
      const replayed = await replay(detectorName, events);
      let cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, checked));
      const verdictsDone = await within(STUCK_LIMIT_MS, async () => {
        cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, checked));
        return cmp.equal;
      }, 1000);
      r.set({ recovery_ms: verdictsDone === undefined ? null : Date.now() - restartT });
      await sleep(3_000);
      r.check('the replay gives the sentinels verdicts to wait for', sentinels.every((x) => replayed.some((o) => o.value.run_id === x)), replayed.length);
      r.check('the restarted detector got through the flood within 60 s (its verdicts equal the replay)', verdictsDone !== undefined, { missing: cmp.missing, extra: cmp.extra });

      const all = await letters();
      const report = (group: string, expected: number, topics: string[]) => {
        const mine = byGroup(all, group);
        const keys = new Set(mine.map((l) => l.run_id));
        const wrongKind = mine.filter((l) => {
          const want = EXPECTED_KIND[kindOf.get(l.run_id)!];
          return want !== undefined && l.error_kind !== want;
        });
        const wrongTopic = mine.filter((l) => l.source_topic !== topicOf.get(l.run_id));
        const noReason = mine.filter((l) => !l.reason || !l.error_kind);
        const wanted = bad.filter((b) => topics.includes(b.topic)).length;
        return { letters: mine.length, distinct: keys.size, duplicates: mine.length - keys.size, expected, wanted, wrongKind: wrongKind.length, wrongKindSample: wrongKind.slice(0, 3).map((l) => `${kindOf.get(l.run_id)} -> ${l.error_kind}: ${l.reason}`), wrongTopic: wrongTopic.length, noReason: noReason.length };
      };
      const ingestReport = report(ingestGroup, MALFORMED, TOPICS_READ);
      const detectorReport = report(detectorGroup, badOnEvents, [TOPICS.events]);
      const otherGroups = [...new Set(all.map((l) => l.consumer))].filter((c) => c !== ingestGroup && c !== detectorGroup);
      r.metric('dead_letters', { ingest: ingestReport, detector: detectorReport, other_groups: otherGroups });
      for (const [name, rep] of [['ingest', ingestReport], ['detector', detectorReport]] as const) {
        r.check(`${name}: one dead letter per malformed message it reads`, rep.distinct === rep.expected, rep);
        r.check(`${name}: no dead letter twice (also after the detector restart)`, rep.duplicates === 0, rep);
        r.check(`${name}: every dead letter has a reason and the right kind and source`, rep.noReason === 0 && rep.wrongKind === 0 && rep.wrongTopic === 0, rep);
      }
      const kinds = Object.fromEntries(KINDS.map((k) => [k, byGroup(all, ingestGroup).filter((l) => kindOf.get(l.run_id) === k).length]));
      r.metric('ingest_dead_letters_by_kind', kinds);

      const stored = await storedGood();
      r.metric('rows', stored);
      const storedLetters = await rowCounts(store, 'dead_letters', `startsWith(run_id, '${keyPrefix}') AND consumer = '${ingestGroup}'`, 'source_topic, source_partition, source_offset');
      r.metric('dead_letter_rows', storedLetters);
      r.set({
        events_sent: good.length,
        events_stored: stored.total,
        lost: good.length - stored.total,
        duplicate_rows: stored.steps.duplicates + stored.phases.duplicates + stored.commands.duplicates + storedLetters.duplicates,
        dead_letters: ingestReport.letters + detectorReport.letters,
      });
      r.check('all 1,000 good events stored', stored.total === good.length, { steps: stored.steps.distinct, phases: stored.phases.distinct, commands: stored.commands.distinct });
      r.check('dead letters stored in ClickHouse, once each', storedLetters.distinct === MALFORMED && storedLetters.duplicates === 0, storedLetters);
      r.check('ingest still running', ingest.exited === undefined, ingest.exited ? ingest.tail(1500) : undefined);
      r.check('restarted detector still running', restarted.exited === undefined, restarted.exited ? restarted.tail(1500) : undefined);
    });
  }, 420_000);
});
