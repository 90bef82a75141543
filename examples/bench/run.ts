/**
 * `npm run bench`: the performance figures of every issue, measured in one run on this machine, printed and
 * written as flat keys to bench-results.json at the repo root (git-ignored). Figures are rates and
 * percentiles of this run; machines are shared and noisy, so no test asserts them.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { negotiate, setupNetwork, stopNode, type NodeProcess } from '../demo/proc.js';
import { benchAuditVerify } from './audit.js';
import { benchE2e } from './e2e.js';
import { benchRisk } from './risk.js';
import { benchXml } from './xml.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const RESULTS = join(ROOT, 'bench-results.json');
const only = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const want = (section: string): boolean => only.length === 0 || only.includes(section);
const say = (s: string): void => void process.stdout.write(s + '\n');

const results: Record<string, number> = existsSync(RESULTS) ? (JSON.parse(readFileSync(RESULTS, 'utf8')) as Record<string, number>) : {};
function record(figures: Record<string, number>): void {
  Object.assign(results, figures);
  writeFileSync(RESULTS, JSON.stringify(results, null, 2) + '\n');
}

async function main(): Promise<void> {
  if (want('e2e')) {
    say('Exchange between two node processes (KZ -> KG), durable commits on both sides:');
    const base = join(ROOT, '.demo', 'bench');
    const nodes = await setupNetwork(base, { KZ: 'Bench KZ', KG: 'Bench KG' }, () => undefined);
    try {
      await negotiate(nodes.KZ!, nodes.KG!, join(ROOT, 'examples', 'agreements', 'kz-kg-mra.json'), base);
      const { kg, ...figures } = await benchE2e(nodes.KZ!, nodes.KG!, join(ROOT, 'examples'), say);
      nodes.KG = kg;
      record(figures);
    } finally {
      await Promise.all(Object.values(nodes).map(stopNode));
    }
  }
  if (want('xml')) {
    say('XML import and JSON validation (one core):');
    const x = benchXml();
    say(`   XML import (parse, map, validate) of a ~5 KB ACI: ${x.xml_import_per_s.toFixed(0)} /s; JSON validation: ${x.json_validate_per_s.toFixed(0)} /s`);
    record(x);
  }
  if (want('risk')) {
    say('Pre-arrival risk at one million stored messages:');
    const r = await benchRisk();
    say(`   arrivals query (one day, one border crossing point): p50 ${r.arrivals_query_p50_ms} ms, p99 ${r.arrivals_query_p99_ms} ms; AEO lookup p99 ${r.aeo_lookup_p99_ms} ms, by name ${r.aeo_name_lookup_p99_ms} ms; ${r.assessments_per_s} assessments/s`);
    record(r);
  }
  if (want('audit')) {
    say('Offline audit verification (noble, strict RFC 8032) of a 100,000-message bundle:');
    const a = await benchAuditVerify(100_000);
    say(`   ${a.audit_verify_per_s.toFixed(0)} envelopes verified per second`);
    record(a);
  }
  say(`Figures written to ${RESULTS}`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exitCode = 1;
});
