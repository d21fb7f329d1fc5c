import { describe, expect, it } from 'vitest';
import { describeBackend } from './tf.ts';

const missing = (pkg: string) => `Cannot find package '${pkg}' imported from /work/services/trainer/src/tf.ts`;

describe('the backend line', () => {
  it('says native TensorFlow is not installed, in one short line, when wasm runs instead', () => {
    const line = describeBackend({
      name: 'wasm',
      skipped: [{ name: 'tensorflow', reason: `${missing('@tensorflow/tfjs-node-gpu')}; ${missing('@tensorflow/tfjs-node')}` }],
    });
    expect(line).toBe('backend: wasm (native TensorFlow not installed; see README)');
  });

  it('names each backend passed over when there are several, with the first line of other errors', () => {
    const line = describeBackend({
      name: 'cpu',
      skipped: [
        { name: 'tensorflow', reason: missing('@tensorflow/tfjs-node') },
        { name: 'wasm', reason: 'WebAssembly.instantiate(): out of memory\n  at stack' },
      ],
    });
    expect(line).toBe('backend: cpu (tensorflow: native TensorFlow not installed; see README; wasm: WebAssembly.instantiate(): out of memory)');
  });

  it('says when the native backend runs', () => {
    expect(describeBackend({ name: 'tensorflow', skipped: [] })).toBe('backend: tensorflow (native TensorFlow)');
    expect(describeBackend({ name: 'wasm', skipped: [] })).toBe('backend: wasm');
  });
});
