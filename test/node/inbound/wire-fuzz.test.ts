/**
 * A compromised partner and a stranger attack a real KG node (libp2p on 127.0.0.1, real SQLite) with hand-made and
 * mutated frames and envelopes. The compromised partner is a raw libp2p host with KZ's libp2p key that signs with KZ's
 * real node key, so its envelopes pass the key and signature checks whenever it wants them to. For every input KG must
 * answer a signed negative receipt with a stable GNC_ code (or, for garbage framing, an ERROR frame with request id 0
 * and the end of the stream, SPEC section 6), store nothing of a refused envelope, put no stack trace or path in a
 * reason, and keep serving the honest partner (CN) meanwhile. The fuzz part is seeded and bounded (a few hundred
 * mutations of one valid envelope); every case that found a bug has its own named test.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLibp2p, type Libp2p } from 'libp2p';
import { tcp } from '@libp2p/tcp';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import type { Stream } from '@libp2p/interface';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_MAX_MESSAGE_AGE_MS, EXCHANGE_PROTOCOL, MAX_FRAME_BYTES, MAX_REASON_CHARS } from '../../../protocol/constants.js';
import { decodeNodeCertificate } from '../../../protocol/certificate.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { openEnvelope } from '../../../protocol/envelope/open.js';
import { isErrorCode } from '../../../protocol/errors.js';
import { newMessageId } from '../../../protocol/ids.js';
import { encodeFrame, FRAME_ERROR, FRAME_RECEIPT, FRAME_REQUEST, FrameDecoder, MAX_ENVELOPE_BYTES, type Frame } from '../../../protocol/wire.js';
import { api, makeNetwork, waitFor, type TestNode } from '../../helpers/network.js';
import { rawPeer } from '../../helpers/raw-peer.js';
import { prng } from '../../../examples/risk/traffic.js';

const aci = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-road.json', import.meta.url), 'utf8')) as Record<string, unknown>;
const FRAME_READ_MS = 1000;

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
let cn: TestNode;
let raw: Libp2p;
let target: Multiaddr;
const kgLog: string[] = [];

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG', 'CN'], {
    nodeOptions: (c) => (c === 'KG' ? { transport: { frameReadTimeoutMs: FRAME_READ_MS }, log: (m: string) => void kgLog.push(m) } : {}),
  });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
  cn = net.nodes.CN!;
  await kz.node.stop(); // its libp2p identity is the raw host's now
  raw = await rawPeer(kz, '/ip4/127.0.0.1/tcp/0');
  const cert = decodeNodeCertificate(kg.node.parts.identity.certificate);
  target = multiaddr(`${cert.addrs[0]}/p2p/${cert.peerId}`);
}, 60_000);
afterAll(async () => {
  await raw?.stop();
  await net?.close();
});

// ---------------------------------------------------------------------------------------------------------------
// envelopes, signed with KZ's real node key over whatever bytes the test wants

const b64 = (s: string | Uint8Array): string => Buffer.from(s).toString('base64url');
const header = (): string => canonicalJson({ alg: 'EdDSA', kid: kz.node.parts.identity.node.signer.kid, typ: 'gnc+jws' });

/** The flattened JWS text of `headerText` and `payloadText`, signed by KZ's node key (or the given signature). */
function signed(headerText: string, payloadText: string | Uint8Array, signature?: string): { protected: string; payload: string; signature: string } {
  const p = b64(headerText);
  const q = b64(payloadText);
  const sig = signature ?? b64(kz.node.parts.identity.node.signer.sign(Buffer.from(`${p}.${q}`, 'ascii')));
  return { protected: p, payload: q, signature: sig };
}
const bytesOf = (o: unknown): Uint8Array => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o));

function payload(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return { v: 1, id: newMessageId(), type: 'aci', from: 'KZ', to: 'KG', agreement: 'KZ-KG-test@1', created: new Date().toISOString(), purpose: 'pre-arrival-risk-assessment', body: aci, ...overrides };
}
/** A well-formed envelope of `p` (canonical payload, canonical header), signed by KZ. */
const envelope = (p: Record<string, unknown> = payload()): Uint8Array => bytesOf(signed(header(), canonicalJson(p)));

// ---------------------------------------------------------------------------------------------------------------
// a raw exchange stream to KG

interface Answer { kind: number; requestId: number; payload: Uint8Array }

class Client {
  readonly frames: Answer[] = [];
  private readonly decoder = new FrameDecoder();
  private waiters: (() => void)[] = [];
  private constructor(readonly stream: Stream) {
    stream.addEventListener('message', (e) => {
      for (const f of this.decoder.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())) this.frames.push({ ...f, payload: new Uint8Array(f.payload) });
      this.waiters.forEach((w) => w());
    });
  }

  static async open(): Promise<Client> {
    return new Client(await raw.dialProtocol(target, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000), maxOutboundStreams: 64 }));
  }

  /** The first answer with this request id (RECEIPT or ERROR) after `from` answers were read. */
  async answer(requestId: number, timeoutMs = 10_000): Promise<Answer> {
    const found = (): Answer | undefined => this.frames.find((f) => f.requestId === requestId);
    return waitFor(() => found(), timeoutMs, `the answer to request ${requestId}`);
  }

  send(frame: Frame): void {
    this.stream.send(encodeFrame(frame));
  }

  closed(): Promise<void> {
    return this.stream.status === 'open' ? new Promise((resolve) => this.stream.addEventListener('close', () => resolve(), { once: true })) : Promise.resolve();
  }
}

