// Acceptance of the dashboards (issue 8) on the real stack: `grokstream ingest` and
// `grokstream detect` run as processes against Kafka and the ClickHouse server, the grokking
// example trains with `grokstream run`, and then the panels answer as Grafana would ask them:
// the run overview holds the run's full curve, one row per step; the phase bands hold
// MEMORIZATION, then GROKKING and CONVERGED; the summary table has the memorized and grokked
// steps and the delay `grokstream run` printed, beside the phase events' onsets; and a write
// through `grokstream query` fails as read-only.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ClickHouseStore } from '@grokstream/store';
import { DASHBOARDS, allPanels, expandSql, resolveVariables } from '@grokstream/panels';
import { waitUntil } from '../../services/bus/src/wait.ts';
import { CLICKHOUSE_URL, KAFKA_BROKERS, requireClickHouse, requireKafka } from './services.ts';

const BIN = 'services/cli/bin/grokstream.js';

describe('dashboards on the real stack, after the grokking example', () => {
  const id = randomUUID().replace(/-/g, '').slice(0, 10);
  const database = `dashboards_${id}`;
  const env = {
    ...process.env,
    GROKSTREAM_KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    GROKSTREAM_STORE: 'clickhouse',
    GROKSTREAM_CLICKHOUSE_URL: CLICKHOUSE_URL,
    GROKSTREAM_DATABASE: database,
    GROKSTREAM_INGEST_GROUP: `dashboards-ingest-${id}`,
  };
  const services: { name: string; child: ChildProcess; output: string }[] = [];
  let store: ClickHouseStore;
  let runId = '';
  /** What `grokstream run` printed: its summary has the run's milestones. */
  let trainerOutput = '';

  const start = (name: string, args: string[]) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const s = { name, child, output: '' };
    child.stdout!.on('data', (d) => (s.output += d));
    child.stderr!.on('data', (d) => (s.output += d));
    services.push(s);
    return s;
  };
  const logs = () => services.map((s) => `--- ${s.name}\n${s.output.slice(-1500)}`).join('\n');
  /** waitUntil, polling every half second, with the services' output in the error. */
  let lastSeen = '';
  const patiently = async (check: () => Promise<boolean>, what: string, timeoutMs: number) => {
    try {
      await waitUntil(async () => (await check()) || (await new Promise((r) => setTimeout(r, 500)), false), what, timeoutMs);
    } catch (err) {
      throw new Error(`${(err as Error).message}; last seen: ${lastSeen}\n${logs()}`);
    }
  };

  beforeAll(async () => {
    await requireKafka();
    await requireClickHouse();
    store = new ClickHouseStore({ url: CLICKHOUSE_URL, database });
    start('ingest', ['ingest']);
    start('detect', ['detect']);
    // The ingest service creates the database (migrations) before it consumes.
    await patiently(async () => (await store.query(`SELECT count() AS n FROM system.tables WHERE database = '${database}' AND name = 'run_summary'`))[0]?.n === 1, `ingest to create ${database}`, 60_000);
    // With a stop gate: the detector service tells the trainer how far it has judged (below).
    const trainer = start('run', ['run', 'examples/modular-addition-grokking.yaml', `run.checkpoint.dir=.grokstream/dashboards-${id}`, 'run.stop_gate.lag=1']);
    const code = await new Promise<number | null>((resolve) => trainer.child.on('exit', resolve));
    expect(code, logs()).toBe(0);
    runId = /^run (\S+): /m.exec(trainer.output)?.[1] ?? '';
    trainerOutput = trainer.output;
    expect(runId, trainer.output).not.toBe('');
    // "run ID: completed at step N" (or early_stopped): N is the last step trained.
    const last = Number(/^run \S+: \w+ at step (\d+)/m.exec(trainer.output)?.[1]);
    // Every step is stored and the run has ended in the store, and the detector's phases are in.
    await patiently(
      async () => {
        const [s] = await store.query<{ steps: number; last: number; ended: string | null; phases: number }>(
          `SELECT (SELECT count() FROM ${database}.steps FINAL WHERE run_id = '${runId}') AS steps, ` +
            `(SELECT max(step) FROM ${database}.steps WHERE run_id = '${runId}') AS last, ` +
            `(SELECT any(ended) FROM ${database}.run_summary WHERE run_id = '${runId}') AS ended, ` +
            `(SELECT count() FROM ${database}.phases FINAL WHERE run_id = '${runId}' AND phase = 'CONVERGED') AS phases`,
        );
        lastSeen = `${JSON.stringify(s)}, expecting steps up to ${last}`;
        return s !== undefined && s.last === last && s.ended !== null && s.phases > 0;
      },
      `run ${runId} in ${database}`,
      120_000,
    );
  }, 420_000);

  afterAll(async () => {
    for (const s of services) if (s.child.exitCode === null) s.child.kill('SIGTERM');
    await Promise.all(services.map((s) => (s.child.exitCode === null ? new Promise((r) => s.child.on('exit', r)) : undefined)));
    await store?.command(`DROP DATABASE IF EXISTS ${database}`);
    await store?.close();
  });

  const context = async () =>
    resolveVariables((sql) => store.query(sql), { database, values: { run: [runId] }, fromMs: Date.now() - 3_600_000, toMs: Date.now() + 60_000, intervalS: 1 });

  it('run overview: the loss and accuracy panels hold the full curve, one row per step', async () => {
    const ctx = await context();
    const steps = (await store.query<{ step: number }>(`SELECT step FROM ${database}.steps FINAL WHERE run_id = '${runId}' ORDER BY step`)).map((r) => r.step);
    // The trainer's steps, every one of them, once.
    expect(steps).toEqual(Array.from({ length: steps.length }, (_, i) => steps[0]! + i));
    expect(steps.length).toBeGreaterThan(500);
    for (const id of ['loss', 'accuracy']) {
      const p = allPanels().find((x) => x.panel.id === id)!.panel;
      const rows = await store.query<{ step: number; metric: string; run_id: string }>(expandSql(p.sql, ctx));
      const train = rows.filter((r) => r.metric === (id === 'loss' ? 'train_loss' : 'train_acc'));
      expect(train.map((r) => r.step)).toEqual(steps);
      expect(new Set(rows.map((r) => r.run_id))).toEqual(new Set([runId]));
    }
  });

  it('run overview: the phase bands hold MEMORIZATION, then GROKKING and CONVERGED', async () => {
    const bands = await store.query<{ tags: string; text: string }>(expandSql(DASHBOARDS[0]!.annotations[0]!.sql, await context()));
    const phases = bands.map((b) => b.tags);
    const described = bands.map((b) => b.text).join('; ');
    const at = (p: string) => phases.indexOf(p);
    expect(at('MEMORIZATION'), described).toBeGreaterThanOrEqual(0);
    expect(at('GROKKING'), described).toBeGreaterThan(at('MEMORIZATION'));
    expect(at('CONVERGED'), described).toBeGreaterThan(at('GROKKING'));
  });

  it('the summary table has the milestones `grokstream run` printed, and the phase events\' onsets', async () => {
    const phaseStep = async (phase: string) =>
      (await store.query<{ s: number }>(`SELECT min(step) AS s FROM ${database}.phases FINAL WHERE run_id = '${runId}' AND phase = '${phase}'`))[0]!.s;
    const memorizationAt = await phaseStep('MEMORIZATION');
    const grokkingAt = await phaseStep('GROKKING');
    // "memorized (train acc ≥ 0.99): step 134", "grokked (...): step 511 (delay 377 steps)"
    const printed = (label: string) => Number(new RegExp(`^  ${label} \\(.*\\): step (\\d+)`, 'm').exec(trainerOutput)?.[1]);
    const [memorized, grokked] = [printed('memorized'), printed('grokked')];
    expect(Number.isInteger(memorized) && Number.isInteger(grokked), trainerOutput).toBe(true);
    expect(trainerOutput).toContain(`(delay ${grokked - memorized} steps)`);
    const p = allPanels().find((x) => x.panel.id === 'grokking-table')!.panel;
    const rows = await store.query<Record<string, unknown>>(expandSql(p.sql, await context()));
    expect(rows).toEqual([
      expect.objectContaining({ run_id: runId, memorized_step: memorized, grokked_step: grokked, grok_delay: grokked - memorized, memorization_at: memorizationAt, grokking_at: grokkingAt }),
    ]);
    // And the phase onsets are where the curves say: train accuracy near 1 at memorization, test accuracy high after grokking.
    const [acc] = await store.query<{ train: number; test: number }>(
      `SELECT (SELECT train_acc FROM ${database}.steps FINAL WHERE run_id = '${runId}' AND step = ${memorizationAt}) AS train, ` +
        `(SELECT max(test_acc) FROM ${database}.steps FINAL WHERE run_id = '${runId}' AND step >= ${grokkingAt}) AS test`,
    );
    expect(acc!.train).toBeGreaterThan(0.9);
    expect(acc!.test).toBeGreaterThan(0.9);
  });

  it('with run.stop_gate lag 1, the detector\'s stop lands at most 1 step past the step that triggered it', async () => {
    const [c] = await store.query<{ step: number; policy: string }>(`SELECT step, policy FROM ${database}.commands FINAL WHERE run_id = '${runId}'`);
    const [end] = await store.query<{ step: number; reason: string; wait: number }>(
      `SELECT step, reason, summary_values[indexOf(summary_keys, 'stop_gate_wait_ms')] AS wait FROM ${database}.run_ends FINAL WHERE run_id = '${runId}'`,
    );
    expect(c, trainerOutput).toBeDefined();
    expect(end).toMatchObject({ reason: 'early_stopped' });
    expect(end!.step - c!.step).toBeGreaterThanOrEqual(0);
    expect(end!.step - c!.step, `StopRun of step ${c!.step} (${c!.policy}), run ended at ${end!.step}`).toBeLessThanOrEqual(1);
    expect(trainerOutput).toMatch(/stop gate: a stop lands at most 1 step past the step that triggered it \(each step waits up to 2000 ms for a detector's verdict on the step 2 steps before it\)/);
    // (A detector still joining its group when the run starts opens the gate for a while; the
    // gate closes again as verdicts come, long before the stop.)
    expect(end!.wait).toBeGreaterThan(0);
  });

  it('a write through grokstream query fails with a read-only error', () => {
    const res = spawnSync(process.execPath, [BIN, 'query', `INSERT INTO ${database}.steps (run_id, step) VALUES ('${runId}', 999999)`], { env, encoding: 'utf8', timeout: 60_000 });
    expect(res.status).toBe(1);
    expect(res.stderr).toMatch(/readonly mode.*read-only/s);
  });
});
