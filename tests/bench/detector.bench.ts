// Detector benchmark, in one run:
//  1. events/s through the whole detector (phases + the default policies) on one core: replay of
//     RUNS synthetic grokking runs, interleaved as on a shared topic;
//  2. memory per active run: the detector service on the in-process bus holding 1,000 runs open
//     (none finished), heap measured after a forced GC.
//   pnpm bench:detector           (BENCH_RUNS=1000, BENCH_STEPS=300)
// Writes bench-results/detector.json.
import { EventCodec, TOPICS, type AnyEvent } from '@grokstream/schemas';
import { EventPublisher, MemoryBus, standardTopics, waitUntil } from '@grokstream/bus';
import { DetectorService, detectorOptions, parseDetectorConfig, replayEvents } from '@grokstream/detector';
import { syntheticGrokkingRun } from '../../services/detector/src/testing-runs.ts';
import { report, timed, type Figure } from './report.ts';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc (pnpm bench:detector does)');
const RUNS = Number(process.env.BENCH_RUNS ?? '1000');
const STEPS = Number(process.env.BENCH_STEPS ?? '300');
const OUT = process.env.BENCH_OUT ?? 'bench-results/detector.json';
const progress = (msg: string) => process.stderr.write(`bench: ${msg}\n`);
const options = detectorOptions(parseDetectorConfig({}, 'defaults'));
const figures: Figure[] = [];

// Interleave runs step by step, as a shared partition carries them.
const runs = Array.from({ length: RUNS }, (_, r) => syntheticGrokkingRun(`bench-${r}`, STEPS, false));
const events: AnyEvent[] = [];
for (let s = 0; s < STEPS; s++) for (const run of runs) events.push(run[s]!);

progress(`replay: ${events.length} events, ${RUNS} runs`);
await replayEvents(events.slice(0, 20_000), options); // warm-up
const { ms, result } = await timed(() => replayEvents(events, options));
figures.push({ name: 'detector events/s (one core, replay)', value: (events.length * 1000) / ms, unit: 'events/s', note: `${result.length} outputs` });

progress(`service: ${RUNS} active runs on the in-process bus`);
const bus = new MemoryBus();
await bus.ensureTopics(standardTopics(4));
const producer = await bus.producer();
const codec = EventCodec.load();
const publisher = new EventPublisher(producer, codec);
const service = new DetectorService({ ...options, bus, codec });
await service.start();
gc();
const before = process.memoryUsage().heapUsed;
const t0 = performance.now();
for (let i = 0; i < events.length; i += 5_000) await publisher.publish(TOPICS.events, events.slice(i, i + 5_000));
await waitUntil(() => service.stats.events >= events.length, 'the service to consume everything', 600_000);
const serviceMs = performance.now() - t0;
gc();
const after = process.memoryUsage().heapUsed;
const active = service.stats.activeRuns;
figures.push({ name: 'service events/s (in-process bus, Avro)', value: (events.length * 1000) / serviceMs, unit: 'events/s' });
figures.push({ name: 'active runs held', value: active, unit: 'runs' });
figures.push({ name: 'memory per active run', value: (after - before) / active / 1024, unit: 'KiB', note: 'JS heap after GC: per-run state and the bus index; message bytes live outside the heap' });
await service.stop();
report(OUT, 'grokstream detector benchmark', figures, { runs: RUNS, steps: STEPS, events: events.length, node: process.version });
process.exit(0);
