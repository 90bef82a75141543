/**
 * Message ids: UUID version 7 (RFC 9562), so ids sort by creation time, which keeps cursor pagination and
 * SQLite's b-tree inserts cheap, while 74 random bits keep them unguessable across nodes.
 */
import { randomFillSync } from 'node:crypto';

let lastMs = 0;
let seq = 0;

/**
 * Crypto-random bytes for the next POOL_IDS ids, filled by one call (a call costs about as much as the bytes of many
 * ids): each id takes the next 16 bytes, and the pool is filled again, with new bytes, once all are taken, so no
 * bytes serve two ids.
 */
const POOL_IDS = 256;
const pool = Buffer.alloc(16 * POOL_IDS);
let taken = POOL_IDS;

function randomId(): Buffer {
  if (taken === POOL_IDS) {
    randomFillSync(pool);
    taken = 0;
  }
  return pool.subarray(16 * taken, 16 * ++taken);
}

export function newMessageId(now: number = Date.now()): string {
  const b = randomId();
  // monotonic within one millisecond: a 12-bit counter in rand_a (RFC 9562 section 6.2, method 1)
  if (now === lastMs) {
    seq = (seq + 1) & 0xfff;
  } else {
    lastMs = now;
    seq = b.readUInt16BE(6) & 0x7ff;
  }
  b.writeUIntBE(now, 0, 6);
  b[6] = 0x70 | (seq >> 8);
  b[7] = seq & 0xff;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

export const MESSAGE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
