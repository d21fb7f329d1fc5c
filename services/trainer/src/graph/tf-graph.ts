// TensorFlow graphs built from TypeScript, through the graph addon (services/trainer/native/graph,
// built by `pnpm setup:native` next to the native backend). A graph is built once: placeholders,
// ops, and gradients from TensorFlow's own C++ gradient registry (TF_AddGradients); a runner then
// executes it as one TF_SessionRun, copying typed arrays in and out. That is what a Python
// `tf.function` does, and it is how a step avoids tfjs's fixed cost per eager op
// (README.md, "Native TensorFlow": graph execution).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

/** TF_DataType codes. */
export const DT = { float: 1, double: 2, int32: 3, bool: 10 } as const;
export type DType = (typeof DT)[keyof typeof DT];

type Arrays = Array<Float32Array | Float64Array | Int32Array>;
type AttrKind = 'type' | 'int' | 'float' | 'bool' | 'shape' | 'f32' | 'i32';
export type Attr = [name: string, kind: AttrKind, value: unknown];

interface GraphAddon {
  newGraph(): number;
  addOp(graph: number, type: string, name: string, inputs: Array<string | string[]>, attrs: Attr[]): string;
  addGradients(graph: number, ys: string[], xs: string[], prefix: string, dys?: string[]): Array<string | null>;
  prepare(graph: number, feeds: string[], shapes: number[][], types: number[], fetches: string[], intraThreads: number, interThreads: number): number;
  run(graph: number, runner: number, inputs: Arrays, outputs: Arrays): void;
  start(graph: number, runner: number, inputs: Arrays): number;
  finish(job: number, outputs: Arrays): void;
  dispose(graph: number): void;
}

/** Where `pnpm setup:native` builds the addon. */
export const GRAPH_ADDON_PATH = join(import.meta.dirname, '..', '..', 'native', 'graph', 'build', 'Release', 'tf_graph.node');

let loaded: { addon?: GraphAddon; why?: string } | undefined;

/** The addon, or why it cannot be used (not built, or it does not load). */
export function graphAddon(): { addon?: GraphAddon; why?: string } {
  if (loaded) return loaded;
  if (!existsSync(GRAPH_ADDON_PATH)) {
    loaded = { why: 'the graph addon is not built: pnpm setup:native builds it with the native backend' };
  } else {
    try {
      loaded = { addon: createRequire(import.meta.url)(GRAPH_ADDON_PATH) as GraphAddon };
    } catch (err) {
      loaded = { why: `the graph addon does not load (${(err as Error).message.split('\n')[0]}); pnpm setup:native rebuilds it` };
    }
  }
  return loaded;
}

export interface Feed {
  name: string;
  shape: number[];
  dtype: DType;
}

/** A prepared run: these feeds in, these fetches out, in the given order. */
export interface Runner {
  run(inputs: Arrays, outputs: Arrays): void;
  /**
   * The same run on a thread of its own: the inputs are copied now (the arrays are free again at
   * once), and finish() waits for the run and copies the fetches out. Each start is finished once
   * (disposing the graph waits for the unfinished ones).
   */
  start(inputs: Arrays): RunInFlight;
}

export interface RunInFlight {
  finish(outputs: Arrays): void;
}

export class TfGraph {
  private readonly id: number;
  private next = 0;
  private disposed = false;

  constructor(private readonly addon: GraphAddon) {
    this.id = addon.newGraph();
  }

  /** Adds an operation; returns its name ("name" is its output 0, "name:1" its output 1). */
  op(type: string, inputs: Array<string | string[]>, attrs: Attr[] = [], name = `${type}_${this.next++}`): string {
    return this.addon.addOp(this.id, type, name, inputs, attrs);
  }

  placeholder(name: string, dtype: DType, shape: number[]): string {
    return this.op('Placeholder', [], [['dtype', 'type', dtype], ['shape', 'shape', shape]], name);
  }

  scalar(value: number, name?: string): string {
    return this.op('Const', [], [['dtype', 'type', DT.float], ['value', 'f32', [[], [value]]]], name);
  }

  /** An int32 scalar (an axis). */
  int(value: number, name?: string): string {
    return this.op('Const', [], [['dtype', 'type', DT.int32], ['value', 'i32', [[], [value]]]], name);
  }

  ints(values: number[], name?: string): string {
    return this.op('Const', [], [['dtype', 'type', DT.int32], ['value', 'i32', [[values.length], values]]], name);
  }

  /** A constant tensor of these values (float32, or int32 from an Int32Array), row-major in `shape`. */
  constant(values: ArrayLike<number> & Iterable<number>, shape: number[], dtype: typeof DT.float | typeof DT.int32 = values instanceof Int32Array ? DT.int32 : DT.float): string {
    return this.op('Const', [], [['dtype', 'type', dtype], ['value', dtype === DT.int32 ? 'i32' : 'f32', [shape, Array.from(values)]]]);
  }

  /** d(Σ dys·ys)/dxs, from TensorFlow's gradient registry; null where x does not reach y. */
  gradients(ys: string[], xs: string[], prefix = 'gradients', dys?: string[]): Array<string | null> {
    return this.addon.addGradients(this.id, ys, xs, prefix, dys);
  }

  /** A runner (the session is made on the first; threads 0: TensorFlow's default). */
  runner(feeds: Feed[], fetches: string[], threads: { intra?: number; inter?: number } = {}): Runner {
    const id = this.addon.prepare(
      this.id,
      feeds.map((f) => f.name),
      feeds.map((f) => f.shape),
      feeds.map((f) => f.dtype),
      fetches,
      threads.intra ?? 0,
      threads.inter ?? 0,
    );
    return {
      run: (inputs, outputs) => this.addon.run(this.id, id, inputs, outputs),
      start: (inputs) => {
        const job = this.addon.start(this.id, id, inputs);
        return { finish: (outputs) => this.addon.finish(job, outputs) };
      },
    };
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.addon.dispose(this.id);
  }
}
