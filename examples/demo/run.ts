/**
 * `npm run demo`: a local network of three national nodes (KZ, KG, CN) as separate processes on 127.0.0.1.
 * It creates their identities, has each pair pin the other's root by fingerprint, negotiates the bilateral
 * agreements over the wire (KZ-KG MRA both ways; CN-KZ for ACI from CN only), submits the example ACI, e-CoO
 * and AEO messages through the HTTP API (JSON and WCO DM XML), waits for the signed receipts and prints who
 * sent what to whom, the receipt status and the round-trip times. One out-of-scope attempt is refused.
 * It ends with pre-arrival risk at the KZ border: KG's AEO register, certificates and declarations reach KZ,
 * whose arrivals view flags a consignor with a revoked AEO status and a certificate that does not match, and
 * which finds that consignor in the KG AEO register by its name.
 * `npm run demo -- --keep` leaves the nodes running and prints their API addresses and tokens.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { kgAeoSnapshot, kgCertificate, kgDeclaration, KG_TRADERS } from './kg-traffic.js';
import { call, gnc, negotiate, setupNetwork, stopNode, until, type NodeProcess } from './proc.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const EXAMPLES = join(ROOT, 'examples');
const BASE = join(ROOT, '.demo');
const keep = process.argv.includes('--keep');

const NAMES: Record<string, string> = {
  KZ: 'State Revenue Committee of the Republic of Kazakhstan',
  KG: 'State Customs Service of the Kyrgyz Republic',
  CN: 'General Administration of Customs of the People\'s Republic of China',
};

const say = (s = ''): void => void process.stdout.write(s + '\n');
const example = (name: string): string => readFileSync(join(EXAMPLES, 'messages', name), 'utf8');

interface Sent {
  from: string;
  to: string;
  what: string;
  id: string;
  submittedAt: number;
  node: NodeProcess;
}

async function setup(): Promise<Record<string, NodeProcess>> {
  return setupNetwork(BASE, NAMES, say);
}

async function submit(sent: Sent[], node: NodeProcess, to: string, what: string, body: { type: string; file: string; purpose: string; ref?: string }): Promise<string> {
  const xml = body.file.endsWith('.xml');
  const qs = new URLSearchParams({ to, purpose: body.purpose, ...(body.ref ? { ref: body.ref } : {}) });
  const submittedAt = Date.now();
  const r = xml
    ? await call(node, 'POST', `/v1/messages?${qs}`, example(body.file), 'application/xml')
    : await call(node, 'POST', '/v1/messages', { to, type: body.type, purpose: body.purpose, ref: body.ref, body: JSON.parse(example(body.file)) });
  if (r.status !== 202) throw new Error(`${node.country} -> ${to} ${what}: HTTP ${r.status} ${r.text}`);
  sent.push({ from: node.country, to, what, id: r.json.id, submittedAt, node });
  return r.json.id as string;
}

/**
 * Step 8: KG sends its AEO register, two certificates of origin and three road declarations to KZ; KZ's
 * risk view cross-checks them with what it received and lists the arrivals at its border (the CLI table),
 * then names the evidence behind each flagged consignment.
 */
