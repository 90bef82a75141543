/** `gnc` run as a real process from dist/ (what an operator runs): exit code, stdout and stderr. */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';

const run = promisify(execFile);
export const BIN = new URL('../../dist/node/cli/bin.js', import.meta.url).pathname;

export async function gnc(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  if (!existsSync(BIN)) throw new Error('dist/ is missing: run `npm run build` (npm test does it)');
  try {
    const r = await run(process.execPath, [BIN, ...args], { timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}
