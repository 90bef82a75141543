/**
 * A consignment whose assessment keeps throwing (a bug, an indicator failing on what it reads, a write refused) must
 * not stop the risk engine: the arrivals after it are assessed, it stays queued and is tried again with a backoff
 * (not at every step, not in a tight loop), the node says how many such consignments it has (its detail, GET
 * /v1/health), the log names its cid and code and never the content the error quotes, and it is assessed once the
 * cause goes. `gnc backup` whose purge rebuilds such a consignment in its copy completes, with a warning, and leaves
 * it queued for the node. Real KZ and KG nodes; KG's SQLite refuses the assessment of the poison consignment (a
 * trigger on the node's connection, whose error message quotes that consignment's content) until the test drops it.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gnc } from '../../helpers/cli.js';
import { api, waitFor } from '../../helpers/network.js';
import { road, variant } from './fixtures.js';
import { arrival, assessedAs, projectedCid, riskNetwork, send, type RiskNetwork } from './network.js';
import { MESSAGE_SELECT } from '../../../node/store/messages.js';

/** The risk loop's first retry wait here (the node's default is 5 s); each failure in a row doubles it (with jitter). */
const RETRY_MS = 200;
/** The content only the poison consignment carries, which the refusal's error message quotes. */
const SECRET = 'Poison Secret Consignee 7731';
/** The trigger's error message: it stands for an error whose message quotes a message's content. */
const REFUSAL = `assessment refused for consignee ${SECRET}`;
const FAILED = 'risk: a consignment could not be assessed';

let net: RiskNetwork;
const logged: { msg: string; fields?: Record<string, unknown>; at: number }[] = [];
const ids = { poison: '', next: '' };
let cid: number;

