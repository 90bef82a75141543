/**
 * A client of the arrivals export that stops reading without closing: the node ends the export once a write has
 * waited the limit (the event stream's, streamWriteTimeoutMs: 4 s here, SSE_WRITE_TIMEOUT_MS in production), logged
 * once without content, instead of holding the response and a page until TCP gives up. While it is paused, the export
 * holds no read of the database open between pages: another connection checkpoints the write-ahead log to its end.
 * A running node with 5,000 consignments of 4 KB each (20 MB of JSON lines), a raw client that reads the first bytes
 * and pauses, and a client that reads the whole export meanwhile.
 */
import type { Socket } from 'node:net';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { DB_FILE } from '../../../node/store/store.js';
import { api, networkForFile, waitFor } from '../../helpers/network.js';
import { paddedConsignments, stalledClient } from './network.js';

const ROWS = 5_000;
const LIMIT_MS = 4_000;
const ENDED = 'arrivals export ended';

const logs: { msg: string; fields?: Record<string, unknown> }[] = [];
const { nodes: { KG: kg } } = networkForFile(['KG'], {
  nodeOptions: () => ({ streamWriteTimeoutMs: LIMIT_MS, log: (msg, fields) => logs.push({ msg, fields }) }),
});


describe('arrivals export and a client that stopped reading without closing', () => {
  it('is ended once a write waited the limit, holds no read open while paused, and a client that reads gets every row', async () => {
    paddedConsignments(kg.node.parts.store.db, ROWS);
    const path = '/v1/arrivals/export?format=jsonl';
    let socket: Socket | undefined;
    const other = new Database(join(kg.dir, DB_FILE));
    try {
      socket = (await stalledClient(kg.url, kg.token, path, '\r\n\r\n')).socket;
      const closed = new Promise<void>((resolve) => socket!.once('close', () => resolve()));
      socket.on('error', () => undefined);
      const res = await fetch(`${kg.url}${path}`, { headers: { authorization: `Bearer ${kg.token}` } });
      expect(res.status).toBe(200);
      const lines = (await res.text()).split('\n').filter(Boolean);
      expect(lines).toHaveLength(ROWS);
      expect(JSON.parse(lines[ROWS - 1]!).id).toBe(`x-${ROWS}`);

      // paused mid-export (not ended yet): a write commits, and another connection checkpoints the log to its end,
      // which no open read transaction of the node allows
      expect(logs.filter((l) => l.msg.startsWith(ENDED))).toEqual([]);
      kg.node.parts.store.db.prepare(`UPDATE risk_consignments SET updated_at = 1 WHERE cid = ?`).run(1_000_001);
      other.pragma('busy_timeout = 500');
      expect(other.pragma('wal_checkpoint(TRUNCATE)')).toEqual([{ busy: 0, log: 0, checkpointed: 0 }]);

      const ended = await waitFor(() => logs.find((l) => l.msg.startsWith(ENDED)), LIMIT_MS + 8_000, 'the stalled export to be ended');
      expect(ended.fields).toMatchObject({ path: '/v1/arrivals/export', format: 'jsonl', limitMs: LIMIT_MS });
      expect(ended.fields?.['rows']).toBeLessThan(ROWS);
      // no row content in the log
      expect(JSON.stringify(ended)).not.toMatch(/pad|x-\d/);
      // the client, reading again, drains what the kernel held and meets the end of its connection
      socket.resume();
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the stalled socket was not ended')), 5_000))]);
      expect(logs.filter((l) => l.msg.startsWith(ENDED))).toHaveLength(1);
      expect(logs.filter((l) => l.msg.startsWith('arrivals export failed'))).toEqual([]);
      expect((await api(kg, 'GET', '/v1/health')).status).toBe(200);
    } finally {
      other.close();
      socket?.destroy();
    }
  }, 60_000);
});
