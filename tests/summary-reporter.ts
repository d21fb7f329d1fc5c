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
      for (const t of m.children.allTests()) {
        const state = t.result().state;
        if (state === 'passed') count.passed++;
        else if (state === 'failed') count.failed++;
        else count.skipped++;
      }
      // A file that failed to load has no tests: count it, or a broken import would look green.
      if (m.state() === 'failed' && [...m.children.allTests()].length === 0) count.failed++;
    }
    count.failed += unhandledErrors.length;
    const skipped = count.skipped > 0 ? `, ${count.skipped} skipped` : '';
    this.line = `\n${count.passed} passed, ${count.failed} failed${skipped}\n`;
  }
}