async function riskAtKz(KZ: NodeProcess, KG: NodeProcess): Promise<void> {
  say('8. Pre-arrival risk at the KZ border: KG sends its AEO register, e-CoOs and declarations; KZ cross-checks them');
  const sent: Sent[] = [];
  const post = async (what: string, type: string, purpose: string, body: Record<string, unknown>): Promise<string> => {
    const r = await call(KG, 'POST', '/v1/messages', { to: 'KZ', type, purpose, body });
    if (r.status !== 202) throw new Error(`KG -> KZ ${what}: HTTP ${r.status} ${r.text}`);
    sent.push({ from: 'KG', to: 'KZ', what, id: r.json.id, submittedAt: Date.now(), node: KG });
    return r.json.id as string;
  };
  const risk = 'pre-arrival-risk-assessment';
  const t = KG_TRADERS;
  await post('AEO snapshot', 'aeo', 'aeo-mra-benefits', kgAeoSnapshot());
  await post('e-CoO KG-ST1-2026-0007731', 'ecoo', 'origin-verification', kgCertificate(EXAMPLES, 'KG-ST1-2026-0007731', t.valid));
  await post('e-CoO KG-ST1-2026-0007748', 'ecoo', 'origin-verification', kgCertificate(EXAMPLES, 'KG-ST1-2026-0007748', t.other, '1905901000'));
  const expect: Record<string, string> = {
    [await post('ACI, certified, valid AEO', 'aci', risk, kgDeclaration(EXAMPLES, { ref: 'KGEXP-20261124-0311', trader: t.valid, certificate: 'KG-ST1-2026-0007731', hours: 20, plate: '01KG123ABC' }))]: 'ecoo-confirmed',
    [await post('ACI, revoked AEO', 'aci', risk, kgDeclaration(EXAMPLES, { ref: 'KGEXP-20261124-0312', trader: t.revoked, hours: 22, plate: '08KG456DEF' }))]: 'aeo-revoked',
    [await post('ACI, e-CoO HS differs', 'aci', risk, kgDeclaration(EXAMPLES, { ref: 'KGEXP-20261124-0313', trader: t.other, certificate: 'KG-ST1-2026-0007748', hours: 26, plate: '01KG789GHI' }))]: 'ecoo-hs-mismatch',
  };
  for (const s of sent) {
    await until(`receipt for KG ${s.what}`, async () => {
      const r = await call(KG, 'GET', `/v1/messages/${s.id}`);
      if (['rejected', 'expired'].includes(r.json?.status)) throw new Error(`KG -> KZ ${s.what}: ${r.json.status} ${r.json.error?.code ?? ''}`);
      return r.json?.status === 'delivered' ? true : undefined;
    });
  }
  say(`   ${sent.length} messages KG -> KZ delivered with signed receipts`);
  // the assessment follows the receipt: wait until each consignment shows what its data should produce
  const views = await until('KZ risk assessments', async () => {
    const all = await Promise.all(Object.keys(expect).map(async (id) => (await call(KZ, 'GET', `/v1/arrivals/${id}`)).json));
    return all.every((a, i) => a?.indicators?.some((x: { code: string }) => x.code === Object.values(expect)[i])) ? all : undefined;
  });
  say('   gnc arrivals --dir .demo/kz');
  for (const l of (await gnc('arrivals', '--dir', KZ.dir)).trimEnd().split('\n')) say(`   ${l}`);
  say('   Evidence behind the flagged consignments (GET /v1/arrivals/{id}):');
  for (const a of views.filter((v) => v.level !== 'low')) {
    say(`   ${a.functionalReference}  ${String(a.level).toUpperCase()} (score ${a.score}): ${a.assessment.explanation}`);
    for (const i of a.assessment.indicators.filter((x: { kind: string }) => x.kind === 'risk')) {
      say(`     ${i.code} +${i.weight}: ${i.summary}`);
      for (const e of i.evidence) say(`       ${e.type} ${e.messageId} ${e.path} = ${JSON.stringify(e.value ?? null)}`);
    }
  }
  // an officer holding a trader's name from a paper document, not its AEO id, asks the partner register by name
  const query = 'issyk-kul grain';
  const found = (await call(KZ, 'GET', `/v1/aeo?partner=KG&name=${encodeURIComponent(query)}`)).json as { items: { aeoId: string; legalName: string; status: string; statusDate: string }[] };
  if (found.items.length === 0) throw new Error(`the KG register held no operator named like "${query}"`);
  say(`   Who is "${query}" in the KG AEO register? (GET /v1/aeo?partner=KG&name=${query}):`);
  for (const o of found.items) say(`   ${o.aeoId}  ${o.legalName}  ${o.status} since ${o.statusDate}`);
}

