// The contract both stores pass: chdb-store.spec.ts (unit, in-process) and
// tests/integration/clickhouse-store.test.ts (the Debian ClickHouse server).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { Store, StoreRow } from './store.ts';
import { TABLES, TABLE_NAMES, createTableSql, insertColumns, type TableName } from './tables.ts';
import { migrate, migrationsTableSql, type Migration } from './migrations.ts';
import { doubleBits, hardDoubles } from './hard-doubles.ts';
import { sqlNumber } from './sql.ts';
import { SUMMARY_SOURCE_TABLES } from './rollups.ts';

const V2_COLUMNS = ['softmax_collapse_frac', 'last_layer_norm', 'init_distance'];
// Migration 3's rollup tables and views (rollups.ts).
const ROLLUP_OBJECTS = [
  'step_rollups',
  'step_rollups_from_steps',
  'step_rollups_from_probes',
  'run_summaries',
  ...SUMMARY_SOURCE_TABLES.map((s) => `run_summaries_from_${s}`),
  'run_summary',
];

import { sampleRows } from './sample-rows.ts';
export { sampleRows };

export function storeContract(name: string, makeStore: (database: string) => Promise<Store>): void {
  describe(`store contract: ${name}`, () => {
    const database = `contract_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
    let store: Store;

    beforeAll(async () => {
      store = await makeStore(database);
      await store.migrate();
    });

    afterAll(async () => {
      await store.command(`DROP DATABASE IF EXISTS ${database}`);
      await store.close();
    });

    it('applies migrations once, and again applies nothing', async () => {
      const again = await store.migrate();
      expect(again.applied).toEqual([]);
      expect(again.current).toBeGreaterThanOrEqual(1);
      const tables = await store.query<{ name: string }>(
        `SELECT name FROM system.tables WHERE database = '${database}' ORDER BY name`,
      );
      expect(tables.map((t) => t.name)).toEqual([...TABLE_NAMES, ...ROLLUP_OBJECTS, 'schema_migrations'].sort());
    });

    it('adds a column in a later migration only when it is missing', async () => {
      const extra: Migration[] = [
        { version: 1000, name: 'probe column', steps: [{ kind: 'add-column', table: 'steps', column: 'probe_col', type: 'Nullable(Float64)' }] },
      ];
      const first = await migrate(store, database, extra);
      expect(first.applied).toEqual([1000]);
      // Forget the record, as after a crash between the ALTER and the INSERT: still safe.
      await store.command(`ALTER TABLE ${database}.schema_migrations DELETE WHERE version = 1000`);
      await waitForMutations(store, database);
      const second = await migrate(store, database, extra);
      expect(second.applied).toEqual([1000]);
      const cols = await store.query(`SELECT name FROM system.columns WHERE database = '${database}' AND table = 'steps' AND name = 'probe_col'`);
      expect(cols).toHaveLength(1);
      await store.command(`ALTER TABLE ${database}.steps DROP COLUMN probe_col`);
    });

    it('upgrades a database created at version 1 (steps without the precursor columns, no ingested_at)', async () => {
      const old = `${database}_v1`;
      const v1 = (t: TableName) => ({
        ...TABLES[t],
        columns: TABLES[t].columns.filter((c) => !V2_COLUMNS.includes(c.name) && c.name !== 'ingested_at'),
      });
      await store.command(`CREATE DATABASE IF NOT EXISTS ${old}`);
      await store.command(migrationsTableSql(old));
      for (const t of TABLE_NAMES) await store.command(createTableSql(old, v1(t)));
      await store.command(`INSERT INTO ${old}.schema_migrations (version, name, applied_at) VALUES (1, 'event tables', now())`);
      try {
        const result = await migrate(store, old);
        expect(result.applied).toEqual([2, 3, 4]);
        // DESCRIBE lists columns in table order (18.16's system.columns has no position).
        for (const t of TABLE_NAMES) {
          const cols = await store.query<{ name: string }>(`DESCRIBE TABLE ${old}.${t}`);
          expect(cols.map((c) => c.name)).toEqual(TABLES[t].columns.map((c) => c.name));
        }
      } finally {
        await store.command(`DROP DATABASE IF EXISTS ${old}`);
      }
    });

    for (const table of TABLE_NAMES) {
      it(`keeps one copy of a batch inserted twice into ${table}`, async () => {
        const rows = sampleRows(table, 25);
        await store.insert(table, rows);
        await store.insert(table, rows);
        const [agg] = await store.query<{ n: number; seqs: number }>(
          `SELECT count() AS n, sum(seq) AS seqs FROM ${database}.${table} FINAL`,
        );
        expect(agg).toEqual({ n: 25, seqs: (25 * 26) / 2 });
        const back = await store.query<StoreRow>(
          `SELECT ${insertColumns(table).join(', ')} FROM ${database}.${table} FINAL ORDER BY seq`,
        );
        // payload/key are bytes-like strings; everything else must come back as written
        expect(back).toEqual(rows);
      });
    }

    it('keeps the newest seq when a step is written again (a resumed run)', async () => {
      const [row] = sampleRows('steps', 1);
      const runId = `resumed-${randomUUID()}`;
      await store.insert('steps', [{ ...row!, run_id: runId, step: 7, seq: 10, train_loss: 1 }]);
      await store.insert('steps', [{ ...row!, run_id: runId, step: 7, seq: 30, train_loss: 3 }]);
      await store.insert('steps', [{ ...row!, run_id: runId, step: 7, seq: 20, train_loss: 2 }]);
      const rows = await store.query(`SELECT seq, train_loss FROM ${database}.steps FINAL WHERE run_id = '${runId}'`);
      expect(rows).toEqual([{ seq: 30, train_loss: 3 }]);
    });

    it('round-trips NaN, +Inf, -Inf and nulls in every float shape', async () => {
      const [base] = sampleRows('probes', 1);
      const runId = `nonfinite-${randomUUID()}`;
      await store.insert('probes', [
        {
          ...base!,
          run_id: runId,
          grad_noise_trace: NaN,
          grad_snr: Infinity,
          tr_h_sigma: -Infinity,
          hessian_trace: null,
          hessian_trace_avg: -0.5,
          hessian_top_eig: 1.7976931348623157e308,
          gop_trace: [NaN, Infinity, -Infinity, 0.1],
          gop_top_eigs: [[NaN, -Infinity], [], [Infinity]],
          extra_keys: [],
          extra_values: [],
        },
      ]);
      const [row] = await store.query<StoreRow>(
        `SELECT grad_noise_trace, grad_snr, tr_h_sigma, hessian_trace, hessian_trace_avg, hessian_top_eig,
                gop_trace, gop_top_eigs, extra_keys, extra_values
         FROM ${database}.probes FINAL WHERE run_id = '${runId}'`,
      );
      expect(row).toEqual({
        grad_noise_trace: NaN,
        grad_snr: Infinity,
        tr_h_sigma: -Infinity,
        hessian_trace: null,
        hessian_trace_avg: -0.5,
        hessian_top_eig: 1.7976931348623157e308,
        gop_trace: [NaN, Infinity, -Infinity, 0.1],
        gop_top_eigs: [[NaN, -Infinity], [], [Infinity]],
        extra_keys: [],
        extra_values: [],
      });
    });

    it('stores and reads back every Float64 bit for bit: scalar, Nullable, Array and nested Array columns', async () => {
      const xs = hardDoubles();
      const at = (i: number) => xs[i % xs.length]!;
      const runId = `exact-${randomUUID()}`;
      const [step] = sampleRows('steps', 1);
      await store.insert(
        'steps',
        xs.map((x, i) => ({
          ...step!,
          run_id: runId,
          step: i,
          train_loss: x,
          test_loss: i % 7 === 3 ? null : at(i + 1),
          lr: at(i + 2),
          weight_norm: at(i + 3),
          layer_norms: [at(i + 4), at(i + 5), at(i + 6)],
          extra_keys: ['k'],
          extra_values: [at(i + 7)],
        })),
      );
      const [probe] = sampleRows('probes', 1);
      const probeCount = Math.ceil(xs.length / 8);
      await store.insert(
        'probes',
        Array.from({ length: probeCount }, (_, j) => ({
          ...probe!,
          run_id: runId,
          step: j,
          hessian_top_eig: at(j),
          grad_snr: j % 5 === 0 ? null : at(j + 1),
          gop_top_eigs: [xs.slice(8 * j, 8 * j + 5), [], xs.slice(8 * j + 5, 8 * j + 8)],
        })),
      );

      const mismatches: string[] = [];
      const expectBits = (where: string, wrote: number | null, read: unknown) => {
        const same =
          wrote === null ? read === null : typeof read === 'number' && doubleBits(read) === doubleBits(wrote);
        if (!same) mismatches.push(`${where}: wrote ${wrote} (${wrote === null ? 'NULL' : doubleBits(wrote)}), read ${String(read)}`);
      };
      const steps = await store.query<{
        step: number;
        stored: string;
        train_loss: number;
        test_loss: number | null;
        lr: number;
        weight_norm: number;
        layer_norms: number[];
        extra_values: number[];
      }>(
        // stored: the bits as the engine holds them (little-endian; trailing zero bytes are dropped),
        // so a failure tells a bad insert from a bad read.
        `SELECT step, hex(reinterpretAsString(train_loss)) AS stored, train_loss, test_loss, lr, weight_norm, layer_norms, extra_values
         FROM ${database}.steps WHERE run_id = '${runId}' ORDER BY step`,
      );
      expect(steps).toHaveLength(xs.length);
      for (const r of steps) {
        const i = r.step;
        const littleEndian = Buffer.from(doubleBits(xs[i]!), 'hex').reverse().toString('hex').toUpperCase();
        if (r.stored.padEnd(16, '0') !== littleEndian) mismatches.push(`steps ${i} stored bits: wrote ${littleEndian}, engine holds ${r.stored}`);
        expectBits(`steps ${i} train_loss`, xs[i]!, r.train_loss);
        expectBits(`steps ${i} test_loss`, i % 7 === 3 ? null : at(i + 1), r.test_loss);
        expectBits(`steps ${i} lr`, at(i + 2), r.lr);
        expectBits(`steps ${i} weight_norm`, at(i + 3), r.weight_norm);
        expect(r.layer_norms).toHaveLength(3);
        r.layer_norms.forEach((v, k) => expectBits(`steps ${i} layer_norms[${k}]`, at(i + 4 + k), v));
        expectBits(`steps ${i} extra_values[0]`, at(i + 7), r.extra_values[0]);
      }

      const probes = await store.query<{ step: number; hessian_top_eig: number; grad_snr: number | null; gop_top_eigs: number[][] }>(
        `SELECT step, hessian_top_eig, grad_snr, gop_top_eigs FROM ${database}.probes WHERE run_id = '${runId}' ORDER BY step`,
      );
      expect(probes).toHaveLength(probeCount);
      for (const r of probes) {
        const j = r.step;
        expectBits(`probes ${j} hessian_top_eig`, at(j), r.hessian_top_eig);
        expectBits(`probes ${j} grad_snr`, j % 5 === 0 ? null : at(j + 1), r.grad_snr);
        const want = [xs.slice(8 * j, 8 * j + 5), [], xs.slice(8 * j + 5, 8 * j + 8)];
        expect(r.gop_top_eigs.map((a) => a.length)).toEqual(want.map((a) => a.length));
        want.forEach((inner, a) => inner.forEach((x, b) => expectBits(`probes ${j} gop_top_eigs[${a}][${b}]`, x, r.gop_top_eigs[a]![b])));
      }
      expect(mismatches).toEqual([]);
    });

    it('reads SQL number literals (sqlNumber) as the same doubles', async () => {
      const xs = hardDoubles();
      // toFloat64: integral values are integer literals, and an array needs one element type.
      const [row] = await store.query<{ xs: number[] }>(`SELECT [${xs.map((x) => `toFloat64(${sqlNumber(x)})`).join(', ')}] AS xs`);
      const mismatches = xs.flatMap((x, i) => (doubleBits(row!.xs[i]!) === doubleBits(x) ? [] : [`${sqlNumber(x)} read as ${row!.xs[i]}`]));
      expect(row!.xs).toHaveLength(xs.length);
      expect(mismatches).toEqual([]);
    });

    it('round-trips awkward strings and raw bytes exactly', async () => {
      const [base] = sampleRows('dead_letters', 1);
      const nasty = "tab\there\nnewline 'quote' \"dq\" back\\slash \0nul ünïcødé 🚀 \r\b\f";
      const bytes = Buffer.from([0xc3, 0x01, 0x00, 0xff, 0x80, 0x5c, 0x27, 0x09, 0x0a, 0x7f]);
      const key = `bytes-${randomUUID()}`;
      await store.insert('dead_letters', [{ ...base!, run_id: nasty, key, source_offset: 999_999, payload: bytes }]);
      const [row] = await store.query<{ run_id: string; hex: string }>(
        `SELECT run_id, hex(payload) AS hex FROM ${database}.dead_letters FINAL WHERE key = '${key}'`,
      );
      expect(row).toEqual({ run_id: nasty, hex: bytes.toString('hex').toUpperCase() });
    });

    it('names the problem when a row does not fit its table', async () => {
      const [row] = sampleRows('steps', 1);
      await expect(store.insert('steps', [{ ...row!, bogus: 1 }])).rejects.toThrow(/unknown column bogus/);
      const { train_loss: _, ...missing } = row!;
      await expect(store.insert('steps', [missing])).rejects.toThrow(/missing value for column train_loss/);
    });

    it('rejects bad SQL with the engine\'s message', async () => {
      await expect(store.query('SELEC 1')).rejects.toThrow(/Syntax error/);
    });
  });
}

async function waitForMutations(store: Store, database: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pending = await store.query(`SELECT * FROM system.mutations WHERE database = '${database}' AND is_done = 0`);
    if (pending.length === 0) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('mutation did not finish');
}
