/**
 * The one reader of signed JSON (protocol/envelope/signed-json.ts) and every reader built on it: a member twice
 * (JSON.parse keeps the last copy, another reader may keep the first) or named "__proto__" is refused with the
 * reader's stable code, naming the member's JSON pointer; each case is otherwise valid and correctly signed, so a
 * reader that went back to JSON.parse would accept it.
 */
import { describe, expect, it } from 'vitest';
import { CERTIFICATE_TYP } from '../../../protocol/constants.js';
import { decodeNodeCertificate, verifyNodeCertificate } from '../../../protocol/certificate.js';
import { canonicalJson } from '../../../protocol/envelope/canonical.js';
import { parseFlattened, peekKid, peekPayload } from '../../../protocol/envelope/open.js';
import { ambiguousMember, parseSignedJson } from '../../../protocol/envelope/signed-json.js';
import { decodeCompactJws } from '../../../protocol/evidence/compact-jws.js';
import { NodeCertificatePayload } from '../../../protocol/certificate.js';
import { parseIdentityFile } from '../../../certs/public-identity.js';
import { jwkThumbprint, publicJwkOf } from '../../../protocol/jwk.js';
import { isGncError } from '../../../protocol/errors.js';
import { KZ, STRANGER, codeOf, encodeFlattened, payload, signRaw } from './fixtures.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64url');

describe('ambiguousMember', () => {
  it('finds a member twice at any depth, named by its JSON pointer, and nothing in JSON without one', () => {
    expect(ambiguousMember('{"a":1,"b":{"c":[1,{"d":2,"e":3}]}}')).toBeUndefined();
    expect(ambiguousMember('{"a":1,"a":2}')).toEqual({ pointer: '/a', proto: false });
    expect(ambiguousMember('{"a":1,"b":{"c":[1,{"d":2},{"e":3,"e":4}]}}')).toEqual({ pointer: '/b/c/2/e', proto: false });
    expect(ambiguousMember('[{"x":1},{"x":1}]')).toBeUndefined(); // one member in each of two objects
    expect(ambiguousMember('{"a/b":{"~":1,"~":2}}')).toEqual({ pointer: '/a~1b/~0', proto: false });
  });

  it('compares names as JSON reads them (escapes), and reads quotes and colons inside strings as text', () => {
    expect(ambiguousMember('{"a":1,"\\u0061":2}')).toEqual({ pointer: '/a', proto: false });
    expect(ambiguousMember('{"a\\"":"\\"a\\":1,","a":"x\\\\","b" : "a"}')).toBeUndefined();
    expect(ambiguousMember('{ "k" : 1 ,\n\t"k"\r\n: 2 }')).toEqual({ pointer: '/k', proto: false });
  });

  it('finds a member named "__proto__", also spelt with escapes', () => {
    expect(ambiguousMember('{"a":{"__proto__":{}}}')).toEqual({ pointer: '/a/__proto__', proto: true });
    expect(ambiguousMember('{"\\u005f_proto__":1}')).toEqual({ pointer: '/__proto__', proto: true });
    expect(ambiguousMember('{"a":"__proto__"}')).toBeUndefined(); // a value, not a member name
  });
});

