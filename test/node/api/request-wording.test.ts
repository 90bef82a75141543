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
});
