// A report file from a store: the model, then the page, written next to where it was asked for.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { QueryRows } from '@grokstream/panels';
import { buildReport, type ReportModel, type ReportRequest } from './report-model.ts';
import { reportHtml } from './page.ts';

export async function writeReport(query: QueryRows, request: ReportRequest, out: string): Promise<{ path: string; model: ReportModel; bytes: number }> {
  const model = await buildReport(query, request);
  const html = reportHtml(model);
  const path = resolve(out);
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, html);
  return { path, model, bytes: Buffer.byteLength(html) };
}
