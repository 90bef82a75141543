#!/usr/bin/env node
/** Executable entry of `gnc` (package.json "bin"): runs the CLI and sets the process exit code. */
import '../polyfill.js';
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`error GNC_INTERNAL: ${String(err)}\n`);
    process.exitCode = 1;
  },
);
