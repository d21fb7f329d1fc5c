// The run configuration: one zod schema that is the single source of truth for keys, types,
// ranges and defaults. Every object is strict, so a misspelt key is an error instead of a
// silently ignored setting. Sections use .prefault({}) (not .default) so that a missing section
// is parsed as {} and gets its fields' defaults.
//
// Conventions the trainer implements (stated here because the config is where users read them):
// - Dense weights (mlp init_scale, deep_linear gamma): W[i][j] ~ N(0, s^2 / fan_in), biases 0.
// - Losses: cross-entropy over p (modular) or 2 (sparse parity) classes; deep_linear uses
//   0.5 * mean over samples of the squared error summed over output dims.
import * as z from 'zod';

const int = (min: number) => z.int().min(min);
const posInt = () => z.int().positive();
const unit = () => z.number().min(0).lt(1); // [0, 1)

type Report = (path: (string | number)[], message: string, input: unknown) => void;

/**
 * A check between fields, run only when every field is valid on its own: a relation between
 * an out-of-range value and another field would just repeat the range error.
 */
function crossCheck<T>(fn: (value: T, report: Report) => void): (ctx: z.core.ParsePayload<T>) => void {
  return (ctx) => {
    if (ctx.issues.length > 0) return;
    fn(ctx.value, (path, message, input) => ctx.issues.push({ code: 'custom', path, message, input }));
  };
}

export function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

// ---------------------------------------------------------------- task

export const MODULAR_OPS = ['add', 'sub', 'mul', 'div', 'poly'] as const;

/**
 * Modular arithmetic c = a op b (mod p). Inputs are the pairs (a, b) with a, b in [0, p), except
 * div, where b ranges over [1, p) (p(p-1) pairs, c = a * b^-1 mod p). sub is (a - b) mod p in
 * [0, p); poly is a^2 + ab + b^2. The pairs are split once with seeds.data: the train set has
 * trainSetSize(task) pairs, the test set the rest.
 */
const ModularTask = z
  .strictObject({
    kind: z.literal('modular'),
    op: z.enum(MODULAR_OPS).default('add'),
    p: z
      .int()
      .min(2)
      .max(2000) // p^2 samples must fit in memory
      .refine(isPrime, { message: 'must be a prime number' })
      .default(59),
    train_fraction: z.number().gt(0).lt(1).default(0.5),
  })
  .check(
    crossCheck((t, report) => {
      const n = modularTrainCount(t);
      const pairs = modularPairCount(t.op, t.p);
      if (n < 1 || n >= pairs) {
        const message = `gives ${n} of ${pairs} pairs for training; both train and test sets must be non-empty`;
        report(['train_fraction'], message, t.train_fraction);
      }
    }),
  );

/**
 * Sparse parity: x uniform in {-1, +1}^n_bits, label = 1 if the product of k secret bits
 * (drawn with seeds.data) is -1, else 0; two-class classification. Train and test samples are
 * drawn independently (with replacement) from the 2^n_bits inputs.
 */
const SparseParityTask = z
  .strictObject({
    kind: z.literal('sparse_parity'),
    n_bits: z.int().min(1).max(64).default(12),
    k: posInt().default(3),
    n_train: posInt().default(2000),
    n_test: posInt().default(1000),
  })
  .check(
    crossCheck((t, report) => {
      if (t.k > t.n_bits) {
        const message = `must be <= task.n_bits (${t.n_bits}): k is the number of relevant bits among the n_bits`;
        report(['k'], message, t.k);
      }
    }),
  );

/**
 * Deep linear teacher-student regression: x ~ N(0, I_input_dim), y = x W* + noise_std * N(0, I).
 * W* is [input_dim, output_dim]. diagonal: W*[i][i] = teacher_scale * singular_values[i], other
 * entries 0 (the singular values are the "modes" learned stage by stage); singular_values
 * defaults to the ramp r/r, (r-1)/r, ..., 1/r with r = min(input_dim, output_dim) and is always
 * filled in the resolved config. random: W*[i][j] ~ N(0, teacher_scale^2 / input_dim), drawn
 * with seeds.data. online: every step draws a fresh batch (n_train is then unused; batch_size
 * "full" means n_train fresh samples).
 */
