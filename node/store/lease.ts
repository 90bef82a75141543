/**
 * One running node per data dir. Two `gnc start` on one data dir (two containers sharing a volume, a rolling
 * update that starts the new one before the old has stopped) would both drain the same outbox and send every
 * queued message twice; their ports only clash when they share a network namespace. A running node holds a lease
 * row in its database, renewed every LEASE_RENEW_MS; another node refuses to start while the lease is fresh.
 * A lease is stale once LEASE_TTL_MS passed without renewal, or at once when it names this host and a process
 * that is gone, or this very process id (a restarted container's node is pid 1 again): a node that crashed is
 * restarted without waiting. The lease uses the wall clock, never a node's injected clock.
 */
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { GncError } from '../../protocol/errors.js';
import type { Db } from './db.js';

/** How often a running node renews its lease. */
export const LEASE_RENEW_MS = 5_000;
/** A lease not renewed for this long is stale: three renewals missed (a process paused, a host gone). */
export const LEASE_TTL_MS = 3 * LEASE_RENEW_MS;

interface LeaseRow {
  owner: string;
  pid: number;
  host: string;
  started_at: number;
  renewed_at: number;
}

export class NodeLease {
  private readonly owner = randomUUID();
  private readonly getStmt;
  private readonly putStmt;
  private readonly renewStmt;
  private readonly releaseStmt;

  constructor(private readonly db: Db, private readonly host = hostname(), private readonly pid = process.pid) {
    this.getStmt = db.prepare('SELECT owner, pid, host, started_at, renewed_at FROM node_lease WHERE id = 1');
    this.putStmt = db.prepare(`INSERT INTO node_lease (id, owner, pid, host, started_at, renewed_at) VALUES (1, @owner, @pid, @host, @now, @now)
      ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, pid = excluded.pid, host = excluded.host, started_at = excluded.started_at, renewed_at = excluded.renewed_at`);
    this.renewStmt = db.prepare('UPDATE node_lease SET renewed_at = ? WHERE id = 1 AND owner = ?');
    this.releaseStmt = db.prepare('DELETE FROM node_lease WHERE id = 1 AND owner = ?');
  }

  /** Takes the lease, or refuses (GNC_CONFLICT) while another running node holds it. */
  acquire(): void {
    this.db
      .transaction(() => {
        const now = Date.now();
        const held = this.getStmt.get() as LeaseRow | undefined;
        if (held && held.owner !== this.owner && !this.stale(held, now)) {
          const seen = Math.max(0, Math.round((now - held.renewed_at) / 1000));
          const wait = Math.max(1, Math.ceil((held.renewed_at + LEASE_TTL_MS - now) / 1000));
          throw new GncError(
            'GNC_CONFLICT',
            `Another gnc node runs on this data dir (pid ${held.pid} on host ${held.host}, started ${new Date(held.started_at).toISOString()}, seen ${seen} s ago): two nodes on one data dir would send every queued message twice. Stop that one first; if its host is gone, start again in ${wait} s.`,
          );
        }
        this.putStmt.run({ owner: this.owner, pid: this.pid, host: this.host, now });
      })
      .immediate();
  }

  /** Renews the lease; false when it is no longer this node's (another node took it over after it went stale). */
  renew(): boolean {
    return this.renewStmt.run(Date.now(), this.owner).changes === 1;
  }

  release(): void {
    this.releaseStmt.run(this.owner);
  }

  private stale(held: LeaseRow, now: number): boolean {
    if (now - held.renewed_at > LEASE_TTL_MS) return true;
    return held.host === this.host && (held.pid === this.pid || !processAlive(held.pid));
  }
}

/** The process `pid` of this host exists (signal 0 probes it). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists, under another user
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
