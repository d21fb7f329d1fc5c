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

async function loadNative(): Promise<void> {
  // tfjs-node-gpu first, then tfjs-node; both register the 'tensorflow' backend when they load.
  const errors: string[] = [];
  for (const pkg of ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node']) {
    try {
      await import(pkg);
      return;
    } catch (err) {
      errors.push(`${pkg}: ${String((err as Error).message).split('\n')[0]}`);
    }
  }
  throw new Error(errors.join('; '));
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

/** Why a backend was passed over, in a few words a newcomer can act on. */
function briefReason(name: BackendName, reason: string): string {
  if (name === 'tensorflow' && /Cannot find (package|module) '@tensorflow\/tfjs-node/.test(reason)) return 'native TensorFlow not installed; see README';
  return reason.split(/[;\n]/)[0]!.replace(/ imported from \S+/g, '').slice(0, 160);
}

/** The start-up line: `backend: wasm (native TensorFlow not installed; see README)`. */
export function describeBackend(choice: BackendChoice): string {
  const why = choice.skipped.map((s) => (choice.skipped.length > 1 ? `${s.name}: ${briefReason(s.name, s.reason)}` : briefReason(s.name, s.reason)));
  return `backend: ${choice.name}${why.length ? ` (${[...new Set(why)].join('; ')})` : choice.name === 'tensorflow' ? ' (native TensorFlow)' : ''}`;
}