const DeepLinearTask = z
  .strictObject({
    kind: z.literal('deep_linear'),
    input_dim: posInt().default(16),
    output_dim: posInt().default(16),
    teacher: z.enum(['diagonal', 'random']).default('diagonal'),
    teacher_scale: z.number().positive().default(1),
    singular_values: z.array(z.number().min(0)).min(1).optional(),
    n_train: posInt().default(1000),
    n_test: posInt().default(1000),
    online: z.boolean().default(false),
    noise_std: z.number().min(0).default(0),
  })
  .check(
    crossCheck((t, report) => {
      const rank = Math.min(t.input_dim, t.output_dim);
      const sv = t.singular_values;
      if (sv && t.teacher !== 'diagonal') {
        const message = 'only used with task.teacher: diagonal (remove it, or set teacher: diagonal)';
        report(['singular_values'], message, sv);
      } else if (sv && sv.length > rank) {
        const message = `has ${sv.length} values but min(input_dim, output_dim) is ${rank}`;
        report(['singular_values'], message, sv);
      }
    }),
  )
  .transform((t) => {
    if (t.teacher !== 'diagonal' || t.singular_values) return t;
    const r = Math.min(t.input_dim, t.output_dim);
    return { ...t, singular_values: Array.from({ length: r }, (_, i) => (r - i) / r) };
  });

export const TaskSchema = z.discriminatedUnion('kind', [ModularTask, SparseParityTask, DeepLinearTask]);
export type TaskConfig = z.output<typeof TaskSchema>;

/** Number of (a, b) pairs of a modular task: p^2, or p(p-1) for div (b != 0). */
export function modularPairCount(op: (typeof MODULAR_OPS)[number], p: number): number {
  return op === 'div' ? p * (p - 1) : p * p;
}

/** Training pairs of a modular task: round(train_fraction * pairs); the data split must use this. */
export function modularTrainCount(t: { op: (typeof MODULAR_OPS)[number]; p: number; train_fraction: number }): number {
  return Math.round(t.train_fraction * modularPairCount(t.op, t.p));
}

/** Training-set size (what batch_size "full" means); online deep_linear has no fixed set: Infinity. */
export function trainSetSize(task: TaskConfig): number {
  switch (task.kind) {
    case 'modular':
      return modularTrainCount(task);
    case 'sparse_parity':
      return task.n_train;
    case 'deep_linear':
      return task.online ? Infinity : task.n_train;
  }
}

// ---------------------------------------------------------------- model

/**
 * MLP. For modular tasks the input is onehot (concat of one-hot(a) and one-hot(b), width 2p) or
 * embedding (a learned [p, embed_dim] table applied to a and b as a one-hot matmul, concatenated:
 * width 2 * embed_dim). Other tasks feed their raw features, so input must stay onehot there.
 * quadratic is x^2. Weights ~ N(0, init_scale^2 / fan_in).
 */
const MlpModel = z.strictObject({
  kind: z.literal('mlp'),
  hidden: z.array(posInt()).min(1).default([128]),
  activation: z.enum(['relu', 'quadratic', 'tanh', 'linear']).default('relu'),
  input: z.enum(['onehot', 'embedding']).default('onehot'),
  embed_dim: posInt().optional(),
  bias: z.boolean().default(true),
  init_scale: z.number().positive().default(1),
});

/**
 * Transformer in the shape of Nanda et al. 2023: token embed + learned positional embed,
 * n_layers x (attention + MLP) with residual stream, unembed from the last position. Input
 * sequence is [a, b, =] (vocabulary p + 1). No layernorm unless layernorm: true.
 */
const TransformerModel = z
  .strictObject({
    kind: z.literal('transformer'),
    n_layers: z.literal([1, 2]).default(1),
    d_model: posInt().default(128),
    n_heads: posInt().default(4),
    d_mlp: posInt().default(512),
    activation: z.enum(['relu', 'gelu']).default('relu'),
    layernorm: z.boolean().default(false),
  })
  .check(
    crossCheck((m, report) => {
      if (m.d_model % m.n_heads !== 0) {
        const message = `must divide model.d_model (${m.d_model}); head width is d_model / n_heads`;
        report(['n_heads'], message, m.n_heads);
      }
    }),
  );

/**
 * Deep linear network: depth matrices, [input_dim, width], (depth - 2) x [width, width],
 * [width, output_dim]; depth 1 is a single [input_dim, output_dim] matrix (width unused).
 * gamma is the init scale: W_l[i][j] ~ N(0, gamma^2 / fan_in). gamma = 1 is the usual
 * variance-preserving init; gamma << 1 is the small-init regime with saddle-to-saddle plateaus.
 */
const DeepLinearModel = z.strictObject({
  kind: z.literal('deep_linear'),
  depth: posInt().default(3),
  width: posInt().default(16),
  gamma: z.number().positive().default(0.1),
  bias: z.literal(false, { error: 'must be false: deep linear networks have no biases' }).default(false),
});

export const ModelSchema = z.discriminatedUnion('kind', [MlpModel, TransformerModel, DeepLinearModel]);
export type ModelConfig = z.output<typeof ModelSchema>;

// ---------------------------------------------------------------- optimizer

/** A positive number of samples per step, or "full": the whole training set every step. */
const BatchSize = z.union([posInt(), z.literal('full')], {
  error: 'must be a positive integer or "full"',
});
export type BatchSize = z.output<typeof BatchSize>;