/** Tomorrow: inside the recompute horizon whatever the date of the run. */
const TOMORROW = new Date(Date.now() + 86_400_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

const declaration = (ref: string, consignee: string, kind: 'declaration' | 'amendment' = 'declaration'): Record<string, unknown> =>
  variant(road(), (d) => {
    d.kind = kind;
    if (kind === 'amendment') d.amendmentReason = 'Consignee corrected';
    d.functionalReference = ref;
    d.expectedArrival = TOMORROW;
    d.consignee.name = consignee;
  });

const db = () => net.kg.node.parts.store.db;
const failures = () => logged.filter((l) => l.msg.startsWith(FAILED) && l.fields?.cid === cid);

beforeAll(async () => {
  net = await riskNetwork({ riskRetryMs: RETRY_MS, log: (msg, fields) => void logged.push({ msg, ...(fields ? { fields } : {}), at: performance.now() }) });
  // refuses saving the assessment of whichever consignment carries the secret, however often it is tried
  db().exec(`CREATE TEMP TRIGGER poison BEFORE UPDATE OF revision ON risk_consignments WHEN instr(NEW.view, '${SECRET}') > 0
    BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
  ids.poison = await send(net.kz, 'aci', declaration('POISON-1', SECRET));
  ids.next = await send(net.kz, 'aci', declaration('AFTER-POISON-1', 'After Poison Consignee LLC'));
  cid = await projectedCid(net.kg, ids.poison);
}, 60_000);
afterAll(async () => net?.close());

describe('a consignment whose assessment keeps throwing', () => {
  it('does not keep the arrivals after it from being assessed', async () => {
    const a = await arrival(net.kg, ids.next, (x) => x.assessment.revision >= 1);
    expect(a.consignee.name).toBe('After Poison Consignee LLC');
    expect(db().prepare('SELECT cid FROM risk_pending').pluck().all()).toEqual([cid]);
  });

  it('is shown as failing in its detail and in GET /v1/health', async () => {
    const d = await arrival(net.kg, ids.poison);
    expect(d.assessment.revision).toBe(0);
    expect(d.assessment.explanation).toMatch(/^not assessed yet: its assessment failed and the node tries it again later/);
    const h = await api(net.kg, 'GET', '/v1/health');
    expect(h.status, h.text).toBe(200);
    expect(h.json.risk).toEqual({ unassessable: 1 });
  });

  it('is tried again with a backoff, each failure logged by cid and code without the content', async () => {
    await waitFor(() => (failures().length >= 3 ? true : undefined), 10_000, 'three failed attempts');
    // a while longer: a fixed retry every RETRY_MS would fail about once per RETRY_MS
    await new Promise((r) => setTimeout(r, 8 * RETRY_MS));
    const seen = failures();
    // waits of at least RETRY_MS/2, RETRY_MS, 2 RETRY_MS ... between them (backoffDelay's equal jitter): within the
    // time the attempts spanned, at most this many fit
    const span = performance.now() - seen[0]!.at;
    const bound = 1 + Math.ceil(Math.log2(span / (RETRY_MS / 2) + 1));
    expect(seen.length).toBeLessThanOrEqual(bound);
    expect(seen.map((l) => l.fields!.attempts)).toEqual(seen.map((_, i) => i + 1));
    expect(seen[0]!.fields).toMatchObject({ cid, code: 'GNC_INTERNAL', error: 'SqliteError SQLITE_CONSTRAINT_TRIGGER' });
    // no line of the log quotes what the error's message quoted; no step failed as a whole for it
    expect(JSON.stringify(logged)).not.toContain(SECRET);
    expect(logged.filter((l) => l.msg.startsWith('risk assessment step failed'))).toEqual([]);
  });

  it('is assessed once the cause goes, and the node no longer counts it', async () => {
    db().exec('DROP TRIGGER temp.poison');
    const a = await arrival(net.kg, ids.poison, (x) => x.assessment.revision >= 1);
    expect(a.assessment.explanation).not.toMatch(/failed/);
    expect(db().prepare('SELECT COUNT(*) FROM risk_pending').pluck().get()).toBe(0);
    expect((await api(net.kg, 'GET', '/v1/health')).json.risk).toEqual({ unassessable: 0 });
  }, 30_000);
});

describe('gnc backup whose purge rebuilds a consignment whose assessment throws', () => {
  it('completes with a warning, and the copy keeps it queued for the node', async () => {
    const declared = await send(net.kz, 'aci', declaration('BACKUP-POISON-1', 'Backup Purged Consignee LLP'));
    const amended = await send(net.kz, 'aci', declaration('BACKUP-POISON-1', 'Backup Held Consignee LLC', 'amendment'), declared);
    await arrival(net.kg, declared, (x) => assessedAs(x, amended));
    const dir = net.kg.dir;
    await net.kg.node.stop();
    // the declaration's retention ended (the copy's purge takes it and rebuilds the consignment from the amendment), and
    // the database refuses that consignment's assessment: a trigger in the file, which the copy carries
    const file = new Database(join(dir, 'gnc.sqlite'));
    const backupCid = file.prepare('SELECT cid FROM risk_consignments WHERE root_id = ?').pluck().get(declared) as number;
    try {
      file.prepare(`UPDATE messages SET retain_until = ? WHERE id = ? AND direction = 'in'`).run(Date.now() - 1000, declared);
      file.exec(`CREATE TRIGGER backup_poison BEFORE INSERT ON risk_assessments WHEN NEW.cid = ${backupCid} BEGIN SELECT RAISE(ABORT, '${REFUSAL}'); END`);
    } finally {
      file.close();
    }
    const out = join(dir, '..', 'poison-backup.sqlite');
    const r = await gnc('backup', '--dir', dir, '--out', out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Purged in the copy: the content of 1 received message');
    expect(r.stdout).toMatch(/^Warning: 1 consignment whose data the purge changed could not be assessed again in the copy: it stays queued/m);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const copy = new Database(out, { readonly: true });
    try {
      expect(copy.prepare(`SELECT body FROM (${MESSAGE_SELECT}) WHERE id = ? AND direction = 'in'`).pluck().get(declared)).toBeNull();
      expect(copy.prepare('SELECT cid FROM risk_pending').pluck().all()).toEqual([backupCid]);
      expect(copy.prepare('SELECT COUNT(*) FROM risk_assessments WHERE cid = ?').pluck().get(backupCid)).toBe(0);
    } finally {
      copy.close();
    }
  }, 60_000);
});
