/**
 * A webhook that would carry assessments unencrypted off this host (http:// to an address other than loopback) is
 * allowed but warned about at every start and reload: the HMAC protects the content from change, not from being
 * read. The node below sends no event (no message is exchanged), so nothing leaves loopback.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleartextWebhookWarning } from '../../../node/risk/rules.js';
import { riskNetwork, type RiskNetwork } from './network.js';

let net: RiskNetwork | undefined;
afterAll(async () => net?.close());

describe('a cleartext webhook', () => {
  it('is warned about for http:// to another host, not for https:// or a loopback receiver', () => {
    expect(cleartextWebhookWarning('http://risk.customs.example/hook')).toContain('receives assessments unencrypted');
    expect(cleartextWebhookWarning('http://10.1.2.3:8080/hook')).toContain('http://10.1.2.3:8080');
    for (const url of ['https://risk.customs.example/hook', 'http://127.0.0.1:9/hook', 'http://localhost/hook', 'http://[::1]:9/hook']) {
      expect(cleartextWebhookWarning(url), url).toBeUndefined();
    }
  });

  it('is logged when the node starts with it', async () => {
    process.env['GNC_TEST_CLEARTEXT_SECRET'] = 'a-secret-of-32-characters-000000';
    const logs: string[] = [];
    net = await riskNetwork({ rules: { v: 1, webhook: { url: 'http://192.0.2.10/hook', secretEnv: 'GNC_TEST_CLEARTEXT_SECRET' } }, log: (m) => logs.push(m) });
    // only KG's data dir has the rules file
    expect(logs.filter((l) => l.includes('receives assessments unencrypted'))).toEqual([cleartextWebhookWarning('http://192.0.2.10/hook')]);
  });
});
