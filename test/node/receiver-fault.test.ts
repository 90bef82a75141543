/**
 * A failure of the receiving node itself (here: its database refuses the insert, through a trigger that a test
 * puts on the real SQLite file) is no verdict on the envelope. The receiver answers that request with an ERROR
 * frame instead of a signed, final negative receipt; the sender keeps the message queued and retries, and it is
 * delivered, once, when the receiver works again. The partner learns the class of the failure, not its details.
 * Meanwhile an amendment of such a message waits with the sender instead of overtaking it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, makeNetwork, waitFor, type TestNode } from '../helpers/network.js';
import { example } from '../protocol/messages/fixtures.js';

const aci = example('aci-kz-kg-road');
const amendment = example('aci-kz-kg-amendment');
const submission = { to: 'KG', type: 'aci', purpose: 'pre-arrival-risk-assessment', body: aci };

let net: Awaited<ReturnType<typeof makeNetwork>>;
let kz: TestNode;
let kg: TestNode;
const logs: Record<string, string[]> = { KZ: [], KG: [] };

beforeAll(async () => {
  net = await makeNetwork(['KZ', 'KG'], { nodeOptions: (c) => ({ log: (msg: string) => void logs[c]!.push(msg) }) });
  kz = net.nodes.KZ!;
  kg = net.nodes.KG!;
});
afterAll(async () => {
  await net?.close();
});

const statusOf = async (id: string): Promise<any> => (await api(kz, 'GET', `/v1/messages/${id}`)).json;

describe('a failure of the receiving node', () => {
  it('gets no signed rejection: the sender retries, and the message is delivered once the receiver works again', async () => {
    const db = kg.node.parts.store.db;
    db.exec(`CREATE TRIGGER test_fault BEFORE INSERT ON messages BEGIN SELECT RAISE(ABORT, 'injected test fault in the messages table'); END`);
    let id: string;
    try {
      id = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
      const waiting = await waitFor(async () => {
        const m = await statusOf(id);
        return m.status === 'retrying' ? m : m.status === 'rejected' ? m : undefined;
      }, 10_000, 'the outcome of the first attempt');
      expect(waiting.status).toBe('retrying');
      expect(waiting.receipt).toBeNull();
      expect(waiting.error).toMatchObject({ code: 'GNC_INTERNAL' });
      // the partner is told the class of the failure, not the receiver's internals
      expect(JSON.stringify(waiting.error)).not.toMatch(/injected|trigger|messages table/);
      // the receiver's operator is told what failed
      expect(logs.KG!.some((l) => l.includes('GNC_INTERNAL') && l.includes('injected test fault'))).toBe(true);
      // nothing stored and nothing recorded as refused at the receiver
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', id)).toBeUndefined();
      expect(db.prepare('SELECT COUNT(*) FROM rejections WHERE message_id = ?').pluck().get(id)).toBe(0);
    } finally {
      db.exec('DROP TRIGGER test_fault');
    }
    await waitFor(async () => ((await statusOf(id)).status === 'delivered' ? true : undefined), 15_000, 'delivery once the receiver works');
    const m = await statusOf(id);
    expect(m.receipt).toMatchObject({ status: 'accepted' });
    expect(db.prepare(`SELECT COUNT(*) FROM messages WHERE direction = 'in' AND id = ?`).pluck().get(id)).toBe(1);
  });

  it('keeps an amendment from overtaking its original while the original waits out a backoff', async () => {
    const db = kg.node.parts.store.db;
    // KG cannot store originals for now (amendments it could): the original goes to its backoff
    db.exec(`CREATE TRIGGER test_fault BEFORE INSERT ON messages WHEN NEW.ref IS NULL BEGIN SELECT RAISE(ABORT, 'injected test fault for originals'); END`);
    let original: string;
    let amended: string;
    try {
      original = (await api(kz, 'POST', '/v1/messages', submission)).json.id as string;
      await waitFor(async () => ((await statusOf(original)).status === 'retrying' ? true : undefined), 10_000, 'the original to wait out its backoff');
      const r = await api(kz, 'POST', '/v1/messages', { ...submission, ref: original, body: amendment });
      expect(r.status).toBe(202);
      amended = r.json.id as string;
      // the amendment is not sent ahead (KG would refuse it, finally, as GNC_ORIGINAL_UNKNOWN), while the
      // original is tried again and again (the backoff of these tests is at most 1 s)
      await new Promise((res) => setTimeout(res, 1500));
      expect((await statusOf(amended)).status).toBe('queued');
      expect(kg.node.parts.store.messages.byKey('in', 'KZ', amended)).toBeUndefined();
      expect(db.prepare('SELECT COUNT(*) FROM rejections WHERE message_id = ?').pluck().get(amended)).toBe(0);
    } finally {
      db.exec('DROP TRIGGER test_fault');
    }
    for (const id of [original, amended]) {
      await waitFor(async () => ((await statusOf(id)).status === 'delivered' ? true : undefined), 15_000, `delivery of ${id}`);
      expect((await statusOf(id)).receipt).toMatchObject({ status: 'accepted' });
    }
    const seqOf = (id: string): number => kg.node.parts.store.messages.byKey('in', 'KZ', id)!.seq;
    expect(seqOf(original)).toBeLessThan(seqOf(amended));
  });
});