describe('parseSignedJson', () => {
  it('throws the given code naming the member, with the issue other refusals carry', () => {
    let caught: unknown;
    try {
      parseSignedJson('{"alg":"none","alg":"EdDSA"}', { what: 'Protected header', code: 'GNC_ENVELOPE_HEADER' });
    } catch (err) {
      caught = err;
    }
    expect(isGncError(caught) && caught.code).toBe('GNC_ENVELOPE_HEADER');
    expect((caught as Error).message).toMatch(/^Protected header has the member \/alg twice: /);
    expect(isGncError(caught) && caught.issues?.map((i) => i.path)).toEqual(['/alg']);
  });

  it('gives text that is no JSON (or no UTF-8) its own sentence and code', () => {
    const read = { what: 'X', code: 'GNC_ENVELOPE_HEADER', notJson: 'X is no JSON.', notJsonCode: 'GNC_ENVELOPE_MALFORMED' } as const;
    expect(codeOf(() => parseSignedJson('{', read))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(codeOf(() => parseSignedJson(new Uint8Array([0x22, 0xff, 0x22]), read))).toBe('GNC_ENVELOPE_MALFORMED');
    expect(parseSignedJson('{"a":[1,{"b":2}]}', read)).toEqual({ a: [1, { b: 2 }] });
  });
});

describe('every reader of signed JSON refuses a member twice', () => {
  const jws = signRaw({ alg: 'EdDSA', kid: KZ.kid, typ: 'gnc+jws' }, canonicalJson(payload()));

  it('parseFlattened (receiver, export, bundle builder): GNC_ENVELOPE_MALFORMED', () => {
    const twice = Buffer.from(`{"protected":"${b64('{"alg":"none"}')}",` + new TextDecoder().decode(encodeFlattened(jws)).slice(1));
    expect(codeOf(() => parseFlattened(twice))).toBe('GNC_ENVELOPE_MALFORMED');
    const proto = Buffer.from(`{"__proto__":"x",` + new TextDecoder().decode(encodeFlattened(jws)).slice(1));
    expect(codeOf(() => parseFlattened(proto))).toBe('GNC_ENVELOPE_MALFORMED');
  });

  it('peekKid and peekPayload read no kid or id from an ambiguous header or payload', () => {
    expect(peekKid(b64(`{"alg":"EdDSA","kid":"other","kid":"${KZ.kid}","typ":"gnc+jws"}`))).toBeUndefined();
    expect(peekKid(jws.protected)).toBe(KZ.kid);
    expect(peekPayload({ ...jws, payload: b64('{"id":"a","id":"b"}') })).toBeUndefined();
  });

  const root = STRANGER;
  const rootJwk = publicJwkOf(root.publicKey);
  const claims = (): Record<string, unknown> => {
    const jwk = publicJwkOf(KZ.publicKey);
    return { v: 1, iss: jwkThumbprint(rootJwk), sub: jwkThumbprint(jwk), country: 'KZ', name: 'State Revenue Committee', jwk, peerId: '12D3KooWExamplePeerIdOfTheKzNode', addrs: [], iat: '2026-01-01T00:00:00.000Z', nbf: '2026-01-01T00:00:00.000Z', exp: '2027-01-01T00:00:00.000Z' };
  };
  const compact = (headerText: string, payloadText: string): string => {
    const h = b64(headerText);
    const p = b64(payloadText);
    return `${h}.${p}.${Buffer.from(root.signer.sign(new TextEncoder().encode(`${h}.${p}`))).toString('base64url')}`;
  };
  const header = `{"alg":"EdDSA","kid":"${jwkThumbprint(rootJwk)}","typ":"${CERTIFICATE_TYP}"}`;
  // a certificate payload need not be canonical: "country" twice, KG first, KZ last (what JSON.parse keeps)
  const countryTwice = canonicalJson(claims()).replace('"country":"KZ"', '"country":"KG","country":"KZ"');

  it('node certificates (trust store, identity files): GNC_CERT_INVALID, header and payload alike', () => {
    expect(verifyNodeCertificate(compact(header, canonicalJson(claims())), rootJwk).country).toBe('KZ');
    expect(codeOf(() => verifyNodeCertificate(compact(header, countryTwice), rootJwk))).toBe('GNC_CERT_INVALID');
    expect(codeOf(() => decodeNodeCertificate(compact(header, countryTwice)))).toBe('GNC_CERT_INVALID');
    const typTwice = header.replace('"typ"', '"typ":"gnc+jws","typ"');
    expect(codeOf(() => verifyNodeCertificate(compact(typTwice, canonicalJson(claims())), rootJwk))).toBe('GNC_CERT_INVALID');
  });

  it('compact JWS documents of the offline verifier: the code the caller gives', () => {
    const opts = { typ: CERTIFICATE_TYP, schema: NodeCertificatePayload, what: 'Node certificate', code: 'GNC_CERT_INVALID', canonical: false } as const;
    expect(decodeCompactJws(compact(header, canonicalJson(claims())), opts).payload.country).toBe('KZ');
    expect(() => decodeCompactJws(compact(header, countryTwice), opts)).toThrow(/Node certificate payload has the member \/country twice/);
    expect(() => decodeCompactJws(compact(header.replace('{', '{"__proto__":{},'), canonicalJson(claims())), opts)).toThrow(/named "__proto__" at \/__proto__/);
  });

  it('identity files: GNC_SCHEMA_INVALID naming the member, GNC_INVALID_JSON for no JSON', () => {
    expect(() => parseIdentityFile('{"certificate":"a","country":"KG","certificate":"b"}', 'kz.json')).toThrow(/^kz\.json has the member \/certificate twice/);
    expect(codeOf(() => parseIdentityFile('{"certificate":"a","certificate":"b"}', 'kz.json'))).toBe('GNC_SCHEMA_INVALID');
    expect(codeOf(() => parseIdentityFile('{', 'kz.json'))).toBe('GNC_INVALID_JSON');
  });
});
