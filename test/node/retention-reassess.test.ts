/**
 * The reassessment a purge causes leaves no byte of the purged content in the node's files either: right after the
 * retention purge removes a certificate, the running node assesses again the declaration whose assessment quoted it
 * (node/risk/purge.ts), and the old assessment's text, which quoted the certificate's exporter by name, must not stay
 * in the free space of gnc.sqlite or in its write-ahead log. Real KZ and KG nodes (risk view composed) under an
 * agreement that keeps e-CoO 1 day and ACI 30 days; KG's clock is moved past the certificate's end.
 */
import { describe, expect, it } from 'vitest';
import { occurrences } from '../helpers/files.js';
import { networkForFile, shortRetentionDraft } from '../helpers/network.js';
import { certificate, road, variant } from './risk/fixtures.js';
import { arrival, codesOf, has, send } from './risk/network.js';

/** The exporter's name on the certificate only (the declaration names its exporter otherwise, by id). */
const MARKER = 'Reassessed Secret Exporter Partnership';
const DAY = 86_400_000;

/** How far KG's clock runs ahead of this machine's. */
let offset = 0;
const { nodes } = networkForFile(['KZ', 'KG'], {
  agreements: [{ a: 'KZ', b: 'KG', draft: shortRetentionDraft('KZ', 'KG', { ecoo: 1 }) }],
  nodeOptions: (c) => (c === 'KG' ? { clock: () => Date.now() + offset } : {}),
});

describe('the reassessment after a purge and the database files', () => {
  it('overwrites the assessment that quoted the purged certificate, in the database and its log', async () => {
    const { KZ: kz, KG: kg } = nodes;
    // compared by name (neither id nor AEO id on the certificate): the mismatch quotes the certificate's name
    await send(kz, 'ecoo', variant(certificate(), (c) => {
      c.exporter = { name: MARKER, address: c.exporter.address };
    }));
    const aci = await send(kz, 'aci', variant(road(), (d) => (d.expectedArrival = new Date(Date.now() + DAY).toISOString().replace(/\.\d{3}Z$/, 'Z'))));
    const before = await arrival(kg, aci, has('ecoo-exporter-mismatch'));
    expect(JSON.stringify(before)).toContain(MARKER);
    expect(Object.keys(occurrences(kg.dir, 'gnc.sqlite', MARKER)).length).toBeGreaterThan(0);

    offset = 1.5 * DAY;
    expect(kg.node.retention.purge()).toBe(1);
    const after = await arrival(kg, aci, (a) => !has('ecoo-exporter-mismatch')(a));
    expect(codesOf(after)).toContain('preferential-origin-without-ecoo');
    expect(JSON.stringify(after)).not.toContain(MARKER);
    expect(occurrences(kg.dir, 'gnc.sqlite', MARKER)).toEqual({});
    // ordinary writes go on without it
    expect(kg.node.parts.store.db.pragma('secure_delete', { simple: true })).toBe(0);
  }, 30_000);
});
