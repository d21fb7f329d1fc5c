import { describe, expect, it } from 'vitest';
import { MacroError, expandSql, referencedVariables, type ExpansionContext } from './macros.ts';

const ctx: ExpansionContext = {
  fromMs: 1_700_000_000_999,
  toMs: 1_700_003_600_000,
  intervalS: 30.7,
  variables: {
    database: { values: ['grokstream'] },
    run: { values: ['run-a', "o'brien\\x"] },
    sweep: { values: ['s1', 's2', 's3'], all: true },
    points: { values: ['1000'] },
  },
};

describe('expandSql (the ClickHouse plugin’s expansion)', () => {
  it('expands the time macros in whole seconds', () => {
    expect(expandSql('WHERE $__timeFilter(ts) AND x > $__fromTime AND x < $__toTime', ctx)).toBe(
      'WHERE ts >= toDateTime(1700000000) AND ts <= toDateTime(1700003600) AND x > toDateTime(1700000000) AND x < toDateTime(1700003600)',
    );
    expect(expandSql('intDiv(t, $__interval_s) * $__interval_s', ctx)).toBe('intDiv(t, 30) * 30');
    expect(expandSql('$__interval_s', { ...ctx, intervalS: 0.2 })).toBe('1');
  });

  it('quotes multi-value variables with :singlequote, escaping quotes and backslashes', () => {
    expect(expandSql('run_id IN (${run:singlequote})', ctx)).toBe(`run_id IN ('run-a','o\\'brien\\\\x')`);
    expect(expandSql('${database}.steps, $points, ${run:csv}', ctx)).toBe(`grokstream.steps, 1000, run-a,o'brien\\x`);
  });

  it('replaces $__conditionalAll by its condition, or by 1=1 when the variable selects All', () => {
    expect(expandSql('WHERE $__conditionalAll(run_id IN (${run:singlequote}), $run)', ctx)).toBe(`WHERE run_id IN ('run-a','o\\'brien\\\\x')`);
    expect(expandSql('WHERE $__conditionalAll(sweep IN (${sweep:singlequote}), ${sweep}) AND 2', ctx)).toBe('WHERE 1=1 AND 2');
    // Parentheses and commas inside the condition and inside strings stay in it.
    expect(expandSql(`$__conditionalAll(f(a, 'x,)') IN (1, 2), $run)`, ctx)).toBe(`f(a, 'x,)') IN (1, 2)`);
  });

  it('fails on an unknown variable, macro or format, naming it', () => {
    expect(() => expandSql('$nope', ctx)).toThrow(/unknown variable \$nope/);
    expect(() => expandSql('$__timeGroup(ts)', ctx)).toThrow(MacroError);
    expect(() => expandSql('${run:json}', ctx)).toThrow(/format :json/);
    expect(() => expandSql('$__conditionalAll(x, y)', ctx)).toThrow(/must be a variable/);
    expect(() => expandSql('$__conditionalAll(x', ctx)).toThrow(/unclosed/);
  });

  it('lists the variables SQL refers to', () => {
    expect(referencedVariables('${database}.t WHERE $__timeFilter(ts) AND $__conditionalAll(a IN (${run:singlequote}), $run) AND $points').sort()).toEqual(['database', 'points', 'run']);
  });
});
