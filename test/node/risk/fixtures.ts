/**
 * Fixtures of the risk tests: the example messages of examples/messages (realistic KZ -> KG road traffic),
 * variations of them, and for the unit tests a real Store in a temp dir with rows inserted exactly as the
 * receiver inserts an accepted message.
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AcceptedMessage } from '../../../node/inbound/receiver.js';
import type { Store } from '../../../node/store/store.js';
import { isSnapshotInParts, type AeoBody, type AeoSnapshotInParts } from '../../../protocol/messages/aeo.js';

export function example<T = Record<string, any>>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../../../examples/messages/${name}`, import.meta.url), 'utf8')) as T;
}

export function tempDir(prefix = 'gnc-risk-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A deep copy of a JSON document with a change applied. */
export function variant<T>(doc: T, change: (d: any) => void): T {
  const copy = structuredClone(doc) as any;
  change(copy);
  return copy as T;
}

/**
 * Inserts an accepted inbound message the way node/inbound/receiver.ts stores it (a part of an AEO snapshot sent in
 * parts checked against the parts held, and recorded); returns its id. `retainUntil` (epoch ms): kept until then, as the
 * receiver stores a message under its agreement's retention; without it, kept for good.
 */
export function receive(store: Store, m: { partner: string; type: 'aci' | 'ecoo' | 'aeo'; body: Record<string, any>; ref?: string; id?: string; created?: string; retainUntil?: number }): string {
  const id = m.id ?? randomUUID();
  const body = JSON.stringify(m.body);
  const part = m.type === 'aeo' && isSnapshotInParts(m.body as AeoBody) ? (m.body as AeoSnapshotInParts) : undefined;
  const digest = part && store.aeoParts.admit('in', m.partner, part);
  const seq = store.messages.insert({
    id, direction: 'in', partner: m.partner, type: m.type, kind: String(m.body['kind']), ref: m.ref ?? null, purpose: 'pre-arrival-risk-assessment', agreement: `${m.partner}-XX@1`,
    created: m.created ?? new Date().toISOString(), status: 'accepted', jws: Buffer.from(`jws:${id}`), sha256: createHash('sha256').update(id).digest('hex'), body, removed: null, retainUntil: m.retainUntil ?? null,
  });
  if (part && digest !== undefined) store.aeoParts.add('in', m.partner, seq, part, digest);
  return id;
}

/**
 * What the receiver hands the risk extension once message `id` from `partner` (stored by `receive` with `body`)
 * committed: its seq, type and body, and for `opened` only its stored envelope bytes and its payload's purpose.
 */
export function accepted(store: Store, partner: string, id: string, body: Record<string, any>): AcceptedMessage {
  const row = store.messages.byKey('in', partner, id)!;
  return { seq: row.seq, type: row.type, body, opened: { bytes: new Uint8Array(row.jws ?? []), payload: { purpose: row.purpose ?? undefined } } } as AcceptedMessage;
}

/** The ACI road declaration KZ -> KG (Ak-Zhol), its e-CoO, the KZ AEO snapshot. */
export const road = (): Record<string, any> => example('aci-kz-kg-road.json');
export const certificate = (): Record<string, any> => example('ecoo-kz-kg-preferential.json');
export const snapshot = (): Record<string, any> => example('aeo-kz-snapshot.json');

/**
 * The e-CoO with its dates moved to fit a declaration expected at `expectedArrival` (a date-time), as in the
 * example: issued two days before the arrival, departing the day before. A test whose arrival follows the clock
 * stays clear of ecoo-date-mismatch whatever the date of the run.
 */
export function certificateFor(expectedArrival: string): Record<string, any> {
  const day = (offset: number): string => new Date(Date.parse(expectedArrival) + offset * 86_400_000).toISOString().slice(0, 10);
  return variant(certificate(), (c) => {
    c.issueDate = day(-2);
    c.transport.departureDate = day(-1);
  });
}

/** Every day from `from` to `to` (YYYY-MM-DD, both included). */
export function days(from: string, to: string): string[] {
  const out: string[] = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += 86_400_000) out.push(new Date(t).toISOString().slice(0, 10));
  return out;
}
