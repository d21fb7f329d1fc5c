// Reading back what the pipeline did: whole topics of the private Kafka (decoded, undecodable
// kept apart), row counts in ClickHouse with and without FINAL, and the detector replay.
import { EventCodec, TOPICS, type AnyEvent, type DeadLetter, type PhaseChanged, type StopRun } from '@grokstream/schemas';
import { KafkaBus, readAll, type BusMessage } from '@grokstream/bus';
import { ClickHouseStore } from '@grokstream/store';
import { detectorOptions, parseDetectorConfig, replayEvents, type DetectorOutput } from '@grokstream/detector';
import { BROKERS, CLICKHOUSE_URL } from './env.ts';

export const codec = EventCodec.load();

export function kafkaBus(clientId = 'grokstream-faults'): KafkaBus {
  return new KafkaBus({ brokers: [BROKERS], clientId, logLevel: 'nothing' });
}

export function clickhouse(database: string): ClickHouseStore {
  return new ClickHouseStore({ url: CLICKHOUSE_URL, database, requestTimeoutMs: 20_000 });
}

export type Decoded = { msg: BusMessage; event: AnyEvent } | { msg: BusMessage; event: undefined };

/** Every message on the topics up to their current end, decoded where it decodes. */
export async function readTopics(topics: string[], timeoutMs = 60_000): Promise<Decoded[]> {
  const bus = kafkaBus('grokstream-faults-read');
  try {
    const msgs = await readAll(bus, topics, timeoutMs);
    return msgs.map((msg) => {
      try {
        const e = codec.decode(msg.value);
        return { msg, event: { name: e.name, value: e.value } as AnyEvent };
      } catch {
        return { msg, event: undefined };
      }
    });
  } finally {
    await bus.close();
  }
}

/** The decoded events of one run on the events topic, in offset order. */
export async function runEvents(runIds: string[], topic: string = TOPICS.events): Promise<AnyEvent[]> {
  const wanted = new Set(runIds);
  return (await readTopics([topic])).flatMap((d) => (d.event && wanted.has(d.event.value.run_id) ? [d.event] : []));
}

export function detectorOptionsFor(detectorName: string) {
  return detectorOptions(parseDetectorConfig({ detector: { name: detectorName, version: '1' } }, 'faults'));
}

/** The detector's verdicts over the events of these runs, as a fresh replay computes them. */
export async function replay(detectorName: string, events: AnyEvent[]): Promise<DetectorOutput[]> {
  return replayEvents(events, detectorOptionsFor(detectorName));
}

export interface PublishedOutputs {
  phases: PhaseChanged[];
  stops: StopRun[];
}

/** What a detector (by name) published on the phases and control topics for these runs. */
export async function publishedOutputs(detectorName: string, runIds: string[]): Promise<PublishedOutputs> {
  const wanted = new Set(runIds);
  const out: PublishedOutputs = { phases: [], stops: [] };
  for (const d of await readTopics([TOPICS.phases, TOPICS.control])) {
    if (!d.event || !wanted.has(d.event.value.run_id)) continue;
    if (d.event.name === 'PhaseChanged' && d.event.value.detector === detectorName) out.phases.push(d.event.value);
    if (d.event.name === 'StopRun' && d.event.value.issued_by === `${detectorName} 1`) out.stops.push(d.event.value);
  }
  return out;
}

/** A verdict as a comparable line: what it says, not when it was sent. */
export function verdictKey(o: DetectorOutput): string {
  if (o.name === 'PhaseChanged') return `phase ${o.value.run_id} ${o.value.step} ${o.value.previous_phase ?? '-'}->${o.value.phase} ${o.value.event_id}`;
  return `stop ${o.value.run_id} ${o.value.step} ${o.value.policy} ${o.value.command_id} ${o.value.event_id}`;
}

export interface Comparison {
  /** Sorted distinct verdict lines expected (replay) and found (topics). */
  expected: string[];
  found: string[];
  missing: string[];
  extra: string[];
  duplicatePhases: number;
  duplicateStops: number;
  /** Runs with more than one StopRun from this detector. */
  runsWithSeveralStops: string[];
  equal: boolean;
}

export function compareWithReplay(replayed: DetectorOutput[], published: PublishedOutputs): Comparison {
  const expected = [...new Set(replayed.map(verdictKey))].sort();
  const foundAll = [
    ...published.phases.map((value) => verdictKey({ name: 'PhaseChanged', value })),
    ...published.stops.map((value) => verdictKey({ name: 'StopRun', value })),
  ];
  const found = [...new Set(foundAll)].sort();
  const e = new Set(expected);
  const f = new Set(found);
  const stopsPerRun = new Map<string, Set<string>>();
  for (const s of published.stops) stopsPerRun.set(s.run_id, (stopsPerRun.get(s.run_id) ?? new Set()).add(s.command_id));
  const duplicatePhases = published.phases.length - new Set(published.phases.map((p) => p.event_id)).size;
  const duplicateStops = published.stops.length - new Set(published.stops.map((s) => s.event_id)).size;
  const missing = expected.filter((x) => !f.has(x));
  const extra = found.filter((x) => !e.has(x));
  return {
    expected,
    found,
    missing,
    extra,
    duplicatePhases,
    duplicateStops,
    runsWithSeveralStops: [...stopsPerRun].filter(([, s]) => s.size > 1).map(([r]) => r),
    equal: missing.length === 0 && extra.length === 0,
  };
}

