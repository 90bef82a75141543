/**
 * Builds a node's parts and extensions from its data dir: agreements (policy and negotiation), the local API
 * route groups, the control-message router and, for a running node, pre-arrival risk. `openNode` gives a startable node; `openOffline` gives the
 * submission path without networking (CLI `send`, `agreement sign`), on the same store.
 */
import { GncError } from '../protocol/errors.js';
import { agreementControl } from './agreements/control.js';
import { AgreementRegistry } from './agreements/registry.js';
import { agreementRoutes } from './api/routes/agreements.js';
import { partnerRoutes } from './api/routes/partners.js';
import { GncNode, type Extension, type NodeOptions, type NodeParts } from './main.js';
import { SubmitService } from './outbound/submit.js';
import { AgreementPolicy } from './policy/agreement-policy.js';
import { EvidenceLog } from './store/evidence.js';
import { auditRoutes, evidenceRoutes } from './audit/routes.js';
import { keyControl } from './keys/control.js';
import { restoreRecorded } from './keys/service.js';
import { Keyring } from './keys/keyring.js';
import { createRisk, type RiskOptions } from './risk/index.js';

export interface Composition {
  parts: NodeParts;
  agreements: AgreementRegistry;
  evidence: EvidenceLog;
  keyring: Keyring;
  ext: Extension & { policy: AgreementPolicy };
}

/** `submit`: the running node's submission path, for the answers its control handlers queue (none offline). */
export function compose(dir: string, opts: NodeOptions = {}, submit?: () => SubmitService): Composition {
  const parts = GncNode.load(dir, opts);
  const { store, trust, identity, clock, log } = parts;
  // the signer follows key rotations (old key until partners know the new one): replace it before anything captures it
  const keyring = new Keyring(dir, store, clock, identity);
  parts.signer = keyring.signer;
  const evidence = new EvidenceLog(store.db, identity.country, parts.signer, clock);
  // agreements verify under every root this administration has had (original, successors, current), so the
  // ones signed before a root succession stay in force and new ones are signed by the current root
  const agreements = new AgreementRegistry(store, trust, { country: identity.country, roots: () => keyring.ownRoots() }, clock, evidence);
  trust.onChange(() => agreements.reload());
  const policy = new AgreementPolicy(agreements, identity.country);
  const onAgreement = agreementControl(agreements, (m) => log(m), submit && ((partner, signed) => submit().queueControlIn(partner, 'agreement', { action: 'countersigned', agreement: signed })));
  const onKey = keyControl({ store, trust, evidence, clock, log: (m) => log(m), self: { country: identity.country, kids: () => keyring.ownKeys().keys() } });
  const ext: Composition['ext'] = {
    policy,
    evidence: (event, messageId, peer, sha256) => void evidence.append(event, messageId, peer, sha256),
    // a revocation or a root succession identity/ records and a database restored from an older backup lacks: stored
    // and queued again before the node signs anything, since the keyring would otherwise sign with the revoked key, and
    // ahead of anything else queued (a partner that missed a succession needs it first)
    prepare: async (node) => {
      for (const advice of (await restoreRecorded({ parts, evidence, keyring, submit: node.submit }, 'gnc start')).said) {
        const line = `WARNING: ${advice}`;
        log(line);
        opts.warn?.(line);
      }
    },
    // and one every CHECKPOINT_EVERY_MS while it runs, so a quiet node's entries do not wait for 1,000 more
    start: () => evidence.start(),
    // a checkpoint pins the head at shutdown, so a truncated tail is detectable even if the node never restarts;
    // an expired node key signs none (it would fail every later audit): the operator was told when it expired
    stop: () => {
      evidence.stop();
      try {
        evidence.checkpoint();
      } catch (err) {
        log('no checkpoint at shutdown', { error: (err as Error).message });
      }
    },
    endedKeys: (now) => keyring.endedKeys(now),
    revokedKeys: () => keyring.revokedKeys(),
    certificateOf: (kid, issuer) => keyring.certificateOf(kid, issuer),
    signing: () => keyring.signing(),
    reload: () => {
      if (keyring.reload()) parts.identity = keyring.identity;
      agreements.reload();
    },
    // inside the transaction that stores the envelope, after its `received` entry (node/inbound/receiver.ts)
    control: (opened, peer) => {
      if (opened.payload.type === 'agreement') return onAgreement(opened, peer);
      if (opened.payload.type === 'key') return onKey(opened, peer);
      throw new GncError('GNC_UNKNOWN_TYPE', `Control type ${opened.payload.type} is not handled by this node version.`);
    },
    // the handlers updated trust and agreements in memory in a transaction that did not commit: read them back
    controlRolledBack: () => {
      trust.reload();
      agreements.reload();
    },
  };
  return { parts, agreements, evidence, keyring, ext };
}

