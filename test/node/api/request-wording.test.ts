/**
 * How the local API words its refusals of a request's parameters and credentials, over real loopback HTTP: a refused
 * query or path parameter tells to send the request again (nothing was submitted).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { api, networkForFile, runCli } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

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

  it('read a partner country in lower case as the upper-case code, on every route and in the CLI that take one', async () => {
    const sent = await api(kz, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
    expect(sent.status, sent.text).toBe(202);
    const id = sent.json.id as string;
    const listed = await api(kz, 'GET', '/v1/messages?partner=kg');
    expect(listed.status, listed.text).toBe(200);
    expect(listed.json.items.map((m: { id: string }) => m.id)).toContain(id);
    for (const path of [`/v1/messages/${id}?partner=kg`, `/v1/messages/${id}/evidence?partner=kg`, '/v1/arrivals?partner=kg', '/v1/arrivals/export?partner=kg', '/v1/aeo?partner=kg', '/v1/aeo/pending?partner=kg']) {
      const r = await api(kz, 'GET', path);
      expect(r.status, `${path}: ${r.text}`).toBe(200);
    }
    // nothing of that id or operator here: not found, not a refused parameter
    for (const path of ['/v1/arrivals/x?partner=kg', '/v1/aeo/kg/KGAEO1']) expect((await api(kz, 'GET', path)).status, path).toBe(404);
    const cli = await runCli(['messages', '--dir', kz.dir, '--partner', 'kg', '--json']);
    expect(cli.code, cli.out.join('\n')).toBe(0);
    expect(cli.out.map((l) => JSON.parse(l).id)).toContain(id);
    const arrivals = await runCli(['arrivals', '--dir', kz.dir, '--partner', 'kg']);
    expect(arrivals.code, arrivals.out.join('\n')).toBe(0);
  });
});

describe('refusals of credentials', () => {
  it('answer an Authorization header that is no one bearer token 400 GNC_AUTH_MALFORMED with error="invalid_request" (RFC 6750 section 3.1), not as an unknown token', async () => {
    for (const authorization of [`Bearer ${kz.token} ${kz.token}`, 'Bearer a b', `Bearer ${kz.token},Bearer ${kz.token}`, 'Bearer "quoted"', 'Bearer t\u00e9']) {
      const r = await api(kz, 'GET', '/v1/messages', undefined, { authorization });
      expect(r.status, authorization).toBe(400);
      expect(r.headers.get('content-type'), authorization).toBe('application/problem+json');
      expect(r.json, authorization).toMatchObject({ status: 400, code: 'GNC_AUTH_MALFORMED', type: 'urn:gnc:problem:GNC_AUTH_MALFORMED' });
      expect(r.json.detail, authorization).toContain('send "Authorization: Bearer <token>"');
      expect(r.json.detail, authorization).not.toContain(kz.token);
      expect(r.headers.get('www-authenticate'), authorization).toBe('Bearer realm="gnc", error="invalid_request"');
    }
    // one well-formed token: known, or unknown as before
    expect((await api(kz, 'GET', '/v1/messages', undefined, { authorization: `Bearer ${kz.token}` })).status).toBe(200);
    expect((await api(kz, 'GET', '/v1/messages', undefined, { authorization: 'Bearer abc.def~+/==' })).json.code).toBe('GNC_AUTH_INVALID');
  });
});

describe('refusals of CLI filters', () => {
  it('name the option of gnc audit export as typed and tell to run the command again; a lower-case partner is read as its code', async () => {
    const base = (out: string): string[] => ['audit', 'export', '--dir', kz.dir, '--out', join(kz.dir, out), '--force'];
    for (const [option, value, expected] of [['--partner', 'XX1', 'an ISO 3166-1 alpha-2 country code, like "KZ"'], ['--direction', 'sideways', 'one of "in"|"out"']] as const) {
      const r = await runCli([...base('refused.json'), option, value]);
      expect(r.code, r.out.join('\n')).toBe(2);
      expect(r.out[0]).toBe(`error GNC_CONFIG_INVALID: ${option} is invalid: expected ${expected}, received string "${value}". Fix ${option}, then run the command again.`);
    }
    expect(existsSync(join(kz.dir, 'refused.json'))).toBe(false);
    const lower = await runCli([...base('kg.json'), '--partner', 'kg', '--direction', 'out']);
    expect(lower.code, lower.out.join('\n')).toBe(0);
    expect(JSON.parse(readFileSync(join(kz.dir, 'kg.json'), 'utf8')).envelopes.length).toBeGreaterThan(0);
  });
});