export interface RowCounts {
  /** count() without FINAL (redelivered copies not merged yet). */
  raw: number;
  /** count() FINAL. */
  final: number;
  /** uniqExact of the table's identity, FINAL. */
  distinct: number;
  /** count() without FINAL after OPTIMIZE TABLE ... FINAL. */
  rawAfterOptimize: number;
  /** Rows beyond one per identity once merged: what a reader without FINAL would double count. */
  duplicates: number;
}

/** Row counts of `table` rows matching `where`, with `key` the table's identity columns. */
export async function rowCounts(store: ClickHouseStore, table: string, where: string, key: string): Promise<RowCounts> {
  const db = store.database;
  const one = async (sql: string) => Number((await store.query<{ n: number | string }>(sql))[0]?.n ?? 0);
  const raw = await one(`SELECT count() AS n FROM ${db}.${table} WHERE ${where}`);
  const final = await one(`SELECT count() AS n FROM ${db}.${table} FINAL WHERE ${where}`);
  const distinct = await one(`SELECT uniqExact(${key}) AS n FROM ${db}.${table} FINAL WHERE ${where}`);
  await store.command(`OPTIMIZE TABLE ${db}.${table} FINAL`);
  const rawAfterOptimize = await one(`SELECT count() AS n FROM ${db}.${table} WHERE ${where}`);
  return { raw, final, distinct, rawAfterOptimize, duplicates: Math.max(rawAfterOptimize, final) - distinct };
}

/** Steps of a run stored in ClickHouse (FINAL), sorted. */
export async function storedSteps(store: ClickHouseStore, runId: string): Promise<number[]> {
  const rows = await store.query<{ step: number | string }>(
    `SELECT step FROM ${store.database}.steps FINAL WHERE run_id = '${runId}' ORDER BY step`,
  );
  return rows.map((r) => Number(r.step));
}

/** Rows of a run in ClickHouse (FINAL) across the tables a trainer's events land in: steps, runs,
 * run_ends and checkpoints. A run's last events (RunFinished, a checkpoint) may reach ClickHouse in
 * a later insert than its last step, so wait on this, not on the steps alone, before counting. */
export async function storedRunRows(store: ClickHouseStore, runId: string): Promise<number> {
  const tables = ['steps', 'runs', 'run_ends', 'checkpoints'];
  const sql = tables.map((t) => `SELECT count() AS n FROM ${store.database}.${t} FINAL WHERE run_id = '${runId}'`).join(' UNION ALL ');
  const rows = await store.query<{ n: number | string }>(sql);
  return rows.reduce((n, r) => n + Number(r.n), 0);
}

/** Largest step of a run in ClickHouse, or 0 (also while the table does not exist yet). */
export async function maxStoredStep(store: ClickHouseStore, runId: string): Promise<number> {
  try {
    const rows = await store.query<{ n: number | string }>(`SELECT max(step) AS n FROM ${store.database}.steps WHERE run_id = '${runId}'`);
    return Number(rows[0]?.n ?? 0);
  } catch {
    return 0;
  }
}

/** Steps 1..n each exactly once? Returns the gaps and the repeats. */
export function stepGaps(steps: number[], n: number): { gaps: number[]; repeats: number[] } {
  const seen = new Map<number, number>();
  for (const s of steps) seen.set(s, (seen.get(s) ?? 0) + 1);
  const gaps: number[] = [];
  for (let s = 1; s <= n; s++) if (!seen.has(s)) gaps.push(s);
  return { gaps, repeats: [...seen].filter(([, c]) => c > 1).map(([s]) => s) };
}

/** Compresses a list of integers into ranges for a readable detail ("1-5,9"). */
export function ranges(xs: number[], max = 20): string {
  const sorted = [...xs].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j]! + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.length > max ? `${parts.slice(0, max).join(',')},... (${sorted.length} values)` : parts.join(',');
}

export function deadLettersOf(decoded: Decoded[]): DeadLetter[] {
  return decoded.flatMap((d) => (d.event?.name === 'DeadLetter' ? [d.event.value] : []));
}

/** Polls `check` until it holds or limitMs passes; returns the time taken, or undefined on timeout. */
export async function within(limitMs: number, check: () => Promise<boolean> | boolean, everyMs = 500): Promise<number | undefined> {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await check()) return Date.now() - t0;
    } catch {
      // The thing checked may be down or not there yet: keep polling until the limit.
    }
    if (Date.now() - t0 > limitMs) return undefined;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
