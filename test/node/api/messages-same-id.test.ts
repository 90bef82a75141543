/**
 * `GET /v1/messages/{id}` when more than one message has the id: message ids are unique per direction and partner only
 * (a partner picks the ids of what it sends), so KZ and UZ may both send KG a message with the same id, and a partner's
 * message may have the id of one KG sent it. Real KZ, UZ and KG nodes over libp2p: the envelopes are sealed with KZ's
 * and UZ's real node keys under their agreements with KG and put on the wire through their sessions, so KG's receiver
 * stores them as any other. Without `?partner=` (or `?direction=`) such an id is refused naming the partners and what
 * to add, not answered with whichever message comes first; with them each message; an id of one message is answered
 * exactly as before, with or without them. The evidence bundle of such an id holds every message with it, or with
 * `?partner=` that partner's alone.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { sealEnvelope } from '../../../protocol/envelope/seal.js';
import { newMessageId } from '../../../protocol/ids.js';
import { verifyBundle } from '../../../node/audit/verify-bundle.js';
import { api, networkForFile, runCli, submitAndWait, type TestNode } from '../../helpers/network.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;

const { nodes: { KZ: kz, KG: kg, UZ: uz } } = networkForFile(['KZ', 'KG', 'UZ']);

/** Sends KG an ACI with this id from `from`, sealed with its real node key; the receipt's status. */
async function sendToKg(from: TestNode, id: string): Promise<string> {
  const agreement = from.country === 'KZ' ? 'KZ-KG-test@1' : 'KG-UZ-test@1'; // named in the network's order of countries
  const sealed = sealEnvelope(
    { v: 1, id, type: 'aci', from: from.country, to: 'KG', agreement, created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci } as never,
    from.node.parts.identity.node.signer,
  );
  const answer = JSON.parse(Buffer.from(await from.node.session('KG').request(sealed.bytes)).toString('utf8'));
  const body = JSON.parse(Buffer.from(answer.payload, 'base64url').toString('utf8')).body;
  return body.status === 'accepted' ? body.status : JSON.stringify(body);
}

