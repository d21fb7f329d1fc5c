// The checkpoint step: every checkpoint.every steps (not at the last step, whose checkpoint is
// the final one) and when the run ends, save everything a resume needs (checkpoint.ts) and
// announce it with a Checkpointed event.
import type { tf } from './tf.ts';
import type { Model } from './models/model.ts';
import type { Optimizer } from './optim/optimizer.ts';
import type { BoundedEmitter } from './emitter.ts';
import type { RunCursor } from './run-cursor.ts';
import { saveCheckpointPending, type CheckpointState } from './checkpoint.ts';

export interface CheckpointerOptions {
  dir: string;
  /** 0: only the final checkpoint. */
  every: number;
  /** The run's last step. */
  steps: number;
  model: Model;
  opt: Optimizer;
  /** The batch order's position (batches.ts: BatchSource; an Rng alone when batches are full). */
  orderRng: { readonly snapshot: number; readonly offset?: number };
  /** StopRun command ids obeyed so far (a resumed run must not obey them again). */
  obeyed: ReadonlySet<string>;
  configJson: string;
  emitter: BoundedEmitter;
  cursor: RunCursor;
}

export class Checkpointer {
  /** The step of the last checkpoint saved, -1 before the first. */
  lastStep = -1;
  /** Settles when the last checkpoint saved is committed (or will never be). */
  private committed: Promise<void> = Promise.resolve();

  /** Waits until the last checkpoint saved is committed, or known never to be. */
  settled(): Promise<void> {
    return this.committed;
  }

  constructor(private readonly o: CheckpointerOptions) {}

  /** A periodic checkpoint is due after the current step. */
  get due(): boolean {
    const { step } = this.o.cursor;
    return this.o.every > 0 && step % this.o.every === 0 && step < this.o.steps;
  }

  /**
   * Saves a checkpoint of the current step. `final`: RunFinished follows, so the resumed run's
   * first seq skips it too. `announce`: emit Checkpointed (not for steps already on the log).
   * `commit`: when a resume may pick it (checkpoint.ts, saveCheckpointPending):
   * - 'shipped' (periodic checkpoints): once every event up to it is on the bus, in the
   *   background: training goes on meanwhile, also through an outage. A run killed before that
   *   resumes from an earlier checkpoint, so no step between the bus's last and the checkpoint is
   *   lost (the sweep fault case found 120 such steps when a busy worker was killed);
   * - 'await' (the final and hand-off checkpoints): the same, waited for;
   * - 'now' (past the outage limit): at once; the unsent events are spilled with it, and the
   *   resume sends them first.
   */
  async save(final: boolean, announce = true, commit: 'shipped' | 'await' | 'now' = final ? 'await' : 'shipped'): Promise<void> {
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
      orderOffset: this.o.orderRng.offset ?? 0,
      optimizerUpdates: opt.updates,
      obeyedCommands: [...this.o.obeyed],
      configJson: this.o.configJson,
      tensors: tensors.map((t) => ({ name: t.name, shape: t.shape })),
    };
    const saved = saveCheckpointPending(this.o.dir, state, tensors.map((t) => t.dataSync() as Float32Array));
    if (commit === 'now') saved.commit();
    if (announce) {
      await this.o.emitter.emit({
        name: 'Checkpointed',
        value: { ...cursor.envelope(), step: cursor.step, uri: saved.uri, bytes: saved.bytes, sha256: saved.sha256 },
      });
    }
    if (commit === 'now') return;
    const shipped = this.o.emitter.whenShipped(this.o.emitter.stats.emitted);
    if (commit === 'await') {
      await shipped;
      saved.commit();
    } else {
      // Never committed if the emitter gives up: the run then resumes from an earlier one.
      this.committed = shipped.then(
        () => saved.commit(),
        () => {},
      );
    }
  }
}
