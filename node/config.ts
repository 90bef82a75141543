/**
 * The node's configuration file (`gnc.json` in the data dir), written by `gnc init` and read by `gnc start`.
 * Validated with zod at load: a typo is reported with the field path instead of surfacing later.
 */
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { multiaddr } from '@multiformats/multiaddr';
import { z } from 'zod';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS, MAX_MESSAGE_AGE_LIMIT_MS } from '../protocol/constants.js';
import { CountryCode } from '../protocol/codes/countries.js';
import { dirOption, GncError } from '../protocol/errors.js';
import { parseWith } from '../protocol/validate.js';
import { writeFileDurable } from '../certs/durable-file.js';

export const CONFIG_FILE = 'gnc.json';

function isMultiaddr(text: string): boolean {
  try {
    multiaddr(text);
    return true;
  } catch {
    return false;
  }
}

/** A libp2p address of this node, e.g. /ip4/0.0.0.0/tcp/4001 (also the ones its certificate names). */
/** A listen address on every interface (0.0.0.0, ::): partners cannot dial it, so it is never announced. */
export function isWildcardAddress(addr: string): boolean {
  return addr.includes('/0.0.0.0/') || addr.includes('/::/');
}

export const ListenAddress = z.string().min(1).refine(isMultiaddr, 'expected a multiaddr such as /ip4/0.0.0.0/tcp/4001 or /dns4/gnc.example.org/tcp/4001');

/** A TCP port given as an option (--api-port): digits, 0-65535. */
export const PortOption = z.string().regex(/^\d{1,5}$/, 'expected a port number 0-65535').transform(Number).pipe(z.number().max(65535, 'expected a port number 0-65535'));

export const NodeConfig = z.strictObject({
  v: z.literal(1),
  country: CountryCode,
  name: z.string().min(1).max(200),
  /** libp2p listen multiaddrs, e.g. /ip4/0.0.0.0/tcp/4001 */
  listen: z.array(ListenAddress).min(1),
  /** Addresses announced in the certificate (defaults to `listen`). */
  announce: z.array(ListenAddress).optional(),
  api: z.strictObject({
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(0).max(65535),
  }),
  /** Allowed difference between a partner's `created` and our clock (protocol/SPEC.md, "Clock"). */
  clockSkewSeconds: z.number().int().min(1).max(3600).default(DEFAULT_CLOCK_SKEW_MS / 1000),
  /** Messages older than this are refused on receipt and expire in the outbox. */
  maxMessageAgeHours: z.number().int().min(1).max(MAX_MESSAGE_AGE_LIMIT_MS / 3_600_000).default(DEFAULT_MAX_MESSAGE_AGE_MS / 3_600_000),
  /** Retry backoff of the dispatcher: first delay and cap, in ms. */
  retry: z
    .strictObject({ initialMs: z.number().int().min(10).default(500), maxMs: z.number().int().min(100).default(60_000) })
    // a first delay above the cap would be cut to the cap at once: a typing slip (5000/100 retries 10 times a second)
    .refine((r) => r.initialMs <= r.maxMs, { path: ['initialMs'], message: 'expected initialMs at most maxMs (the cap of every delay)' })
    .default({ initialMs: 500, maxMs: 60_000 }),
  /** Optional path of the local risk rules file (relative to the data dir). */
  riskRules: z.string().optional(),
});
export type NodeConfig = z.infer<typeof NodeConfig>;

export function readConfig(dir: string): NodeConfig {
  let text: string;
  try {
    text = readFileSync(join(dir, CONFIG_FILE), 'utf8');
  } catch (err) {
    // only a missing file means "not initialised": a --dir that is a file, or unreadable, is told as such
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    throw new GncError('GNC_IDENTITY_MISSING', `No ${CONFIG_FILE} in ${dir}: run \`gnc init ${dirOption(dir)} --country XX --name "..."\` first.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `${join(dir, CONFIG_FILE)} is not valid JSON: fix the file.`);
  }
  return parseWith(NodeConfig, raw, join(dir, CONFIG_FILE), '', 'GNC_CONFIG_INVALID');
}

/** The mode of a new gnc.json; one replaced keeps the mode its operator gave it (a rename would otherwise reset it). */
const CONFIG_MODE = 0o640;

export function writeConfig(dir: string, config: NodeConfig): void {
  const path = join(dir, CONFIG_FILE);
  let mode = CONFIG_MODE;
  try {
    mode = statSync(path).mode & 0o777;
  } catch {
    // none yet: a new file
  }
  writeFileDurable(path, JSON.stringify(config, null, 2) + '\n', { mode });
}
