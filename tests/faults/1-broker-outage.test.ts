// Case 1: the broker is SIGKILLed mid-run for 20 s, and for 60 s, while a trainer, the ingest
// process and a detector run. Expected: nothing lost, no duplicate rows, the trainer rides out the
// outage (keeps training into its bounded buffer, waits when it is full, flushes when the broker is
// back) and exits 0, and the detector's phases and stops equal a replay of the run's events.
// And an outage longer than emit.outage_limit_s: the trainer checkpoints, spills what it could not
// send, exits 1 naming `--resume`, and the resume sends everything and finishes the run.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { TOPICS, type AnyEvent, type RunFinished, type StepMetrics } from '@grokstream/schemas';
import type { ClickHouseStore } from '@grokstream/store';
import { uniqueId } from './env.ts';
import { ensureStack, outage } from './stack.ts';
import {
  caseDir,
  detectorReady,
  ingestReady,
  killAll,
  spawnDetector,
  spawnIngest,
  spawnTrainer,
  trainerRunId,
  trainerStep,
  writeDetectorConfig,
  type Proc,
} from './procs.ts';
import {
  clickhouse,
  compareWithReplay,
  maxStoredStep,
  publishedOutputs,
  ranges,
  readTopics,
  replay,
  rowCounts,
  runEvents,
  stepGaps,
  storedRunRows,
  storedSteps,
  within,
} from './checks.ts';
import { CaseResult } from './results.ts';

const CASE = 'broker-outage';
const STEPS = 1200;

