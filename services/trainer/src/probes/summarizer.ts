// Where the probes' arithmetic runs (summaries.ts: Grams, spectra, Tr(Σ)). The backend half of a
// probe step has to run on the training thread, between steps; the arithmetic does not. On native
// TensorFlow it was about half of the first-order probes' cost, so the trainer hands it to a
// worker thread, where it runs while the next step trains, and takes the result before that
// step's events go out (probe-step.ts). InlineSummarizer is the same contract on the calling
// thread (tests, and anything that wants no thread).
import { MessageChannel, Worker, receiveMessageOnPort, type MessagePort } from 'node:worker_threads';
import { summarizeGrams, type GramResults, type GramWork } from './summaries.ts';
import { tsWorkerSource } from '../worker-source.ts';

export interface GramSummarizer {
  readonly where: 'inline' | 'worker';
  /** Starts the arithmetic of `work`; take() returns results in the order of submit(). */
  submit(work: GramWork): void;
  /** The results of the oldest work not taken yet and the ms the arithmetic took (waits for them). */
  take(): { results: GramResults; ms: number };
  close(): Promise<void>;
}

export class InlineSummarizer implements GramSummarizer {
  readonly where = 'inline';
  private queue: GramWork[] = [];

  submit(work: GramWork): void {
    this.queue.push(work);
  }

  take(): { results: GramResults; ms: number } {
    const work = this.queue.shift();
    if (!work) throw new Error('probe summarizer: take() without work submitted');
    const t0 = performance.now();
    const results = summarizeGrams(work);
    return { results, ms: performance.now() - t0 };
  }

  async close(): Promise<void> {
    this.queue = [];
  }
}

export type SummarizerReply = { kind: 'done'; id: number; results: GramResults; ms: number } | { kind: 'failed'; id: number; message: string };

export interface SummarizerWorkerData {
  port: MessagePort;
  /** Int32Array over a SharedArrayBuffer: [0] counts the replies posted (Atomics.notify on each). */
  replies: Int32Array;
}

/** How long take() waits for one result before it gives up (the arithmetic takes milliseconds). */
export const TAKE_TIMEOUT_MS = 60_000;

export class WorkerSummarizer implements GramSummarizer {
  readonly where = 'worker';
  private readonly port: MessagePort;
  private readonly worker: Worker;
  private readonly replies = new Int32Array(new SharedArrayBuffer(4));
  private submitted = 0;
  private taken = 0;
  private failure: Error | undefined;

  constructor(private readonly takeTimeoutMs = TAKE_TIMEOUT_MS) {
    const { port1, port2 } = new MessageChannel();
    this.port = port1;
    const data: SummarizerWorkerData = { port: port2, replies: this.replies };
    this.worker = new Worker(tsWorkerSource(new URL('./summarizer-worker.ts', import.meta.url)), { workerData: data, transferList: [port2] });
    this.worker.unref();
    this.port.unref();
    this.worker.on('error', (err) => (this.failure = err));
  }

  submit(work: GramWork): void {
    this.port.postMessage({ id: this.submitted++, work });
  }

  take(): { results: GramResults; ms: number } {
    if (this.taken >= this.submitted) throw new Error('probe summarizer: take() without work submitted');
    const deadline = Date.now() + this.takeTimeoutMs;
    for (;;) {
      // Read the count before looking: a reply posted after the look wakes the wait below.
      const seen = Atomics.load(this.replies, 0);
      const reply = receiveMessageOnPort(this.port)?.message as SummarizerReply | undefined;
      if (reply) {
        this.taken++;
        if (reply.kind === 'failed') throw new Error(`probe summaries failed in their worker thread: ${reply.message}`);
        return { results: reply.results, ms: reply.ms };
      }
      if (this.failure) throw new Error(`the probe summarizer's worker thread failed: ${this.failure.message}`);
      // threadId turns -1 as the thread ends, before its 'exit' event (which needs an event-loop turn).
      if (this.worker.threadId === -1) throw new Error("the probe summarizer's worker thread has exited");
      if (Date.now() > deadline) throw new Error(`no probe summaries from their worker thread in ${this.takeTimeoutMs / 1000} s`);
      Atomics.wait(this.replies, 0, seen, 100);
    }
  }

  async close(): Promise<void> {
    this.port.close();
    await this.worker.terminate();
  }
}