/**
 * Learning rate at step t (0-based), T = run.steps, w = warmup_steps:
 * t < w: lr * (t + 1) / w; then, with u = (t - w) / (T - w) in [0, 1):
 * none: lr; cosine: min_lr + (lr - min_lr) * (1 + cos(pi u)) / 2; linear: lr + (min_lr - lr) u;
 * step: max(min_lr, lr * gamma^floor((t - w) / step_size)).
 */
const Schedule = z.strictObject({
  warmup_steps: int(0).default(0),
  decay: z.enum(['none', 'cosine', 'linear', 'step']).default('none'),
  min_lr: z.number().min(0).default(0),
  step_size: posInt().optional(),
  gamma: z.number().gt(0).max(1).default(0.1),
});

/** Fields every optimizer has. weight_decay is L2 added to the loss gradient for sgd and adam,
 *  decoupled (w -= lr * weight_decay * w, Loshchilov & Hutter) for adamw. */
const common = {
  lr: z.number().positive().default(1e-3),
  weight_decay: z.number().min(0).default(0),
  schedule: Schedule.prefault({}),
  batch_size: BatchSize.default('full'),
  /** From step at_step on (0-based), batches have batch_size samples. */
  batch_switch: z.strictObject({ at_step: posInt(), batch_size: BatchSize }).optional(),
};

const Sgd = z
  .strictObject({
    kind: z.literal('sgd'),
    ...common,
    momentum: unit().default(0),
    nesterov: z.boolean().default(false),
  })
  .check(
    crossCheck((o, report) => {
      if (o.nesterov && o.momentum === 0) {
        const message = 'nesterov needs optimizer.momentum > 0';
        report(['nesterov'], message, o.nesterov);
      }
    }),
  );

const adamFields = {
  ...common,
  betas: z.tuple([unit(), unit()]).default([0.9, 0.999]),
  eps: z.number().positive().default(1e-8),
};
const Adam = z.strictObject({ kind: z.literal('adam'), ...adamFields });
const AdamW = z.strictObject({ kind: z.literal('adamw'), ...adamFields });

export const OptimizerSchema = z.discriminatedUnion('kind', [Sgd, Adam, AdamW]);
export type OptimizerConfig = z.output<typeof OptimizerSchema>;

// ---------------------------------------------------------------- run, probes, emit

const Seed = z.int().min(0).max(2 ** 32 - 1);

/**
 * seeds.data: data split / sparse-parity secret / teacher; seeds.init: weights; seeds.order:
 * batch order. `seed` is shorthand for all three; explicit seeds.* entries win over it.
 */
const Run = z
  .strictObject({
    name: z.string().min(1).default('run'), // load.ts fills in the config file's base name
    steps: posInt().default(1000),
    eval_every: posInt().default(1),
    log_every: posInt().default(100),
    checkpoint: z
      .strictObject({
        dir: z.string().min(1).default('.grokstream/checkpoints'),
        every: int(0).default(0), // 0: only at the end (or on stop)
      })
      .prefault({}),
    seed: Seed.optional(),
    seeds: z.strictObject({ data: Seed.optional(), init: Seed.optional(), order: Seed.optional() }).prefault({}),
    backend: z.enum(['auto', 'tensorflow', 'wasm', 'cpu']).default('auto'),
    // The optimisation step as one TensorFlow graph (native backend, MLP, the graph addon): auto
    // uses it where it can, on requires it, off steps op by op.
    graph_step: z.enum(['auto', 'on', 'off']).default('auto'),
    // Stops within `lag` steps of their trigger on Kafka (stop-gate.ts): the trainer trains at
    // most `lag` steps past the last step a detector has judged (its DetectorProgress), waiting
    // up to timeout_ms for it, then going on ungated and saying so. null: no gate (a stop takes
    // the round trip to the detector, several fast steps).
    stop_gate: z
      .strictObject({ lag: int(0).default(1), timeout_ms: posInt().default(2000) })
      .nullable()
      .default(null),
    // Scalars are accepted and stored as text, so `tags: {lr: 0.001}` does what it says.
    tags: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String)).default({}),
  })
  .transform(({ seed, seeds, ...rest }) => ({
    ...rest,
    seeds: { data: seeds.data ?? seed ?? 0, init: seeds.init ?? seed ?? 0, order: seeds.order ?? seed ?? 0 },
  }));