describe('fault: broker SIGKILL mid-run', () => {
  const id = uniqueId();
  const database = `faults_broker_${id}`;
  const detectorName = `faults-broker-${id}`;
  let store: ClickHouseStore;
  let ingest: Proc;
  let detector: Proc;

  beforeAll(async () => {
    await ensureStack();
    store = clickhouse(database);
    ingest = spawnIngest(CASE, { database, group: `faults-ingest-${id}` });
    detector = spawnDetector(CASE, writeDetectorConfig(CASE, detectorName));
    await Promise.all([ingestReady(ingest), detectorReady(detector)]);
  });

  afterAll(async () => {
    await killAll();
    await store?.close();
  });

  for (const downS of [20, 60]) {
    it(
      `loses nothing, duplicates nothing and the trainer completes across a ${downS} s broker outage`,
      async () => {
        const r = new CaseResult(`broker-sigkill-${downS}s`);
        await r.run(async () => {
          const trainer = spawnTrainer(CASE, {
            name: `trainer-${downS}s`,
            // A small buffer, so the outage fills it and the trainer has to wait, not only buffer.
            overrides: [`run.steps=${STEPS}`, 'emit.buffer=150', `run.name=faults-broker-${downS}s`],
            checkpointDir: caseDir(CASE, 'checkpoints'),
          });
          const runId = await trainerRunId(trainer);
          r.metric('run_id', runId);

          // The pipeline flows end to end before the fault.
          const flowing = await within(120_000, async () => (await maxStoredStep(store, runId)) >= 100);
          if (flowing === undefined) throw new Error(`step 100 of ${runId} never reached ClickHouse:\n${trainer.tail()}\n${ingest.tail()}`);
          const storedBefore = await maxStoredStep(store, runId);
          const trainerAtKill = trainerStep(trainer);
          let trainerAtRestart = 0;
          const o = await outage('kafka', downS * 1000, async () => {
            await new Promise((res) => setTimeout(res, downS * 1000 - 500));
            trainerAtRestart = trainerStep(trainer);
          });
          r.metric('outage', { ...o, trainer_step_at_kill: trainerAtKill, trainer_step_before_restart: trainerAtRestart, stored_step_at_kill: storedBefore });
          r.check('trainer alive through the outage', trainer.exited === undefined || trainer.exited.code === 0, trainer.exited ? `exited ${JSON.stringify(trainer.exited)}: ${trainer.tail(1500)}` : 'running');

          // Recovery: the first row produced during the outage, then the whole outage backlog, stored.
          const firstNew = await within(120_000, async () => (await maxStoredStep(store, runId)) > storedBefore);
          const caughtUp = await within(180_000, async () => (await maxStoredStep(store, runId)) >= Math.max(trainerAtRestart, storedBefore + 1));
          r.metric('recovery_first_row_ms', firstNew ?? null);
          r.metric('trainer_waited_on_a_full_buffer', /buffer full/.test(trainer.output));
          r.set({ recovery_ms: caughtUp === undefined ? null : (firstNew ?? 0) + caughtUp });

          const exit = await trainer.waitExit(150_000);
          r.check('trainer exits 0', exit?.code === 0, exit ? `exit ${exit.code} signal ${exit.signal}; output:\n${trainer.tail(2500)}` : `still running 150 s after the broker came back:\n${trainer.tail(2500)}`);
          const done = /run (\S+): (completed|early_stopped) at step (\d+)/.exec(trainer.output);
          r.check('trainer reports completed or early_stopped', done !== null, trainer.tail(1500));
          if (exit === undefined) trainer.kill('SIGKILL');
          const finalStep = done ? Number(done[3]) : undefined;
          r.metric('trainer_result', done ? { reason: done[2], step: finalStep } : null);

          // The topic: everything the trainer sent, once, seq 0..n-1.
          const settled = await within(60_000, async () => (await runEvents([runId])).some((e) => e.name === 'RunFinished'));
          r.check('RunFinished on the topic', settled !== undefined);
          const events = await runEvents([runId]);
          const finished = events.find((e) => e.name === 'RunFinished')?.value as RunFinished | undefined;
          const sent = finished ? finished.seq + 1 : Math.max(-1, ...events.map((e) => e.value.seq)) + 1;
          const ids = new Set(events.map((e) => e.value.event_id));
          const seqs = [...new Set(events.map((e) => e.value.seq))].sort((a, b) => a - b);
          const missingSeq = Array.from({ length: sent }, (_, i) => i).filter((s) => !seqs.includes(s));
          r.check('every seq 0..n-1 on the topic (nothing lost on the way to Kafka)', missingSeq.length === 0, `sent ${sent}, missing seq ${ranges(missingSeq)}`);
          r.metric('topic', { messages: events.length, distinct_events: ids.size, duplicate_messages: events.length - ids.size });
          const topicSteps = events.filter((e) => e.name === 'StepMetrics').map((e) => (e.value as StepMetrics).step);
          if (finalStep !== undefined) {
            const { gaps } = stepGaps(topicSteps, finalStep);
            r.check('every step 1..N on the topic', gaps.length === 0, `N ${finalStep}, gaps ${ranges(gaps)}`);
          }

          // ClickHouse: every event of the run stored once.
          const expectedSteps = finalStep ?? finished?.step ?? Math.max(0, ...topicSteps);
          const storedAll = await within(90_000, async () => (await storedRunRows(store, runId)) >= sent);
          r.metric('store_caught_up_ms', storedAll ?? null);
          const where = `run_id = '${runId}'`;
          const counts = {
            steps: await rowCounts(store, 'steps', where, 'run_id, step'),
            runs: await rowCounts(store, 'runs', where, 'run_id'),
            run_ends: await rowCounts(store, 'run_ends', where, 'run_id'),
            checkpoints: await rowCounts(store, 'checkpoints', where, 'run_id, step'),
          };
          r.metric('rows', counts);
          const stored = Object.values(counts).reduce((n, c) => n + c.distinct, 0);
          const duplicates = Object.values(counts).reduce((n, c) => n + c.duplicates, 0);
          const { gaps, repeats } = stepGaps(await storedSteps(store, runId), expectedSteps);
          const dlt = (await readTopics([TOPICS.deadLetter])).filter((d) => d.event?.name === 'DeadLetter' && d.event.value.run_id === runId).length;
          r.set({ events_sent: sent, events_stored: stored, lost: sent - stored, duplicate_rows: duplicates, dead_letters: dlt });
          r.check('0 lost (every event in ClickHouse)', sent > 0 && stored === sent, `sent ${sent}, stored ${stored}`);
          r.check('steps 1..N stored once each', gaps.length === 0 && repeats.length === 0, `N ${expectedSteps}, gaps ${ranges(gaps)}, repeats ${ranges(repeats)}`);
          r.check('0 duplicate rows', duplicates === 0, counts);
          r.check('no dead letters for the run', dlt === 0, `${dlt}`);

          // The detector's verdicts on the topics and in ClickHouse equal a replay of the topic.
          const replayed = await replay(detectorName, events as AnyEvent[]);
          let cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, [runId]));
          await within(60_000, async () => {
            cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, [runId]));
            return cmp.equal;
          });
          r.metric('verdicts', { replayed: cmp.expected.length, published: cmp.found.length, missing: cmp.missing, extra: cmp.extra });
          r.check('phases and stops on the topics equal the replay', cmp.equal && cmp.expected.length > 0, { missing: cmp.missing, extra: cmp.extra });
          r.check('no duplicate PhaseChanged or StopRun on the topics', cmp.duplicatePhases === 0 && cmp.duplicateStops === 0 && cmp.runsWithSeveralStops.length === 0, cmp);
          const replayStop = replayed.find((x) => x.name === 'StopRun');
          if (done?.[2] === 'early_stopped') {
            r.check('the trainer obeyed the replayed StopRun', replayStop !== undefined && trainer.output.includes(`(command ${replayStop.value.command_id})`), trainer.tail(500));
          }
          const wantIds = replayed.map((x) => x.value.event_id).sort();
          const inStore = await within(60_000, async () => {
            const rows = await store.query<{ event_id: string }>(
              `SELECT event_id FROM ${database}.phases FINAL WHERE ${where} AND detector = '${detectorName}' ` +
                `UNION ALL SELECT event_id FROM ${database}.commands FINAL WHERE ${where} AND issued_by = '${detectorName} 1'`,
            );
            return JSON.stringify(rows.map((x) => x.event_id).sort()) === JSON.stringify(wantIds);
          });
          r.check('phases and commands in ClickHouse equal the replay', inStore !== undefined, `${wantIds.length} verdicts expected`);

          r.check('ingest still running', ingest.exited === undefined, ingest.exited ? ingest.tail(1500) : undefined);
          r.check('detector still running', detector.exited === undefined, detector.exited ? detector.tail(1500) : undefined);
        });
      },
      downS * 1000 + 330_000,
    );
  }

  it('past emit.outage_limit_s: checkpoints, spills, exits 1 naming --resume; the resume sends it all', async () => {
    const r = new CaseResult('broker-sigkill-past-outage-limit');
    await r.run(async () => {
      const limitS = 10;
      const steps = 500;
      const checkpointDir = caseDir(CASE, 'checkpoints');
      const overrides = [`run.steps=${steps}`, 'emit.buffer=150', `emit.outage_limit_s=${limitS}`, 'run.name=faults-broker-limit'];
      const trainer = spawnTrainer(CASE, { name: 'trainer-limit', overrides, checkpointDir });
      const runId = await trainerRunId(trainer);
      r.metric('run_id', runId);
      const flowing = await within(120_000, async () => (await maxStoredStep(store, runId)) >= 50);
      if (flowing === undefined) throw new Error(`step 50 of ${runId} never reached ClickHouse:\n${trainer.tail()}`);
      const killedAt = Date.now();
      let exit: Awaited<ReturnType<Proc['waitExit']>>;
      // Kafka stays down until the trainer gives up (or 90 s), then comes back.
      const o = await outage('kafka', 0, async () => {
        exit = await trainer.waitExit(90_000);
      });
      const gaveUpMs = exit ? exit.ms - (killedAt - trainer.startedAt) : null;
      r.metric('outage', { ...o, trainer_gave_up_after_ms: gaveUpMs, outage_limit_s: limitS });
      r.check('the trainer gives up with exit 1', exit?.code === 1, exit ? `exit ${exit.code} signal ${exit.signal}: ${trainer.tail(2000)}` : `still running 90 s into the outage: ${trainer.tail(2000)}`);
      if (!exit) await trainer.killHard();
      r.check(`it gives up within the limit plus 45 s (${limitS + 45} s)`, gaveUpMs !== null && gaveUpMs <= (limitS + 45) * 1000, `${gaveUpMs} ms`);
      r.check('its message says how to go on (--resume RUN_ID)', new RegExp(`--resume\\s+${runId}`).test(trainer.output), trainer.tail(1500));
      r.check('no stack trace', !/^\s{4}at /m.test(trainer.output), trainer.tail(1500));

      const resumed = spawnTrainer(CASE, { name: 'trainer-limit-resumed', overrides, checkpointDir, resume: runId });
      const resumeT = Date.now();
      const resumedExit = await resumed.waitExit(240_000);
      r.set({ recovery_ms: Date.now() - resumeT });
      r.check('the resume exits 0', resumedExit?.code === 0, resumedExit ? `exit ${resumedExit.code}: ${resumed.tail(2000)}` : `still running after 240 s: ${resumed.tail(2000)}`);
      if (!resumedExit) await resumed.killHard();
      const done = /run (\S+): (completed|early_stopped) at step (\d+)/.exec(resumed.output);
      r.check('the resumed run finishes', done !== null, resumed.tail(1500));
      const finalStep = done ? Number(done[3]) : steps;

      await within(60_000, async () => (await runEvents([runId])).some((e) => e.name === 'RunFinished'));
      const events = await runEvents([runId]);
      const seqs = new Set(events.map((e) => e.value.seq));
      const maxSeq = Math.max(-1, ...seqs);
      const missingSeq = Array.from({ length: maxSeq + 1 }, (_, i) => i).filter((x) => !seqs.has(x));
      r.check('seq continuous 0..max on the topic', missingSeq.length === 0, `max ${maxSeq}, missing ${ranges(missingSeq)}`);
      const topicSteps = events.filter((e) => e.name === 'StepMetrics').map((e) => (e.value as StepMetrics).step);
      const onTopic = stepGaps(topicSteps, finalStep);
      r.check('every step 1..N on the topic (the spilled ones too)', onTopic.gaps.length === 0, `N ${finalStep}, gaps ${ranges(onTopic.gaps)}`);
      await within(90_000, async () => (await storedSteps(store, runId)).length >= finalStep);
      const counts = await rowCounts(store, 'steps', `run_id = '${runId}'`, 'run_id, step');
      const stored = stepGaps(await storedSteps(store, runId), finalStep);
      r.metric('rows', counts);
      r.metric('topic', { messages: events.length, distinct_seq: seqs.size, resent: events.length - new Set(events.map((e) => e.value.event_id)).size });
      r.set({ events_sent: finalStep, events_stored: counts.distinct, lost: stored.gaps.length, duplicate_rows: counts.duplicates, dead_letters: null });
      r.check('steps 1..N stored once each', stored.gaps.length === 0 && stored.repeats.length === 0 && counts.final === finalStep, { counts, gaps: ranges(stored.gaps) });
      r.check('0 duplicate rows', counts.duplicates === 0, counts);
      const replayed = await replay(detectorName, events as AnyEvent[]);
      let cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, [runId]));
      await within(60_000, async () => {
        cmp = compareWithReplay(replayed, await publishedOutputs(detectorName, [runId]));
        return cmp.equal;
      });
      r.check('phases and stops on the topics equal the replay', cmp.equal && cmp.expected.length > 0, { missing: cmp.missing, extra: cmp.extra });
      r.check('no duplicate PhaseChanged or StopRun', cmp.duplicatePhases === 0 && cmp.duplicateStops === 0, cmp);
      r.check('ingest still running', ingest.exited === undefined, ingest.exited ? ingest.tail(1500) : undefined);
      r.check('detector still running', detector.exited === undefined, detector.exited ? detector.tail(1500) : undefined);
    });
  }, 480_000);
});
