// The README's commands are the ones that work: its two commands are what CI and the e2e test run,
// every `pnpm` script it names exists, and every subcommand in its table is a real one.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');
const README = read('README.md');

function block(name: string): string {
  const m = new RegExp(`<!-- readme:${name} -->\\s*\`\`\`sh\\n([\\s\\S]*?)\`\`\``).exec(README);
  if (!m) throw new Error(`README.md has no <!-- readme:${name} --> sh block`);
  return m[1]!.trim();
}

describe('README', () => {
  it('has one command that installs and runs the grokking example, and it names a real example', () => {
    const run = block('run');
    expect(run).toMatch(/^pnpm install && pnpm grokstream run (\S+)$/);
    const config = /run (\S+)$/.exec(run)![1]!;
    expect(() => read(config)).not.toThrow();
    // The e2e test runs exactly this block (tests/e2e/readme-grokking.test.ts reads it from here).
    expect(read('tests/e2e/readme-grokking.test.ts')).toMatch(/readmeCommand\('run'\)/);
  });

  it("has one command that runs every test, and .ci/run calls exactly it", () => {
    const test = block('test');
    expect(test).toBe('pnpm install && pnpm test');
    expect(read('.ci/run')).toContain(`bash -c '${test}'`);
  });

  it('names only pnpm scripts that exist', () => {
    const scripts = Object.keys(JSON.parse(read('package.json')).scripts as Record<string, string>);
    const named = new Set([...README.matchAll(/`pnpm ([a-z][\w:-]*)/g)].map((m) => m[1]!).filter((s) => !['install', 'exec', 'vitest'].includes(s)));
    expect(named.size).toBeGreaterThan(10);
    for (const s of named) expect(scripts, `pnpm ${s} in README.md`).toContain(s);
  });

  it('lists every grokstream subcommand, and only those', () => {
    const main = read('services/cli/src/main.ts');
    const table = /const COMMANDS: Record<string, Command> = \{([^}]*)\}/.exec(main)![1]!;
    const commands = table.split(',').map((c) => c.split(':')[0]!.trim()).filter(Boolean);
    expect(commands.length).toBeGreaterThanOrEqual(10);
    const section = README.slice(README.indexOf('## Commands'), README.indexOf('\n## ', README.indexOf('## Commands') + 5));
    const listed = [...section.matchAll(/^\| `([a-z]+)[ `]/gm)].map((m) => m[1]!);
    expect(listed.sort()).toEqual([...commands].sort());
  });

  it('shows a screenshot that is in the repository', () => {
    const images = [...README.matchAll(/!\[[^\]]*\]\(([^)]+)\)/g)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThan(0);
    for (const img of images) expect(() => readFileSync(join(ROOT, img)), img).not.toThrow();
  });
});
