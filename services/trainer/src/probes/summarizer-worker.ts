// The probe summarizer's worker thread (summarizer.ts starts it): the arithmetic of each probe
// step's GOP and noise work, in the order it came, each reply counted in the shared `replies` so
// the trainer can wait for it without an event-loop turn.
import { workerData } from 'node:worker_threads';
import { summarizeGrams, type GramWork } from './summaries.ts';
import type { SummarizerReply, SummarizerWorkerData } from './summarizer.ts';

const { port, replies } = workerData as SummarizerWorkerData;

port.on('message', (m: { id: number; work: GramWork }) => {
  const t0 = performance.now();
  let reply: SummarizerReply;
  try {
    reply = { kind: 'done', id: m.id, results: summarizeGrams(m.work), ms: performance.now() - t0 };
  } catch (err) {
    reply = { kind: 'failed', id: m.id, message: (err as Error).message };
  }
  port.postMessage(reply);
  Atomics.add(replies, 0, 1);
  Atomics.notify(replies, 0);
});
