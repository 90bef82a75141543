/**
 * `gnc arrivals` on the data dir of a running node: KZ sends declarations to KG over the wire, and the
 * command lists KG's arrivals with level and indicators while KG keeps running; bad options fail with a
 * GNC code and a non-zero exit.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../helpers/network.js';
import { road, snapshot, variant } from './fixtures.js';
import { arrival, has, riskNetwork, send, type RiskNetwork } from './network.js';

let net: RiskNetwork;
let flagged: string;
let plain: string;
let dangerous: string;

function declaration(ref: string, aeoId: string): Record<string, unknown> {
  return variant(road(), (d) => {
    d.functionalReference = ref;
    for (const p of [d.consignor, d.exporter]) Object.assign(p, { aeoId, id: aeoId.slice(5) });
    for (const it of d.goodsItems) delete it.ecooReference;
  });
}

beforeAll(async () => {
  net = await riskNetwork();
  await send(net.kz, 'aeo', snapshot());
  flagged = await send(net.kz, 'aci', declaration('CLI-REVOKED-1', 'KZAEO010240005678'));
  plain = await send(net.kz, 'aci', declaration('CLI-VALID-1', 'KZAEO981140001234'));
  dangerous = await send(net.kz, 'aci', variant(declaration('CLI-DANGEROUS-1', 'KZAEO981140001234'), (d) => {
    d.goodsItems[0].unNumber = '3480';
    d.goodsItems[1].unNumber = '1203';
  }));
  await arrival(net.kg, flagged, has('aeo-revoked'));
  await arrival(net.kg, dangerous, has('aeo-valid'));
  await arrival(net.kg, plain, has('aeo-valid'));
});
afterAll(async () => net?.close());

describe('gnc arrivals', () => {
  it('prints a table of the arrivals with level and indicators while the node runs', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir]);
    expect(r.code).toBe(0);
    expect(r.out[0]).toMatch(/^EXPECTED\s+BORDER\s+FROM\s+CONSIGNMENT\s+TRANSPORT\s+HS\s+UN\s+LEVEL\s+SCORE\s+INDICATORS$/);
    const row = r.out.find((l) => l.includes('CLI-REVOKED-1'));
    expect(row).toMatch(/\bKZ\b.*\bHIGH\b.*aeo-revoked\(\+5\)/);
    expect(r.out.find((l) => l.includes('CLI-VALID-1'))).toMatch(/ - +LOW\b.*aeo-valid\(-2\)/);
    // the UN numbers of the dangerous goods aboard, under UN
    const un = r.out[0]!.indexOf(' UN ') + 1;
    expect(r.out.find((l) => l.includes('CLI-DANGEROUS-1'))!.slice(un)).toMatch(/^3480 1203 +LOW\b/);
  });

  it('prints JSON lines with the API filters applied', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--level', 'high', '--aeo', 'KZAEO010240005678', '--json']);
    expect(r.code).toBe(0);
    const rows = r.out.map((l) => JSON.parse(l));
    expect(rows.map((a) => a.id)).toEqual([flagged]);
    expect(rows[0]).toMatchObject({ level: 'high', partner: 'KZ' });
  });

  it('says so when no arrival matches', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--partner', 'CN']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No arrivals match.');
  });

  it('fails a bad option value with GNC_CONFIG_INVALID naming the option, exit code 2', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--level', 'extreme']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toMatch(/^error GNC_CONFIG_INVALID: --level is invalid: expected .*\. Fix --level, then run the command again\.$/m);
  });

  it('fails a malformed date with GNC_CONFIG_INVALID, exit code 2', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--from', 'tomorrow']);
    expect(r.code).toBe(2);
    expect(r.out.join('\n')).toContain('--from');
  });

  it('tells how to write an offset on the command line, not the %2B of a query string', async () => {
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--from', '2026-06-01T08:00:00']);
    expect(r.code).toBe(2);
    expect(r.out[0]).toContain('--from is invalid: expected an ISO 8601 date and time with its offset, like 2026-11-24T08:00:00Z or 2026-11-24T08:00:00+05:00');
  });

  it('fails a --to before --from naming both options as typed, exit code 2', async () => {
    const [from, to] = ['2026-06-02T00:00:00Z', '2026-06-01T00:00:00Z'];
    const r = await runCli(['arrivals', '--dir', net.kg.dir, '--from', from, '--to', to]);
    expect(r.code).toBe(2);
    expect(r.out[0]).toBe(`error GNC_CONFIG_INVALID: --to is invalid: expected an instant after --from (this window ends where it starts or before), received string "${to}". Fix --to, then run the command again.`);
    expect(r.out[1]).toBe(`  at --to: expected an instant after --from (this window ends where it starts or before), received string "${to}"`);
  });

  it('fails a directory without a node with GNC_IDENTITY_MISSING, exit code 4', async () => {
    const r = await runCli(['arrivals', '--dir', join(net.kg.dir, 'no-such-node')]);
    expect(r.code).toBe(4);
    expect(r.out.join('\n')).toMatch(/^error GNC_IDENTITY_MISSING: /m);
  });
});
