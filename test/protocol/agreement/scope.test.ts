/** Scope enforcement on send (refuse or minimise) and on receive (refuse, never strip). */
import { describe, expect, it } from 'vitest';
import { enforceOnReceive, enforceOnSend, scopeFor } from '../../../protocol/agreement/index.js';
import { parseBody } from '../../../protocol/messages/registry.js';
import { draft, gncError, messageBody, paths } from './helpers.js';

const mra = draft('kz-kg-mra');
const cnkz = draft('cn-kz-aci');
const RISK = 'pre-arrival-risk-assessment';

/** The CN-KZ scope without minimisation, to see the refusal on send. */
const strict = draft('cn-kz-aci', (d) => { d.directions[0].messages[0].minimise = false; });

/** The KZ-KG AEO scope as a field list leaving out operators' validUntil (and naming no `part`), minimised. */
const OPERATOR_FIELDS = ['aeoId', 'nationalTraderId', 'legalName', 'address', 'programme', 'status', 'statusDate', 'validFrom'];
const aeoWithoutValidUntil = draft('kz-kg-mra', (d) => {
  Object.assign(d.directions[0].messages[2], { fields: ['asOf', ...OPERATOR_FIELDS.map((f) => `operators[].${f}`), 'operator', 'reason'], minimise: true });
});

describe('agreement scope on send', () => {
  it('finds the scope of a type in a direction, and none for a direction the agreement does not cover', () => {
    expect(scopeFor(cnkz, 'CN', 'KZ', 'aci')).toMatchObject({ minimise: true, retentionDays: 1095 });
    expect(scopeFor(cnkz, 'KZ', 'CN', 'aci')).toBeUndefined();
  });

  it('passes a message within scope unchanged and reports nothing removed', () => {
    const body = messageBody('aci-kz-kg-road');
    const r = enforceOnSend(mra, 'KZ', 'KG', 'aci', RISK, body);
    expect(r.body).toBe(body);
    expect(r.removed).toEqual([]);
  });

  it('refuses a type the agreement does not allow in that direction (GNC_AGREEMENT_TYPE)', () => {
    const err = gncError(() => enforceOnSend(cnkz, 'CN', 'KZ', 'ecoo', 'origin-verification', messageBody('ecoo-kz-kg-preferential')));
    expect(err.code).toBe('GNC_AGREEMENT_TYPE');
    expect(err.message).toContain('it allows aci');
  });

  it('refuses any type in the direction the agreement leaves out, saying what to do', () => {
    const err = gncError(() => enforceOnSend(cnkz, 'KZ', 'CN', 'aci', RISK, messageBody('aci-cn-kz-rail')));
    expect(err.code).toBe('GNC_AGREEMENT_TYPE');
    expect(err.message).toContain('it allows nothing in this direction: send aci only once a version of the agreement that allows it is in force');
  });

  it('refuses a purpose the agreement does not allow for the type (GNC_AGREEMENT_PURPOSE)', () => {
    const err = gncError(() => enforceOnSend(cnkz, 'CN', 'KZ', 'aci', 'statistics', messageBody('aci-cn-kz-rail')));
    expect(err.code).toBe('GNC_AGREEMENT_PURPOSE');
    expect(err.message).toContain(RISK);
  });

  it('refuses a message that declares no purpose, or another, saying how to give one', () => {
    for (const purpose of [undefined, 'statistics']) {
      const err = gncError(() => enforceOnSend(cnkz, 'CN', 'KZ', 'aci', purpose, messageBody('aci-cn-kz-rail')));
      expect(err.code).toBe('GNC_AGREEMENT_PURPOSE');
      expect(err.message).toContain(`${RISK}: give one of them as the purpose ("purpose" of a JSON submission, ?purpose= of an XML one, gnc send --purpose) and submit again.`);
    }
  });

  it('refuses out-of-scope fields without minimisation, naming the field paths and their pointers', () => {
    const err = gncError(() => enforceOnSend(strict, 'CN', 'KZ', 'aci', RISK, messageBody('aci-cn-kz-rail')));
    expect(err.code).toBe('GNC_AGREEMENT_FIELD');
    expect(err.message).toContain('exporter.id, consignor.id, goodsItems[].netMass');
    expect(paths(err)).toContain('/body/goodsItems/2/netMass');
  });

  it('strips out-of-scope fields when the agreement says to minimise, and reports each removed path once', () => {
    const r = enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, messageBody('aci-cn-kz-rail'));
    expect(r.removed).toEqual(['exporter.id', 'consignor.id', 'goodsItems[].netMass']);
    expect(r.body.exporter).not.toHaveProperty('id');
    expect((r.body.goodsItems as Record<string, unknown>[]).every((g) => !('netMass' in g))).toBe(true);
  });

  it('leaves a minimised body that still passes the message schema', () => {
    const r = enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, messageBody('aci-cn-kz-rail'));
    expect(parseBody('aci', r.body)).toMatchObject({ kind: 'declaration' });
  });

  it('minimises a copy and leaves the submitted body as it was', () => {
    const body = messageBody('aci-cn-kz-rail');
    const before = structuredClone(body);
    enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, body);
    expect(body).toEqual(before);
  });

  it('refuses minimisation that would leave the body invalid under the message schema', () => {
    // a preferential certificate must name its arrangement: a scope without it cannot minimise one
    const fields = ['certificateNumber', 'issueDate', 'issuingCountry', 'issuingAuthority', 'preference', 'exporter', 'consignee', 'transport', 'invoices', 'goodsItems', 'signatory', 'status', 'statusDate'];
    const doc = draft('kz-kg-mra', (d) => { Object.assign(d.directions[0].messages[1], { fields, minimise: true }); });
    const err = gncError(() => enforceOnSend(doc, 'KZ', 'KG', 'ecoo', 'origin-verification', messageBody('ecoo-kz-kg-preferential')));
    expect(err.code).toBe('GNC_AGREEMENT_FIELD');
    expect(err.message).toContain('arrangement');
  });

  it('keeps the part of an AEO snapshot sent in parts when it minimises, as it keeps kind: the part must not read as the whole snapshot', () => {
    const body = { ...messageBody('aeo-kz-snapshot'), part: { number: 1, of: 2 } };
    const r = enforceOnSend(aeoWithoutValidUntil, 'KZ', 'KG', 'aeo', 'aeo-mra-benefits', body);
    expect(r.removed).toEqual(['operators[].validUntil']);
    expect(r.body['part']).toEqual({ number: 1, of: 2 });
  });

  it('treats a member named "__proto__" as an ordinary out-of-scope field', () => {
    const body = JSON.parse('{"kind":"cancellation","reason":"Goods not shipped","__proto__":{"polluted":true}}') as Record<string, unknown>;
    const r = enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, body);
    expect(r.removed).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(r.body)).toBe(Object.prototype);
  });
});