/** A message KG sends KZ (delivered): its id. */
async function sentByKg(): Promise<string> {
  const m = await submitAndWait(kg, { to: 'KZ', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(m.status).toBe('delivered');
  return m.id;
}

describe('GET /v1/messages/{id} for an id that more than one message has', () => {
  it('refuses an id two partners sent without ?partner= (409 GNC_CONFLICT naming both), and answers each with it', async () => {
    const shared = newMessageId();
    expect(await sendToKg(kz, shared)).toBe('accepted');
    expect(await sendToKg(uz, shared)).toBe('accepted');
    for (const qs of ['', '?direction=in']) {
      const r = await api(kg, 'GET', `/v1/messages/${shared}${qs}`);
      expect(r.status, r.text).toBe(409);
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.json).toMatchObject({ code: 'GNC_CONFLICT', type: 'urn:gnc:problem:GNC_CONFLICT' });
      expect(r.json.detail).toBe(`The id ${shared} names messages of 2 partners, KZ and UZ (message ids are unique per direction and partner only): add ?partner=XX to say whose, e.g. GET /v1/messages/${shared}?partner=KZ${qs === '' ? '' : '&direction=in'}.`);
    }
    for (const partner of ['KZ', 'UZ']) {
      const r = await api(kg, 'GET', `/v1/messages/${shared}?partner=${partner}`);
      expect(r.status, r.text).toBe(200);
      expect(r.json).toMatchObject({ id: shared, direction: 'in', partner, status: 'accepted' });
      // the same message with the direction too
      expect((await api(kg, 'GET', `/v1/messages/${shared}?direction=in&partner=${partner}`)).json.envelope).toEqual(r.json.envelope);
    }
    // its evidence: both messages, or with ?partner= that partner's alone
    const sendersIn = (bundle: any): string[] => bundle.envelopes
      .map((e: any) => JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')))
      .filter((p: any) => p.type === 'aci').map((p: any) => p.from).sort();
    expect(sendersIn((await api(kg, 'GET', `/v1/messages/${shared}/evidence`)).json)).toEqual(['KZ', 'UZ']);
    const one = await api(kg, 'GET', `/v1/messages/${shared}/evidence?partner=UZ`);
    expect(one.status, one.text).toBe(200);
    expect(sendersIn(one.json)).toEqual(['UZ']);
    expect(one.json.selection).toMatchObject({ messageIds: [shared], partner: 'UZ' });
    const none = await api(kg, 'GET', `/v1/messages/${shared}?partner=CN`);
    expect(none.status).toBe(404);
    expect(none.json.detail).toBe(`No message with id ${shared} sent to CN or received from CN on this node: check the id and ?partner (GET /v1/messages?partner=CN lists them), or leave it out.`);
  });

  it("refuses an id of a message sent to KZ and one received from KZ without ?direction=, and answers each with it", async () => {
    const mine = await sentByKg();
    expect(await sendToKg(kz, mine)).toBe('accepted');
    for (const qs of ['', '?partner=KZ']) {
      const r = await api(kg, 'GET', `/v1/messages/${mine}${qs}`);
      expect(r.status, r.text).toBe(409);
      expect(r.json.code).toBe('GNC_CONFLICT');
      expect(r.json.detail).toBe(`The id ${mine} names messages sent to KZ and received from KZ (message ids are unique per direction and partner only): add ?direction=in (received) or ?direction=out (sent) to say which, e.g. GET /v1/messages/${mine}?direction=in${qs === '' ? '' : '&partner=KZ'}.`);
    }
    const sent = await api(kg, 'GET', `/v1/messages/${mine}?direction=out`);
    expect(sent.json).toMatchObject({ id: mine, direction: 'out', partner: 'KZ', status: 'delivered' });
    const received = await api(kg, 'GET', `/v1/messages/${mine}?direction=in`);
    expect(received.json).toMatchObject({ id: mine, direction: 'in', partner: 'KZ', status: 'accepted' });
  });

  it('exports the evidence of an id sent to KZ and received from KZ with both, or with ?direction= the one alone, each verifying offline', async () => {
    const mine = await sentByKg();
    expect(await sendToKg(kz, mine)).toBe('accepted');
    /** The senders of the bundle's messages, and of its receipts. */
    const sendersIn = (bundle: any): { messages: string[]; receipts: string[] } => {
      const payloads = bundle.envelopes.map((e: any) => JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')));
      const from = (receipts: boolean): string[] => payloads.filter((p: any) => (p.type === 'receipt') === receipts).map((p: any) => p.from).sort();
      return { messages: from(false), receipts: from(true) };
    };
    const both = await api(kg, 'GET', `/v1/messages/${mine}/evidence`);
    expect(both.status, both.text).toBe(200);
    expect(sendersIn(both.json)).toEqual({ messages: ['KG', 'KZ'], receipts: ['KG', 'KZ'] });
    for (const [direction, sender, receipt] of [['out', 'KG', 'KZ'], ['in', 'KZ', 'KG']] as const) {
      for (const qs of [`direction=${direction}`, `direction=${direction}&partner=KZ`]) {
        const r = await api(kg, 'GET', `/v1/messages/${mine}/evidence?${qs}`);
        expect(r.status, r.text).toBe(200);
        expect(sendersIn(r.json), qs).toEqual({ messages: [sender], receipts: [receipt] });
        expect(r.json.selection, qs).toEqual({ messageIds: [mine], ...(qs.includes('partner') ? { partner: 'KZ' } : {}), direction });
        // the verifier holds the bundle to its direction: the other message's log entry is outside it, not removed
        const report = await verifyBundle(r.json);
        expect(report.failures, qs).toEqual([]);
        expect(report.ok).toBe(true);
        // and still finds the message of its direction removed
        const cut = { ...r.json, envelopes: r.json.envelopes.filter((e: any) => JSON.parse(Buffer.from(e.jws.payload, 'base64url').toString('utf8')).type === 'receipt') };
        expect((await verifyBundle(cut)).failures.filter((f) => f.check === 'chain coverage').map((f) => f.message).join('\n'), qs).toContain(`records "${direction === 'in' ? 'received' : 'sent'}" ${mine} with KZ`);
      }
    }
    // the same refusals as GET /v1/messages/{id}: a direction that is none, an id no message of that direction and partner has
    for (const qs of ['direction=sideways', 'direction=', 'direction=in&direction=out', 'partner=UZ&direction=in']) {
      const [message, evidence] = await Promise.all([api(kg, 'GET', `/v1/messages/${mine}?${qs}`), api(kg, 'GET', `/v1/messages/${mine}/evidence?${qs}`)]);
      expect(evidence.status, qs).toBe(message.status);
      expect(evidence.status, qs).toBeGreaterThanOrEqual(404);
      expect(evidence.json.detail, qs).toBe(message.json.detail);
    }
    // gnc audit export --direction, as the route's ?direction=
    const file = join(kg.dir, '..', 'kg-in.json');
    const cli = await runCli(['audit', 'export', '--dir', kg.dir, '--out', file, '--message', mine, '--direction', 'in']);
    expect(cli.code, cli.out.join('\n')).toBe(0);
    const bundle = JSON.parse(readFileSync(file, 'utf8'));
    expect(sendersIn(bundle)).toEqual({ messages: ['KZ'], receipts: ['KG'] });
    expect(bundle.selection).toEqual({ messageIds: [mine], direction: 'in' });
    expect((await verifyBundle(bundle)).failures).toEqual([]);
    const wrong = await runCli(['audit', 'export', '--dir', kg.dir, '--out', join(kg.dir, '..', 'kg-x.json'), '--message', mine, '--direction', 'sideways']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.out[0]).toBe('error GNC_CONFIG_INVALID: --direction is invalid: expected one of "in"|"out", received string "sideways". Fix --direction, then run the command again.');
  });

  it('asks for both ?partner= and ?direction= when neither alone says which', async () => {
    const mine = await sentByKg();
    expect(await sendToKg(kz, mine)).toBe('accepted');
    expect(await sendToKg(uz, mine)).toBe('accepted');
    const r = await api(kg, 'GET', `/v1/messages/${mine}`);
    expect(r.status, r.text).toBe(409);
    expect(r.json.detail).toBe(`The id ${mine} names messages of 2 partners, KZ and UZ, sent and received (message ids are unique per direction and partner only): add ?partner=XX and ?direction=in (received) or ?direction=out (sent) to say which, e.g. GET /v1/messages/${mine}?partner=KZ&direction=in.`);
    expect((await api(kg, 'GET', `/v1/messages/${mine}?partner=UZ`)).json).toMatchObject({ direction: 'in', partner: 'UZ' });
    expect((await api(kg, 'GET', `/v1/messages/${mine}?partner=KZ&direction=out`)).json).toMatchObject({ direction: 'out', partner: 'KZ' });
  });

  it('answers an id one message has as before, byte for byte, with or without ?partner= and ?direction= that fit it', async () => {
    const only = newMessageId();
    expect(await sendToKg(kz, only)).toBe('accepted');
    const plain = await api(kg, 'GET', `/v1/messages/${only}`);
    expect(plain.status, plain.text).toBe(200);
    for (const qs of ['?partner=KZ', '?direction=in', '?partner=KZ&direction=in']) {
      const scoped = await api(kg, 'GET', `/v1/messages/${only}${qs}`);
      expect(scoped.status, qs).toBe(200);
      expect(scoped.text, qs).toBe(plain.text);
    }
    const other = await api(kg, 'GET', `/v1/messages/${only}?partner=UZ&direction=in`);
    expect(other.status).toBe(404);
    expect(other.json.detail).toBe(`No message with id ${only} received from UZ on this node: check the id and ?partner and ?direction (GET /v1/messages?partner=UZ&direction=in lists them), or leave them out.`);
    // an unknown id without parameters as before
    expect((await api(kg, 'GET', '/v1/messages/no-such-message')).json.detail).toBe('No message with id no-such-message on this node: check the id (GET /v1/messages lists them).');
  });

  it('refuses a partner that is no country code as the other queries do, and documents ?partner= and the 409', async () => {
    for (const qs of ['partner=xx', 'partner=']) {
      const r = await api(kg, 'GET', `/v1/messages/x?${qs}`);
      expect(r.status, qs).toBe(422);
      expect(r.json, qs).toMatchObject({ code: 'GNC_SCHEMA_INVALID' });
    }
    const get = (await api(kg, 'GET', '/v1/openapi.json')).json.paths['/v1/messages/{id}'].get;
    expect(get.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name)).toEqual(['direction', 'partner', 'wait']);
    expect(get.responses['409'].description).toMatch(/^GNC_CONFLICT: more than one message has this id/);
    expect(get.responses['409'].content['application/problem+json'].schema.$ref).toBe('#/components/schemas/ProblemDetails');
    expect(get.responses['404'].description).toMatch(/^GNC_NOT_FOUND: /);
    const evidence = (await api(kg, 'GET', '/v1/openapi.json')).json.paths['/v1/messages/{id}/evidence'].get;
    expect(evidence.parameters.filter((p: any) => p.in === 'query').map((p: any) => p.name)).toEqual(['direction', 'partner']);
    expect(evidence.summary).toContain('with ?direction=in the received or ?direction=out the sent alone');
  });
});
