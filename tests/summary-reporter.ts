// Prints one plain closing line, "N passed, N failed[, N skipped]", after vitest's own summary, so
// CI logs carry a runner-neutral count (and a run that executed nothing shows "0 passed").
import type { Reporter, TestModule } from 'vitest/node';

export default class SummaryReporter implements Reporter {
  private line = '';

  // The default reporter prints its summary in onFinished, after every onTestRunEnd; print ours
  // there too (we are listed after it) so the plain line is the last one.
  onFinished(): void {
    if (this.line) process.stdout.write(this.line);
  }

  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const count = { passed: 0, failed: 0, skipped: 0 };
    for (const m of modules) {
      let failedHere = 0;
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') failedHere++;
        else count.skipped++;
      }
      // A file that failed without a failing test (an import error, a failing beforeAll that
      // skipped its tests) counts as one failure, or it would look green here.
      if (m.state() === 'failed' && failedHere === 0) failedHere = 1;
      count.failed += failedHere;
    }
    count.failed += unhandledErrors.length;
    const skipped = count.skipped > 0 ? `, ${count.skipped} skipped` : '';
    this.line = `\n${count.passed} passed, ${count.failed} failed${skipped}\n`;
  }
}
