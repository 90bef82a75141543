/**
 * How the local API words its refusals of a request's parameters and credentials, over real loopback HTTP: a refused
 * query or path parameter tells to send the request again (nothing was submitted).
 */
import { describe, expect, it } from 'vitest';
import { api, networkForFile } from '../../helpers/network.js';

const { nodes: { KZ: kz } } = networkForFile(['KZ', 'KG']);

describe('refusals of request parameters', () => {
  it('tell to fix the parameter and send the request again, not to submit again, keeping the code and the issues', async () => {
    for (const path of ['/v1/messages?status=lost', '/v1/arrivals?level=purple', '/v1/aeo?partner=XX', '/v1/aeo/XX/KGAEO1', '/v1/messages/x?direction=sideways']) {
      const r = await api(kz, 'GET', path);
      expect(r.status, path).toBe(422);
      expect(r.json.code, path).toBe('GNC_SCHEMA_INVALID');
      expect(r.json.issues.length, path).toBeGreaterThan(0);
      expect(r.json.detail, path).toMatch(/ Fix the parameter and send the request again\.$/);
      expect(r.json.detail, path).not.toContain('submit');
    }
  });

  it('say the range of a number or the length of a text in words, not zod\'s "number to be <=500"', async () => {
    const cases = [
      ['/v1/messages?limit=1000', '/limit', 'a whole number from 1 to 500', 'string "1000"'],
      ['/v1/messages?limit=0', '/limit', 'a whole number from 1 to 500', 'string "0"'],
      ['/v1/messages/x?wait=31', '/wait', 'a whole number from 0 to 30', 'string "31"'],
      ['/v1/arrivals?limit=501', '/limit', 'a whole number from 1 to 500', 'string "501"'],
      ['/v1/aeo?limit=1001', '/limit', 'a whole number from 1 to 1000', 'string "1001"'],
      ['/v1/arrivals?container=ABCDEFGHIJKLMNOPQR', '/container', '1 to 17 characters', 'string "ABCDEFGHIJKLMNOPQR"'],
      ['/v1/arrivals?aeoId=KZ', '/aeoId', '3 to 17 characters', 'string "KZ"'],
    ] as const;
    for (const [path, pointer, expected, received] of cases) {
      const r = await api(kz, 'GET', path);
      expect(r.status, path).toBe(422);
      expect(r.json.issues[0], path).toMatchObject({ path: pointer, expected, received });
      expect(r.json.detail, path).toBe(`Query is invalid: ${pointer}: expected ${expected}, received ${received}. Fix the parameter and send the request again.`);
    }
  });
});
