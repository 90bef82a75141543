/** A `gnc` subcommand: its spec (for parsing and --help) and what it does. */
import type { CommandSpec, Options } from './args.js';

export interface Command {
  spec: CommandSpec<Options>;
  run(argv: string[], out: (line: string) => void): Promise<void>;
}
