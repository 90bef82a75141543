/**
 * The local rules file: read once at start (and again when it changes), validated at this edge so a typo
 * stops the node with GNC_CONFIG_INVALID naming the field, instead of silently scoring with a rule missing.
 * Built-in indicator weights have defaults here (documented in README.md); the file may override them.
 * The webhook secret is read from an environment variable or a file and kept only in memory: it is never
 * logged, never stored in the database and never part of an error message; so are credentials in the URL.
 */
import { readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { GncError } from '../../protocol/errors.js';
import { RiskRules, type BuiltinIndicator, type RiskRules as RiskRulesT } from '../../protocol/risk.js';
import { parseWith, pointer } from '../../protocol/validate.js';
import { foldCode } from '../store/fold.js';
import { placeReadings } from '../store/name-keys.js';
import { jsonErrorOffset, lineColumn } from './json-syntax.js';

/** Shortest webhook secret accepted: 16 characters (128 bits as hex would be 32; this refuses only the obviously weak). */
export const MIN_SECRET_CHARS = 16;

/** File name looked for in the data dir when gnc.json names no `riskRules`. */
export const DEFAULT_RULES_FILE = 'risk-rules.json';

/**
 * Default weights of the built-in indicators. A revoked AEO or a cancelled e-CoO alone reaches "high" (5);
 * a suspension, an HS, origin or date disagreement with the e-CoO alone reaches "medium" (2); a valid AEO lowers
 * the score by 2, so a trusted trader with one minor discrepancy stays "low"; a certificate issued retrospectively
 * adds 1, to be seen, since the rules allow it. `ecoo-partly-confirmed` follows the
 * weight of `ecoo-confirmed` unless the rules file sets it (partlyConfirmed).
 */
export const DEFAULT_WEIGHTS: Readonly<Record<BuiltinIndicator, number>> = {
  'aeo-valid': -2,
  'aeo-suspended': 4,
  'aeo-revoked': 5,
  'aeo-expired': 3,
  'aeo-not-listed': 3,
  'aeo-unverified': 0,
  'ecoo-confirmed': 0,
  'ecoo-partly-confirmed': 0,
  'ecoo-cancelled': 5,
  'ecoo-replaced': 2,
  'ecoo-exporter-mismatch': 3,
  'ecoo-consignee-mismatch': 2,
  'ecoo-hs-mismatch': 4,
  'ecoo-quantity-mismatch': 2,
  'ecoo-origin-mismatch': 4,
  'ecoo-date-mismatch': 3,
  'ecoo-issued-retrospectively': 1,
  'preferential-origin-without-ecoo': 3,
};

export interface WebhookSettings {
  /** The receiver's address, without the credentials the file may write in it. */
  url: string;
  /** `Basic ...` made of the `user:password@` of the file's URL (fetch refuses a URL that carries them); never logged. */
  authorization?: string;
  secret: string;
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  timeoutMs: number;
  maxAgeMs: number;
}

/** The time zones of the rules file's `border`, as an arrival's is looked up (declaration.ts arrivalZone). */
export interface BorderZones {
  /** `border.timeZone`: the zone of an arrival at an office `offices` does not list. */
  zone: string | undefined;
  /**
   * `border.offices` by the key of each name as the arrivals filters fold it: as a border crossing point (`places`, by
   * each of its readings, placeReadings: a name with a schwa by both) and as an office of entry id (`codes`, foldCode);
   * a name in the file may be either.
   */
  places: ReadonlyMap<string, string>;
  codes: ReadonlyMap<string, string>;
}

/**
 * A watched route's office of entry and crossing point as the arrivals filters fold them (foldCode, foldPlace), at its
 * place in `watch.routes`: folded once per load, so an assessment folds only the declaration's.
 */
export interface FoldedRoute {
  officeOfEntry: string | undefined;
  /** The readings of the crossing point (placeReadings): a declaration's matches when one of its own is among them. */
  borderCrossingPoint: readonly string[] | undefined;
}

export interface LoadedRules {
  /** Where the rules came from (null: built-in defaults only). */
  source: string | null;
  rules: RiskRulesT;
  weights: Readonly<Record<BuiltinIndicator, number>>;
  /** The border's time zones, folded once per load so an assessment only looks them up. */
  zones: BorderZones;
  /** `watch.routes`, folded (FoldedRoute), in the same order. */
  routes: readonly FoldedRoute[];
  webhook: WebhookSettings | undefined;
  mtimeMs: number;
}

/** The built-in rules; `mtimeMs` -1 says no file holds them (one that appears later differs, and is read). */
export function defaultRules(): LoadedRules {
  return withWeights(null, RiskRules.parse({ v: 1 }), { zone: undefined, places: new Map(), codes: new Map() }, undefined, -1);
}

/**
 * The weight of `ecoo-partly-confirmed` a rules file does not set: half the facilitation of `ecoo-confirmed` (its
 * weight when negative), rounded to a whole number toward less facilitation: -3 gives -1, -1 gives 0, and a
 * weight of 0 or above 0. A certificate whose quantities were compared only in part never facilitates more than one
 * that agrees in full, and never adds risk (with `ecoo-confirmed` set above 0, the full check adds more than this 0).
 */
export function partlyConfirmed(confirmed: number): number {
  // `|| 0`: no -0 (Math.ceil(-0.5)), which would print as 0 but is not 0 to Object.is
  return Math.ceil(Math.min(confirmed, 0) / 2) || 0;
}

function withWeights(source: string | null, rules: RiskRulesT, zones: BorderZones, webhook: WebhookSettings | undefined, mtimeMs: number): LoadedRules {
  const weights = { ...DEFAULT_WEIGHTS, ...rules.weights };
  weights['ecoo-partly-confirmed'] = rules.weights['ecoo-partly-confirmed'] ?? partlyConfirmed(weights['ecoo-confirmed']);
  const routes = rules.watch.routes.map((r) => ({
    officeOfEntry: r.officeOfEntry === undefined ? undefined : foldCode(r.officeOfEntry),
    borderCrossingPoint: r.borderCrossingPoint === undefined ? undefined : placeReadings(r.borderCrossingPoint),
  }));
  return { source, rules, weights, zones, routes, webhook, mtimeMs };
}

/** GNC_CONFIG_INVALID for one field of the rules file at `path`, worded as parseWith words a schema's. */
function invalidField(path: string, at: string, expected: string, received: string): GncError {
  const message = `${at}: expected ${expected}, received ${received}`;
  return new GncError('GNC_CONFIG_INVALID', `Risk rules file ${path} is invalid: ${message}. Fix the field, then run the command again.`, { issues: [{ path: at, expected, received, message }] });
}

/**
 * `border.offices` folded as the arrivals filters fold a border crossing point (foldPlace: letter case, accents, the
 * region's letters, Cyrillic twins, spacing; a name with a schwa by both its readings, placeReadings) and an office of entry id (foldCode: letter case and spaces), so an office
 * written "ХОВД" in the file is the "Ховд" of a declaration. Two names of one office with two zones would leave the
 * file's order to choose one: refused, naming the second. Two with the same zone are one entry written twice (as a
 * file had to, to cover "Zamyn-Üüd" and "Zamyn Uud" when only letter case was folded): kept, so that file still loads.
 */
function borderZones(path: string, border: RiskRulesT['border']): BorderZones {
  const places = new Map<string, string>();
  const codes = new Map<string, string>();
  const written = new Map<string, string>();
  for (const [name, zone] of Object.entries(border?.offices ?? {})) {
    const keys = [...placeReadings(name).map((key) => ['place', key, places] as const), ['code', foldCode(name), codes] as const];
    for (const [kind, key, zones] of keys) {
      const first = written.get(`${kind} ${key}`);
      if (first !== undefined && zones.get(key) === zone) continue;
      if (first !== undefined) {
        throw invalidField(path, pointer(['border', 'offices', name]), 'each office with one zone (names are compared as the arrivals filters compare them: in any letter case, Unicode form and spacing)', `${JSON.stringify(name)}, the office ${JSON.stringify(first)} names too`);
      }
      written.set(`${kind} ${key}`, name);
      zones.set(key, zone);
    }
  }
  return { zone: border?.timeZone, places, codes };
}

/**
 * Where the rules of a data dir are: the configured file, which must exist (`required`), else risk-rules.json in the
 * data dir, read whenever it is there (also once it is put there while the node runs).
 */
export function rulesPathFor(dir: string, configured: string | undefined): { path: string; required: boolean } {
  if (configured !== undefined) return { path: isAbsolute(configured) ? configured : join(dir, configured), required: true };
  return { path: join(dir, DEFAULT_RULES_FILE), required: false };
}

function readSecret(path: string, w: NonNullable<RiskRulesT['webhook']>, env: NodeJS.ProcessEnv): string {
  if (w.secretEnv !== undefined) {
    const v = env[w.secretEnv];
    if (!v) throw new GncError('GNC_CONFIG_INVALID', `${path}: webhook.secretEnv names the environment variable ${w.secretEnv}, which is not set: export it before starting the node.`);
    if (v.length < MIN_SECRET_CHARS) throw new GncError('GNC_CONFIG_INVALID', `${path}: the variable named by webhook.secretEnv holds fewer than ${MIN_SECRET_CHARS} characters: use a random secret of at least 32.`);
    return v;
  }
  const file = resolve(dirname(path), w.secretFile!);
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `${path}: webhook.secretFile ${file} cannot be read: create it (mode 600) with the shared secret.`);
  }
  const secret = text.trim();
  if (secret.length < MIN_SECRET_CHARS) throw new GncError('GNC_CONFIG_INVALID', `${path}: webhook.secretFile holds fewer than ${MIN_SECRET_CHARS} characters: use a random secret of at least 32.`);
  return secret;
}

