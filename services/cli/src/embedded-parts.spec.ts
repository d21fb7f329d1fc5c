// What the embedded commands share (embedded-parts.ts), and --map of grokstream import: the store
// a command uses, the --port flag, the detector's YAML, opening chdb, and field=column pairs.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigurationError, RuntimeFailure, Secret, UsageError, type StoreSettings } from '@grokstream/shell';
import { ChdbStore, MIGRATIONS, migrate } from '@grokstream/store';
import { DetectorConfigError } from '@grokstream/detector';
import { loadDetector, openCommandStore, parsePort, storeFlagSettings } from './embedded-parts.ts';
import { parseMapFlags } from './import-command.ts';

const dir = mkdtempSync(join(tmpdir(), 'grokstream-cli-parts-'));

/** The error `fn` throws (fails the test when it throws nothing). */
function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected an error, got none');
}

describe('storeFlagSettings', () => {
  const chdb: StoreSettings = { kind: 'chdb', path: '/data/chdb' };
  const password = new Secret('s3cret-pw');
  const server: StoreSettings = { kind: 'clickhouse', url: 'http://10.0.0.1:8123', username: 'alice', password };

  it('without the flag is the settings’ store, as configured', () => {
    expect(storeFlagSettings({ store: chdb }, undefined)).toBe(chdb);
    expect(storeFlagSettings({ store: server }, undefined)).toBe(server);
  });

  it('with the flag is that server: over the embedded default with the default user, over a server with its user and password', () => {
    expect(storeFlagSettings({ store: chdb }, 'http://127.0.0.1:18123')).toEqual({ kind: 'clickhouse', url: 'http://127.0.0.1:18123', username: 'default' });
    const s = storeFlagSettings({ store: server }, 'https://ch.example.com:8443/');
    expect(s).toEqual({ kind: 'clickhouse', url: 'https://ch.example.com:8443', username: 'alice', password });
    expect(s.kind === 'clickhouse' && s.password?.reveal()).toBe('s3cret-pw');
    // A path (a proxy in front of the server) is kept; credentials, query and fragment are not part of the URL used.
    expect(storeFlagSettings({ store: chdb }, 'http://bob:pw@proxy.local/clickhouse/?x=1#y')).toEqual({
      kind: 'clickhouse',
      url: 'http://proxy.local/clickhouse',
      username: 'default',
    });
  });

  it('rejects what is not an http(s) URL with a usage error naming --clickhouse', () => {
    for (const bad of ['not a url', '127.0.0.1:18123', '', 'ftp://ch.example.com', 'localhost:8123', 'file:///tmp/chdb']) {
      const err = thrown(() => storeFlagSettings({ store: chdb }, bad));
      expect(err, bad).toBeInstanceOf(UsageError);
      expect(err.message, bad).toMatch(/^--clickhouse must be .*http\(s\)/);
    }
  });
});