export function openNode(dir: string, opts: NodeOptions = {}): GncNode {
  let node: GncNode | undefined;
  const c = compose(dir, opts, () => node!.submit);
  c.ext.routes = [
    { path: '/agreements', routes: agreementRoutes(c.parts, c.agreements, () => node!.submit) },
    { path: '/audit', routes: auditRoutes(c.parts, c.evidence, c.keyring) },
    { path: '/partners', routes: partnerRoutes(c.parts, c.agreements, () => node!.applyStoreChanges()) },
    { path: '/messages', routes: evidenceRoutes(c.parts, c.evidence) },
  ];
  wireRisk(c, { stepRetryMs: opts.riskRetryMs, streamWriteTimeoutMs: opts.streamWriteTimeoutMs });
  node = new GncNode(c.parts, c.ext, opts);
  return node;
}

/**
 * Pre-arrival risk (node/risk): /v1/arrivals and /v1/aeo, the projection of accepted messages, and the purge of
 * its rows with the messages' content. Its start/stop/reload run alongside the ones composed above.
 */
function wireRisk(c: Composition, opts: Pick<RiskOptions, 'stepRetryMs' | 'streamWriteTimeoutMs'>): void {
  const risk = createRisk(c.parts, opts);
  const { start, stop, reload, onPurge } = c.ext;
  c.ext.closeStreams = () => risk.closeStreams();
  c.ext.health = () => risk.health();
  c.ext.routes = [...(c.ext.routes ?? []), ...risk.routes];
  c.ext.onAccepted = risk.onAccepted;
  c.ext.onPurge = (purged) => {
    onPurge?.(purged);
    risk.onPurge(purged);
  };
  c.ext.start = async (node) => {
    await start?.(node);
    risk.start();
  };
  // the projection settles before the evidence checkpoint and the store close
  c.ext.stop = async () => {
    await risk.stop();
    await stop?.();
  };
  c.ext.reload = () => {
    reload?.();
    risk.reload();
  };
}

export interface OfflineNode {
  parts: NodeParts;
  agreements: AgreementRegistry;
  evidence: EvidenceLog;
  keyring: Keyring;
  submit: SubmitService;
  close(): Promise<void>;
}

/** The submission path without libp2p or the API: rows land in the outbox for the running node to deliver. */
export function openOffline(dir: string, opts: NodeOptions = {}): OfflineNode {
  const { parts, agreements, evidence, keyring, ext } = compose(dir, opts);
  const { config, identity, store, trust, clock, signer } = parts;
  const submit = new SubmitService({
    self: identity.country, signer, store, trust, policy: ext.policy, clock, maxAgeMs: config.maxMessageAgeHours * 3_600_000,
    clockSkewMs: config.clockSkewSeconds * 1000, onQueued: () => undefined, evidence: ext.evidence, certificateOf: ext.certificateOf,
  });
  return {
    parts, agreements, evidence, keyring, submit,
    async close() {
      await store.commits.run(() => undefined);
      store.close();
    },
  };
}
