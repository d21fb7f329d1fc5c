// bench-results/faults.json: one object per case, merged by case name, written when the case
// ends whether its checks passed, failed, or the harness gave up half-way.
import { mkdirSync, readFileSync, renameSync, writeFileSync, existsSync } from 'node:fs';
import { dirname } from 'node:path';
import { RESULTS_FILE } from './env.ts';

export interface Check {
  check: string;
  ok: boolean;
  detail?: string;
}

export interface CaseRecord {
  case: string;
  passed: boolean;
  /** Events the producer side (trainer or test publisher) sent. */
  events_sent: number | null;
  /** Of those, how many are in ClickHouse (or on the topic, where nothing stores them). */
  events_stored: number | null;
  lost: number | null;
  duplicate_rows: number | null;
  dead_letters: number | null;
  /** From the fault's end (service back, process restarted) until the pipeline caught up. */
  recovery_ms: number | null;
  duration_ms: number;
  checks: Check[];
  failed_checks: string[];
  error?: string;
  metrics: Record<string, unknown>;
  measured_at: string;
}

type Headline = Pick<CaseRecord, 'events_sent' | 'events_stored' | 'lost' | 'duplicate_rows' | 'dead_letters' | 'recovery_ms'>;

export function mergeResult(record: CaseRecord): void {
  mkdirSync(dirname(RESULTS_FILE), { recursive: true });
  let all: Record<string, CaseRecord> = {};
  if (existsSync(RESULTS_FILE)) {
    try {
      all = JSON.parse(readFileSync(RESULTS_FILE, 'utf8')) as Record<string, CaseRecord>;
    } catch {
      all = {};
    }
  }
  all[record.case] = record;
  const tmp = `${RESULTS_FILE}.tmp-${process.pid}`;
  writeFileSync(tmp, `${JSON.stringify(all, null, 2)}\n`);
  renameSync(tmp, RESULTS_FILE);
}

/**
 * One case's measurements and named checks. `run` executes the case body, writes the record (also
 * when the body throws), and then fails the test with every failed check listed, so one run shows
 * all that is wrong rather than the first assertion only.
 */
export class CaseResult {
  readonly started = Date.now();
  readonly checks: Check[] = [];
  readonly metrics: Record<string, unknown> = {};
  headline: Headline = { events_sent: null, events_stored: null, lost: null, duplicate_rows: null, dead_letters: null, recovery_ms: null };

  constructor(readonly name: string) {}

  set(h: Partial<Headline>): void {
    this.headline = { ...this.headline, ...h };
  }

  metric(key: string, value: unknown): void {
    this.metrics[key] = value;
  }

  check(name: string, ok: boolean, detail?: unknown): boolean {
    const text = detail === undefined ? undefined : typeof detail === 'string' ? detail : JSON.stringify(detail);
    // A failed check keeps its evidence (up to 3,000 characters); a passed one only a short note.
    const keep = text === undefined || (ok && text.length > 200) ? undefined : text.slice(-3000);
    this.checks.push({ check: name, ok, ...(keep === undefined ? {} : { detail: keep }) });
    return ok;
  }

  /** check(name, actual === expected) with both in the detail. */
  equal(name: string, actual: unknown, expected: unknown): boolean {
    const a = JSON.stringify(actual);
    const e = JSON.stringify(expected);
    return this.check(name, a === e, a === e ? `${a}` : `got ${a}, expected ${e}`);
  }

  get failed(): Check[] {
    return this.checks.filter((c) => !c.ok);
  }

  write(error?: unknown): CaseRecord {
    const failed = this.failed.map((c) => c.check);
    const record: CaseRecord = {
      case: this.name,
      passed: error === undefined && failed.length === 0 && this.checks.length > 0,
      ...this.headline,
      duration_ms: Date.now() - this.started,
      checks: this.checks,
      failed_checks: failed,
      ...(error === undefined ? {} : { error: error instanceof Error ? error.message : String(error) }),
      metrics: this.metrics,
      measured_at: new Date().toISOString(),
    };
    mergeResult(record);
    return record;
  }

  async run(body: () => Promise<void>): Promise<void> {
    try {
      await body();
    } catch (err) {
      this.write(err);
      throw err;
    }
    const record = this.write();
    const summary = `${record.case}: ${JSON.stringify({ ...this.headline, duration_ms: record.duration_ms })}`;
    console.log(summary);
    if (this.checks.length === 0) throw new Error(`${this.name}: no checks ran`);
    if (this.failed.length > 0) {
      throw new Error(`${this.name}: ${this.failed.length} of ${this.checks.length} checks failed:\n` + this.failed.map((c) => `  - ${c.check}: ${c.detail ?? ''}`).join('\n'));
    }
  }
}
