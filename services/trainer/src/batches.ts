// The batches a run trains on, step by step: the whole train set, a shuffled minibatch (the
// order seed's Rng, whose state a checkpoint keeps), or fresh samples from tasks that draw them
// (sparse parity, deep linear), with the size change of optimizer.batch_switch.
import { tf } from './tf.ts';
import type { Task } from './tasks/task.ts';
import type { Rng } from './random.ts';

export type BatchSize = number | 'full';

export interface Batch {
  x: tf.Tensor2D;
  y: tf.Tensor2D;
  labels?: tf.Tensor1D;
  /** Frees the batch's tensors when they are its own (not the task's train set). */
  release(): void;
}

export class BatchSource {
  /** What is left of the live permutation of the training set (an epoch's order). */
  private order: number[] = [];
  /** The order RNG's state before it drew the live permutation, and how much of it is used. */
  private drawnFrom = 0;
  private used = 0;
  private readonly nTrain: number;

  /**
   * `resumeOffset`: a checkpoint's orderOffset. The RNG then stands where the checkpoint's
   * permutation was drawn from: it is drawn again and its first resumeOffset samples skipped, so a
   * resumed run sees the batches the uninterrupted run would have.
   */
  constructor(
    private readonly task: Task,
    private readonly rng: Rng,
    private readonly size: BatchSize,
    private readonly change?: { atStep: number; batchSize: BatchSize },
    resumeOffset = 0,
  ) {
    this.nTrain = task.train.x.shape[0];
    if (resumeOffset > 0) {
      this.draw();
      this.order.splice(0, resumeOffset);
      this.used = resumeOffset;
    }
  }

  private draw(): void {
    this.drawnFrom = this.rng.snapshot;
    this.order = this.rng.shuffle(Array.from({ length: this.nTrain }, (_, i) => i));
    this.used = 0;
  }

  /** For a checkpoint: the RNG state to resume from (before the live permutation, if any)... */
  get snapshot(): number {
    return this.order.length > 0 ? this.drawnFrom : this.rng.snapshot;
  }

  /** ...and how many samples of that permutation are used (0: none is live). */
  get offset(): number {
    return this.order.length > 0 ? this.used : 0;
  }

  /** The batch size of update `step` (1-based); batch_switch.at_step is 0-based (config/schema.ts). */
  sizeAt(step: number): BatchSize {
    return this.change && step - 1 >= this.change.atStep ? this.change.batchSize : this.size;
  }

  next(step: number): Batch {
    const size = this.sizeAt(step);
    const own = (b: { x: tf.Tensor2D; y: tf.Tensor2D; labels?: tf.Tensor1D }): Batch => ({
      ...b,
      release: () => tf.dispose([b.x, b.y, ...(b.labels ? [b.labels] : [])]),
    });
    if (this.task.resample) return own(this.task.resample(size === 'full' ? this.nTrain : size));
    if (size === 'full' || size >= this.nTrain) return { ...this.task.train, release: () => {} };
    if (this.order.length < size) this.draw();
    this.used += size;
    const idx = tf.tensor1d(this.order.splice(0, size), 'int32');
    const { train } = this.task;
    const batch = own({
      x: tf.gather(train.x, idx) as tf.Tensor2D,
      y: tf.gather(train.y, idx) as tf.Tensor2D,
      labels: train.labels ? (tf.gather(train.labels, idx) as tf.Tensor1D) : undefined,
    });
    idx.dispose();
    return batch;
  }
}
