// grokstream import FILE: a log written by another trainer (CSV, JSON Lines) through the embedded
// pipeline, as if a grokstream trainer had sent it: into the store, through the detectors (what
// they would have said and when they would have stopped it), and into a report.
import { createHash } from 'node:crypto';
import { readFileSync, existsSync } from 'node:fs';
import { basename, extname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { EventPublisher } from '@grokstream/bus';
import { TOPICS } from '@grokstream/schemas';
import { ImportError, logToEvents, parseLog, resolveMapping, type LogFormat } from '@grokstream/import';
import { writeReport } from '@grokstream/report';
import { RuntimeFailure, UsageError, describeStore } from '@grokstream/shell';
import type { Store } from '@grokstream/store';
import type { CommandContext } from './context.ts';
import { EmbeddedPipeline } from './embedded-pipeline.ts';
import { loadDetector, openCommandStore, storeFlagSettings } from './embedded-parts.ts';

/** field=column pairs from --map (repeatable; `field=` leaves a field unmapped). */
export function parseMapFlags(pairs: string[]): Record<string, string> {
  const map: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--map takes field=column (e.g. --map train_loss=loss), got "${pair}"`);
    map[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  return map;
}

export async function importLog(args: string[], ctx: CommandContext): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      map: { type: 'string', multiple: true, default: [] },
      name: { type: 'string' },
      'run-id': { type: 'string' },
      format: { type: 'string' },
      detect: { type: 'boolean', default: true },
      detector: { type: 'string' },
      report: { type: 'boolean', default: true },
      clickhouse: { type: 'string' },
    },
  });
  const [file, extra] = positionals;
  if (!file) throw new UsageError('import needs a log file: grokstream import FILE.csv|FILE.jsonl [--map field=column ...]');
  if (extra !== undefined) throw new UsageError(`import takes one file; got also "${extra}"`);
  if (!existsSync(file)) throw new UsageError(`import: ${file} does not exist`);
  if (values.format !== undefined && values.format !== 'csv' && values.format !== 'jsonl') throw new UsageError(`--format must be csv or jsonl, got ${values.format}`);
  const map = parseMapFlags(values.map);
  const text = readFileSync(file, 'utf8');
  const name = values.name ?? `imported-${basename(file, extname(file))}`;
  // The same file imported again is the same run (same ids): its rows collapse in the store.
  const runId = values['run-id'] ?? `${name}-${createHash('sha256').update(text).digest('hex').slice(0, 8)}`;
  let converted;
  try {
    const rows = parseLog(text, file, values.format as LogFormat | undefined);
    const mapping = resolveMapping(rows.columns, map, file);
    converted = logToEvents(rows, mapping, { runId, name, source: file, nowMs: Date.now() });
    const fields = Object.entries(mapping.fields).map(([field, column]) => `${field}=${column}${mapping.origin[field as keyof typeof mapping.origin] === 'automatic' ? '' : ' (--map)'}`);
    console.error(`grokstream import ${file}: ${rows.rows.length} rows, ${converted.steps} steps as run ${runId}; columns ${fields.join(', ')}`);
    if (converted.extra.length) console.error(`  also kept, as extra metrics: ${converted.extra.join(', ')}`);
    if (converted.ignored.length) console.error(`  left out (text or empty): ${converted.ignored.join(', ')}`);
    if (converted.skipped.length) console.error(`  ${converted.skipped.length} steps without a train loss left out (first at line ${converted.skipped[0]!.line})`);
  } catch (err) {
    if (err instanceof ImportError) throw err.kind === 'mapping' ? new UsageError(err.message) : new RuntimeFailure(err.message);
    throw err;
  }

  const settings = ctx.settings();
  const storeSettings = storeFlagSettings(settings, values.clickhouse);
  const detector = values.detect ? loadDetector(values.detector) : undefined;
  const store: Store = await openCommandStore(storeSettings, settings.database);
  const pipeline = new EmbeddedPipeline({ detector, store, log: (l) => ctx.log.info(l) });
  try {
    await pipeline.start();
    const producer = await pipeline.bus.producer();
    await new EventPublisher(producer, pipeline.codec).publish(TOPICS.events, converted.events);
    await producer.close();
    await pipeline.drain();
    const lines = [`run ${runId}: ${converted.steps} steps imported into ${describeStore(storeSettings)}, database ${settings.database}`];
    if (detector) {
      const o = pipeline.outcome(runId);
      lines.push(`  phases (detector): ${o.phases.length ? o.phases.map((p) => `${p.phase} at ${p.step}`).join(', ') : 'none'}`);
      lines.push(`  stop: ${o.stop ? `the detector would have stopped it at step ${o.stop.step} (${o.stop.policy}: ${o.stop.reason})` : 'none: the detector would have let it run'}`);
    }
    if (values.report) {
      const out = join(settings.dataDir, 'reports', `${runId}.html`);
      const written = await writeReport((sql) => store.query(sql), { database: settings.database, runs: [runId] }, out);
      lines.push(`  report: ${written.path}`);
    }
    console.log(lines.join('\n'));
  } finally {
    await pipeline.stop();
    await store.close();
  }
  return 0;
}
