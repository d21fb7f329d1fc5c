// Checkpoints: everything needed to continue a run with the same step numbers and seq —
// parameters, optimizer slots, the batch-order RNG, and the StopRun commands already obeyed.
// Layout: <dir>/<run_id>/step-<n>/{state.json, tensors.bin}; tensors are float32, in order.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface CheckpointState {
  runId: string;
  step: number;
  /** The next seq the run will use. */
  nextSeq: number;
  /** The batch order's RNG state: before the live permutation was drawn, when one is (orderOffset > 0). */
  orderRng: number;
  /** Samples of that permutation already used (absent in older checkpoints: 0). */
  orderOffset?: number;
  optimizerUpdates: number;
  obeyedCommands: string[];
  configJson: string;
  tensors: Array<{ name: string; shape: number[] }>;
}

export interface SavedCheckpoint {
  uri: string;
  bytes: number;
  sha256: string;
}

/** A checkpoint written under a name resumes do not see yet: `commit()` gives it its real one. */
export interface PendingCheckpoint extends SavedCheckpoint {
  commit(): void;
}

/**
 * Writes a checkpoint as `step-<n>.pending`: complete on disk, but not a checkpoint a resume
 * picks (latestCheckpoint) until `commit()` renames it. The trainer commits it once every event
 * up to its step is on the bus: a run killed with events still in its buffer resumes from an
 * earlier checkpoint, not from one past a gap in its events (checkpointing.ts).
 */
export function saveCheckpointPending(dir: string, state: CheckpointState, data: Float32Array[]): PendingCheckpoint {
  const target = join(dir, state.runId, `step-${String(state.step).padStart(8, '0')}`);
  const pending = `${target}.pending`;
  const saved = writeCheckpointAt(pending, state, data);
  return {
    ...saved,
    uri: `file://${target}`,
    commit: () => {
      if (!existsSync(pending)) return; // committed already
      if (existsSync(target)) rmSync(target, { recursive: true, force: true });
      renameSync(pending, target);
    },
  };
}

export function saveCheckpoint(dir: string, state: CheckpointState, data: Float32Array[]): SavedCheckpoint {
  const target = join(dir, state.runId, `step-${String(state.step).padStart(8, '0')}`);
  return writeCheckpointAt(target, state, data);
}

function writeCheckpointAt(target: string, state: CheckpointState, data: Float32Array[]): SavedCheckpoint {
  if (data.length !== state.tensors.length) throw new Error('checkpoint: tensor list and data differ in length');
  const tmp = `${target}.tmp-${process.pid}`;
  mkdirSync(tmp, { recursive: true });
  const body = Buffer.concat(data.map((d) => Buffer.from(d.buffer, d.byteOffset, d.byteLength)));
  writeFileSync(join(tmp, 'tensors.bin'), body);
  writeFileSync(join(tmp, 'state.json'), `${JSON.stringify(state, null, 2)}\n`);
  // Rename last, so a crash never leaves a half-written checkpoint under the real name. A second
  // checkpoint of the same step (a finished run resumed to re-send its spilled events) replaces it.
  if (existsSync(target)) rmSync(target, { recursive: true, force: true });
  renameSync(tmp, target);
  return { uri: `file://${target}`, bytes: body.length, sha256: createHash('sha256').update(body).digest('hex') };
}

/** The newest complete checkpoint of a run, or undefined. */
export function latestCheckpoint(dir: string, runId: string): string | undefined {
  const runDir = join(dir, runId);
  if (!existsSync(runDir)) return undefined;
  const steps = readdirSync(runDir).filter((d) => /^step-\d+$/.test(d)).sort();
  const last = steps[steps.length - 1];
  return last ? join(runDir, last) : undefined;
}

export function loadCheckpoint(path: string): { state: CheckpointState; data: Float32Array[] } {
  const statePath = join(path, 'state.json');
  if (!existsSync(statePath)) throw new Error(`${path} is not a checkpoint (no state.json)`);
  const state = JSON.parse(readFileSync(statePath, 'utf8')) as CheckpointState;
  const body = readFileSync(join(path, 'tensors.bin'));
  const floats = new Float32Array(body.buffer.slice(body.byteOffset, body.byteOffset + body.byteLength));
  const data: Float32Array[] = [];
  let offset = 0;
  for (const t of state.tensors) {
    const size = t.shape.reduce((a, b) => a * b, 1);
    data.push(floats.slice(offset, offset + size));
    offset += size;
  }
  if (offset !== floats.length) throw new Error(`${path}: tensors.bin holds ${floats.length} floats, state.json describes ${offset}`);
  return { state, data };
}
