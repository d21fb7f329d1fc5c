// From a validated RunConfig to the objects the loop runs: task, model, optimizer, schedule.
import type { RunConfig } from './config/schema.ts';
import type { Task } from './tasks/task.ts';
import type { Model } from './models/model.ts';
import { modularTask } from './tasks/modular.ts';
import { sparseParityTask } from './tasks/sparse-parity.ts';
import { deepLinearTask } from './tasks/deep-linear.ts';
import { mlp, type MlpOptions } from './models/mlp.ts';
import { transformer } from './models/transformer.ts';
import { deepLinear } from './models/deep-linear.ts';
import type { OptimizerOptions } from './optim/optimizer.ts';
import type { ScheduleOptions } from './optim/schedule.ts';

export function buildTask(cfg: RunConfig): Task {
  const t = cfg.task;
  const seed = cfg.run.seeds.data;
  switch (t.kind) {
    case 'modular':
      return modularTask({
        op: t.op,
        p: t.p,
        trainFraction: t.train_fraction,
        encoding: cfg.model.kind === 'transformer' ? 'sequence' : 'pair',
        seed,
      });
    case 'sparse_parity':
      return sparseParityTask({ nBits: t.n_bits, k: t.k, nTrain: t.n_train, nTest: t.n_test, seed });
    case 'deep_linear':
      return deepLinearTask({
        inputDim: t.input_dim,
        outputDim: t.output_dim,
        teacher: t.teacher,
        teacherScale: t.teacher_scale,
        singularValues: t.singular_values,
        nTrain: t.n_train,
        nTest: t.n_test,
        online: t.online,
        noiseStd: t.noise_std,
        seed,
      });
  }
}

/** The MLP's options for this config (undefined for other models): the model, and its graph step. */
export function mlpOptionsOf(cfg: RunConfig, task: Task): MlpOptions | undefined {
  const m = cfg.model;
  if (m.kind !== 'mlp') return undefined;
  return {
    inputDim: task.inputDim,
    outputDim: task.outputDim,
    hidden: m.hidden,
    activation: m.activation,
    bias: m.bias,
    initScale: m.init_scale,
    embedDim: m.input === 'embedding' ? m.embed_dim : undefined,
    seed: cfg.run.seeds.init,
  };
}

export function buildModel(cfg: RunConfig, task: Task): Model {
  const m = cfg.model;
  const seed = cfg.run.seeds.init;
  switch (m.kind) {
    case 'mlp':
      return mlp(mlpOptionsOf(cfg, task)!);
    case 'transformer': {
      if (cfg.task.kind !== 'modular') throw new Error('a transformer needs a modular task');
      return transformer({
        vocab: cfg.task.p + 1,
        seqLen: 3,
        outputDim: task.outputDim,
        nLayers: m.n_layers,
        dModel: m.d_model,
        nHeads: m.n_heads,
        dMlp: m.d_mlp,
        activation: m.activation,
        layerNorm: m.layernorm,
        initScale: 1,
        seed,
      });
    }
    case 'deep_linear':
      return deepLinear({ inputDim: task.inputDim, outputDim: task.outputDim, depth: m.depth, width: m.width, gamma: m.gamma, seed });
  }
}

export function buildOptimizer(cfg: RunConfig): { optimizer: OptimizerOptions; schedule: ScheduleOptions } {
  const o = cfg.optimizer;
  const adam = o.kind === 'sgd' ? undefined : o;
  return {
    optimizer: {
      kind: o.kind,
      momentum: o.kind === 'sgd' ? o.momentum : 0,
      nesterov: o.kind === 'sgd' ? o.nesterov : false,
      beta1: adam ? adam.betas[0] : 0.9,
      beta2: adam ? adam.betas[1] : 0.999,
      eps: adam ? adam.eps : 1e-8,
      weightDecay: o.weight_decay,
    },
    schedule: {
      lr: o.lr,
      warmupSteps: o.schedule.warmup_steps,
      decay: o.schedule.decay,
      totalSteps: cfg.run.steps,
      minLr: o.schedule.min_lr,
      stepSize: o.schedule.step_size ?? 1,
      gamma: o.schedule.gamma,
    },
  };
}
