// Case 4: the trainer is SIGKILLed mid-run (after a mid-run checkpoint), then resumed with
// `grokstream run CONFIG --resume RUN_ID --kafka ...`. Expected: on the topic, the run's distinct
// events carry one continuous seq (0..n-1, each seq one fact, each fact one seq: steps re-sent after
// the resume keep their seq), and in ClickHouse `steps` holds every step 1..N exactly once.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it } from 'vitest';
import type { AnyEvent, RunFinished } from '@grokstream/schemas';
import type { ClickHouseStore } from '@grokstream/store';
import { uniqueId } from './env.ts';
import { ensureStack } from './stack.ts';
import { caseDir, ingestReady, killAll, spawnIngest, spawnTrainer, trainerRunId, trainerStep, type Proc } from './procs.ts';
import { clickhouse, maxStoredStep, ranges, rowCounts, runEvents, stepGaps, storedSteps, within } from './checks.ts';
import { CaseResult } from './results.ts';

const CASE = 'trainer-resume';
const STEPS = 600;
const CHECKPOINT_EVERY = 100;
const KILL_AFTER_STEP = 250;

/** What an event is a fact about: a re-sent step is the same fact as the first copy. */
export function factOf(e: AnyEvent): string {
  switch (e.name) {
    case 'RunStarted':
      return `RunStarted from ${e.value.resumed_from_step ?? 'scratch'}`;
    case 'StepMetrics':
    case 'ProbeSummary':
    case 'Checkpointed':
      return `${e.name} ${e.value.step}`;
    case 'RunFinished':
      return 'RunFinished';
    default:
      return `${e.name} ${e.value.event_id}`;
  }
}

describe('fault: trainer SIGKILL, then --resume', () => {
  const id = uniqueId();
  const database = `faults_resume_${id}`;
  let store: ClickHouseStore;
  let ingest: Proc;

  beforeAll(async () => {
    await ensureStack();
    store = clickhouse(database);
    ingest = spawnIngest(CASE, { database, group: `faults-ingest-${id}` });
    await ingestReady(ingest);
  });

  afterAll(async () => {
    await killAll();
    await store?.close();
  });

  it('resumes with continuous seq and stores every step once', async () => {
    const r = new CaseResult('trainer-sigkill-resume');
    await r.run(async () => {
      const checkpoints = caseDir(CASE, `checkpoints-${id}`);
      const overrides = [`run.steps=${STEPS}`, `run.checkpoint.every=${CHECKPOINT_EVERY}`, 'run.name=faults-resume'];
      const first = spawnTrainer(CASE, { name: 'trainer', overrides, checkpointDir: checkpoints });
      const runId = await trainerRunId(first);
      r.metric('run_id', runId);
      const hasCheckpoint = () => {
        const dir = join(checkpoints, runId);
        return existsSync(dir) && readdirSync(dir).some((d) => /^step-\d+$/.test(d));
      };
      const ready = await within(180_000, () => trainerStep(first) >= KILL_AFTER_STEP && hasCheckpoint(), 100);
      if (ready === undefined) throw new Error(`the trainer never reached step ${KILL_AFTER_STEP} with a checkpoint:\n${first.tail()}`);
      await first.killHard();
      const killedAt = trainerStep(first);
      const storedAtKill = await maxStoredStep(store, runId);
      r.metric('killed', { trainer_step: killedAt, stored_step: storedAtKill, checkpoints: readdirSync(join(checkpoints, runId)) });

      const resumed = spawnTrainer(CASE, { name: 'trainer-resumed', overrides, checkpointDir: checkpoints, resume: runId });
      const resumeT = Date.now();
      const moving = await within(180_000, async () => (await maxStoredStep(store, runId)) > Math.max(storedAtKill, killedAt));
      r.set({ recovery_ms: moving ?? null });
      const exit = await resumed.waitExit(180_000);
      r.metric('resume_ms', Date.now() - resumeT);
      r.check('the resumed trainer exits 0', exit?.code === 0, exit ? `exit ${exit.code} signal ${exit.signal}: ${resumed.tail(2000)}` : `still running after 180 s: ${resumed.tail(2000)}`);
      if (!exit) await resumed.killHard();
      r.check('the resumed run completes all steps', new RegExp(`run ${runId}: completed at step ${STEPS}`).test(resumed.output), resumed.tail(1500));

      // The topic.
      await within(60_000, async () => (await runEvents([runId])).some((e) => e.name === 'RunFinished'));
      const events = await runEvents([runId]);
      const bySeq = new Map<number, Set<string>>();
      const byFact = new Map<string, Set<number>>();
      for (const e of events) {
        const fact = factOf(e);
        bySeq.set(e.value.seq, (bySeq.get(e.value.seq) ?? new Set()).add(fact));
        byFact.set(fact, (byFact.get(fact) ?? new Set()).add(e.value.seq));
      }
      const maxSeq = Math.max(-1, ...bySeq.keys());
      const missingSeq = Array.from({ length: maxSeq + 1 }, (_, i) => i).filter((s) => !bySeq.has(s));
      const sharedSeq = [...bySeq].filter(([, f]) => f.size > 1).map(([s, f]) => `seq ${s}: ${[...f].join(' / ')}`);
      const splitFacts = [...byFact].filter(([, s]) => s.size > 1).map(([f, s]) => `${f}: seq ${[...s].join(',')}`);
      const finished = events.filter((e) => e.name === 'RunFinished').map((e) => e.value as RunFinished);
      r.metric('topic', {
        messages: events.length,
        distinct_facts: byFact.size,
        resent_messages: events.length - byFact.size,
        max_seq: maxSeq,
        run_started: events.filter((e) => e.name === 'RunStarted').length,
      });
      r.check('seq continuous 0..max on the topic', missingSeq.length === 0, `max ${maxSeq}, missing ${ranges(missingSeq)}`);
      r.check('each seq names one fact', sharedSeq.length === 0, `${sharedSeq.length} seqs name two facts: ${sharedSeq.slice(0, 8).join('; ')}`);
      r.check('each fact keeps one seq when re-sent', splitFacts.length === 0, `${splitFacts.length} facts with two seqs: ${splitFacts.slice(0, 8).join('; ')}`);
      r.check('one RunFinished, completed at the last step', finished.length === 1 && finished[0]!.reason === 'completed' && finished[0]!.step === STEPS, finished);

      // ClickHouse.
      const all = await within(90_000, async () => (await storedSteps(store, runId)).length >= STEPS);
      r.metric('store_caught_up_ms', all ?? null);
      const steps = await storedSteps(store, runId);
      const { gaps, repeats } = stepGaps(steps, STEPS);
      const extra = steps.filter((s) => s < 1 || s > STEPS);
      const counts = await rowCounts(store, 'steps', `run_id = '${runId}'`, 'run_id, step');
      r.metric('rows', counts);
      r.set({ events_sent: STEPS, events_stored: counts.distinct, lost: gaps.length, duplicate_rows: counts.duplicates, dead_letters: null });
      r.check('steps 1..N in ClickHouse with no gap', gaps.length === 0 && extra.length === 0, `gaps ${ranges(gaps)}, out of range ${ranges(extra)}`);
      r.check('steps once each (FINAL)', repeats.length === 0 && counts.final === STEPS, counts);
      r.check('0 duplicate rows', counts.duplicates === 0, counts);
      r.check('ingest still running', ingest.exited === undefined, ingest.exited ? ingest.tail(1500) : undefined);
    });
  }, 420_000);
});
