// The detector's evaluation goals (issue 11), and the ratchet that keeps them: eval/goals.json
// lists the goals once reached; `pnpm eval:detector` fails when one of those is missed again.
import type { Score } from './score.ts';
import { PHASES } from './score.ts';

export interface GoalsFile {
  /** Ids of the goals reached so far: missing one of them again is a regression. */
  reached: string[];
}

export interface GoalResult {
  id: string;
  value: number | null;
  target: string;
  status: 'met' | 'missed' | 'REGRESSED';
}

interface Goal {
  id: string;
  target: string;
  value: (s: { synthetic: Score; recorded: Score }) => number | null;
  met: (v: number | null) => boolean;
}

const atLeast = (t: number) => (v: number | null) => v !== null && v >= t;
const atMost = (t: number) => (v: number | null) => v !== null && v <= t;

/** The seed's anti-grokking run (S1) must be stopped by this step under the default policies. */
export const ANTI_GROKKING_RUN = 'seed001-anti-grokking';
export const ANTI_GROKKING_STOP_BY = 150;

export const GOALS: Goal[] = [
  ...PHASES.map(
    (p): Goal => ({ id: `recorded F1 ${p}`, target: '≥ 0.9', value: (s) => s.recorded.perPhase[p]?.f1 ?? null, met: atLeast(0.9) }),
  ),
  ...PHASES.map(
    (p): Goal => ({ id: `synthetic F1 ${p}`, target: '≥ 0.9', value: (s) => s.synthetic.perPhase[p]?.f1 ?? null, met: atLeast(0.9) }),
  ),
  {
    id: 'recorded grok-step |error| max, % of length',
    target: '≤ 1',
    value: (s) => (s.recorded.missedGrokSteps > 0 ? null : s.recorded.maxAbsGrokStepErrorPct),
    met: atMost(1),
  },
  {
    id: 'recorded onset |error| mean, % of length',
    target: '≤ 2',
    value: (s) => (s.recorded.missedOnsets > 0 ? null : s.recorded.meanAbsOnsetErrorPct),
    met: atMost(2),
  },
  { id: 'premature stops, recorded + synthetic', target: '= 0', value: (s) => s.recorded.premature + s.synthetic.premature, met: atMost(0) },
  {
    id: 'hopeless runs stopped in half, recorded',
    target: '≥ 0.9',
    value: (s) => s.recorded.stopRecall,
    met: atLeast(0.9),
  },
  {
    id: `${ANTI_GROKKING_RUN} stop step`,
    target: `≤ ${ANTI_GROKKING_STOP_BY}`,
    value: (s) => s.recorded.runs.find((r) => r.run === ANTI_GROKKING_RUN)?.stop?.step ?? null,
    met: atMost(ANTI_GROKKING_STOP_BY),
  },
];

export function checkGoals(file: GoalsFile, scores: { synthetic: Score; recorded: Score }): { results: GoalResult[]; regressions: string[]; updated: GoalsFile } {
  const unknown = file.reached.filter((id) => !GOALS.some((g) => g.id === id));
  if (unknown.length > 0) throw new Error(`eval/goals.json names goals that do not exist: ${unknown.join('; ')} (remove them, or restore the goal)`);
  const results = GOALS.map((g): GoalResult => {
    const value = g.value(scores);
    const met = g.met(value);
    return { id: g.id, value, target: g.target, status: met ? 'met' : file.reached.includes(g.id) ? 'REGRESSED' : 'missed' };
  });
  const regressions = results.filter((r) => r.status === 'REGRESSED').map((r) => r.id);
  const updated = { reached: GOALS.filter((g) => file.reached.includes(g.id) || results.find((r) => r.id === g.id)!.status === 'met').map((g) => g.id) };
  return { results, regressions, updated };
}