/**
 * Splits the `user:password@` of a webhook URL off into an Authorization header (HTTP basic authentication,
 * RFC 7617): fetch refuses a URL with credentials, so the receiver would never get an event.
 */
function withoutCredentials(path: string, raw: string): { url: string; authorization?: string } {
  const u = new URL(raw);
  if (u.username === '' && u.password === '') return { url: raw };
  let user: string;
  let password: string;
  try {
    user = decodeURIComponent(u.username);
    password = decodeURIComponent(u.password);
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `${path}: webhook.url has a user or password that is not percent-encoded correctly: write each reserved character as %XX.`);
  }
  u.username = '';
  u.password = '';
  return { url: u.href, authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}

/**
 * The document as a validation error may describe it: the `user:password@` of a webhook URL masked, since the
 * error reaches the node's log (a reload) or the terminal (a start), and describes the value that failed.
 */
function masked(raw: unknown): unknown {
  const webhook = (raw as { webhook?: unknown } | null | undefined)?.webhook;
  const url = (webhook as { url?: unknown } | null | undefined)?.url;
  const userinfo = typeof url === 'string' ? /^[^:/?#]*:\/\/[^/?#]*@/.exec(url) : null;
  if (userinfo === null) return raw;
  const scheme = userinfo[0].slice(0, userinfo[0].indexOf('//') + 2);
  return { ...(raw as object), webhook: { ...(webhook as object), url: `${scheme}***@${(url as string).slice(userinfo[0].length)}` } };
}

function validated(path: string, raw: unknown): RiskRulesT {
  const checked = RiskRules.safeParse(raw);
  if (checked.success) return checked.data;
  parseWith(RiskRules, masked(raw), `Risk rules file ${path}`, '', 'GNC_CONFIG_INVALID');
  // the masked document passed: the URL's user or password was what failed
  throw invalidField(path, '/webhook/url', 'a valid URL (percent-encode the reserved characters of its user and password)', 'a URL with invalid credentials');
}

/**
 * A warning for a webhook that carries assessments unencrypted off this host (http:// to an address other than
 * loopback), else undefined. The HMAC signature protects them from change, not from being read on the way: an
 * assessment names traders, consignments and their risk. Allowed (a receiver on the same network segment may be
 * all there is), but said at every start and reload.
 */
export function cleartextWebhookWarning(url: string): string | undefined {
  const u = new URL(url);
  if (u.protocol !== 'http:') return undefined;
  const host = u.hostname.replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)) return undefined;
  return `risk webhook ${u.protocol}//${u.host} receives assessments unencrypted (names of traders, consignments and their risk): use https:// for a receiver that is not on this host`;
}

