/**
 * The shared text rule: one line, no control characters, and only characters XML can carry, so every text a
 * JSON body holds can be written as XML and read back unchanged (SPEC 7.1).
 */
import { describe, expect, it } from 'vitest';
import { parseAciBody } from '../../../protocol/messages/aci.js';
import { bodyToXml, parseXmlBody } from '../../../protocol/xml/index.js';
import { example, gncError, paths } from './fixtures.js';

function withConsigneeName(name: string): Record<string, any> {
  const body = example('aci-kz-kg-road');
  body['consignee']['name'] = name;
  return body;
}

describe('text fields: characters XML cannot carry', () => {
  for (const [what, ch] of [['U+FFFF', '\uffff'], ['U+FFFE', '\ufffe'], ['an unpaired high surrogate', '\ud83d'], ['an unpaired low surrogate', '\ude00']] as const) {
    it(`refuses ${what} in a name with GNC_SCHEMA_INVALID at the field`, () => {
      const err = gncError(() => parseAciBody(withConsigneeName(`Bishkek ${ch} Food`)));
      expect(err.code).toBe('GNC_SCHEMA_INVALID');
      expect(paths(err)).toEqual(['/consignee/name']);
    });
  }

  it('refuses to write U+FFFF as XML', () => {
    expect(gncError(() => bodyToXml('aci', withConsigneeName('Bishkek \uffff Food'))).code).toBe('GNC_SCHEMA_INVALID');
  });

  it('accepts a character outside the Basic Multilingual Plane and round-trips it through XML', () => {
    const body = withConsigneeName('Bishkek \u{1F69A} Food');
    expect(parseAciBody(body)).toMatchObject({ consignee: { name: 'Bishkek \u{1F69A} Food' } });
    expect(parseXmlBody(bodyToXml('aci', body)).body).toStrictEqual(body);
  });
});
