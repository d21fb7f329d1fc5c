// A command a global setup runs to bring up what the tests need (Chromium, the native backend):
// bounded in time, its output kept (and echoed with a prefix when asked), and a failure that
// names the command and shows the end of what it said.
import { spawn } from 'node:child_process';

export function runBounded(command: string, args: string[], o: { limitMs: number; env?: NodeJS.ProcessEnv; cwd?: string; echo?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const keep = (d: Buffer) => {
      out += d.toString();
      if (o.echo) for (const line of d.toString().split('\n')) if (line.trim()) console.log(`${o.echo} | ${line}`);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => child.kill('SIGKILL'), o.limitMs);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`}${signal === 'SIGKILL' ? `, past its ${o.limitMs / 60_000} min limit` : ''}):\n${out.slice(-3000)}`));
    });
  });
}