describe('agreement scope on receive', () => {
  it('accepts a minimised message and returns its scope', () => {
    const sent = enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, messageBody('aci-cn-kz-rail'));
    expect(enforceOnReceive(cnkz, 'CN', 'KZ', 'aci', RISK, sent.body).retentionDays).toBe(1095);
  });

  it('rejects an out-of-scope field even where the agreement minimises, listing JSON pointers under /body', () => {
    const err = gncError(() => enforceOnReceive(cnkz, 'CN', 'KZ', 'aci', RISK, messageBody('aci-cn-kz-rail')));
    expect(err.code).toBe('GNC_AGREEMENT_FIELD');
    expect(paths(err)).toEqual(['/body/exporter/id', '/body/consignor/id', '/body/goodsItems/0/netMass', '/body/goodsItems/1/netMass', '/body/goodsItems/2/netMass']);
  });

  it('rejects a type not allowed from that sender', () => {
    expect(gncError(() => enforceOnReceive(cnkz, 'CN', 'KZ', 'aeo', 'aeo-mra-benefits', messageBody('aeo-kz-snapshot'))).code).toBe('GNC_AGREEMENT_TYPE');
  });

  it('rejects a purpose not allowed for the type', () => {
    expect(gncError(() => enforceOnReceive(mra, 'KZ', 'KG', 'ecoo', RISK, messageBody('ecoo-kz-kg-preferential'))).code).toBe('GNC_AGREEMENT_PURPOSE');
  });

  it('accepts the part of an AEO snapshot under a field list that does not name it', () => {
    const body: Record<string, any> = { ...messageBody('aeo-kz-snapshot'), part: { number: 2, of: 2 } };
    for (const o of body['operators']) delete o.validUntil;
    expect(() => enforceOnReceive(aeoWithoutValidUntil, 'KZ', 'KG', 'aeo', 'aeo-mra-benefits', body)).not.toThrow();
  });

  it('accepts every field where the scope is "*"', () => {
    expect(() => enforceOnReceive(mra, 'KG', 'KZ', 'aeo', 'aeo-mra-benefits', messageBody('aeo-kz-snapshot'))).not.toThrow();
  });
});

// an agreement naming goodsItems[].unNumber was signed for the UN numbers of the goods: several of one item travel in
// unNumbers, which it covers (FIELD_SUCCESSORS), so minimisation drops none of them and a receiver refuses none
describe('agreement scope: several UN numbers of a goods item', () => {
  const severalUnNumbers = (): Record<string, any> => {
    const body = messageBody('aci-cn-kz-rail');
    delete body['goodsItems'][1].unNumber;
    body['goodsItems'][1].unNumbers = ['3481', '3480'];
    return body;
  };

  it('keeps unNumbers where the scope names goodsItems[].unNumber, on send and on receive', () => {
    expect(scopeFor(cnkz, 'CN', 'KZ', 'aci')?.fields).toContain('goodsItems[].unNumber');
    expect(scopeFor(cnkz, 'CN', 'KZ', 'aci')?.fields).not.toContain('goodsItems[].unNumbers');
    const sent = enforceOnSend(cnkz, 'CN', 'KZ', 'aci', RISK, severalUnNumbers());
    expect(sent.removed).not.toContain('goodsItems[].unNumbers');
    expect((sent.body as Record<string, any>)['goodsItems'][1].unNumbers).toEqual(['3481', '3480']);
    expect(() => enforceOnReceive(cnkz, 'CN', 'KZ', 'aci', RISK, sent.body)).not.toThrow();
  });

  it('removes unNumbers as it removes unNumber where the scope names neither', () => {
    const doc = draft('cn-kz-aci', (d) => {
      const m = d.directions[0].messages[0];
      m.fields = m.fields.filter((f: string) => f !== 'goodsItems[].unNumber');
    });
    const sent = enforceOnSend(doc, 'CN', 'KZ', 'aci', RISK, severalUnNumbers());
    expect(sent.removed).toContain('goodsItems[].unNumbers');
    expect((sent.body as Record<string, any>)['goodsItems'][1]).not.toHaveProperty('unNumbers');
  });
});