describe('parsePort', () => {
  it('reads a port number; none is undefined, 0 asks for a free port', () => {
    expect(parsePort(undefined)).toBeUndefined();
    expect(parsePort('0')).toBe(0);
    expect(parsePort('8737')).toBe(8737);
    expect(parsePort('65535')).toBe(65535);
  });

  it('rejects anything else with a usage error naming --port', () => {
    // '' and ' ' are 0 to Number(): an empty --port= must not quietly pick a random port.
    for (const bad of ['65536', '-1', '1.5', 'http', '', ' ', '0x50', '1e3', '80 ']) {
      const err = thrown(() => parsePort(bad));
      expect(err, JSON.stringify(bad)).toBeInstanceOf(UsageError);
      expect(err.message).toMatch(/^--port must be a port number \(0 to 65535/);
    }
  });
});

describe('loadDetector', () => {
  const file = (name: string, text: string) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('without a file is the default detector', () => {
    const o = loadDetector(undefined);
    expect(o.identity).toEqual({ detector: 'grokstream-phases', version: '2' });
    expect(o.policies).toHaveLength(4); // divergence, converged, degradation, no_grok_budget
    expect(o.phases.metric).toBe('test_acc');
  });

  it('reads a file: its identity, phases and policies', () => {
    const o = loadDetector(file('ok.yaml', 'detector: {name: quick}\nphases: {warmup_steps: 3}\npolicies:\n  - {kind: patience, monitor: train_loss, patience: 4}\n'));
    expect(o.identity).toEqual({ detector: 'quick', version: '2' });
    expect(o.phases.warmupSteps).toBe(3);
    expect(o.policies).toHaveLength(1);
  });

  it('a bad file is a configuration error (exit 2) naming the file and the problem', () => {
    const cases: Array<[string, RegExp]> = [
      [file('bad-yaml.yaml', 'policies: [ {kind: patience\n'), /bad-yaml\.yaml: not valid YAML/],
      [file('bad-kind.yaml', 'policies:\n  - {kind: sometimes}\n'), /invalid detector config .*bad-kind\.yaml:\n {2}policies\.0/],
      [file('bad-option.yaml', 'policies:\n  - {kind: patience, patience: 0}\n'), /policies\.0\.patience/],
      [file('bad-key.yaml', 'phases: {warmup: 3}\n'), /phases/],
      [join(dir, 'missing.yaml'), /cannot read detector config .*missing\.yaml/],
    ];
    for (const [path, message] of cases) {
      const err = thrown(() => loadDetector(path));
      expect(err, path).toBeInstanceOf(DetectorConfigError);
      expect(err, path).toBeInstanceOf(ConfigurationError);
      expect(err.message, path).toMatch(message);
    }
  });
});

describe('openCommandStore (chdb)', () => {
  it('opens and migrates; again is a no-op', async () => {
    const path = join(dir, 'chdb-rw');
    const store = await openCommandStore({ kind: 'chdb', path }, 'parts_rw');
    try {
      const tables = (await store.query<{ name: string }>("SELECT name FROM system.tables WHERE database = 'parts_rw' ORDER BY name")).map((r) => r.name);
      expect(tables).toEqual(expect.arrayContaining(['runs', 'run_ends', 'checkpoints', 'steps', 'probes', 'phases', 'commands', 'dead_letters']));
      await store.insert('steps', [{ event_id: 'e1', run_id: 'r', seq: 1, ts_ms: 1, step: 1, train_loss: 1, lr: 0.1, weight_norm: 1, layer_norms: [], extra_keys: [], extra_values: [] }]);
    } finally {
      await store.close();
    }
    const again = await openCommandStore({ kind: 'chdb', path }, 'parts_rw');
    try {
      expect(await again.query('SELECT count() AS n FROM parts_rw.steps')).toEqual([{ n: 1 }]);
    } finally {
      await again.close();
    }
  });

  it('readonly, on an empty directory: opens, creates nothing, refuses writes, and a read says the database does not exist', async () => {
    const path = join(dir, 'chdb-empty');
    const store = await openCommandStore({ kind: 'chdb', path }, 'grokstream', { readonly: true });
    try {
      expect((await store.query<{ name: string }>('SELECT name FROM system.databases')).map((r) => r.name)).not.toContain('grokstream');
      await expect(store.query('SELECT count() FROM grokstream.steps')).rejects.toThrow(/UNKNOWN_DATABASE|does not exist/);
      await expect(store.command('CREATE DATABASE grokstream')).rejects.toThrow(/READONLY|readonly/);
      await expect(store.migrate()).rejects.toThrow(/READONLY|readonly/);
    } finally {
      await store.close();
    }
    expect(existsSync(join(path, 'metadata', 'grokstream'))).toBe(false);
  });

  it('readonly, on a database an older grokstream wrote: migrated first, with a line saying so, then read-only', async () => {
    const path = join(dir, 'chdb-old');
    const old = new ChdbStore({ path, database: 'grokstream' });
    try {
      await migrate(old, 'grokstream', MIGRATIONS.filter((m) => m.version < 4));
    } finally {
      await old.close();
    }
    const lines: string[] = [];
    const store = await openCommandStore({ kind: 'chdb', path }, 'grokstream', { readonly: true, log: (l) => lines.push(l) });
    try {
      expect(lines).toEqual([expect.stringMatching(/^migrated the embedded database grokstream \(chdb .*chdb-old\): 4 \(run summaries: accuracy milestones/)]);
      expect(await store.query('SELECT memorized_step, grokked_step, memorization_at FROM grokstream.run_summary')).toEqual([]);
      await expect(store.command('CREATE DATABASE other')).rejects.toThrow(/READONLY|readonly/);
    } finally {
      await store.close();
    }
    // Current now: the next read-only open says nothing.
    const again = await openCommandStore({ kind: 'chdb', path }, 'grokstream', { readonly: true, log: (l) => lines.push(l) });
    await again.close();
    expect(lines).toHaveLength(1);
  });

  it('a directory another process holds is a RuntimeFailure naming that process; once it is gone the store opens', { timeout: 60_000 }, async () => {
    const path = join(dir, 'chdb-held');
    const holder = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        '--input-type=module',
        '-e',
        `import { ChdbStore } from '@grokstream/store';
         const s = new ChdbStore({ path: ${JSON.stringify(path)} });
         await s.query('SELECT 1');
         console.log('holding');
         process.stdin.on('end', () => process.exit(0));
         process.stdin.resume();`,
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    try {
      let out = '';
      let err = '';
      holder.stderr.on('data', (d) => (err += d));
      await new Promise<void>((resolve, reject) => {
        holder.stdout.on('data', (d) => {
          out += d;
          if (out.includes('holding')) resolve();
        });
        holder.on('exit', (code) => reject(new Error(`the holder exited (${code}) before it held the data: ${err}`)));
      });
      const failure = await openCommandStore({ kind: 'chdb', path }, 'grokstream').then(
        () => new Error('opened a directory another process holds'),
        (e: unknown) => e as Error,
      );
      expect(failure).toBeInstanceOf(RuntimeFailure);
      expect(failure.message).toMatch(new RegExp(`in use by process ${holder.pid}\\b`));
      expect(failure.message).toMatch(/GROKSTREAM_DATA_DIR/);
    } finally {
      holder.stdin.end();
      await new Promise((r) => (holder.exitCode === null ? holder.on('exit', r) : r(undefined)));
    }
    const store = await openCommandStore({ kind: 'chdb', path }, 'grokstream');
    expect(await store.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
    await store.close();
  });
});

describe('parseMapFlags', () => {
  it('reads field=column pairs; the last pair for a field wins; field= leaves it unmapped', () => {
    expect(parseMapFlags([])).toEqual({});
    expect(parseMapFlags(['train_loss=loss', ' step = epoch ', 'time=', 'test_acc=val/acc=top1', 'train_loss=my loss'])).toEqual({
      train_loss: 'my loss',
      step: 'epoch',
      time: '',
      test_acc: 'val/acc=top1',
    });
  });

  it('rejects a pair without a field with a usage error showing the form', () => {
    for (const bad of ['loss', '=loss', '', '=']) {
      const err = thrown(() => parseMapFlags(['step=epoch', bad]));
      expect(err, bad).toBeInstanceOf(UsageError);
      expect(err.message).toBe(`--map takes field=column (e.g. --map train_loss=loss), got "${bad}"`);
    }
  });
});
