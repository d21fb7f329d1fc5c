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
  private order: number[] = [];
  private readonly nTrain: number;

  constructor(
    private readonly task: Task,
    private readonly rng: Rng,
    private readonly size: BatchSize,
    private readonly change?: { atStep: number; batchSize: BatchSize },
  ) {
    this.nTrain = task.train.x.shape[0];
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
    if (this.order.length < size) this.order = this.rng.shuffle(Array.from({ length: this.nTrain }, (_, i) => i));
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