async function main(): Promise<void> {
  const nodes = await setup();
  const { KZ, KG, CN } = nodes as Record<'KZ' | 'KG' | 'CN', NodeProcess>;
  try {
    say('4. Bilateral agreements negotiated over the wire (proposal, countersignature)');
    const kzkg = await negotiate(KZ, KG, join(EXAMPLES, 'agreements', 'kz-kg-mra.json'), BASE);
    say(`   ${kzkg}: KZ <-> KG, ACI, e-CoO and AEO both ways (MRA), signed by both roots, in force`);
    const cnkz = await negotiate(CN, KZ, join(EXAMPLES, 'agreements', 'cn-kz-aci.json'), BASE);
    say(`   ${cnkz}: CN -> KZ, ACI only, signed by both roots, in force`);

    say('5. Integrators submit messages through the local HTTP API');
    const sent: Sent[] = [];
    const aeo = 'aeo-mra-benefits';
    const risk = 'pre-arrival-risk-assessment';
    await submit(sent, KZ, 'KG', 'AEO snapshot (JSON)', { type: 'aeo', file: 'aeo-kz-snapshot.json', purpose: aeo });
    const road = await submit(sent, KZ, 'KG', 'ACI road KZ->KG (JSON)', { type: 'aci', file: 'aci-kz-kg-road.json', purpose: risk });
    await submit(sent, KZ, 'KG', 'e-CoO preferential (XML)', { type: 'ecoo', file: 'ecoo-kz-kg-preferential.xml', purpose: 'origin-verification' });
    await submit(sent, CN, 'KZ', 'ACI rail CN->KZ (WCO DM XML)', { type: 'aci', file: 'aci-cn-kz-rail.xml', purpose: risk });
    // wait for the original before amending it: the receiver refuses an amendment of an unknown original
    await until('original ACI delivered', async () => ((await call(KZ, 'GET', `/v1/messages/${road}`)).json?.status === 'delivered' ? true : undefined));
    await submit(sent, KZ, 'KG', 'ACI amendment', { type: 'aci', file: 'aci-kz-kg-amendment.json', purpose: risk, ref: road });
    await submit(sent, KZ, 'KG', 'AEO suspension', { type: 'aeo', file: 'aeo-kz-suspension.json', purpose: aeo });

    say('6. An out-of-scope attempt is refused before anything is signed or queued');
    const refused = await call(KZ, 'POST', '/v1/messages', { to: 'CN', type: 'ecoo', purpose: 'origin-verification', body: JSON.parse(example('ecoo-kz-kg-preferential.json')) });
    say(`   KZ -> CN e-CoO: HTTP ${refused.status} ${refused.json?.code}: ${refused.json?.detail}`);
    if (refused.status !== 403) throw new Error('the out-of-scope submission was not refused');

    say('7. Receipts (signed by the receiving node, stored with the message)');
    say('   from to  message                          status     receipt   round trip');
    let failures = 0;
    for (const s of sent) {
      const m = await until(`receipt for ${s.id}`, async () => {
        const r = await call(s.node, 'GET', `/v1/messages/${s.id}`);
        return ['delivered', 'rejected', 'expired'].includes(r.json?.status) ? r.json : undefined;
      });
      const rtt = m.receipt ? Date.parse(m.receipt.at) - s.submittedAt : NaN;
      if (m.status !== 'delivered') failures++;
      say(`   ${s.from} -> ${s.to}  ${s.what.padEnd(32)} ${String(m.status).padEnd(10)} ${String(m.receipt?.status ?? '-').padEnd(9)} ${Number.isNaN(rtt) ? '-' : `${rtt} ms`}${m.error ? `  ${m.error.code}` : ''}`);
    }
    if (failures) throw new Error(`${failures} message(s) were not delivered`);

    await riskAtKz(KZ, KG);

    if (keep) {
      say('\nNodes keep running (Ctrl-C to stop):');
      for (const n of Object.values(nodes)) say(`   ${n.country}  ${n.url}/v1   token ${n.token}   data ${n.dir}`);
      writeFileSync(join(BASE, 'tokens.json'), JSON.stringify(Object.fromEntries(Object.values(nodes).map((n) => [n.country, { url: n.url, token: n.token }])), null, 2));
      await new Promise<void>((r) => {
        process.once('SIGINT', r);
        process.once('SIGTERM', r);
      });
    }
    say('\nDemo finished: every message was signed, delivered over libp2p and answered with a signed receipt;');
    say('KZ assessed what arrives at its border from the data its partners sent.');
  } finally {
    await Promise.all(Object.values(nodes).map(stopNode));
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`demo failed: ${(err as Error).message}\n`);
  process.exitCode = 1;
});
