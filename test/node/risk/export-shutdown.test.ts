/**
 * A node that stops while an arrivals export is in progress: the export is cut off at once (logged), not left to the
 * API's drain (which would wait for a client reading slowly, or not at all, until the drain's end), and the client
 * sees it incomplete: the chunked body ends without its final chunk, so a cut export never passes for a whole one;
 * started again, the node exports every row. Over HTTP/1.0, whose body has no chunks, an export is refused. A running node with 3,000 consignments of 4 KB each, a raw client that
 * reads the first bytes and pauses, the drain set to 20 s.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { networkForFile, restartNode } from '../../helpers/network.js';
import { rawHttp } from '../../helpers/raw-http.js';
import { paddedConsignments, stalledClient } from './network.js';

const ROWS = 3_000;
const DRAIN_MS = 20_000;
const CUT = 'arrivals export cut off';

const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
const { nodes: { KG: kg } } = networkForFile(['KG'], {
  nodeOptions: () => ({ apiDrainMs: DRAIN_MS, log: (msg, fields) => logs.push({ msg, fields }) }),
});


describe('arrivals export over HTTP/1.0', () => {
  it('is refused: its body has no final chunk, so a cut export would read as a whole one', async () => {
    const answer = await rawHttp(`GET /v1/arrivals/export?format=csv HTTP/1.0\r\nAuthorization: Bearer ${kg.token}\r\n\r\n`, kg);
    expect(answer.status).toBe(400);
    const problem = JSON.parse(answer.body) as { code: string; detail: string };
    expect(problem.code).toBe('GNC_REQUEST_MALFORMED');
    expect(problem.detail).toContain('send the request as HTTP/1.1');
  });
});

describe('arrivals export in progress when the node stops', () => {
  it('is cut off at once, without its final chunk, and the node stops well within its drain', async () => {
    paddedConsignments(kg.node.parts.store.db, ROWS);
    let socket: Socket | undefined;
    try {
      const paused = await stalledClient(kg.url, kg.token, '/v1/arrivals/export?format=jsonl', '\r\n\r\n');
      socket = paused.socket;
      socket.on('error', () => undefined);
      expect(paused.got).toMatch(/^HTTP\/1\.1 200/);
      expect(paused.got.toLowerCase()).toContain('transfer-encoding: chunked');
      let rest = '';
      socket.on('data', (d: Buffer) => (rest += d.toString('latin1')));
      const closed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));

      const began = Date.now();
      await kg.node.stop();
      const took = Date.now() - began;
      // without the cut, the paused export held the drain to its end (DRAIN_MS)
      expect(took).toBeLessThan(5_000);
      const cut = logs.filter((l) => l.msg.startsWith(CUT));
      expect(cut).toHaveLength(1);
      expect(cut[0]!.fields).toMatchObject({ path: '/v1/arrivals/export', format: 'jsonl' });
      expect(logs.filter((l) => l.msg.startsWith('arrivals export failed') || l.msg.startsWith('arrivals export ended'))).toEqual([]);

      // the client, reading on, gets what the kernel held, then the end of its connection: no final chunk (0 CRLF CRLF)
      socket.resume();
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the export socket was not ended')), 5_000))]);
      const body = paused.got.slice(paused.got.indexOf('\r\n\r\n') + 4) + rest;
      expect(body.endsWith('\r\n0\r\n\r\n')).toBe(false);
      expect(body.split('\n').filter((l) => l.includes('"id":"x-')).length).toBeLessThan(ROWS);
    } finally {
      socket?.destroy();
    }
    // nothing the node held is lost: it starts again and exports every row
    await restartNode(kg, { log: () => undefined });
    const res = await fetch(`${kg.url}/v1/arrivals/export?format=jsonl`, { headers: { authorization: `Bearer ${kg.token}` } });
    expect((await res.text()).split('\n').filter(Boolean)).toHaveLength(ROWS);
  }, 60_000);
});