/**
 * The rules in force at a start: those of the file rulesPathFor gave, else (none in the default place) the built-in ones.
 * `sends: false` for a copy of the database that sends nothing (the one `gnc backup` reassesses): the webhook's secret
 * is not read then (the shell running the backup need not hold it) and is left empty.
 */
export function startRules(at: { path: string; required: boolean }, env: NodeJS.ProcessEnv = process.env, sends = true): LoadedRules {
  return at.required || rulesMtime(at.path) !== -1 ? loadRules(at.path, env, sends) : defaultRules();
}

/** Reads and validates a rules file; throws GNC_CONFIG_INVALID naming the field. `sends`: as startRules says. */
export function loadRules(path: string, env: NodeJS.ProcessEnv = process.env, sends = true): LoadedRules {
  let text: string;
  let mtimeMs: number;
  try {
    // the time before the content: an edit landing in between leaves an older time than the file's, so the next
    // look at the file reloads it (the other order would record the edit's time with the content before it)
    mtimeMs = statSync(path).mtimeMs;
    text = readFileSync(path, 'utf8');
  } catch {
    throw new GncError('GNC_CONFIG_INVALID', `Risk rules file ${path} cannot be read: check riskRules in gnc.json.`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    const at = jsonErrorOffset(text);
    const where = at !== undefined ? ` at ${lineColumn(text, at)}` : '';
    throw new GncError('GNC_CONFIG_INVALID', `Risk rules file ${path} is not valid JSON${where} (${(err as Error).message}): fix the file.`);
  }
  const rules = validated(path, raw);
  const zones = borderZones(path, rules.border);
  const w = rules.webhook;
  const webhook: WebhookSettings | undefined = w
    ? { ...withoutCredentials(path, w.url), secret: sends ? readSecret(path, w, env) : '', maxAttempts: w.maxAttempts, initialBackoffMs: w.initialBackoffMs, maxBackoffMs: w.maxBackoffMs, timeoutMs: w.timeoutMs, maxAgeMs: w.maxAgeHours * 3_600_000 }
    : undefined;
  return withWeights(path, rules, zones, webhook, mtimeMs);
}

/** Modification time of the rules file, or -1 when it vanished. */
export function rulesMtime(path: string): number {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return -1;
  }
}
