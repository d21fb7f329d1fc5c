// Bundles grokstream for a machine with Node but no registry (deploy/gpu-offline/README.md): the CLI,
// gpu-check, bench:trainer, their two worker threads and probe.ts, each one ESM file under
// .gpu/app/a/dist, beside tfjs-node's package.json and binding, the graph addon and the Avro schemas.
//   node deploy/gpu-offline/bundle.mjs      (from the repository root, after pnpm setup:native)
// Three things differ from a checkout, each patched here at bundle time only: chdb (a 200 MB native
// module) is left out, so runs need --no-store; tf.ts imports tfjs-node by a literal name, so the
// bundle holds it; worker threads start from their bundled .mjs files instead of through tsx.
import { cpSync, mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import process from 'node:process';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, '.gpu', 'app');
// esbuild comes with tsx (a dev dependency); pnpm does not hoist it to the root.
const { build } = createRequire(createRequire(join(ROOT, 'package.json')).resolve('tsx/package.json'))('esbuild');
const trainerRequire = createRequire(join(ROOT, 'services', 'trainer', 'package.json'));
const tfjsNode = dirname(trainerRequire.resolve('@tensorflow/tfjs-node/package.json'));

const patches = {
  name: 'offline',
  setup(b) {
    b.onResolve({ filter: /^chdb$/ }, () => ({ path: 'chdb', namespace: 'offline' }));
    b.onLoad({ filter: /.*/, namespace: 'offline' }, () => ({
      contents: "export class Session { constructor() { throw new Error('chdb is not in this bundle: run with --no-store'); } }",
      loader: 'js',
    }));
    b.onLoad({ filter: /services\/trainer\/src\/tf\.ts$/ }, (a) => ({
      contents: readFileSync(a.path, 'utf8').replace(
        'await import(pkg);',
        "await (pkg === '@tensorflow/tfjs-node' ? import('@tensorflow/tfjs-node') : Promise.reject(new Error(`Cannot find package '${pkg}'`)));",
      ),
      loader: 'ts',
    }));
    b.onLoad({ filter: /services\/trainer\/src\/worker-source\.ts$/ }, () => ({
      contents: "export function tsWorkerSource(entry: URL): URL { return new URL(entry.href.replace(/\\.ts$/, '.mjs')); }",
      loader: 'ts',
    }));
  },
};
// CommonJS modules inside (tfjs-node finds its binding from __dirname) get these from the bundle's own path.
const banner =
  "import { createRequire as __gsCR } from 'node:module'; import { fileURLToPath as __gsF } from 'node:url'; import { dirname as __gsD } from 'node:path';" +
  ' const require = __gsCR(import.meta.url); const __gs_filename = __gsF(import.meta.url); const __gs_dirname = __gsD(__gs_filename);';
const entries = [
  ['services/cli/src/main.ts', 'grokstream.mjs'],
  ['services/trainer/scripts/gpu-check.ts', 'gpu-check.mjs'],
  ['tests/bench/trainer.bench.ts', 'trainer-bench.mjs'],
  ['services/trainer/src/probes/summarizer-worker.ts', 'summarizer-worker.mjs'],
  ['services/trainer/src/control-worker.ts', 'control-worker.mjs'],
  ['deploy/gpu-offline/probe.ts', 'probe.mjs'],
];
for (const [entry, out] of entries) {
  await build({
    entryPoints: [join(ROOT, entry)],
    outfile: join(OUT, 'a', 'dist', out),
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    minify: true,
    legalComments: 'none',
    plugins: [patches],
    banner: { js: banner },
    define: { __dirname: '__gs_dirname', __filename: '__gs_filename' },
    // node-pre-gyp's optional publishing helpers, never loaded at run time.
    external: ['*.node', 'mock-aws-s3', 'aws-sdk', 'nock'],
    loader: { '.html': 'empty' },
    nodePaths: [join(ROOT, 'services', 'trainer', 'node_modules')],
    logLevel: 'error',
  });
}
// Where the bundle looks: tfjs-node's package.json and binding one folder up from dist/ (its
// RUNPATH, $ORIGIN/../../deps/lib, is where pack.sh puts TensorFlow), the graph addon two up
// (tf-graph.ts), the schemas one up (schemas/src/catalog.ts).
cpSync(join(tfjsNode, 'package.json'), join(OUT, 'a', 'package.json'));
mkdirSync(join(OUT, 'a', 'lib', 'napi-v8'), { recursive: true });
cpSync(join(tfjsNode, 'lib', 'napi-v8', 'tfjs_binding.node'), join(OUT, 'a', 'lib', 'napi-v8', 'tfjs_binding.node'));
const addon = join(ROOT, 'services', 'trainer', 'native', 'graph', 'build', 'Release', 'tf_graph.node');
mkdirSync(join(OUT, 'native', 'graph', 'build', 'Release'), { recursive: true });
cpSync(addon, join(OUT, 'native', 'graph', 'build', 'Release', 'tf_graph.node'));
for (const d of ['avro', 'history']) cpSync(join(ROOT, 'schemas', d), join(OUT, 'a', d), { recursive: true });
cpSync(join(import.meta.dirname, 'device.sh'), join(OUT, 'device.sh'));
process.stdout.write(`bundled into ${OUT}\n`);
