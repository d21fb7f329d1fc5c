// grokstream doctor: what this machine gives grokstream, and why anything is missing: the
// backends TensorFlow.js can use here (native TensorFlow, its version, library location and
// whether it runs on a GPU; wasm; cpu), the embedded store, and the stack's services when
// configured. Exit 0 when a run can train and store here, 1 otherwise.
import { existsSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { describeStore } from '@grokstream/shell';
import { BACKEND_ORDER, chooseBackend, graphAddon, tf } from '@grokstream/trainer';
import type { CommandContext } from './context.ts';
import { openCommandStore } from './embedded-parts.ts';

interface Check {
  what: string;
  ok: boolean;
  detail: string;
}

/** What precision a GPU multiplies float32 matrices in, as the native backend set it up (trainer tf.ts). */
export function gpuPrecision(env: NodeJS.ProcessEnv): string {
  return env.NVIDIA_TF32_OVERRIDE === '0'
    ? 'float32 matmuls (TF32 off; NVIDIA_TF32_OVERRIDE=1 turns it on)'
    : `TF32 matmuls allowed (NVIDIA_TF32_OVERRIDE=${env.NVIDIA_TF32_OVERRIDE ?? 'unset'}): the probes lose precision`;
}

/** The native backend's own facts, once it is the current backend. */
function nativeDetails(): string {
  const backend = tf.backend() as unknown as { binding?: { TF_Version?: string }; isUsingGpuDevice?: boolean };
  const parts = [`TensorFlow ${backend.binding?.TF_Version ?? 'unknown version'}`, backend.isUsingGpuDevice ? `on a GPU, ${gpuPrecision(process.env)}` : 'on the CPU'];
  try {
    const require = createRequire(import.meta.resolve('@grokstream/trainer'));
    const pkg = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
    const lib = join(pkg, 'deps', 'lib', 'libtensorflow.so');
    if (existsSync(lib)) parts.push(`libraries in ${dirname(realpathSync(lib))}`);
  } catch {
    // where the libraries are is a detail; the backend loaded
  }
  return parts.join(', ');
}

function gpuDevices(): string {
  const smi = spawnSync('nvidia-smi', ['--query-gpu=name,memory.total,driver_version', '--format=csv,noheader'], { encoding: 'utf8', timeout: 10_000 });
  if (smi.error || smi.status !== 0) return 'no NVIDIA GPU driver here (nvidia-smi not found or failing): native TensorFlow runs on the CPU';
  return smi.stdout.trim().split('\n').join('; ');
}

export async function doctor(_args: string[], ctx: CommandContext): Promise<number> {
  const checks: Check[] = [];
  checks.push({ what: 'node', ok: Number(process.versions.node.split('.')[0]) >= 20, detail: `${process.version} on ${process.platform} ${process.arch}` });
  // Each backend on its own, native first, as grokstream run tries them.
  let usable: string | undefined;
  for (const name of BACKEND_ORDER) {
    const choice = await chooseBackend(name).catch((err: Error) => ({ name: undefined, skipped: [{ name, reason: err.message }] }));
    if (choice.name === name) {
      usable ??= name;
      checks.push({ what: `backend ${name}`, ok: true, detail: name === 'tensorflow' ? nativeDetails() : 'loads' });
    } else {
      checks.push({ what: `backend ${name}`, ok: false, detail: choice.skipped.find((s) => s.name === name)?.reason ?? 'did not load' });
    }
  }
  checks.push({ what: 'GPU', ok: true, detail: gpuDevices() });
  const graph = graphAddon();
  checks.push({
    what: 'graph addon',
    ok: graph.addon !== undefined,
    detail: graph.addon ? 'loads: MLP runs on native TensorFlow take each step as one graph (run.graph_step)' : `${graph.why!}; runs step op by op meanwhile`,
  });
  checks.push({ what: 'runs use', ok: usable !== undefined, detail: usable ? `${usable} (the first that loads, in the order ${BACKEND_ORDER.join(', ')}; run.backend forces one)` : 'no backend loads' });

  const settings = ctx.settings();
  try {
    const store = await openCommandStore(settings.store, settings.database);
    const [row] = await store.query<{ runs: number }>(`SELECT count() AS runs FROM ${settings.database}.run_summary`);
    await store.close();
    checks.push({ what: 'store', ok: true, detail: `${describeStore(settings.store)}, database ${settings.database}: ${row?.runs ?? 0} runs` });
  } catch (err) {
    checks.push({ what: 'store', ok: false, detail: (err as Error).message });
  }
  if (settings.kafka.fromEnvironment) checks.push({ what: 'kafka', ok: true, detail: `${settings.kafka.brokers.join(',')} (configured; grokstream run trains against it)` });
  else checks.push({ what: 'kafka', ok: true, detail: 'not configured: grokstream run is embedded (in-process bus)' });

  const width = Math.max(...checks.map((c) => c.what.length));
  for (const c of checks) console.log(`${c.ok ? 'ok  ' : 'MISS'}  ${c.what.padEnd(width)}  ${c.detail}`);
  const fatal = checks.filter((c) => !c.ok && (c.what === 'runs use' || c.what === 'store' || c.what === 'node'));
  return fatal.length ? 1 : 0;
}