const Probes = z.strictObject({
  every: int(0).default(1), // 0: probes off
  batch_size: posInt().default(64),
  gop: z
    .strictObject({
      enabled: z.boolean().default(true),
      top_k: posInt().default(8),
      per_layer: z.boolean().default(true),
    })
    .prefault({}),
  noise: z.boolean().default(true),
  hessian: z
    .strictObject({
      trace: z.boolean().default(false),
      top_eig: z.boolean().default(false),
      power_iters: posInt().default(3), // power-iteration HVPs per call, warm-started from the last
      tr_h_sigma: z.boolean().default(false),
      // HVPs behind tr_h_sigma: random sign combinations of the centred per-sample gradients
      // (an unbiased estimate each), or 'exact': one per probe-batch sample (probes/hessian.ts).
      tr_h_sigma_samples: z.union([posInt(), z.literal('exact')]).default(1),
      // The Hessian probes cost a few Hessian-vector products each: run them at every k-th probe
      // step only (1: at every probe step); the other probe steps report them as null.
      every: posInt().default(1),
    })
    .prefault({}),
  fourier: z.boolean().default(false), // modular tasks only
});

const Emit = z.strictObject({
  buffer: posInt().default(10_000), // events buffered before the trainer waits for the bus
  // How long a bus that refuses events (a broker outage) is retried while training goes on; past
  // it the run is checkpointed, the unsent events are spilled to a file and --resume sends them.
  outage_limit_s: z.number().min(0).default(300),
});

// ---------------------------------------------------------------- whole config

export const RunConfigSchema = z
  .strictObject({
    run: Run.prefault({}),
    task: TaskSchema,
    model: ModelSchema,
    // kind may be left out (optimizer: {lr: 1e-3}): it then means adamw.
    optimizer: z
      .preprocess((v) => (typeof v === 'object' && v !== null && !('kind' in v) ? { ...v, kind: 'adamw' } : v), OptimizerSchema)
      .prefault({}),
    probes: Probes.prefault({}),
    emit: Emit.prefault({}),
  })
  .check(
    crossCheck((cfg, issue) => {
      const { task, model, optimizer: opt } = cfg;

      if (model.kind === 'transformer' && task.kind !== 'modular')
        issue(['model', 'kind'], `transformer works on token pairs: needs task.kind modular (task.kind is ${task.kind})`, model.kind);
      if (model.kind === 'deep_linear' && task.kind !== 'deep_linear')
        issue(['model', 'kind'], `deep_linear model needs task.kind deep_linear (task.kind is ${task.kind})`, model.kind);
      if (model.kind === 'mlp') {
        if (model.input === 'embedding' && model.embed_dim === undefined)
          issue(['model', 'embed_dim'], 'required when model.input is embedding (width of the learned embedding)', undefined);
        if (model.input === 'onehot' && model.embed_dim !== undefined)
          issue(['model', 'embed_dim'], 'only used with model.input: embedding', model.embed_dim);
        if (model.input === 'embedding' && task.kind !== 'modular')
          issue(['model', 'input'], `embedding needs token inputs (task.kind modular); ${task.kind} uses onehot (raw features)`, model.input);
      }
      if (cfg.probes.fourier && task.kind !== 'modular')
        issue(['probes', 'fourier'], `only available for task.kind modular (task.kind is ${task.kind})`, true);

      const steps = cfg.run.steps;
      const sched = opt.schedule;
      if (sched.warmup_steps > steps)
        issue(['optimizer', 'schedule', 'warmup_steps'], `must be <= run.steps (${steps})`, sched.warmup_steps);
      if (sched.min_lr > opt.lr)
        issue(['optimizer', 'schedule', 'min_lr'], `must be <= optimizer.lr (${opt.lr})`, sched.min_lr);
      if (sched.decay === 'step' && sched.step_size === undefined)
        issue(['optimizer', 'schedule', 'step_size'], 'required when decay is step (steps between lr drops)', undefined);
      if (sched.decay !== 'step' && sched.step_size !== undefined)
        issue(['optimizer', 'schedule', 'step_size'], `only used with decay: step (decay is ${sched.decay})`, sched.step_size);
      if (opt.batch_switch && opt.batch_switch.at_step >= steps)
        issue(['optimizer', 'batch_switch', 'at_step'], `must be < run.steps (${steps})`, opt.batch_switch.at_step);

      const n = trainSetSize(task);
      const tooBig = (b: BatchSize) => b !== 'full' && b > n;
      if (tooBig(opt.batch_size))
        issue(['optimizer', 'batch_size'], `must be <= the training set size (${n}) or "full"`, opt.batch_size);
      if (opt.batch_switch && tooBig(opt.batch_switch.batch_size))
        issue(['optimizer', 'batch_switch', 'batch_size'], `must be <= the training set size (${n}) or "full"`, opt.batch_switch.batch_size);
    }),
  );

/** The validated, defaulted configuration the trainer runs on. */
export type RunConfig = z.output<typeof RunConfigSchema>;
/** What a config file may contain (defaults make most keys optional). */
export type RunConfigInput = z.input<typeof RunConfigSchema>;
