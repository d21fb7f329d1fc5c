// Case 6: bad configs and bad command-line input, as a table. Every row runs
// `node services/cli/bin/grokstream.js ...` and asserts the exit code (2 usage or config, 1 runtime,
// 130 Ctrl-C: the same in every command), a fragment of the message, a bounded time, and that no
// stack trace ("    at ..." lines) reaches the user.
import { appendFileSync, copyFileSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventLogWriter } from '@grokstream/schemas';
import { BROKERS, uniqueId } from './env.ts';
import { ensureStack } from './stack.ts';
import { GROKKING_CONFIG, caseDir, killAll, spawnCli } from './procs.ts';
import { recordedRun } from './recorded.ts';
import { CaseResult } from './results.ts';

const CASE = 'cli-input';
const STACK_TRACE = /^\s{4}at /m;

interface Row {
  name: string;
  args: () => string[];
  /** A number, or 'nonzero'. */
  code: number | 'nonzero';
  /** What the message must say. */
  says: () => RegExp;
  /** The command must have exited by then (the check), and is killed a while after. */
  withinMs: number;
  maxOutputBytes?: number;
  env?: Record<string, string | undefined>;
  /** Runs while the command runs (e.g. send SIGINT); default: wait for the exit. */
  drive?: (p: ReturnType<typeof spawnCli>) => Promise<void>;
}

/** A TCP server that accepts connections and never answers: a broker that hangs. */
function blackhole(): Promise<{ server: Server; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => {});
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve({ server, port: (server.address() as { port: number }).port, sockets })));
}