interface ReceiptBody { messageId: string; sha256: string; status: string; code?: string; reason?: string }

/** The receipt of a RECEIPT frame, opened and verified as KZ would (KG's key, addressed to KZ). */
function receiptOf(a: Answer): ReceiptBody {
  expect(a.kind, a.kind === FRAME_ERROR ? Buffer.from(a.payload).toString() : '').toBe(FRAME_RECEIPT);
  const opened = openEnvelope(a.payload, {
    resolveKey: (kid) => kz.node.parts.trust.resolveKey(kid),
    self: 'KZ',
    now: Date.now(),
    clockSkewMs: DEFAULT_CLOCK_SKEW_MS,
    maxAgeMs: DEFAULT_MAX_MESSAGE_AGE_MS,
  });
  expect(opened.payload).toMatchObject({ type: 'receipt', from: 'KG', to: 'KZ' });
  return opened.payload.body as unknown as ReceiptBody;
}

const LEAK = /\n\s+at |\/work\/|\/tmp\/|node_modules|\.[jt]s:\d|Error:|TypeError|RangeError|SQLITE/;

const inboundRows = (): number => (kg.node.parts.store.db.prepare("SELECT count(*) AS n FROM messages WHERE direction = 'in'").get() as { n: number }).n;
const heldBySha = (sha256: string): boolean => kg.node.parts.store.db.prepare("SELECT 1 FROM messages WHERE direction = 'in' AND sha256 = ?").get(sha256) !== undefined;

/** Checks a refusal: signed, a known GNC_ code, a bounded reason without internals, nothing stored. */
function expectRefused(r: ReceiptBody, what: string, code?: string): void {
  expect(r.status, `${what}: ${r.code} ${r.reason}`).toBe('rejected');
  expect(isErrorCode(r.code ?? ''), `${what}: ${r.code}`).toBe(true);
  if (code) expect(r.code, `${what}: ${r.reason}`).toBe(code);
  expect(r.reason!.length).toBeLessThanOrEqual(MAX_REASON_CHARS);
  expect(LEAK.test(r.reason!), `${what} leaks: ${r.reason}`).toBe(false);
  expect(heldBySha(r.sha256), `${what} stored`).toBe(false);
}

/** Sends each envelope on `c` as its own REQUEST (ids from `firstId`), at most 32 in flight; the receipts in order. */
async function roundTrips(c: Client, envelopes: Uint8Array[], firstId: number): Promise<ReceiptBody[]> {
  const out: ReceiptBody[] = [];
  for (let i = 0; i < envelopes.length; i += 32) {
    const batch = envelopes.slice(i, i + 32);
    batch.forEach((e, j) => c.send({ kind: FRAME_REQUEST, requestId: firstId + i + j, payload: e }));
    for (let j = 0; j < batch.length; j++) out.push(receiptOf(await c.answer(firstId + i + j)));
  }
  return out;
}

/** The honest partner CN still gets a message delivered to KG. */
async function honestDelivered(): Promise<void> {
  const r = await api(cn, 'POST', '/v1/messages', { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci });
  expect(r.status).toBe(202);
  await waitFor(async () => ((await api(cn, 'GET', `/v1/messages/${r.json.id}`)).json.status === 'delivered' ? true : undefined), 15_000, 'CN delivery');
}

// ---------------------------------------------------------------------------------------------------------------

