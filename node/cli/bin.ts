#!/usr/bin/env node
/** Executable entry of `gnc` (package.json "bin"): runs the CLI and sets the process exit code. */
import '../polyfill.js';
import { main } from './main.js';

// `gnc messages | head -1`: the reader went away, which ends the output, not the command with a stack trace
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(process.exitCode ?? 0);
});

// `gnc send ... 2>&1 | head -1`: an error line nobody reads any more must not replace the command's exit code by 1
process.stderr.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error GNC_INTERNAL: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
