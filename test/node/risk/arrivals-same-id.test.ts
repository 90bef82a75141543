/**
 * `GET /v1/arrivals/{id}` when two partners' consignments have the same id (message ids are unique per partner only):
 * a real node (KG) whose risk projection took declarations of KZ and of UZ stored as the receiver stores them, over real
 * HTTP. Without `?partner=` such an id is refused naming both partners, not answered with whichever came first; with it
 * each partner's own consignment; an id only one partner has is answered as before, with or without `?partner=`.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, pinnedPairDirs, startTestNode, tempDir, waitFor, type TestNode } from '../../helpers/network.js';
import { accepted, receive, road, variant } from './fixtures.js';

const base = tempDir('gnc-arrivals-same-id-');
let kg: TestNode;
/** Declared by KZ and by UZ alike. */
const SHARED = 'declaration-id-of-two-partners';
/** Declared by KZ only. */
const ONLY_KZ = 'declaration-id-of-kz-only';

const declaration = (ref: string): Record<string, unknown> => variant(road(), (d) => {
  d.functionalReference = ref;
});

beforeAll(async () => {
  kg = await startTestNode('KG', (await pinnedPairDirs(base)).KG);
  const { store } = kg.node.parts;
  const messages = [
    { partner: 'KZ', id: SHARED, body: declaration('KZ-SHARED') },
    { partner: 'UZ', id: SHARED, body: declaration('UZ-SHARED') },
    { partner: 'KZ', id: ONLY_KZ, body: declaration('KZ-ONLY') },
  ];
  await store.commits.run(() => {
    for (const m of messages) receive(store, { ...m, type: 'aci' });
  });
  // as the receiver does once the messages committed: hand them to the risk loop, which projects them
  for (const m of messages) kg.node.ext.onAccepted?.(accepted(store, m.partner, m.id, m.body));
  await waitFor(async () => ((await api(kg, 'GET', '/v1/arrivals?limit=10')).json.items.length === 3 ? true : undefined), 15_000, 'the three consignments');
});
afterAll(async () => {
  await kg?.node.stop();
  rmSync(base, { recursive: true, force: true });
});

describe('GET /v1/arrivals/{id} for an id two partners have', () => {
  it('refuses it without ?partner= with 409 GNC_CONFLICT naming both partners and saying to add ?partner=', async () => {
    const r = await api(kg, 'GET', `/v1/arrivals/${SHARED}`);
    expect(r.status, r.text).toBe(409);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(r.json).toMatchObject({ code: 'GNC_CONFLICT', type: 'urn:gnc:problem:GNC_CONFLICT' });
    expect(r.json.detail).toBe(`The id ${SHARED} names consignments or versions of 2 partners, KZ and UZ (message ids are unique per partner only): add ?partner=XX to say whose, e.g. GET /v1/arrivals/${SHARED}?partner=KZ.`);
  });

  it("answers each partner's own consignment with ?partner=", async () => {
    for (const [partner, ref] of [['KZ', 'KZ-SHARED'], ['UZ', 'UZ-SHARED']] as const) {
      const r = await api(kg, 'GET', `/v1/arrivals/${SHARED}?partner=${partner}`);
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ id: SHARED, partner, functionalReference: ref });
    }
  });

  it('answers an id of one partner as before, and with ?partner= of that partner the same; of another partner 404', async () => {
    const plain = await api(kg, 'GET', `/v1/arrivals/${ONLY_KZ}`);
    expect(plain.status, plain.text).toBe(200);
    expect(plain.json).toMatchObject({ id: ONLY_KZ, partner: 'KZ', functionalReference: 'KZ-ONLY' });
    expect((await api(kg, 'GET', `/v1/arrivals/${ONLY_KZ}?partner=KZ`)).json).toEqual(plain.json);
    const other = await api(kg, 'GET', `/v1/arrivals/${ONLY_KZ}?partner=UZ`);
    expect(other.status, other.text).toBe(404);
    expect(other.json).toMatchObject({ code: 'GNC_NOT_FOUND' });
    expect(other.json.detail).toContain(`No consignment ${ONLY_KZ} among the declarations received from UZ`);
    expect(other.json.detail).toContain('or leave ?partner out');
    // an unknown id without ?partner= as before
    const none = await api(kg, 'GET', '/v1/arrivals/no-such-declaration');
    expect(none.json.detail).toBe('No consignment no-such-declaration among the received declarations: use the message id of the declaration (GET /v1/arrivals lists them).');
  });

  it('refuses a partner that is no country code, and any other parameter, as the other queries do', async () => {
    for (const qs of ['partner=xx', 'partner=', 'country=KZ']) {
      const r = await api(kg, 'GET', `/v1/arrivals/${SHARED}?${qs}`);
      expect(r.status, qs).toBe(422);
      expect(r.json, qs).toMatchObject({ code: 'GNC_SCHEMA_INVALID' });
    }
  });
});