describe('hand-made envelopes from a compromised partner', () => {
  let c: Client;
  let nextId = 1;
  beforeAll(async () => {
    c = await Client.open();
  });
  afterAll(() => c?.stream.abort(new Error('done')));

  const kid = (): string => kz.node.parts.identity.node.signer.kid;
  const CASES: [string, () => Uint8Array, string][] = [
    ['alg none', () => bytesOf(signed(canonicalJson({ alg: 'none', kid: kid(), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['alg HS256', () => bytesOf(signed(canonicalJson({ alg: 'HS256', kid: kid(), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['alg eddsa lowercase', () => bytesOf(signed(canonicalJson({ alg: 'eddsa', kid: kid(), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['typ JWT', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: kid(), typ: 'JWT' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['crit', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', crit: ['exp'], kid: kid(), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['b64 false', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', b64: false, kid: kid(), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ...(['jwk', 'jku', 'x5u', 'x5c'] as const).map((m): [string, () => Uint8Array, string] => [`${m} in header`, () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: kid(), typ: 'gnc+jws', [m]: m === 'x5c' ? ['MII'] : m === 'jwk' ? { kty: 'OKP' } : 'https://evil.example/k' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER']),
    ['kid of CN', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: cn.node.parts.identity.node.signer.kid, typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_SIGNATURE_INVALID'],
    ['kid of KG itself', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: kg.node.parts.identity.node.signer.kid, typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_KEY_UNKNOWN'],
    ['kid path-like', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: '../../keys/node.key', typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_KEY_UNKNOWN'],
    ['kid 129 chars', () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: 'k'.repeat(129), typ: 'gnc+jws' }), canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['header not an object', () => bytesOf(signed('["EdDSA"]', canonicalJson(payload()))), 'GNC_ENVELOPE_HEADER'],
    ['header not JSON', () => bytesOf(signed('{alg:EdDSA}', canonicalJson(payload()))), 'GNC_ENVELOPE_MALFORMED'],
    ['unprotected header member', () => bytesOf({ ...signed(header(), canonicalJson(payload())), header: { kid: 'x' } }), 'GNC_ENVELOPE_MALFORMED'],
    ['extra top-level member', () => bytesOf({ ...signed(header(), canonicalJson(payload())), extra: 1 }), 'GNC_ENVELOPE_MALFORMED'],
    ['general serialization', () => { const s = signed(header(), canonicalJson(payload())); return bytesOf({ payload: s.payload, signatures: [{ protected: s.protected, signature: s.signature }] }); }, 'GNC_ENVELOPE_MALFORMED'],
    ['signature 63 bytes', () => { const s = signed(header(), canonicalJson(payload())); return bytesOf({ ...s, signature: b64(Buffer.from(s.signature, 'base64url').subarray(0, 63)) }); }, 'GNC_SIGNATURE_INVALID'],
    ['signature 65 bytes', () => { const s = signed(header(), canonicalJson(payload())); return bytesOf({ ...s, signature: b64(Buffer.concat([Buffer.from(s.signature, 'base64url'), Buffer.of(0)])) }); }, 'GNC_SIGNATURE_INVALID'],
    ['signature with padding', () => { const s = signed(header(), canonicalJson(payload())); return bytesOf({ ...s, signature: `${s.signature}==` }); }, 'GNC_ENVELOPE_MALFORMED'],
    ['payload in the base64 alphabet, signed', () => {
      // signed over the base64 (not base64url) text: the signature verifies, the encoding must not. "???" puts a "?"
      // (0x3f) at the end of a 3-byte group, which base64 writes "/" (ASCII text has no other way to it)
      const q = Buffer.from(canonicalJson(payload({ body: { ...aci, x: '???' } }))).toString('base64');
      const p = b64(header());
      return bytesOf({ protected: p, payload: q, signature: b64(kz.node.parts.identity.node.signer.sign(Buffer.from(`${p}.${q}`, 'ascii'))) });
    }, 'GNC_ENVELOPE_MALFORMED'],
    ['protected with padding', () => { const s = signed(header(), canonicalJson(payload())); return bytesOf({ ...s, protected: `${s.protected}=` }); }, 'GNC_ENVELOPE_MALFORMED'],
    ['empty members', () => bytesOf({ protected: '', payload: '', signature: '' }), 'GNC_ENVELOPE_MALFORMED'],
    ['not JSON', () => Buffer.from('\u0000\u00ff garbage'), 'GNC_ENVELOPE_MALFORMED'],
    ['not UTF-8', () => Uint8Array.from([0x7b, 0xc3, 0x28, 0x7d]), 'GNC_ENVELOPE_MALFORMED'],
    ['empty request', () => new Uint8Array(0), 'GNC_ENVELOPE_MALFORMED'],
    ['JSON null', () => Buffer.from('null'), 'GNC_ENVELOPE_MALFORMED'],
    // a compromised partner signs whatever it likes: check 8 and the schemas must hold on their own
    ['non-canonical key order', () => bytesOf(signed(header(), JSON.stringify(payload()))), 'GNC_ENVELOPE_MALFORMED'],
    ['whitespace', () => bytesOf(signed(header(), JSON.stringify(JSON.parse(canonicalJson(payload())), null, 1))), 'GNC_ENVELOPE_MALFORMED'],
    ['v as 1.0', () => bytesOf(signed(header(), canonicalJson(payload()).replace('"v":1', '"v":1.0'))), 'GNC_ENVELOPE_MALFORMED'],
    ['escaped unicode', () => bytesOf(signed(header(), canonicalJson(payload()).replace('"from":"KZ"', '"from":"\\u004bZ"'))), 'GNC_ENVELOPE_MALFORMED'],
    ['lone surrogate', () => bytesOf(signed(header(), canonicalJson(payload({ body: { ...aci, x: 'a' } })).replace('"x":"a"', '"x":"\\ud800"'))), 'GNC_ENVELOPE_MALFORMED'],
    ['-0', () => bytesOf(signed(header(), canonicalJson(payload({ body: { ...aci, totalPackages: 7 } })).replace('"totalPackages":7', '"totalPackages":-0'))), 'GNC_ENVELOPE_MALFORMED'],
    ['1e400', () => bytesOf(signed(header(), canonicalJson(payload({ body: { ...aci, totalPackages: 7 } })).replace('"totalPackages":7', '"totalPackages":1e400'))), 'GNC_ENVELOPE_MALFORMED'],
    ['integer beyond 2^53', () => bytesOf(signed(header(), canonicalJson(payload({ body: { ...aci, totalPackages: 7 } })).replace('"totalPackages":7', '"totalPackages":9007199254740993'))), 'GNC_ENVELOPE_MALFORMED'],
    ['__proto__ in payload', () => bytesOf(signed(header(), canonicalJson(payload()).replace('{', '{"__proto__":{"v":2},'))), 'GNC_ENVELOPE_MALFORMED'],
    ['constructor in payload', () => bytesOf(signed(header(), canonicalJson({ ...payload(), constructor: 1 }))), 'GNC_ENVELOPE_MALFORMED'],
    ['nested 100,000 deep', () => bytesOf(signed(header(), canonicalJson(payload({ body: { x: 0 } })).replace('{"x":0}', `{"x":${'['.repeat(100_000)}${']'.repeat(100_000)}}`))), 'GNC_ENVELOPE_MALFORMED'],
    ['created 2026-02-30', () => envelope(payload({ created: '2026-02-30T00:00:00.000Z' })), 'GNC_ENVELOPE_MALFORMED'],
    ['created without ms', () => envelope(payload({ created: new Date().toISOString().replace(/\.\d+Z$/, 'Z') })), 'GNC_ENVELOPE_MALFORMED'],
    ['created with offset', () => envelope(payload({ created: new Date().toISOString().replace('Z', '+00:00') })), 'GNC_ENVELOPE_MALFORMED'],
    ['created far future', () => envelope(payload({ created: '2099-01-01T00:00:00.000Z' })), 'GNC_KEY_EXPIRED'],
    ['created an hour ahead', () => envelope(payload({ created: new Date(Date.now() + 3_600_000).toISOString() })), 'GNC_CLOCK_SKEW'],
    ['created far past', () => envelope(payload({ created: '0000-01-01T00:00:00.000Z' })), 'GNC_KEY_EXPIRED'],
    // KZ's certificate is minutes old: check 11 (before its nbf) comes before check 15 (older than the maximum age)
    ['created 8 days ago', () => envelope(payload({ created: new Date(Date.now() - 8 * 86_400_000).toISOString() })), 'GNC_KEY_EXPIRED'],
    ['to lowercase', () => envelope(payload({ to: 'kg' })), 'GNC_ENVELOPE_MALFORMED'],
    ['from lowercase', () => envelope(payload({ from: 'kz' })), 'GNC_ENVELOPE_MALFORMED'],
    ['from CN', () => envelope(payload({ from: 'CN' })), 'GNC_SENDER_MISMATCH'],
    ['to CN', () => envelope(payload({ to: 'CN' })), 'GNC_WRONG_RECIPIENT'],
    ['v 2', () => envelope(payload({ v: 2 })), 'GNC_ENVELOPE_MALFORMED'],
    ['type receipt', () => envelope(payload({ type: 'receipt', purpose: undefined, body: { messageId: 'x', sha256: '0'.repeat(64), status: 'accepted', received: new Date().toISOString() } })), 'GNC_UNKNOWN_TYPE'],
    ['type unknown', () => envelope(payload({ type: 'evil' })), 'GNC_ENVELOPE_MALFORMED'],
    ['id with a slash', () => envelope(payload({ id: '../etc/passwd' })), 'GNC_ENVELOPE_MALFORMED'],
    ['id 65 chars', () => envelope(payload({ id: 'a'.repeat(65) })), 'GNC_ENVELOPE_MALFORMED'],
    ['body an array', () => envelope(payload({ body: [aci] })), 'GNC_ENVELOPE_MALFORMED'],
    ['body empty', () => envelope(payload({ body: {} })), 'GNC_SCHEMA_INVALID'],
    ['body member constructor', () => envelope(payload({ body: { ...aci, constructor: { prototype: 1 } } })), 'GNC_SCHEMA_INVALID'],
    ['agreement of another pair', () => envelope(payload({ agreement: 'KG-CN-test@1' })), 'GNC_AGREEMENT_NONE'],
    ['agreement 129 chars', () => envelope(payload({ agreement: 'a'.repeat(129) })), 'GNC_ENVELOPE_MALFORMED'],
    ['purpose outside the agreement', () => envelope(payload({ purpose: 'marketing' })), ''],
    ['ref to a message never sent', () => envelope(payload({ ref: newMessageId(), body: JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-cancellation.json', import.meta.url), 'utf8')) })), 'GNC_ORIGINAL_UNKNOWN'],
    // an unknown kid makes the receiver read the unverified payload for a certificate announcing it (SPEC section 4)
    ...['', 'a.b.c', 'eyJ9.eyJ9.AAAA', `${b64('{"alg":"EdDSA","kid":"x","typ":"gnc-cert+jws"}')}.${b64('{"v":1}')}.${'A'.repeat(86)}`, 'x'.repeat(100_000)].flatMap((cert, i): [string, () => Uint8Array, string][] => [
      [`announcement by an unknown kid with certificate #${i}`, () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: `unknown-${i}`, typ: 'gnc+jws' }), canonicalJson(payload({ type: 'key', purpose: undefined, agreement: null, body: { action: 'announce', certificate: cert } })))), 'GNC_KEY_UNKNOWN'],
      [`root succession by an unknown kid with notice and certificate #${i}`, () => bytesOf(signed(canonicalJson({ alg: 'EdDSA', kid: `unknown-${i}`, typ: 'gnc+jws' }), canonicalJson(payload({ type: 'key', purpose: undefined, agreement: null, body: { action: 'root-succession', notice: cert, certificate: cert } })))), 'GNC_KEY_UNKNOWN'],
    ]),
    ['announcement of KZ\'s own kid with a garbage certificate', () => envelope(payload({ type: 'key', purpose: undefined, agreement: null, body: { action: 'announce', certificate: 'a.b.c' } })), ''],
    ['revocation with a garbage notice', () => envelope(payload({ type: 'key', purpose: undefined, agreement: null, body: { action: 'revoke', notice: 'a.b.c' } })), ''],
    ['agreement proposal with a garbage document', () => envelope(payload({ type: 'agreement', purpose: undefined, agreement: null, body: { action: 'propose', agreement: { payload: 'x', signatures: [] } } })), ''],
    ['agreement notice with a garbage notice', () => envelope(payload({ type: 'agreement', purpose: undefined, agreement: null, body: { action: 'notice', notice: 'x'.repeat(10_000) } })), ''],
    ['string just under the frame limit', () => {
      const p = payload({ body: { ...aci, x: '' } });
      const text = canonicalJson(p);
      // base64url grows by 4/3; the rest of the envelope is well under 1 kB
      const room = Math.floor(((MAX_ENVELOPE_BYTES - 1024) * 3) / 4) - text.length;
      return bytesOf(signed(header(), text.replace('"x":""', `"x":"${'y'.repeat(room)}"`)));
    }, 'GNC_SCHEMA_INVALID'],
  ];

  for (const [name, make, code] of CASES) {
    it(`refuses ${name}${code ? ` (${code})` : ''}`, async () => {
      const before = inboundRows();
      const bytes = make();
      const id = nextId++;
      c.send({ kind: FRAME_REQUEST, requestId: id, payload: bytes });
      expectRefused(receiptOf(await c.answer(id)), name, code || undefined);
      expect(inboundRows()).toBe(before);
    });
  }

  it('refuses a duplicate id with other content (GNC_REPLAY) and answers the same bytes with the same receipt', async () => {
    const p = payload();
    const first = envelope(p);
    const [a] = await roundTrips(c, [first], 1000);
    const [b] = await roundTrips(c, [first], 1001);
    const [d] = await roundTrips(c, [envelope({ ...p, body: { ...aci, functionalReference: 'OTHER-CONTENT' } })], 1002);
    expect(a).toMatchObject({ status: 'accepted' });
    expect(b).toStrictEqual(a);
    expectRefused(d!, 'replay', 'GNC_REPLAY');
    expect(heldBySha(a!.sha256)).toBe(true);
  });

  it('refuses a signed body with a member named "__proto__" like any unknown member (GNC_SCHEMA_INVALID), and stores nothing', async () => {
    // canonical ("_" sorts before the lowercase members of the body) and signed by the partner's real key
    const text = canonicalJson(payload()).replace('"body":{', '"body":{"__proto__":{"evil":1},');
    const id = nextId++;
    c.send({ kind: FRAME_REQUEST, requestId: id, payload: bytesOf(signed(header(), text)) });
    expectRefused(receiptOf(await c.answer(id)), '__proto__ in body', 'GNC_SCHEMA_INVALID');
  });

  it('refuses an amendment without "ref" (GNC_SCHEMA_INVALID), saying it must name the message it refers to', async () => {
    const amendment = JSON.parse(readFileSync(new URL('../../../examples/messages/aci-kz-kg-amendment.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const id = nextId++;
    c.send({ kind: FRAME_REQUEST, requestId: id, payload: envelope(payload({ body: amendment })) });
    const r = receiptOf(await c.answer(id));
    expectRefused(r, 'amendment without ref', 'GNC_SCHEMA_INVALID');
    expect(r.reason).toBe('An aci amendment must name the message it refers to in "ref".');
  });

  it('refuses a signed protected header with "alg" twice, the last one EdDSA (GNC_ENVELOPE_HEADER), and stores nothing', async () => {
    // JSON.parse keeps the last "alg"; a reader that keeps the first (an auditor's tool) sees "none" in the signed bytes
    const twice = `{"alg":"none","alg":"EdDSA","kid":"${kz.node.parts.identity.node.signer.kid}","typ":"gnc+jws"}`;
    const id = nextId++;
    c.send({ kind: FRAME_REQUEST, requestId: id, payload: bytesOf(signed(twice, canonicalJson(payload()))) });
    expectRefused(receiptOf(await c.answer(id)), 'alg twice', 'GNC_ENVELOPE_HEADER');
  });

  it('refuses an envelope with "payload" twice, the last one signed (GNC_ENVELOPE_MALFORMED), and stores nothing', async () => {
    // the bytes stored as evidence would hold another payload for a reader that keeps the first member
    const s = signed(header(), canonicalJson(payload()));
    const other = b64(canonicalJson(payload({ body: { ...aci, functionalReference: 'NOT-WHAT-WAS-SIGNED' } })));
    const bytes = Buffer.from(`{"protected":"${s.protected}","payload":"${other}","payload":"${s.payload}","signature":"${s.signature}"}`);
    const id = nextId++;
    c.send({ kind: FRAME_REQUEST, requestId: id, payload: bytes });
    expectRefused(receiptOf(await c.answer(id)), 'payload twice', 'GNC_ENVELOPE_MALFORMED');
  });

  it('still serves the honest partner', async () => {
    await honestDelivered();
  }, 20_000);
});

describe('frames from a compromised partner', () => {
  /** Sends raw bytes on a new stream; the ERROR frame for the stream (request id 0), once KG has closed it. */
  async function streamError(bytes: Uint8Array): Promise<{ code: string; message: string }> {
    const c = await Client.open();
    c.stream.send(bytes);
    const a = await c.answer(0);
    expect(a.kind).toBe(FRAME_ERROR);
    await c.closed();
    const e = JSON.parse(Buffer.from(a.payload).toString()) as { code: string; message: string };
    expect(LEAK.test(e.message), e.message).toBe(false);
    return e;
  }

  it('answers a length prefix of 0 with an ERROR frame for the stream (GNC_ENVELOPE_MALFORMED) and closes it', async () => {
    expect((await streamError(Uint8Array.of(0))).code).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('answers a frame shorter than its header (GNC_ENVELOPE_MALFORMED)', async () => {
    expect((await streamError(Uint8Array.of(4, 1, 0, 0, 0))).code).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('answers a length of MAX_FRAME_BYTES + 1 from its prefix alone (GNC_FRAME_TOO_LARGE)', async () => {
    // the varint of MAX_FRAME_BYTES + 1 and nothing of the frame: refused before any of it is buffered
    const n = MAX_FRAME_BYTES + 1;
    const varint = Uint8Array.of((n & 0x7f) | 0x80, ((n >> 7) & 0x7f) | 0x80, ((n >> 14) & 0x7f) | 0x80, n >> 21);
    expect((await streamError(varint)).code).toBe('GNC_FRAME_TOO_LARGE');
  });

  it('answers a 6-byte length prefix and an unknown kind (GNC_ENVELOPE_MALFORMED)', async () => {
    expect((await streamError(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0x00))).code).toBe('GNC_ENVELOPE_MALFORMED');
    expect((await streamError(Uint8Array.of(5, 9, 0, 0, 0, 1))).code).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('answers a REQUEST of exactly MAX_FRAME_BYTES with a negative receipt', async () => {
    const c = await Client.open();
    const junk = Buffer.alloc(MAX_ENVELOPE_BYTES, 0x20);
    c.send({ kind: FRAME_REQUEST, requestId: 3, payload: junk });
    expectRefused(receiptOf(await c.answer(3, 20_000)), 'max frame', 'GNC_ENVELOPE_MALFORMED');
    c.stream.abort(new Error('done'));
  }, 30_000);

  it('resets a stream whose frame stops half way (truncated, then silence)', async () => {
    const c = await Client.open();
    const frame = encodeFrame({ kind: FRAME_REQUEST, requestId: 1, payload: envelope() });
    c.stream.send(frame.subarray(0, frame.byteLength >> 1));
    await c.closed();
    expect(c.stream.status).toMatch(/^(reset|aborted)$/);
  }, 15_000);

  it('answers a valid request sent in the same write as garbage, then the ERROR frame', async () => {
    const c = await Client.open();
    const ok = encodeFrame({ kind: FRAME_REQUEST, requestId: 5, payload: envelope() });
    c.stream.send(Buffer.concat([ok, Uint8Array.of(5, 7, 0, 0, 0, 0)]));
    expect(receiptOf(await c.answer(5))).toMatchObject({ status: 'accepted' });
    expect((await c.answer(0)).kind).toBe(FRAME_ERROR);
    await c.closed();
  });

  // SPEC section 6: receipts and error frames answer on the stream of the request, so one on a stream the partner opened
  // means that stream is out of sync: the requests read before it are answered, then the ERROR frame for the stream
  // (GNC_ENVELOPE_MALFORMED), the stream closes, and KG logs one line with the code and the kind, none of the content
  for (const [name, kind, content] of [
    ['RECEIPT', FRAME_RECEIPT, () => bytesOf(signed(header(), canonicalJson(payload({ id: 'marker-of-the-misdirected-frame' }))))],
    ['ERROR', FRAME_ERROR, () => Buffer.from('{"code":"GNC_INTERNAL","message":"marker-of-the-misdirected-frame"}')],
  ] as const) {
    it(`answers ${name === 'ERROR' ? 'an' : 'a'} ${name} frame sent to the receiving side with the ERROR frame for the stream, after the requests before it, and logs one line without its content`, async () => {
      const honest = await Client.open(); // another stream of the same connection, busy before, during and after
      const before = envelope();
      expect(receiptOf(await (honest.send({ kind: FRAME_REQUEST, requestId: 1, payload: before }), honest.answer(1)))).toMatchObject({ status: 'accepted' });
      const logged = kgLog.length;
      const c = await Client.open();
      const first = envelope();
      const after = envelope();
      c.stream.send(Buffer.concat([
        encodeFrame({ kind: FRAME_REQUEST, requestId: 1, payload: first }),
        encodeFrame({ kind, requestId: 1, payload: content() }),
        encodeFrame({ kind: FRAME_REQUEST, requestId: 2, payload: after }),
      ]));
      honest.send({ kind: FRAME_REQUEST, requestId: 2, payload: envelope() });
      expect(receiptOf(await c.answer(1))).toMatchObject({ status: 'accepted' });
      const stop = await c.answer(0);
      expect(stop.kind).toBe(FRAME_ERROR);
      const e = JSON.parse(Buffer.from(stop.payload).toString()) as { code: string; message: string };
      expect(e.code).toBe('GNC_ENVELOPE_MALFORMED');
      expect(e.message).toContain(`A ${name} frame (kind ${kind}) came on an exchange stream the partner opened`);
      await c.closed();
      // nothing after the misdirected frame was read: its sender sends it again on a new stream
      expect(c.frames.map((f) => f.requestId)).toStrictEqual([1, 0]);
      expect(heldBySha(createHash('sha256').update(after).digest('hex'))).toBe(false);
      // the honest stream on the same connection went on meanwhile, and goes on
      expect(receiptOf(await honest.answer(2))).toMatchObject({ status: 'accepted' });
      honest.send({ kind: FRAME_REQUEST, requestId: 3, payload: envelope() });
      expect(receiptOf(await honest.answer(3))).toMatchObject({ status: 'accepted' });
      expect(honest.stream.status).toBe('open');
      const kgPeer = decodeNodeCertificate(kg.node.parts.identity.certificate).peerId;
      expect(raw.getConnections().filter((conn) => conn.remotePeer.toString() === kgPeer && conn.status === 'open')).toHaveLength(1);
      honest.stream.abort(new Error('done'));
      const lines = kgLog.slice(logged).filter((l) => /misdirected|frame \(kind/.test(l) || l.includes('GNC_ENVELOPE_MALFORMED'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^closing exchange stream from KZ after a framing error \\(GNC_ENVELOPE_MALFORMED\\): A ${name} frame \\(kind ${kind}\\)`));
      expect(kgLog.slice(logged).join('\n')).not.toContain('marker-of-the-misdirected-frame');
    });
  }

  it('answers reused and out-of-order request ids each with its own receipt, and a request sent one byte at a time', async () => {
    const c = await Client.open();
    const a = envelope();
    const b = envelope();
    c.send({ kind: FRAME_REQUEST, requestId: 0xffffffff, payload: a });
    c.send({ kind: FRAME_REQUEST, requestId: 9, payload: b });
    c.send({ kind: FRAME_REQUEST, requestId: 9, payload: Buffer.from('{}') });
    await waitFor(() => (c.frames.length >= 3 ? true : undefined), 10_000, 'three answers');
    const nines = c.frames.filter((f) => f.requestId === 9).map(receiptOf);
    expect(nines.map((r) => r.status).sort()).toStrictEqual(['accepted', 'rejected']);
    expect(receiptOf(await c.answer(0xffffffff))).toMatchObject({ status: 'accepted' });
    const slow = encodeFrame({ kind: FRAME_REQUEST, requestId: 11, payload: envelope() });
    for (const byte of slow.subarray(0, 200)) c.stream.send(Uint8Array.of(byte));
    c.stream.send(slow.subarray(200));
    expect(receiptOf(await c.answer(11))).toMatchObject({ status: 'accepted' });
    c.stream.abort(new Error('done'));
  });

  it('answers 200 tiny requests in one write', async () => {
    const c = await Client.open();
    const frames = Array.from({ length: 200 }, (_, i) => encodeFrame({ kind: FRAME_REQUEST, requestId: 100 + i, payload: Uint8Array.of(0x7b) }));
    c.stream.send(Buffer.concat(frames));
    // at most 64 in flight per stream: the rest are refused unprocessed (GNC_TOO_MANY_IN_FLIGHT), none is lost
    await waitFor(() => (new Set(c.frames.map((f) => f.requestId)).size >= 200 ? true : undefined), 20_000, '200 answers');
    for (const f of c.frames) {
      if (f.kind === FRAME_RECEIPT) expectRefused(receiptOf(f), 'tiny', 'GNC_ENVELOPE_MALFORMED');
      else expect(JSON.parse(Buffer.from(f.payload).toString()).code).toBe('GNC_TOO_MANY_IN_FLIGHT');
    }
    c.stream.abort(new Error('done'));
  }, 30_000);

  it('still serves the honest partner', async () => {
    await honestDelivered();
  }, 20_000);
});

describe('a stranger', () => {
  it('gets no connection, and the node keeps serving the honest partner', async () => {
    const stranger = await createLibp2p({ addresses: { listen: ['/ip4/127.0.0.1/tcp/0'] }, transports: [tcp()], connectionEncrypters: [noise()], streamMuxers: [yamux()] });
    try {
      const before = inboundRows();
      let answered = false;
      try {
        const s = await stranger.dialProtocol(target, EXCHANGE_PROTOCOL, { signal: AbortSignal.timeout(5000) });
        s.send(encodeFrame({ kind: FRAME_REQUEST, requestId: 1, payload: envelope() }));
        const frames: Frame[] = [];
        const d = new FrameDecoder();
        s.addEventListener('message', (e) => frames.push(...d.push(e.data instanceof Uint8Array ? e.data : e.data.subarray())));
        await new Promise((r) => setTimeout(r, 1000));
        answered = frames.some((f) => f.kind === FRAME_RECEIPT);
      } catch {
        /* refused by the gater: expected */
      }
      expect(answered).toBe(false);
      expect(inboundRows()).toBe(before);
    } finally {
      await stranger.stop();
    }
    await honestDelivered();
  }, 30_000);
});

// ---------------------------------------------------------------------------------------------------------------
// seeded mutations of one valid envelope


const SEED = 0x6e6366;
const MUTATIONS = 300;

/** One mutated envelope: of its outer bytes (unsigned), or of its payload text signed again by KZ (a compromised partner). */
function mutate(rand: () => number): { what: string; bytes: Uint8Array } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const p = payload();
  const text = canonicalJson(p);
  const outer = Buffer.from(envelope(p));
  const at = (n: number): number => Math.floor(rand() * n);
  const JUNK = ['"', '\\', '{', '}', '[', ']', ',', ':', '0', '-', 'e', '\u0000', '\u00e9', '\ud83d\ude00', 'null', 'true', '__proto__', ' ', '\n', '1e999', '"__proto__":{}', '=', '+', '/'];
  switch (at(8)) {
    case 0: { // flip a byte of the outer JSON
      const i = at(outer.length);
      outer[i] = outer[i]! ^ (1 << at(8));
      return { what: `flip outer byte ${i}`, bytes: outer };
    }
    case 1: { // cut the outer JSON
      const n = at(outer.length);
      return { what: `cut outer at ${n}`, bytes: outer.subarray(0, n) };
    }
    case 2: { // insert junk into the outer JSON
      const i = at(outer.length);
      const j = pick(JUNK);
      return { what: `insert ${JSON.stringify(j)} into outer at ${i}`, bytes: Buffer.concat([outer.subarray(0, i), Buffer.from(j), outer.subarray(i)]) };
    }
    case 3: { // insert junk into the payload text, signed
      const i = at(text.length);
      const j = pick(JUNK);
      return { what: `insert ${JSON.stringify(j)} into payload at ${i}`, bytes: bytesOf(signed(header(), text.slice(0, i) + j + text.slice(i))) };
    }
    case 4: { // delete a span of the payload text, signed
      const i = at(text.length);
      const n = 1 + at(8);
      return { what: `delete ${n} payload chars at ${i}`, bytes: bytesOf(signed(header(), text.slice(0, i) + text.slice(i + n))) };
    }
    case 5: { // replace a top-level member's value with a value of another type, canonical and signed
      const key = pick(Object.keys(p));
      const value = pick<unknown>([null, true, 0, -1, 1.5, '', 'x'.repeat(70), [], {}, [1], { a: 1 }, '2026-02-30T00:00:00.000Z', 'KG', 'KZ']);
      return { what: `payload.${key} = ${JSON.stringify(value)}`, bytes: envelope({ ...p, [key]: value }) };
    }
    case 6: { // replace a body member's value, canonical and signed
      const key = pick(Object.keys(aci));
      const value = pick<unknown>([null, true, 0, -1, 1e21, '', 'x'.repeat(5000), [], {}, [null], { '': 1 }, JSON.parse('{"__proto__":null,"constructor":1}')]);
      return { what: `body.${key} = ${JSON.stringify(value)}`, bytes: envelope({ ...p, body: { ...aci, [key]: value } }) };
    }
    default: { // flip a byte of the payload text, signed (invalid UTF-8 included)
      const b = Buffer.from(text);
      const i = at(b.length);
      b[i] = b[i]! ^ (1 << at(8));
      return { what: `flip payload byte ${i}`, bytes: bytesOf(signed(header(), b)) };
    }
  }
}

describe(`seeded fuzz (seed ${SEED}, ${MUTATIONS} mutations)`, () => {
  it('answers every mutation with a signed receipt: a refusal with a GNC_ code stores nothing; an acceptance stores exactly its bytes', async () => {
    const rand = prng(SEED);
    const cases = Array.from({ length: MUTATIONS }, () => mutate(rand));
    const c = await Client.open();
    const honest = honestDelivered(); // CN is served while the mutations arrive, not only after
    const receipts = await roundTrips(c, cases.map((m) => m.bytes), 1);
    const seen = new Map<string, number>();
    receipts.forEach((r, i) => {
      const what = `mutation ${i}: ${cases[i]!.what}`;
      if (r.status === 'accepted') expect(heldBySha(r.sha256), what).toBe(true);
      else expectRefused(r, what);
      const key = r.status === 'accepted' ? 'accepted' : r.code!;
      seen.set(key, (seen.get(key) ?? 0) + 1);
    });
    // most mutations are refused, and by several different checks
    expect(seen.size).toBeGreaterThan(4);
    c.stream.abort(new Error('done'));
    await honest;
  }, 60_000);
});
