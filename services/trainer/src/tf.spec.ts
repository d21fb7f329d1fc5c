import { describe, expect, it } from 'vitest';
import { describeBackend, nativeEnvironment, nativeUnavailableReason } from './tf.ts';

const notFound = (pkg: string) => ({ pkg, message: `Cannot find package '${pkg}' imported from /work/services/trainer/src/tf.ts` });
// What tfjs-node 4.22 throws when its package is installed but its binding was never built.
const notBuilt = {
  pkg: '@tensorflow/tfjs-node',
  message:
    'The Node.js native addon module (tfjs_binding.node) can not be found at path: /x/tfjs-node/lib/napi-v8/tfjs_binding.node. \n' +
    "Please run command 'npm rebuild @tensorflow/tfjs-node --build-addon-from-source' to rebuild the native addon module.",
};

describe('why the native backend is not used', () => {
  it('is not installed when neither package resolves', () => {
    expect(nativeUnavailableReason([notFound('@tensorflow/tfjs-node-gpu'), notFound('@tensorflow/tfjs-node')])).toBe('native TensorFlow not installed; see README');
  });

  it('is not built when tfjs-node is there without its binding, and says how to build it', () => {
    expect(nativeUnavailableReason([notFound('@tensorflow/tfjs-node-gpu'), notBuilt])).toBe('native TensorFlow not built: pnpm setup:native builds it (see README)');
  });

  it('names the package and the first line of any other error', () => {
    const broken = { pkg: '@tensorflow/tfjs-node', message: 'libtensorflow_framework.so.2: cannot open shared object file\nmore' };
    expect(nativeUnavailableReason([notFound('@tensorflow/tfjs-node-gpu'), broken])).toBe('@tensorflow/tfjs-node: libtensorflow_framework.so.2: cannot open shared object file');
  });
});


describe('the environment native TensorFlow loads with', () => {
  it('is quiet and float32 (TF32 off on a GPU) by default', () => {
    const env: NodeJS.ProcessEnv = { PATH: '/bin' };
    nativeEnvironment(env);
    expect(env).toEqual({ PATH: '/bin', TF_CPP_MIN_LOG_LEVEL: '3', NVIDIA_TF32_OVERRIDE: '0' });
  });
  it('keeps what the user set', () => {
    const env: NodeJS.ProcessEnv = { TF_CPP_MIN_LOG_LEVEL: '1', NVIDIA_TF32_OVERRIDE: '1' };
    nativeEnvironment(env);
    expect(env).toEqual({ TF_CPP_MIN_LOG_LEVEL: '1', NVIDIA_TF32_OVERRIDE: '1' });
  });
});

describe('the backend line', () => {
  it('says native TensorFlow is not installed, in one short line, when wasm runs instead', () => {
    const line = describeBackend({
      name: 'wasm',
      skipped: [{ name: 'tensorflow', reason: 'native TensorFlow not installed; see README' }],
    });
    expect(line).toBe('backend: wasm (native TensorFlow not installed; see README)');
  });

  it('names each backend passed over when there are several, with the first line of other errors', () => {
    const line = describeBackend({
      name: 'cpu',
      skipped: [
        { name: 'tensorflow', reason: 'native TensorFlow not built: pnpm setup:native builds it (see README)' },
        { name: 'wasm', reason: 'WebAssembly.instantiate(): out of memory\n  at stack' },
      ],
    });
    expect(line).toBe('backend: cpu (tensorflow: native TensorFlow not built: pnpm setup:native builds it (see README); wasm: WebAssembly.instantiate(): out of memory)');
  });

  it('says when the native backend runs', () => {
    expect(describeBackend({ name: 'tensorflow', skipped: [] })).toBe('backend: tensorflow (native TensorFlow)');
    expect(describeBackend({ name: 'wasm', skipped: [] })).toBe('backend: wasm');
  });
});

describe('the specs backend', () => {
  it('is the one GROKSTREAM_TEST_BACKEND names (cpu by default): the trainer-wasm and trainer-native projects really run there', async () => {
    const { useTestBackend } = await import('./testing-backend.ts');
    const { tf } = await import('./tf.ts');
    expect(await useTestBackend()).toBe(process.env.GROKSTREAM_TEST_BACKEND || 'cpu');
    expect(tf.getBackend()).toBe(process.env.GROKSTREAM_TEST_BACKEND || 'cpu');
  });
});