/** A loopback port nobody listens on (bound once, then released). */
async function deadPort(): Promise<number> {
  const { server, port } = await blackhole();
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('fault: bad configs and CLI input', () => {
  const id = uniqueId();
  const dir = caseDir(CASE, id);
  const r = new CaseResult('cli-input');
  let hole: Awaited<ReturnType<typeof blackhole>>;
  let dead: number;
  let unknownKeyConfig: string;
  let truncatedLog: string;
  let truncatedAt = 0;

  beforeAll(async () => {
    await ensureStack();
    hole = await blackhole();
    dead = await deadPort();
    unknownKeyConfig = join(dir, 'unknown-key.yaml');
    copyFileSync(GROKKING_CONFIG, unknownKeyConfig);
    appendFileSync(unknownKeyConfig, 'emit:\n  bogus_knob: 3\n');
    // An event log cut short inside a block.
    const full = join(dir, 'events.avro');
    const writer = new EventLogWriter(full);
    writer.append(recordedRun('modular-add-seed0', `faults-cli-${id}`));
    await writer.close();
    truncatedLog = join(dir, 'truncated.avro');
    copyFileSync(full, truncatedLog);
    truncatedAt = Math.floor(statSync(full).size * 0.6);
    truncateSync(truncatedLog, truncatedAt);
  });

  afterAll(async () => {
    await killAll();
    for (const s of hole?.sockets ?? []) s.destroy();
    await new Promise<void>((res) => (hole ? hole.server.close(() => res()) : res()));
    r.write();
  });

  // Embedded: no Kafka, and the embedded store in this case's directory (only the Ctrl-C row
  // gets as far as opening it), not the private ClickHouse the other cases use.
  const inProcess = { GROKSTREAM_KAFKA_BROKERS: undefined, GROKSTREAM_CLICKHOUSE_URL: undefined, GROKSTREAM_DATA_DIR: join(dir, 'data') };
  const ckpt = () => `run.checkpoint.dir=${join(dir, 'checkpoints')}`;
  const addr = (port: number) => new RegExp(`127\\.0\\.0\\.1:${port}`);
  const rows: Row[] = [
    { name: 'unknown command', args: () => ['frobnicate'], code: 2, says: () => /unknown command.*frobnicate|frobnicate.*unknown/i, withinMs: 20_000 },
    { name: 'run without a config', args: () => ['run'], code: 2, says: () => /config/i, withinMs: 20_000 },
    { name: 'run with an unknown option', args: () => ['run', GROKKING_CONFIG, '--bogus-flag'], code: 2, says: () => /bogus-flag/, withinMs: 20_000 },
    { name: 'config with an unknown key', args: () => ['run', unknownKeyConfig, ckpt()], code: 2, says: () => /bogus_knob/, withinMs: 30_000, env: inProcess },
    { name: 'override without =', args: () => ['run', GROKKING_CONFIG, 'optimizer.lr'], code: 2, says: () => /optimizer\.lr/, withinMs: 30_000, env: inProcess },
    { name: 'override of the wrong type', args: () => ['run', GROKKING_CONFIG, 'optimizer.lr=banana'], code: 2, says: () => /optimizer\.lr/, withinMs: 30_000, env: inProcess },
    { name: 'override of an unknown key', args: () => ['run', GROKKING_CONFIG, 'optimizer.nonsense=1'], code: 2, says: () => /nonsense/, withinMs: 30_000, env: inProcess },
    { name: '--partitions 0', args: () => ['run', GROKKING_CONFIG, ckpt(), '--partitions', '0', '--kafka', BROKERS], code: 2, says: () => /partitions/, withinMs: 30_000 },
    { name: 'replay without --from', args: () => ['replay'], code: 2, says: () => /--from/, withinMs: 20_000 },
    {
      name: 'bad settings in the environment',
      args: () => ['detect'],
      code: 2,
      says: () => /GROKSTREAM_STORE must be clickhouse or chdb, got "postgres"[\s\S]*GROKSTREAM_LOG_LEVEL must be one of/,
      withinMs: 20_000,
      env: { GROKSTREAM_STORE: 'postgres', GROKSTREAM_LOG_LEVEL: 'loud' },
    },
    {
      name: 'a password file that cannot be read',
      args: () => ['ingest'],
      code: 2,
      says: () => /GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: cannot read \/nonexistent\/pw \(ENOENT\)/,
      withinMs: 20_000,
      env: { GROKSTREAM_CLICKHOUSE_PASSWORD_FILE: '/nonexistent/pw' },
    },
    { name: 'resend of a missing file', args: () => ['resend', '/nonexistent/spill.avro'], code: 2, says: () => /does not exist/, withinMs: 20_000 },
    {
      name: 'replay --from a truncated .avro',
      args: () => ['replay', '--from', truncatedLog],
      code: 'nonzero',
      // The error names the byte offset where the file is damaged (a number at or before the cut).
      says: () => /\b(byte|offset)\b[^\n]*\d+/i,
      withinMs: 30_000,
      env: inProcess,
    },
    {
      name: 'run --events-file in a missing directory',
      args: () => ['run', GROKKING_CONFIG, 'run.steps=5', ckpt(), '--events-file', '/nonexistent/dir/x.avro'],
      code: 2,
      says: () => /\/nonexistent\/dir/,
      withinMs: 40_000,
      maxOutputBytes: 2048,
      env: inProcess,
    },
    { name: 'stop without a RUN_ID', args: () => ['stop', '--kafka', BROKERS], code: 2, says: () => /RUN_ID/, withinMs: 20_000 },
    { name: 'stop an unknown run', args: () => ['stop', `no-such-run-${id}`, '--kafka', BROKERS], code: 'nonzero', says: () => /no (such )?run/i, withinMs: 60_000 },
    ...(['run', 'stop', 'detect', 'replay'] as const).map(
      (cmd): Row => ({
        name: `${cmd} --kafka at a port where nothing listens`,
        args: () => [...commandArgs(cmd), '--kafka', `127.0.0.1:${dead}`],
        code: 1,
        says: () => addr(dead),
        withinMs: 25_000,
      }),
    ),
    ...(['run', 'stop'] as const).map(
      (cmd): Row => ({
        name: `${cmd} --kafka at a server that never answers`,
        args: () => [...commandArgs(cmd), '--kafka', `127.0.0.1:${hole.port}`],
        code: 1,
        says: () => addr(hole.port),
        withinMs: 25_000,
      }),
    ),
    {
      name: 'Ctrl-C (SIGINT) during run',
      args: () => ['run', GROKKING_CONFIG, 'run.steps=5000', 'probes.every=0', 'run.log_every=10', ckpt()],
      code: 130,
      says: () => /interrupt|SIGINT/i,
      withinMs: 90_000,
      env: inProcess,
      drive: async (p) => {
        await p.waitFor(/step +20\//, 'step 20', 60_000);
        p.kill('SIGINT');
      },
    },
  ];

  function commandArgs(cmd: 'run' | 'stop' | 'detect' | 'replay'): string[] {
    switch (cmd) {
      case 'run':
        return ['run', GROKKING_CONFIG, 'run.steps=50', 'probes.every=0', ckpt()];
      case 'stop':
        return ['stop', `faults-cli-${id}`];
      case 'detect':
        return ['detect'];
      case 'replay':
        return ['replay', '--from', 'grokstream.events.v1'];
    }
  }

  for (const row of rows) {
    it.concurrent(row.name, async () => {
      const p = spawnCli(CASE, row.name.replace(/[^a-z0-9]+/gi, '-').toLowerCase(), row.args(), row.env);
      await row.drive?.(p);
      const exit = await p.waitExit(row.withinMs + 30_000);
      if (!exit) await p.killHard();
      const out = p.output;
      const failures: string[] = [];
      const check = (what: string, ok: boolean, detail?: string) => {
        r.check(`${row.name}: ${what}`, ok, ok ? undefined : `${detail ?? ''}\n--- output (${out.length} chars):\n${out.slice(-1500)}`);
        if (!ok) failures.push(`${what}${detail ? ` (${detail})` : ''}`);
      };
      const code = exit?.code;
      check(
        row.code === 'nonzero' ? 'exits non-zero' : `exits ${row.code}`,
        exit !== undefined && (row.code === 'nonzero' ? code !== 0 && code !== null : code === row.code),
        exit ? `exit ${code} signal ${exit.signal}` : `still running after ${row.withinMs + 30_000} ms`,
      );
      check(`within ${row.withinMs / 1000} s`, exit !== undefined && exit.ms <= row.withinMs, exit ? `${exit.ms} ms` : 'did not exit');
      check(`says ${row.says()}`, row.says().test(out));
      check('no stack trace', !STACK_TRACE.test(out), out.split('\n').find((l) => STACK_TRACE.test(l)));
      if (row.maxOutputBytes) check(`output under ${row.maxOutputBytes} bytes`, Buffer.byteLength(out) < row.maxOutputBytes, `${Buffer.byteLength(out)} bytes`);
      r.metric(row.name, { exit: exit ? { code, signal: exit.signal, ms: exit.ms } : null, output_bytes: Buffer.byteLength(out), first_line: out.trim().split('\n')[0]?.slice(0, 300) });
      expect(failures, `${row.name}:\n${out.slice(-2000)}`).toEqual([]);
    }, 180_000);
  }

  it('a truncated event log is really cut inside its data (the fixture is what the row above claims)', () => {
    const size = readFileSync(truncatedLog).length;
    expect(size).toBe(truncatedAt);
    expect(size).toBeGreaterThan(1000);
  });
});
