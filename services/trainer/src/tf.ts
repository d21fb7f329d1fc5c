// The one place that loads TensorFlow.js and picks a backend. tfjs-node(-gpu) are optional
// (their install downloads libtensorflow, which fails on machines without internet access); the
// wasm backend is the working default, then the pure-JS cpu backend.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';

export { tf };

export type BackendName = 'tensorflow' | 'wasm' | 'cpu';
export const BACKEND_ORDER: BackendName[] = ['tensorflow', 'wasm', 'cpu'];

export interface BackendChoice {
  name: BackendName;
  /** Why the backends before it were not used, for the start-up message. */
  skipped: Array<{ name: BackendName; reason: string }>;
}

/** Why the native backend did not load, in a few words a newcomer can act on. */
export class NativeUnavailable extends Error {
  override readonly name = 'NativeUnavailable';
}

/**
 * Why neither native package loaded, from what each import threw: not installed (the optional
 * dependency is absent), installed but its binding never built (pnpm setup:native), or another
 * error, named by package.
 */
export function nativeUnavailableReason(failures: Array<{ pkg: string; message: string }>): string {
  const present = failures.filter((f) => !/Cannot find (package|module) '@tensorflow\/tfjs-node/.test(f.message));
  if (present.length === 0) return 'native TensorFlow not installed; see README';
  return present
    .map((f) =>
      /tfjs_binding\.node\) can not be found/.test(f.message)
        ? 'native TensorFlow not built: pnpm setup:native builds it (see README)'
        : `${f.pkg}: ${f.message.split('\n')[0]!.replace(/ imported from \S+/g, '')}`,
    )
    .join('; ');
}

/** The environment native TensorFlow reads as it loads: our defaults where the user set nothing. */
export function nativeEnvironment(env: NodeJS.ProcessEnv): void {
  // TensorFlow's C++ logging: errors and worse only (every load otherwise prints oneDNN, CPU
  // feature and "no CUDA driver" lines); TF_CPP_MIN_LOG_LEVEL set by the user wins.
  env.TF_CPP_MIN_LOG_LEVEL ??= '3';
  // On an NVIDIA GPU of compute capability ≥ 8, cuBLAS multiplies float32 matrices in TF32 (10-bit
  // mantissa) unless told not to; the probes need float32: on an H200, TF32 put the HVP 3.8e-4
  // (relative) from the CPU's, 1.8e-7 with TF32 off (README, "Native TensorFlow").
  // NVIDIA_TF32_OVERRIDE=1 set by the user wins.
  env.NVIDIA_TF32_OVERRIDE ??= '0';
}

async function loadNative(): Promise<void> {
  nativeEnvironment(process.env);
  // tfjs-node-gpu first, then tfjs-node; both register the 'tensorflow' backend when they load.
  const failures: Array<{ pkg: string; message: string }> = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return;
    } catch (err) {
      failures.push({ pkg, message: String((err as Error).message) });
    }
  }
  throw new NativeUnavailable(nativeUnavailableReason(failures));
}

/** Picks the first backend that works, in BACKEND_ORDER from `preferred` on (default: all). */
export async function chooseBackend(preferred?: BackendName): Promise<BackendChoice> {
  const order = preferred ? BACKEND_ORDER.slice(BACKEND_ORDER.indexOf(preferred)) : BACKEND_ORDER;
  const skipped: BackendChoice['skipped'] = [];
  for (const name of order) {
    try {
      if (name === 'tensorflow') await loadNative();
      if (!(await tf.setBackend(name))) throw new Error('setBackend returned false');
      await tf.ready();
      return { name, skipped };
    } catch (err) {
      skipped.push({ name, reason: (err as Error).message });
    }
  }
  throw new Error(`no TensorFlow.js backend works: ${skipped.map((s) => `${s.name} (${s.reason})`).join('; ')}`);
}

/** Why a backend was passed over: the native backend says it itself; others by their first line. */
function briefReason(reason: string): string {
  return reason.split(/\n/)[0]!.replace(/ imported from \S+/g, '').slice(0, 200);
}

/** The start-up line: `backend: wasm (native TensorFlow not installed; see README)`. */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.map((s) => (choice.skipped.length > 1 ? `${s.name}: ${briefReason(s.reason)}` : briefReason(s.reason)));
  return `backend: ${choice.name}${why.length ? ` (${[...new Set(why)].join('; ')})` : choice.name === 'tensorflow' ? ' (native TensorFlow)' : ''}`;
}
