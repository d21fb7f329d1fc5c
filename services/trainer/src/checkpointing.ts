// The checkpoint step: every checkpoint.every steps (not at the last step, whose checkpoint is
// the final one) and when the run ends, save everything a resume needs (checkpoint.ts) and
// announce it with a Checkpointed event.
import type { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { Rng } from './random.ts';
import type { BoundedEmitter } from './emitter.ts';
import type { RunCursor } from './run-cursor.ts';
import { saveCheckpoint, type CheckpointState } from './checkpoint.ts';

export interface CheckpointerOptions {
  dir: string;
  /** 0: only the final checkpoint. */
  every: number;
  /** The run's last step. */
  steps: number;
  model: Model;
  opt: Optimizer;
  orderRng: Rng;
  /** StopRun command ids obeyed so far (a resumed run must not obey them again). */
  obeyed: ReadonlySet<string>;
  configJson: string;
  emitter: BoundedEmitter;
  cursor: RunCursor;
}

export class Checkpointer {
  /** The step of the last checkpoint saved, -1 before the first. */
  lastStep = -1;

  constructor(private readonly o: CheckpointerOptions) {}

  /** A periodic checkpoint is due after the current step. */
  get due(): boolean {
    const { step } = this.o.cursor;
    return this.o.every > 0 && step % this.o.every === 0 && step < this.o.steps;
  }

  /**
   * Saves a checkpoint of the current step. `final`: RunFinished follows, so the resumed run's
   * first seq skips it too. `announce`: emit Checkpointed (not for steps already on the log).
   */
  async save(final: boolean, announce = true): Promise<void> {
    const { cursor, model, opt } = this.o;
    this.lastStep = cursor.step;
    const tensors: tf.Variable[] = [...model.params, ...opt.state().slots];
    const state: CheckpointState = {
      runId: cursor.runId,
      step: cursor.step,
      // Checkpointed itself takes one seq, and RunFinished one more after the last checkpoint.
      // (After a crash the log may hold more than this checkpoint knows: see LoopOptions.resume.)
      nextSeq: cursor.seq + (announce ? 1 : 0) + (final ? 1 : 0),
      orderRng: this.o.orderRng.snapshot,
      optimizerUpdates: opt.updates,
      obeyedCommands: [...this.o.obeyed],
      configJson: this.o.configJson,
      tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    };
    const saved = saveCheckpoint(this.o.dir, state, tensors.map((t) => t.dataSync() as Float32Array));
    if (announce) {
      await this.o.emitter.emit({
        name: 'Checkpointed',
        value: { ...cursor.envelope(), step: cursor.step, uri: saved.uri, bytes: saved.bytes, sha256: saved.sha256 },
      });
    }
  }
}
