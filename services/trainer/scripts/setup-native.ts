// pnpm setup:native — the native TensorFlow backend, built from registry packages only.
//
// @tensorflow/tfjs-node's own install downloads libtensorflow from a host these machines cannot
// reach (pnpm does not even run it: it is not in onlyBuiltDependencies). But PyPI's tensorflow
// wheel carries the same C API: libtensorflow_cc.so.2 and libtensorflow_framework.so.2 export
// every TF_/TFE_ function tfjs-node's binding calls, and tensorflow/include has the headers. So:
//   1. the wheel from PyPI (pip download), once, into a shared directory (several checkouts use
//      one copy of the ~1.3 GB): $GROKSTREAM_NATIVE_DIR, else ~/.cache/grokstream/native;
//   2. its libraries and C-API headers unpacked there, keeping the wheel's layout, so the CUDA
//      libraries of the nvidia-*-cu12 wheels resolve from $ORIGIN/../nvidia/<component>/lib (--gpu);
//   3. tfjs-node's deps/lib and deps/include pointed at them (new files only: the installed
//      package's own files are hard links into pnpm's store and are never written);
//   4. tfjs-node's binding compiled from its sources with node-pre-gyp and node-gyp, against the
//      Node headers Debian ships under /usr/include/node;
//   5. the graph addon (services/trainer/native/graph: TensorFlow's C graph API, for a step run as
//      one graph, src/graph/) compiled with node-gyp against the same deps/;
//   6. a check in a fresh process that the 'tensorflow' backend loads and computes, and that the
//      graph addon builds a graph, takes its gradient and runs it.
// Flags: --wheel PATH (a wheel already downloaded), --gpu (also the CUDA runtime wheels), --force
// (rebuild the binding and the addon). Idempotent: what is already there is reused.
import { spawnSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';

export const TENSORFLOW_VERSION = '2.21.0';
/** The CUDA 12 runtime wheels tensorflow[and-cuda] pulls, unpacked beside the libraries for --gpu. */
const CUDA_WHEELS = [
  'nvidia-cublas-cu12',
  'nvidia-cuda-cupti-cu12',
  'nvidia-cuda-nvcc-cu12',
  'nvidia-cuda-nvrtc-cu12',
  'nvidia-cuda-runtime-cu12',
  'nvidia-cudnn-cu12',
  'nvidia-cufft-cu12',
  'nvidia-curand-cu12',
  'nvidia-cusolver-cu12',
  'nvidia-cusparse-cu12',
  'nvidia-nccl-cu12',
  'nvidia-nvjitlink-cu12',
];
/** What the binding needs from the wheel: the two libraries and the C-API headers. */
const WHEEL_MEMBERS = [
  'tensorflow/libtensorflow_cc.so.2',
  'tensorflow/libtensorflow_framework.so.2',
  'tensorflow/include/tensorflow/c/',
  'tensorflow/include/tensorflow/core/platform/',
  'tensorflow/include/tsl/',
  'tensorflow/include/xla/tsl/',
];

const t0 = Date.now();
const say = (line: string) => console.log(`[setup:native ${((Date.now() - t0) / 1000).toFixed(0).padStart(3)} s] ${line}`);

function fail(message: string): never {
  console.error(`setup:native: ${message}`);
  process.exit(1);
}

function run(command: string, args: string[], o: { cwd?: string; env?: NodeJS.ProcessEnv; what: string }): string {
  const res = spawnSync(command, args, { cwd: o.cwd, env: o.env ?? process.env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (res.error) fail(`${o.what}: cannot run ${command}: ${res.error.message}`);
  if (res.status !== 0) fail(`${o.what} failed (exit ${res.status}):\n${`${res.stdout}\n${res.stderr}`.trim().split('\n').slice(-25).join('\n')}`);
  return res.stdout;
}

export function nativeDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.GROKSTREAM_NATIVE_DIR ?? join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'grokstream', 'native');
  return resolve(base, `tensorflow-${TENSORFLOW_VERSION}`);
}

/** pip downloads from PyPI: binary wheels only, for manylinux x86_64 whatever the local Python is. */
function pipDownload(specs: string[], into: string, what: string): void {
  mkdirSync(into, { recursive: true });
  run('python3', ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--platform', 'manylinux_2_27_x86_64', '--platform', 'manylinux2014_x86_64', '--python-version', '3.11', '-d', into, ...specs], { what });
}

/** Unpacks the members of a wheel (a zip) whose names start with one of `prefixes` into `to`. */
function unzip(wheel: string, prefixes: string[], to: string, what: string): void {
  const script = [
    'import sys, zipfile, os',
    'wheel, to, prefixes = sys.argv[1], sys.argv[2], sys.argv[3:]',
    'n = 0',
    'with zipfile.ZipFile(wheel) as z:',
    '    for info in z.infolist():',
    '        if any(info.filename == p or (p.endswith("/") and info.filename.startswith(p)) for p in prefixes):',
    '            z.extract(info, to); n += 1',
    '            mode = info.external_attr >> 16',
    '            if mode: os.chmod(os.path.join(to, info.filename), mode)',
    'print(n)',
  ].join('\n');
  const n = Number(run('python3', ['-c', script, wheel, to, ...prefixes], { what }).trim());
  if (!(n > 0)) fail(`${what}: nothing matching ${prefixes.join(', ')} in ${wheel}`);
}

function link(target: string, path: string): void {
  if (existsSync(path) || isLink(path)) unlinkSync(path);
  symlinkSync(target, path);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

function sizeOf(path: string): number {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((n, f) => n + sizeOf(join(path, f)), 0);
}

function main(): void {
  const { values } = parseArgs({ options: { wheel: { type: 'string' }, gpu: { type: 'boolean' }, force: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } });
  if (values.help) {
    console.log('pnpm setup:native [--wheel PATH] [--gpu] [--force]: builds the native TensorFlow backend from PyPI and npm packages (see the comment at the top of this script)');
    return;
  }
  if (process.platform !== 'linux' || process.arch !== 'x64') fail(`the PyPI wheel route is for Linux x86_64; this is ${process.platform} ${process.arch}`);
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = dirname(require.resolve('@tensorflow/tfjs-node/package.json'));
  } catch {
    fail('@tensorflow/tfjs-node is not installed (it is an optional dependency of @grokstream/trainer): run pnpm install first');
  }
  const dir = nativeDir();
  const lib = join(dir, 'tensorflow');
  say(`libraries in ${dir} (GROKSTREAM_NATIVE_DIR to choose another place); tfjs-node in ${pkg}`);

  // 1-2. The wheel's libraries and headers, once.
  if (!existsSync(join(lib, 'libtensorflow_cc.so.2')) || !existsSync(join(lib, 'include', 'tensorflow', 'c', 'c_api.h'))) {
    let wheel = values.wheel;
    if (!wheel) {
      const wheels = join(dir, 'wheels');
      const have = existsSync(wheels) ? readdirSync(wheels).find((f) => f.startsWith(`tensorflow-${TENSORFLOW_VERSION}-`)) : undefined;
      if (!have) {
        say(`downloading tensorflow==${TENSORFLOW_VERSION} from PyPI (about 570 MB, once)`);
        pipDownload([`tensorflow==${TENSORFLOW_VERSION}`], wheels, 'pip download tensorflow');
      }
      wheel = join(wheels, readdirSync(wheels).find((f) => f.startsWith(`tensorflow-${TENSORFLOW_VERSION}-`))!);
    }
    if (!existsSync(wheel)) fail(`--wheel ${wheel} does not exist`);
    say(`unpacking the libraries and C-API headers of ${wheel}`);
    unzip(wheel, WHEEL_MEMBERS, dir, 'unpacking the wheel');
    // A wheel we downloaded is not needed once unpacked (570 MB); one given with --wheel is the user's.
    if (!values.wheel) rmSync(join(dir, 'wheels'), { recursive: true, force: true });
  } else {
    say('the TensorFlow libraries are there already');
  }
  if (values.gpu) {
    const nvidia = join(dir, 'nvidia');
    if (!existsSync(join(nvidia, 'cuda_runtime', 'lib'))) {
      say(`downloading the CUDA 12 runtime wheels (${CUDA_WHEELS.length}) from PyPI`);
      const wheels = join(dir, 'wheels-cuda');
      pipDownload(CUDA_WHEELS, wheels, 'pip download of the CUDA wheels');
      for (const w of readdirSync(wheels).filter((f) => f.endsWith('.whl'))) unzip(join(wheels, w), ['nvidia/'], dir, `unpacking ${w}`);
    } else {
      say('the CUDA runtime libraries are there already');
    }
  }

  // 3. deps/ as tfjs-node's build and its binding's rpath ($ORIGIN/../../deps/lib) expect it.
  const deps = join(pkg, 'deps');
  mkdirSync(join(deps, 'lib'), { recursive: true });
  for (const [name, target] of [
    ['libtensorflow.so', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so', 'libtensorflow_framework.so.2'],
    ['libtensorflow_cc.so.2', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so.2', 'libtensorflow_framework.so.2'],
    // the names tfjs-node's install.js looks for (libtensorflow 2.9.1 is what it would download)
    ['libtensorflow.so.2.9.1', 'libtensorflow_cc.so.2'],
    ['libtensorflow_framework.so.2.9.1', 'libtensorflow_framework.so.2'],
  ] as const) {
    link(join(lib, target), join(deps, 'lib', name));
  }
  link(join(lib, 'include'), join(deps, 'include'));

  // 4. The binding, from source.
  const napi = join(pkg, 'lib', `napi-v${process.versions.napi}`, 'tfjs_binding.node');
  const binding = existsSync(join(pkg, 'lib')) ? readdirSync(join(pkg, 'lib')).map((d) => join(pkg, 'lib', d, 'tfjs_binding.node')).find((f) => existsSync(f)) : undefined;
  if (binding && !values.force) {
    say(`the binding is built already (${binding}); --force builds it again`);
  } else {
    if (!existsSync('/usr/include/node/node_api.h') && !process.env.npm_config_nodedir) {
      fail('no Node headers: install Debian\'s nodejs headers (apt-get install -y libnode-dev) or set npm_config_nodedir');
    }
    rmSync(join(pkg, 'build'), { recursive: true, force: true });
    const preGyp = join(dirname(createRequire(join(pkg, 'package.json')).resolve('@mapbox/node-pre-gyp/package.json')), 'bin', 'node-pre-gyp');
    const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
    say('compiling tfjs-node\'s binding (about 40 s on two cores)');
    run(process.execPath, [preGyp, 'install', '--build-from-source'], {
      cwd: pkg,
      what: 'building the binding',
      env: { ...process.env, npm_config_node_gyp: nodeGyp, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr', JOBS: '2' },
    });
    if (!existsSync(napi) && !readdirSync(join(pkg, 'lib')).some((d) => existsSync(join(pkg, 'lib', d, 'tfjs_binding.node')))) {
      fail(`the build ended but no tfjs_binding.node is under ${join(pkg, 'lib')}`);
    }
  }

  // 5. The graph addon (services/trainer/native/graph): TensorFlow's C graph API, for steps that run
  //    as one graph (src/graph/), against the same deps/ (its rpath points there).
  const graphDir = join(dirname(import.meta.dirname), 'native', 'graph');
  const addon = join(graphDir, 'build', 'Release', 'tf_graph.node');
  const addonBuiltFor = join(graphDir, 'build', 'tfjs-node-dir');
  // Built again when its sources changed since (a checkout that pulled a new tf_graph.cc).
  const sourcesNewer = existsSync(addon) && ['tf_graph.cc', 'binding.gyp'].some((f) => statSync(join(graphDir, f)).mtimeMs > statSync(addon).mtimeMs);
  if (existsSync(addon) && existsSync(addonBuiltFor) && readFileSync(addonBuiltFor, 'utf8') === pkg && !sourcesNewer && !values.force) {
    say(`the graph addon is built already (${addon})`);
  } else {
    const nodeGyp = join(dirname(require.resolve('node-gyp/package.json')), 'bin', 'node-gyp.js');
    say('compiling the graph addon (about 10 s)');
    run(process.execPath, [nodeGyp, 'rebuild'], {
      cwd: graphDir,
      what: 'building the graph addon',
      env: { ...process.env, TFJS_NODE_DIR: pkg, npm_config_nodedir: process.env.npm_config_nodedir ?? '/usr', JOBS: '2' },
    });
    if (!existsSync(addon)) fail(`the graph addon's build ended but ${addon} is not there`);
    writeFileSync(addonBuiltFor, pkg);
  }

  // 6. Load them, in a fresh process, as the trainer does.
  const check = run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const tf = await import('@tensorflow/tfjs-node'); await tf.setBackend('tensorflow'); const y = tf.matMul(tf.ones([64, 64]), tf.ones([64, 64])).sum().dataSync()[0]; console.log(JSON.stringify({ backend: tf.getBackend(), sum: y, gpu: tf.backend().isUsingGpuDevice ?? false }));",
    ],
    { cwd: join(dirname(import.meta.dirname)), what: 'loading the native backend' },
  );
  const result = JSON.parse(check.trim().split('\n').at(-1)!) as { backend: string; sum: number; gpu: boolean };
  if (result.backend !== 'tensorflow' || result.sum !== 64 ** 3) fail(`the native backend loaded but computed wrong: ${check}`);
  const graphCheck = run(
    process.execPath,
    [
      '-e',
      `const g = require(${JSON.stringify(addon)}); const id = g.newGraph();` +
        "const x = g.addOp(id, 'Placeholder', 'x', [], [['dtype', 'type', 1], ['shape', 'shape', [2]]]);" +
        "const y = g.addOp(id, 'Sum', 'y', [g.addOp(id, 'Square', 'sq', [x], []), g.addOp(id, 'Const', 'axis', [], [['dtype', 'type', 3], ['value', 'i32', [[1], [0]]]])], []);" +
        "const [dx] = g.addGradients(id, [y], [x], 'grad'); const r = g.prepare(id, [x], [[2]], [1], [y, dx], 1, 1);" +
        'const out = [new Float32Array(1), new Float32Array(2)]; g.run(id, r, [Float32Array.from([3, 4])], out); g.dispose(id);' +
        'console.log(JSON.stringify({ y: out[0][0], dx: Array.from(out[1]) }));',
    ],
    { cwd: graphDir, what: 'loading the graph addon' },
  );
  const graph = JSON.parse(graphCheck.trim().split('\n').at(-1)!) as { y: number; dx: number[] };
  if (graph.y !== 25 || graph.dx.join() !== '6,8') fail(`the graph addon loaded but computed wrong: ${graphCheck}`);
  say(`done: backend tensorflow and the graph addon load and compute (${(sizeOf(lib) / 1e9).toFixed(2)} GB of libraries in ${lib}); grokstream run picks it by itself`);
}

main();
