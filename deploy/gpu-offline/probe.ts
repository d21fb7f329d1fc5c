// The first thing run on the GPU machine (device.sh): loads native TensorFlow the way runs do
// (services/trainer/src/tf.ts), says whether it placed work on a GPU, and times a 1024² matmul.
import { chooseBackend, describeBackend, tf } from '../../services/trainer/src/tf.ts';

console.log(describeBackend(await chooseBackend('tensorflow')));
const gpu = Boolean((tf.backend() as unknown as { isUsingGpuDevice?: boolean }).isUsingGpuDevice);
const a = tf.randomNormal([1024, 1024]);
tf.matMul(a, a).dataSync();
const t0 = performance.now();
for (let i = 0; i < 20; i++) tf.matMul(a, a).dataSync();
console.log(JSON.stringify({ backend: tf.getBackend(), gpu, matmul1024_ms: (performance.now() - t0) / 20, tf32_override: process.env.NVIDIA_TF32_OVERRIDE }));
