/**
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` records the last one.
 * Never edit a released migration: add a new one. Each statement says what it serves.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: exchange foundation
  `
  CREATE TABLE partners (
    country      TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    root_jwk     TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,
    addresses    TEXT NOT NULL,            -- JSON array of multiaddrs from the identity file
    identity     TEXT NOT NULL,            -- the identity file as pinned
    added_at     TEXT NOT NULL
  );
  -- node certificates of partners (and our own), by key id; several per country during a rotation overlap
  CREATE TABLE certificates (
    kid          TEXT PRIMARY KEY,
    country      TEXT NOT NULL,
    peer_id      TEXT NOT NULL,
    compact      TEXT NOT NULL,
    not_before   INTEGER NOT NULL,
    not_after    INTEGER NOT NULL,
    revoked_at   INTEGER,
    revocation   TEXT,                     -- the root-signed revocation notice, kept as evidence
    added_at     TEXT NOT NULL
  );
  CREATE INDEX certificates_peer ON certificates(peer_id);
  CREATE INDEX certificates_country ON certificates(country);

  -- every envelope sent or accepted; seq orders the log and is the pagination cursor
  CREATE TABLE messages (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL,
    direction    TEXT NOT NULL CHECK (direction IN ('out','in')),
    partner      TEXT NOT NULL,
    type         TEXT NOT NULL,
    kind         TEXT,
    ref          TEXT,
    purpose      TEXT,
    agreement    TEXT,
    created      TEXT NOT NULL,
    status       TEXT NOT NULL,
    jws          BLOB,                     -- exact signed bytes (NULL once retention purged the content)
    sha256       TEXT NOT NULL,
    body         TEXT,                     -- the body as JSON, for queries (NULL once purged)
    removed      TEXT,                     -- JSON list of field paths stripped by data minimisation
    retain_until INTEGER,                  -- epoch ms when the content is purged (agreement retention)
    error_code   TEXT,
    error_reason TEXT,
    stored_at    INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    UNIQUE (direction, partner, id)
  );
  CREATE INDEX messages_id ON messages(id);
  CREATE INDEX messages_partner ON messages(partner, seq);
  CREATE INDEX messages_status ON messages(status, seq);
  CREATE INDEX messages_type ON messages(type, seq);
  CREATE INDEX messages_created ON messages(created);
  CREATE INDEX messages_retain ON messages(retain_until) WHERE jws IS NOT NULL;

  -- pending deliveries; a row lives from submission until delivered, rejected or expired
  CREATE TABLE outbox (
    seq          INTEGER PRIMARY KEY REFERENCES messages(seq),
    partner      TEXT NOT NULL,
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_error   TEXT
  );
  CREATE INDEX outbox_due ON outbox(partner, next_at);

  -- receipts: for 'out' messages the partner's receipt; for 'in' the receipt we sent (answered again on duplicates)
  CREATE TABLE receipts (
    message_seq  INTEGER PRIMARY KEY REFERENCES messages(seq),
    receipt_id   TEXT NOT NULL,
    status       TEXT NOT NULL,
    code         TEXT,
    reason       TEXT,
    jws          BLOB NOT NULL,
    sha256       TEXT NOT NULL,
    at           INTEGER NOT NULL
  );

  -- inbound envelopes refused before storage: the rejection record (never the content)
  CREATE TABLE rejections (
    seq          INTEGER PRIMARY KEY,
    partner      TEXT,
    message_id   TEXT,
    sha256       TEXT NOT NULL,
    code         TEXT NOT NULL,
    reason       TEXT NOT NULL,
    receipt      BLOB,
    at           INTEGER NOT NULL
  );

  -- local API tokens, stored as SHA-256 of the secret
  CREATE TABLE tokens (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    scopes       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT
  );
  `,
  // 2: bilateral agreements (MRA scope) and their signed notices
  `
  CREATE TABLE agreements (
    id           TEXT NOT NULL,
    version      INTEGER NOT NULL,
    partner      TEXT NOT NULL,            -- the other administration
    signed       TEXT NOT NULL,            -- JWS general JSON serialization, exactly as signed
    signed_by    TEXT NOT NULL,            -- JSON array of countries whose signature verified
    complete     INTEGER NOT NULL,         -- both administrations signed
    valid_from   TEXT NOT NULL,
    valid_until  TEXT NOT NULL,
    origin       TEXT NOT NULL,            -- local | partner
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL,
    PRIMARY KEY (id, version)
  );
  CREATE INDEX agreements_partner ON agreements(partner);
  CREATE TABLE agreement_notices (
    seq          INTEGER PRIMARY KEY,
    agreement_id TEXT NOT NULL,
    version      INTEGER NOT NULL,
    action       TEXT NOT NULL,
    effective    TEXT NOT NULL,
    by_country   TEXT NOT NULL,
    compact      TEXT NOT NULL UNIQUE,
    at           INTEGER NOT NULL
  );
  `,
  // 3: pre-arrival risk (node/risk): the arrivals view of received ACI, the partner AEO registry with history,
  // received e-CoO, assessments, the event log behind the SSE stream and the webhook delivery queue
  `
  -- one row per consignment: the declaration in force after amendments; the columns are the list filters.
  -- Clustered by office of entry and expected arrival (WITHOUT ROWID), so the consignments of one day at one
  -- crossing point sit on a few neighbouring pages: the query reads those, not one page per row. Rows stay
  -- under SQLite's in-page limit for 4 KiB pages (about 1000 bytes), so no row spills to an overflow page.
  CREATE TABLE risk_consignments (
    office_of_entry  TEXT NOT NULL COLLATE NOCASE,
    expected_arrival INTEGER NOT NULL,       -- epoch ms
    cid              INTEGER NOT NULL,       -- messages.seq of the message that opened the consignment (stable id)
    partner          TEXT NOT NULL,          -- sending administration
    root_id          TEXT NOT NULL,          -- message id of the original declaration (the API id)
    bcp              TEXT COLLATE NOCASE,    -- border crossing point name
    status           TEXT NOT NULL CHECK (status IN ('active','cancelled')),
    level            TEXT,
    score            REAL,
    current_seq      INTEGER NOT NULL,       -- messages.seq of the version in force
    current_created  TEXT NOT NULL,          -- its envelope "created" (the latest created version is in force)
    versions         INTEGER NOT NULL,
    cancel_seq       INTEGER,
    revision         INTEGER NOT NULL DEFAULT 0,
    assessed_at      INTEGER,
    updated_at       INTEGER NOT NULL,
    view             TEXT NOT NULL,          -- the list view (JSON), rewritten with each assessment: a page is served without parsing
    PRIMARY KEY (office_of_entry, expected_arrival, cid)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX risk_cons_cid ON risk_consignments(cid);
  CREATE UNIQUE INDEX risk_cons_root ON risk_consignments(root_id, partner);
  -- the other window filters walk one of these in arrival order, then read the clustered rows
  CREATE INDEX risk_cons_bcp ON risk_consignments(bcp, expected_arrival);
  CREATE INDEX risk_cons_partner ON risk_consignments(partner, expected_arrival);
  CREATE INDEX risk_cons_level ON risk_consignments(level, expected_arrival);
  CREATE INDEX risk_cons_arrival ON risk_consignments(expected_arrival);

  -- the assessment in force per consignment (JSON: indicators with evidence, thresholds, explanation, basis)
  CREATE TABLE risk_assessments (cid INTEGER PRIMARY KEY, assessment TEXT NOT NULL);

  -- every received version (declaration, amendments, cancellation) of a consignment, for history and "ref"
  CREATE TABLE risk_versions (
    seq          INTEGER PRIMARY KEY,        -- messages.seq
    cid          INTEGER NOT NULL,
    partner      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    kind         TEXT NOT NULL,
    created      TEXT NOT NULL,
    received_at  INTEGER NOT NULL
  );
  CREATE UNIQUE INDEX risk_versions_msg ON risk_versions(partner, message_id);
  CREATE INDEX risk_versions_cid ON risk_versions(cid, seq);

  -- search keys of the version in force: t trader id, a AEO id, m transport means, c container,
  -- h HS code (prefix search is a range on v), e referenced e-CoO number
  CREATE TABLE risk_keys (
    k    TEXT NOT NULL,
    v    TEXT NOT NULL,
    cid  INTEGER NOT NULL,
    PRIMARY KEY (k, v, cid)
  ) WITHOUT ROWID;
  CREATE INDEX risk_keys_cid ON risk_keys(cid, k, v);

  -- consignments whose assessment must be recomputed (a related message arrived); drained in batches
  CREATE TABLE risk_pending (cid INTEGER PRIMARY KEY);

  -- partner AEO registry: the current record per operator, and every status it had with its effective date
  CREATE TABLE risk_aeo (
    partner            TEXT NOT NULL,
    aeo_id             TEXT NOT NULL,
    national_trader_id TEXT NOT NULL,
    legal_name         TEXT NOT NULL,
    programme          TEXT NOT NULL,
    status             TEXT NOT NULL,
    status_date        TEXT NOT NULL,
    valid_from         TEXT NOT NULL,
    valid_until        TEXT,
    listed             INTEGER NOT NULL,     -- 0 once a later snapshot no longer lists the operator
    message_id         TEXT NOT NULL,
    path               TEXT NOT NULL,        -- JSON pointer of the operator in that message body
    updated_at         INTEGER NOT NULL,
    PRIMARY KEY (partner, aeo_id)
  ) WITHOUT ROWID;
  CREATE INDEX risk_aeo_trader ON risk_aeo(national_trader_id);
  CREATE INDEX risk_aeo_id ON risk_aeo(aeo_id);
  CREATE TABLE risk_aeo_history (
    partner      TEXT NOT NULL,
    aeo_id       TEXT NOT NULL,
    effective    TEXT NOT NULL,              -- YYYY-MM-DD the status took effect
    seq          INTEGER NOT NULL,           -- messages.seq (orders two records on the same day)
    status       TEXT NOT NULL,              -- valid | suspended | revoked | removed
    valid_from   TEXT,
    valid_until  TEXT,
    kind         TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    path         TEXT NOT NULL,
    reason       TEXT,
    PRIMARY KEY (partner, aeo_id, effective, seq)
  ) WITHOUT ROWID;

  -- received certificates of origin and their latest status
  CREATE TABLE risk_ecoo (
    partner           TEXT NOT NULL,
    number            TEXT NOT NULL,
    seq               INTEGER NOT NULL,      -- messages.seq of the certificate
    message_id        TEXT NOT NULL,
    preference        TEXT NOT NULL,
    status            TEXT NOT NULL,         -- issued | replaced | cancelled
    status_message_id TEXT,
    status_date       TEXT,
    replacement       TEXT,
    updated_at        INTEGER NOT NULL,
    PRIMARY KEY (partner, number)
  ) WITHOUT ROWID;
  CREATE INDEX risk_ecoo_number ON risk_ecoo(number);

  -- new and changed assessments, in order: the SSE stream replays from here (Last-Event-ID)
  CREATE TABLE risk_events (
    seq      INTEGER PRIMARY KEY,
    cid      INTEGER NOT NULL,
    at       INTEGER NOT NULL,
    payload  TEXT NOT NULL
  );
  CREATE INDEX risk_events_at ON risk_events(at);
  -- webhook deliveries: bounded by attempts and age
  CREATE TABLE risk_webhook (
    event_seq    INTEGER PRIMARY KEY,
    state        TEXT NOT NULL,              -- pending | delivered | failed
    attempts     INTEGER NOT NULL DEFAULT 0,
    next_at      INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    last_error   TEXT,
    done_at      INTEGER
  );
  CREATE INDEX risk_webhook_due ON risk_webhook(state, next_at);

  -- progress of the projection: the last messages.seq applied
  CREATE TABLE risk_state (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
  `,
  // 4: the evidence log (hash chain of every envelope and receipt) and its signed checkpoints
  `
  CREATE TABLE evidence (
    seq          INTEGER PRIMARY KEY,      -- chain position, from 1, no gaps
    entry        TEXT NOT NULL,            -- the entry as JSON (its RFC 8785 form is what is hashed)
    hash         TEXT NOT NULL,            -- entryHash(entry), so appending never re-hashes
    message_id   TEXT NOT NULL,
    peer         TEXT NOT NULL,
    at           INTEGER NOT NULL
  );
  CREATE INDEX evidence_message ON evidence(message_id);
  CREATE INDEX evidence_peer_at ON evidence(peer, at);
  CREATE TABLE checkpoints (
    seq          INTEGER PRIMARY KEY,
    compact      TEXT NOT NULL,            -- compact JWS signed by the node key
    at           INTEGER NOT NULL
  );
`,
  // 5: root-signed key notices (revocations, root successions), this administration's and its partners', kept
  // as evidence for bundles and enforced through certificates.revoked_at and the trust index
  `
  CREATE TABLE key_notices (
    sha256       TEXT PRIMARY KEY,         -- SHA-256 hex of the compact JWS
    country      TEXT NOT NULL,            -- administration whose root signed it
    kind         TEXT NOT NULL,            -- revocation | root-succession
    subject      TEXT NOT NULL,            -- revoked kid, or the new root's fingerprint
    at           INTEGER NOT NULL,         -- revokedAt / effective, epoch ms
    compact      TEXT NOT NULL,
    added_at     INTEGER NOT NULL
  );
  CREATE INDEX key_notices_country ON key_notices(country, kind);
`,
  // 6: lookups that read a whole table per call: a consignment by any version's id (API), a consignment's
  // feed events (retention purge, once per purged declaration), finished webhook deliveries (pruning)
  `
  CREATE INDEX risk_versions_message ON risk_versions(message_id);
  CREATE INDEX risk_events_cid ON risk_events(cid);
  CREATE INDEX risk_webhook_done ON risk_webhook(done_at) WHERE state <> 'pending';
`,
  // 7: Idempotency-Key of API submissions: a client's retry of a submission finds the message it already made
  `
  CREATE TABLE idempotency_keys (
    token_id     TEXT NOT NULL,            -- the API token that used the key (keys are the client's own)
    key          TEXT NOT NULL,
    request      TEXT NOT NULL,            -- SHA-256 hex of the canonical submission (to, type, purpose, ref, body)
    message_seq  INTEGER NOT NULL,
    at           INTEGER NOT NULL,         -- epoch ms of the first use; pruned after IDEMPOTENCY_KEY_TTL_MS
    PRIMARY KEY (token_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX idempotency_keys_at ON idempotency_keys(at);
`,
  // 8: delivery order and fate. `control`: an agreement or key envelope, which the partner's messages queued after
  // it wait for (a key announcement before what the new key signs, a resume before what it allows). `sent`: an
  // attempt wrote the envelope to the partner and no receipt came back, so the partner may hold it (for rows tried
  // before this migration that is unknown, so it is assumed)
  `
  ALTER TABLE outbox ADD COLUMN control INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE outbox ADD COLUMN sent INTEGER NOT NULL DEFAULT 0;
  UPDATE outbox SET control = 1 WHERE seq IN (SELECT seq FROM messages WHERE type IN ('agreement', 'key'));
  UPDATE outbox SET sent = 1 WHERE attempts > 0 OR seq IN (SELECT seq FROM messages WHERE status = 'sending');
  CREATE INDEX outbox_control ON outbox(partner, seq) WHERE control = 1;
`,
  // 9: rejection records whose reason and negative receipt (which may quote refused content) are still held, by
  // time, for the retention job
  `
  CREATE INDEX rejections_held ON rejections(at) WHERE receipt IS NOT NULL;
`,
  // 10: the date a partner AEO record is known to hold as of (the snapshot's asOf, the change's statusDate), so a
  // message dated earlier that arrives later goes into the history without replacing the record. Existing records
  // hold as of their latest history entry or status date, whichever is later
  `
  ALTER TABLE risk_aeo ADD COLUMN as_of TEXT NOT NULL DEFAULT '';
  UPDATE risk_aeo SET as_of = MAX(status_date, COALESCE((SELECT MAX(effective) FROM risk_aeo_history h
    WHERE h.partner = risk_aeo.partner AND h.aeo_id = risk_aeo.aeo_id), ''));
`,
  // 11: certificate numbers compared upper-case (protocol/messages/ecoo.ts certificateKey): the e-CoO index and
  // the certificate search keys of consignments. A key whose upper-case twin exists for the same consignment is
  // redundant; two certificates of one partner differing only in case keep their numbers
  `
  UPDATE OR IGNORE risk_ecoo SET number = UPPER(number) WHERE number <> UPPER(number);
  UPDATE OR IGNORE risk_keys SET v = UPPER(v) WHERE k = 'e' AND v <> UPPER(v);
  DELETE FROM risk_keys WHERE k = 'e' AND v <> UPPER(v);
`,
  // 12: a partner has sent AEO data once any of its AEO messages was projected, an empty snapshot included
  // (node/risk/aeo-registry.ts aeoDataKey): marked for the partners whose held AEO messages the cursor passed
  `
  INSERT OR IGNORE INTO risk_state (key, value)
    SELECT DISTINCT 'aeo-data:' || partner, 1 FROM messages
    WHERE type = 'aeo' AND direction = 'in' AND body IS NOT NULL AND seq <= COALESCE((SELECT value FROM risk_state WHERE key = 'cursor'), 0);
`,
  // 13: the assessments made before migrations 11 and 12 still said what the old matching found (a certificate named
  // in another case 'not sent', an AEO id of a partner whose only AEO data was an empty snapshot 'unverified'); the
  // consignments within the recompute horizon (node/risk/engine.ts RECOMPUTE_HORIZON_MS, 30 days, as for new rules)
  // are recomputed by the risk loop, which adds a feed event only where the assessment changes
  `
  INSERT OR IGNORE INTO risk_pending (cid)
    SELECT cid FROM risk_consignments WHERE expected_arrival >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 30 * 86400000;
`,
  // 14: the lease of the node running on this data dir (node/store/lease.ts): one row at most
  `
  CREATE TABLE node_lease (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    owner TEXT NOT NULL,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    started_at INTEGER NOT NULL,
    renewed_at INTEGER NOT NULL
  );
`,
  // 15: migration 10 derived risk_aeo.as_of from the history, which can predate the snapshot a record rests on, so a
  // late older change could replace what a newer snapshot confirmed: the node rebuilds the registry once at its next
  // start from the AEO messages it holds, as after a purge (node/risk/purge.ts rebuildIfAsked)
  `
  INSERT OR REPLACE INTO risk_state (key, value) SELECT 'aeo-rebuild', 1 WHERE EXISTS (SELECT 1 FROM risk_aeo);
`,
  // 16: control envelopes are sealed again instead of expiring (protocol/SPEC.md section 6). `resealed_as`: the id of
  // the envelope that carries a sent message's body on after its own grew too old. `position`: a partner's delivery
  // order, the seq of the message as first queued; a re-sealed control envelope keeps its predecessor's, so what was
  // queued after it keeps waiting for it
  `
  ALTER TABLE messages ADD COLUMN resealed_as TEXT;
  ALTER TABLE outbox ADD COLUMN position INTEGER NOT NULL DEFAULT 0;
  UPDATE outbox SET position = seq;
  DROP INDEX outbox_control;
  CREATE INDEX outbox_control ON outbox(partner, position) WHERE control = 1;
`,
  // 17: the newest risk feed event deleted (node/risk/feed.ts DELETED), so a stream resuming before it is told that it
  // missed events. For the deletions made before: the newest id missing below the newest event held (event ids run
  // from 1 without gaps as they are handed out), or the newest id handed out when that event itself was deleted
  `
  INSERT OR REPLACE INTO risk_state (key, value)
    SELECT 'deletedEventId', newest FROM (SELECT MAX(gone) AS newest FROM (
      SELECT seq - 1 AS gone FROM risk_events e WHERE seq > 1 AND NOT EXISTS (SELECT 1 FROM risk_events p WHERE p.seq = e.seq - 1)
      UNION ALL
      SELECT value FROM risk_state WHERE key = 'lastEventId' AND value > COALESCE((SELECT MAX(seq) FROM risk_events), 0)
    )) WHERE newest IS NOT NULL;
`,
  // 18: the snapshot each partner's AEO list rests on (node/risk/aeo-registry.ts aeoSnapshotKey), for the lists an older
  // version projected: of the snapshots held that the cursor passed, the latest by asOf date, then by arrival, as the
  // registry orders them (a message for 'statistics', the aggregate-only purpose, is never projected)
  `
  INSERT OR REPLACE INTO risk_state (key, value)
    SELECT 'aeo-snapshot:' || partner, seq FROM (
      SELECT partner, seq, ROW_NUMBER() OVER (PARTITION BY partner ORDER BY substr(json_extract(body, '$.asOf'), 1, 10) DESC, seq DESC) AS n
      FROM messages WHERE direction = 'in' AND type = 'aeo' AND kind = 'snapshot' AND body IS NOT NULL AND IFNULL(purpose, '') <> 'statistics'
        AND seq <= COALESCE((SELECT value FROM risk_state WHERE key = 'cursor'), 0))
    WHERE n = 1;
`,
  // 19: the parts of AEO snapshots sent in parts (node/store/aeo-parts.ts), received and sent: one row per part
  // message, found by its snapshot (direction, partner, asOf) to check a new part against the others and to tell when
  // a snapshot is complete; by seq for a purged message
  `
  CREATE TABLE aeo_parts (
    direction    TEXT NOT NULL,
    partner      TEXT NOT NULL,
    as_of        TEXT NOT NULL,            -- the snapshot's asOf exactly as written
    number       INTEGER NOT NULL,
    of           INTEGER NOT NULL,
    seq          INTEGER NOT NULL,         -- messages.seq of the part
    operators    INTEGER NOT NULL,         -- how many operators the part lists
    digest       TEXT NOT NULL,            -- SHA-256 hex of the RFC 8785 form of its operators
    PRIMARY KEY (direction, partner, as_of, number, seq)
  ) WITHOUT ROWID;
  CREATE INDEX aeo_parts_seq ON aeo_parts(seq);
`,
  // 20: messages sent for an aggregate-only purpose (statistics, SPEC 8.1) stay out of the risk view
  // (node/risk/engine.ts INDIVIDUAL_USE), and older versions projected them. The AEO history entries they made go
  // now, and the node rebuilds the AEO registry at its next start from the AEO messages held for individual use (as
  // for migration 15); the consignments and e-CoO index entries they made, it drops then and projects again from
  // the messages of each that were sent for individual use (node/risk/purge.ts dropAggregateOnly), in batches:
  // 'aggregate-only-cleanup' holds the seq up to which that is done, and goes once it is
  `
  DELETE FROM risk_aeo_history WHERE EXISTS (SELECT 1 FROM messages m WHERE m.direction = 'in'
    AND m.partner = risk_aeo_history.partner AND m.id = risk_aeo_history.message_id AND m.type = 'aeo' AND m.purpose = 'statistics');
  INSERT OR REPLACE INTO risk_state (key, value) SELECT 'aeo-rebuild', 1 WHERE EXISTS (SELECT 1 FROM messages
    WHERE type = 'aeo' AND direction = 'in' AND purpose = 'statistics'
      AND seq <= COALESCE((SELECT value FROM risk_state WHERE key = 'cursor'), 0));
  INSERT OR REPLACE INTO risk_state (key, value) SELECT 'aggregate-only-cleanup', 0 WHERE EXISTS (SELECT 1 FROM messages
    WHERE type IN ('aci', 'ecoo') AND direction = 'in' AND purpose = 'statistics'
      AND seq <= COALESCE((SELECT value FROM risk_state WHERE key = 'cursor'), 0));
`,
  // 21: the filter columns office_of_entry and bcp of risk_consignments hold the names folded (node/store/fold.ts:
  // NFKC and Unicode case, gnc_fold), as the engine now writes them and the arrivals filters compare them: NOCASE
  // folds ASCII only, so a name in Cyrillic did not match in another case. The list views keep the names as sent;
  // only rows whose names change are rewritten (office codes as offices write them do not)
  `
  UPDATE risk_consignments SET office_of_entry = gnc_fold(office_of_entry)
    WHERE office_of_entry <> gnc_fold(office_of_entry) COLLATE BINARY;
  UPDATE risk_consignments SET bcp = gnc_fold(bcp) WHERE bcp <> gnc_fold(bcp) COLLATE BINARY;
`,
  // 22: partner certificates that SPEC 9.10 refuses (a node key and a libp2p peer id each belong to one
  // administration) but versions before that check stored. They are trusted no more: moved out of `certificates`, and kept as
  // evidence in `certificate_conflicts`. As the check refuses them in the order they arrive: a row keyed by one
  // country's node key that holds another country's certificate (the later one overwrote the row, keeping its
  // country; the one it replaced is not in the store any more, so that partner is pinned again with `gnc partner
  // add`), and of the certificates of several countries naming one peer id, those of every country but the one
  // whose certificate naming it was stored first (`jws_payload` is a function of node/store/db.ts). Applied again
  // (a schema version set back), it finds nothing more to move
  `
  CREATE TABLE IF NOT EXISTS certificate_conflicts (
    kid          TEXT NOT NULL,
    country      TEXT NOT NULL,
    peer_id      TEXT NOT NULL,
    compact      TEXT NOT NULL,
    not_before   INTEGER NOT NULL,
    not_after    INTEGER NOT NULL,
    revoked_at   INTEGER,
    revocation   TEXT,
    added_at     TEXT NOT NULL,
    conflict     TEXT NOT NULL CHECK (conflict IN ('node-key', 'peer-id')),  -- what another country's certificate names
    set_aside_at INTEGER NOT NULL          -- epoch ms
  );
  INSERT INTO certificate_conflicts
    SELECT kid, country, peer_id, compact, not_before, not_after, revoked_at, revocation, added_at, 'node-key',
      CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM certificates WHERE json_extract(jws_payload(compact), '$.country') <> country;
  DELETE FROM certificates WHERE kid IN (SELECT kid FROM certificate_conflicts);
  INSERT INTO certificate_conflicts
    SELECT kid, country, peer_id, compact, not_before, not_after, revoked_at, revocation, added_at, 'peer-id',
      CAST(strftime('%s', 'now') AS INTEGER) * 1000
    FROM certificates c
    WHERE country <> (SELECT f.country FROM certificates f WHERE f.peer_id = c.peer_id ORDER BY f.added_at, f.rowid LIMIT 1);
  DELETE FROM certificates WHERE kid IN (SELECT kid FROM certificate_conflicts);
`,
  // 23: ending a partnership and withdrawing a queued message. A partner removed (`gnc partner remove`) keeps its
  // partners row, root and certificates as evidence; partner_removals says since when (an RFC 3339 time) and why, and
  // loses its row when the partner is pinned again. A message withdrawn before the partner got it keeps its row, with
  // status 'withdrawn'; withdrawals says when (epoch ms) and why. Tables, not columns: applied again (a schema version
  // set back), it changes nothing
  `
  CREATE TABLE IF NOT EXISTS partner_removals (
    country     TEXT PRIMARY KEY,
    removed_at  TEXT NOT NULL,
    reason      TEXT
  );
  CREATE TABLE IF NOT EXISTS withdrawals (
    seq     INTEGER PRIMARY KEY,   -- messages.seq
    at      INTEGER NOT NULL,      -- epoch ms
    reason  TEXT NOT NULL
  );
`,
  // 24: the partner AEO registry found by legal name (GET /v1/aeo?name=): one row per operator and word of its legal
  // name, the folded words from that one on (node/store/name-keys.ts), which node/risk/aeo-registry.ts writes with the
  // record. By key for a query across partners, by partner and key for one partner's, by operator when its name
  // changes or its record goes. Filled for the records held (gnc_name_keys is a function of node/store/db.ts); applied
  // again (a schema version set back), it adds nothing
  `
  CREATE TABLE IF NOT EXISTS risk_aeo_names (
    partner      TEXT NOT NULL,
    aeo_id       TEXT NOT NULL,
    key          TEXT NOT NULL,            -- the name's folded words from one word on, at most 64 characters
    PRIMARY KEY (partner, aeo_id, key)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS risk_aeo_names_key ON risk_aeo_names(key);
  CREATE INDEX IF NOT EXISTS risk_aeo_names_partner ON risk_aeo_names(partner, key);
  INSERT OR IGNORE INTO risk_aeo_names (partner, aeo_id, key)
    SELECT a.partner, a.aeo_id, k.key FROM risk_aeo a, gnc_name_keys(a.legal_name) k;
`,
  // 25: a partner's root replaced after it was lost (`gnc partner add --replace-root`, SPEC 9.4): the root pinned
  // before, with the identity file it was pinned from, kept as evidence. It, the successions it started and the
  // certificates its chain issued stay in their tables and are trusted for nothing new; `partners` holds the new root.
  // A table: applied again (a schema version set back), it changes nothing
  `
  CREATE TABLE IF NOT EXISTS partner_replaced_roots (
    country      TEXT NOT NULL,
    fingerprint  TEXT NOT NULL,            -- RFC 7638 thumbprint of the replaced root
    root_jwk     TEXT NOT NULL,
    identity     TEXT NOT NULL,            -- the identity file it was pinned from
    replaced_at  TEXT NOT NULL,            -- RFC 3339
    replaced_by  TEXT NOT NULL,            -- fingerprint of the root pinned in its place
    PRIMARY KEY (country, fingerprint)
  );
`,
  // 26: key envelopes (announcements, revocations, root successions) go ahead of everything else queued for their
  // partner, in the order they were queued (node/store/outbox.ts KEY_LANE): a revocation after a compromise no longer
  // waits behind a backlog. Their positions become the seq as first queued less 2^52; applied again (a schema version
  // set back), it moves nothing more (positions in that lane are negative)
  `
  UPDATE outbox SET position = position - 4503599627370496
    WHERE control = 1 AND position >= 0 AND seq IN (SELECT seq FROM messages WHERE type = 'key');
`,
  // 27: the arrivals list view carries the terms of the messages it comes from (protocol/agreement/terms.ts); the risk
  // loop adds them once to the views stored before (node/risk/engine.ts backfillTerms), rewriting the view alone: no
  // assessment changes, no feed event. Applied again (a schema version set back), it adds them again, to the same effect
  `
  INSERT OR REPLACE INTO risk_state (key, value) SELECT 'terms-backfill', 0 WHERE EXISTS (SELECT 1 FROM risk_consignments);
`,
  // 28: the AEO name search keeps the breve of Cyrillic "й" and "ў" (node/store/name-keys.ts KEPT_MARK), which the keys
  // of migration 24 left out ("й" was "и"). The keys of the names holding either letter, in any case, composed or
  // with a combining breve (the only names whose keys change), are made again; the other names keep theirs. Applied
  // again (a schema version set back), it makes the same keys
  `
  DELETE FROM risk_aeo_names WHERE (partner, aeo_id) IN
    (SELECT partner, aeo_id FROM risk_aeo WHERE legal_name GLOB '*[йЙўЎ\u0306]*');
  INSERT OR IGNORE INTO risk_aeo_names (partner, aeo_id, key)
    SELECT a.partner, a.aeo_id, k.key FROM risk_aeo a, gnc_name_keys(a.legal_name) k WHERE a.legal_name GLOB '*[йЙўЎ\u0306]*';
`,
  // 29: the trader, AEO, transport means and container search keys of consignments hold the ids folded (gnc_fold:
  // NFKC and Unicode case, node/risk/declaration.ts keysOf), as the arrivals filters now compare them; they were
  // upper-cased only, so a full-width id was found by nothing else. Only ids with a character beyond printable ASCII
  // can change (an upper-cased ASCII id is its own fold), so only those are folded; a key whose folded twin exists for
  // the same consignment is redundant
  `
  UPDATE OR IGNORE risk_keys SET v = gnc_fold(v)
    WHERE k IN ('t', 'a', 'm', 'c') AND v GLOB '*[^ -~]*' AND v <> gnc_fold(v) COLLATE BINARY;
  DELETE FROM risk_keys WHERE k IN ('t', 'a', 'm', 'c') AND v GLOB '*[^ -~]*' AND v <> gnc_fold(v) COLLATE BINARY;
`,
  // 30: the assessments made before ecoo-partly-confirmed and ecoo-issued-retrospectively (node/risk/indicators/ecoo.ts)
  // confirm in full a certificate whose quantities were compared in part, and do not note one issued after the
  // departure it states. The consignments that name a certificate (search key 'e') and are expected within the
  // recompute horizon (30 days, as for migration 13) are queued, and the risk loop recomputes them, adding a feed event
  // only where the assessment changes. Applied again (a schema version set back), it queues them again, to the same effect.
  // EXISTS by consignment (risk_keys_cid): as `cid IN (...)` SQLite would read the certificate keys of every
  // consignment held, over the whole retention period, instead of the horizon's range of risk_cons_arrival
  `
  -- recompute: e-CoO indicators ecoo-partly-confirmed, ecoo-issued-retrospectively
  INSERT OR IGNORE INTO risk_pending (cid)
    SELECT c.cid FROM risk_consignments c WHERE c.expected_arrival >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 30 * 86400000
      AND EXISTS (SELECT 1 FROM risk_keys k WHERE k.cid = c.cid AND k.k = 'e');
`,
  // 31: what the retention purge keeps of a purged version (declaration, amendment, cancellation) of a consignment
  // (node/risk/purge.ts): no content, only what places a later reference to it (an amendment or cancellation whose ref
  // names it goes into the consignment it belonged to, GET /v1/arrivals/{id} answers 410 naming that consignment) and
  // what says a version newer than the one in force was purged (the view's purgedVersions). Versions purged before
  // this migration left nothing to record. A table: applied again (a schema version set back), it changes nothing
  `
  CREATE TABLE IF NOT EXISTS risk_purged_versions (
    message_id   TEXT NOT NULL,
    partner      TEXT NOT NULL,
    root_id      TEXT NOT NULL,            -- the consignment's id (its original's message id)
    kind         TEXT NOT NULL,            -- declaration, amendment or cancellation
    created      TEXT NOT NULL,            -- its envelope "created", as risk_versions held it
    purged_at    INTEGER NOT NULL,         -- its retention end (epoch ms), since when its content counts as purged
    PRIMARY KEY (message_id, partner)
  ) WITHOUT ROWID;
  CREATE INDEX IF NOT EXISTS risk_purged_versions_root ON risk_purged_versions(root_id, partner, created);
`,
  // 32: the assessments made before a negated endorsement ("not issued retrospectively", "не выдан впоследствии") stopped
  // counting as the endorsement (node/risk/indicators/ecoo.ts endorsedRetrospectively) may lack
  // ecoo-issued-retrospectively for a certificate whose remarks deny it. As migration 30, the consignments that name a
  // certificate and are expected within the recompute horizon are queued; only those whose assessment changes get a feed
  // event. Applied again (a schema version set back), it queues them again, to the same effect
  `
  -- recompute: e-CoO indicator ecoo-issued-retrospectively, negated endorsements
  INSERT OR IGNORE INTO risk_pending (cid)
    SELECT c.cid FROM risk_consignments c WHERE c.expected_arrival >= CAST(strftime('%s', 'now') AS INTEGER) * 1000 - 30 * 86400000
      AND EXISTS (SELECT 1 FROM risk_keys k WHERE k.cid = c.cid AND k.k = 'e');
`,
  // 33: the retention purge reads the operators of a purged AEO message's history entries (node/risk/purge.ts
  // entryOperators) and deletes the entries by message id; by partner alone SQLite read the partner's whole history
  // for every purged AEO message. By message id alone: the table is WITHOUT ROWID, so each index entry carries the
  // primary key (partner first), and SQLite plans the DELETE by partner and message id with it (given
  // (partner, message_id) it kept to the primary key). An index only: applied again, it changes nothing
  `
  CREATE INDEX IF NOT EXISTS risk_aeo_history_message ON risk_aeo_history(message_id);
`,
  // 34: the claimed ids that are no message id in rejection records: refused content of any size (a trader's name, a
  // 5,000-character string) that versions before this one kept as the record's id, which outlives its reason (the
  // retention job drops only the reason and receipt after 30 days); the receiver keeps none now (node/inbound/receiver.ts).
  // protocol/ids.ts MESSAGE_ID_PATTERN as GLOBs: a letter or digit, then up to 63 of letters, digits and . _ : -. With
  // secure_delete for this statement, as the retention purge has it: the cleared text is overwritten in the file (OFF
  // again after it, the connection's default). Applied again, it finds none
  `
  PRAGMA secure_delete = ON;
  UPDATE rejections SET message_id = NULL WHERE message_id IS NOT NULL
    AND (length(message_id) > 64 OR message_id NOT GLOB '[A-Za-z0-9]*' OR message_id GLOB '*[^A-Za-z0-9._:-]*');
  PRAGMA secure_delete = OFF;
`,
  // 35: what removed a partner ('cli': gnc partner remove, 'api': POST /v1/partners/{country}/remove), which the
  // reason of a message withdrawn for the removal names (node/partners.ts removedBy), also when the dispatcher
  // withdraws it after a restart; with the removal's time, so that it tells only of the removal partner_removals holds
  // now. None for a removal made before it. A table, not a column: applied again, it changes nothing
  `
  CREATE TABLE IF NOT EXISTS partner_removers (
    country     TEXT PRIMARY KEY,
    removed_at  TEXT NOT NULL,   -- partner_removals.removed_at of the removal it tells of
    removed_by  TEXT NOT NULL    -- 'cli' | 'api'
  );
`,
  // 36: a queued consignment whose assessment failed keeps its failures in a row with its queue entry (`failures`, 0 for
  // one never tried or never failed), written by the risk engine where it counts the failure (node/risk/engine.ts
  // assessIsolated) and gone with the entry once it is assessed, so GET /v1/health counts it (risk.unassessable) at once
  // after a restart, not only once it has failed again. Counted through the partial index, whatever the queue holds.
  // The queue is copied into a table with the column (not ADD COLUMN, which fails when applied again): applied again (a
  // schema version set back), the queue stays and its failures start from 0, as they did at each start before
  `
  CREATE TABLE risk_pending_36 (cid INTEGER PRIMARY KEY, failures INTEGER NOT NULL DEFAULT 0);
  INSERT INTO risk_pending_36 (cid) SELECT cid FROM risk_pending;
  DROP TABLE risk_pending;
  ALTER TABLE risk_pending_36 RENAME TO risk_pending;
  CREATE INDEX risk_pending_failed ON risk_pending(cid) WHERE failures > 0;
`,
  // 37: the envelope a control envelope was sealed again from (messages.resealed_as names its successor), found when the
  // partner refuses the successor as too old on arrival (node/outbound/dispatcher.ts: sealed again once, not twice).
  // Partial: only envelopes sealed again have it, where the control envelopes the type index would read grow with
  // every agreement notice and key message. An index only: applied again, it changes nothing
  `
  CREATE INDEX IF NOT EXISTS messages_resealed_as ON messages(resealed_as) WHERE resealed_as IS NOT NULL;
`,
  // 38: the retention job prunes the records of purged versions (migration 31) once their consignment is no longer held
  // and the last of its versions' retention ended PURGED_VERSION_RECORD_MS ago (node/retention.ts): it finds them by
  // that retention end, not by reading every record ever kept. An index only: applied again, it changes nothing
  `
  CREATE INDEX IF NOT EXISTS risk_purged_versions_purged ON risk_purged_versions(purged_at);
`,
  // 39: since when a partner has been unreachable (node/outbound/dispatcher.ts), which GET /v1/health reports after an
  // hour (GNC_PARTNER_UNREACHABLE): kept so that a restart does not count it again from the first failure after the
  // start. Written when it changes only (the first failed attempt after a delivery, the first delivery after), in the
  // commit of that attempt's outcome; gone with the partner's removal. A table, not a column: applied again, it
  // changes nothing
  `
  CREATE TABLE IF NOT EXISTS partner_unreachable (
    country  TEXT PRIMARY KEY,
    since    INTEGER NOT NULL    -- the node's clock (epoch ms) at the first failed attempt in a row
  );
`,
  // 40: the evidence log is read by seq (chain ranges, the head) and by message id (exports, steps done before), never by
  // peer and time: evidence_peer_at (migration 4) was written on each of the four appends a message exchange makes
  // (sent, receipt-received; received, receipt-sent) and read by nothing (test/node/store/query-plans.test.ts checks
  // every statement still finds its rows through an index). Applied again, it changes nothing
  `
  DROP INDEX IF EXISTS evidence_peer_at;
`,
  // 41: the AEO name search reads the Kazakh, Kyrgyz, Uzbek, Tajik and Mongolian letters the Russian alphabet has not
  // as the Russian letter typed for each, Uzbek "ў" as "у", Latin twins inside a Cyrillic word as Cyrillic letters, and
  // an apostrophe inside a word (Uzbek Latin o‘, g‘) as joining it, with keys for the word cut there too
  // (node/store/name-keys.ts). Only names with a character beyond printable ASCII, an apostrophe or a backtick can get
  // other keys (an ASCII name without either keeps its words), so only theirs are made again. Applied again (a schema
  // version set back), it makes the same keys
  `
  DELETE FROM risk_aeo_names WHERE (partner, aeo_id) IN
    (SELECT partner, aeo_id FROM risk_aeo WHERE legal_name GLOB '*[^ -~]*' OR legal_name GLOB '*[''\`]*');
  INSERT OR IGNORE INTO risk_aeo_names (partner, aeo_id, key)
    SELECT a.partner, a.aeo_id, k.key FROM risk_aeo a, gnc_name_keys(a.legal_name) k
    WHERE a.legal_name GLOB '*[^ -~]*' OR a.legal_name GLOB '*[''\`]*';
`,
  // 42: a message's content (the signed bytes and the body, ~20 KB together with a typical declaration) lives in its own
  // row, keyed by the message's seq, apart from the status its delivery rewrites: SQLite writes a whole record again,
  // overflow pages included, on every UPDATE, and the sender updates each message at least twice (sending, delivered),
  // 46 µs per update with the content in the row against 1.2 µs without (better-sqlite3, WAL, 64 rows a transaction).
  // A content row is held content: the retention purge deletes it (purged content was jws and body NULL before).
  // `purge_at` is the received message's retain_until (NULL for a sent one, never purged), for the retention sweep
  // (node/retention.ts): the partial index on it holds the rows still to purge only, as messages_retain held the rows
  // with content; the trigger keeps it retain_until's. Existing content is copied, then cleared from `messages`, whose
  // columns jws and body stay NULL from now on (not dropped: applied again, a schema version set back, it finds no
  // content left there and changes nothing), with secure_delete ON so the old copies are not left in free pages of the
  // file, where a later purge of the content row would not reach them
  `
  PRAGMA secure_delete = ON;
  CREATE TABLE IF NOT EXISTS message_content (
    seq       INTEGER PRIMARY KEY REFERENCES messages(seq),
    jws       BLOB NOT NULL,             -- exact signed bytes
    body      TEXT NOT NULL,             -- the body as JSON, for queries
    purge_at  INTEGER                    -- messages.retain_until of a received message (epoch ms), else NULL
  );
  INSERT OR IGNORE INTO message_content (seq, jws, body, purge_at)
    SELECT seq, jws, body, CASE WHEN direction = 'in' THEN retain_until END FROM messages WHERE jws IS NOT NULL AND body IS NOT NULL;
  DROP INDEX IF EXISTS messages_retain;
  UPDATE messages SET jws = NULL, body = NULL WHERE jws IS NOT NULL OR body IS NOT NULL;
  CREATE INDEX IF NOT EXISTS message_content_purge ON message_content(purge_at) WHERE purge_at IS NOT NULL;
  CREATE TRIGGER IF NOT EXISTS message_content_purge_at AFTER UPDATE OF retain_until ON messages BEGIN
    UPDATE message_content SET purge_at = CASE WHEN NEW.direction = 'in' THEN NEW.retain_until END WHERE seq = NEW.seq;
  END;
  PRAGMA secure_delete = OFF;
`,
  // 43: names of the whole CAREC region. (a) The AEO name search reads Azerbaijani Latin "ə" as "a" with keys as "e"
  // too, Azerbaijani Cyrillic "ҹ" and "ј" as "ч" and "й" (node/store/name-keys.ts): the names with one of them are
  // keyed again, as migration 41 did. (b) The arrivals filters compare an office of entry code without spaces
  // (gnc_fold_code) and a border crossing point name as names are read (gnc_fold_place: accents, the letters of the
  // region a Russian keyboard has not, Latin twins in a Cyrillic word, spacing and punctuation), where they compared
  // letter case only: the filter columns are folded again, in place, so their indexes answer the filters as before.
  // (c) The list view shows the UN numbers of the consignment's dangerous goods (goods.unNumbers): the views and the
  // events held get them from the body of the version they show (none when that content is gone). Applied again (a
  // schema version set back), it makes the same keys, folds nothing more and fills no view twice
  `
  DELETE FROM risk_aeo_names WHERE (partner, aeo_id) IN (SELECT partner, aeo_id FROM risk_aeo WHERE legal_name GLOB '*[əǝƏƎҹҸјЈ]*');
  INSERT OR IGNORE INTO risk_aeo_names (partner, aeo_id, key)
    SELECT a.partner, a.aeo_id, k.key FROM risk_aeo a, gnc_name_keys(a.legal_name) k WHERE a.legal_name GLOB '*[əǝƏƎҹҸјЈ]*';
  UPDATE risk_consignments SET office_of_entry = gnc_fold_code(office_of_entry)
    WHERE office_of_entry <> gnc_fold_code(office_of_entry) COLLATE BINARY;
  UPDATE risk_consignments SET bcp = gnc_fold_place(bcp) WHERE bcp <> gnc_fold_place(bcp) COLLATE BINARY;
  UPDATE risk_consignments SET view = json_set(view, '$.goods.unNumbers', json(${unNumbersOfBody('(SELECT body FROM message_content WHERE seq = risk_consignments.current_seq)')}))
    WHERE json_type(view, '$.goods.unNumbers') IS NULL;
  UPDATE risk_events SET payload = json_set(payload, '$.arrival.goods.unNumbers', json(${unNumbersOfBody(`(SELECT b.body FROM risk_versions v JOIN message_content b ON b.seq = v.seq
      WHERE v.cid = risk_events.cid AND v.message_id = risk_events.payload ->> '$.arrival.currentMessageId')`)}))
    WHERE json_type(payload, '$.arrival.goods') = 'object' AND json_type(payload, '$.arrival.goods.unNumbers') IS NULL;
`,  // 44: a border crossing point named with the Azerbaijani schwa ("Biləsuvar") is found by its reading with "e" too
  // ("Bilesuvar", as a plain Latin keyboard types it), not only by that with "a" (bcp, gnc_fold_place: migration 43):
  // bcp_e holds that second reading (gnc_fold_place_typed, node/store/name-keys.ts foldPlaceTyped), NULL for a name
  // without a schwa, which keeps its one reading, so "Bilasuvar" does not become "Bilesuvar". Made from the name as
  // sent, which the list view keeps (bcp holds it folded, the schwa read "a" like any "a"); a view without it (its
  // content never summarized) leaves NULL. The partial index holds the names with a schwa only, in arrival order like
  // risk_cons_bcp, so the filter reads either reading's rows in the order of a page (node/risk/query.ts). The table is
  // copied into one with the column (not ADD COLUMN, which fails when applied again), its indexes made again, with
  // secure_delete ON so the old copies of the views are not left in free pages, where the retention purge of a
  // consignment would not reach them: applied again (a schema version set back), it makes the same table
  `
  PRAGMA secure_delete = ON;
  CREATE TABLE risk_consignments_44 (
    office_of_entry  TEXT NOT NULL COLLATE NOCASE,
    expected_arrival INTEGER NOT NULL,       -- epoch ms
    cid              INTEGER NOT NULL,       -- messages.seq of the message that opened the consignment (stable id)
    partner          TEXT NOT NULL,          -- sending administration
    root_id          TEXT NOT NULL,          -- message id of the original declaration (the API id)
    bcp              TEXT COLLATE NOCASE,    -- border crossing point name, folded (gnc_fold_place: a schwa read "a")
    bcp_e            TEXT COLLATE NOCASE,    -- the name with a schwa read "e" (gnc_fold_place_typed), else NULL
    status           TEXT NOT NULL CHECK (status IN ('active','cancelled')),
    level            TEXT,
    score            REAL,
    current_seq      INTEGER NOT NULL,       -- messages.seq of the version in force
    current_created  TEXT NOT NULL,          -- its envelope "created" (the latest created version is in force)
    versions         INTEGER NOT NULL,
    cancel_seq       INTEGER,
    revision         INTEGER NOT NULL DEFAULT 0,
    assessed_at      INTEGER,
    updated_at       INTEGER NOT NULL,
    view             TEXT NOT NULL,          -- the list view (JSON), rewritten with each assessment: a page is served without parsing
    PRIMARY KEY (office_of_entry, expected_arrival, cid)
  ) WITHOUT ROWID;
  INSERT INTO risk_consignments_44 (office_of_entry, expected_arrival, cid, partner, root_id, bcp, bcp_e, status, level, score,
      current_seq, current_created, versions, cancel_seq, revision, assessed_at, updated_at, view)
    SELECT office_of_entry, expected_arrival, cid, partner, root_id, bcp,
      CASE WHEN bcp IS NOT NULL THEN gnc_fold_place_typed(view ->> '$.officeOfEntry.borderCrossingPoint') END, status, level, score,
      current_seq, current_created, versions, cancel_seq, revision, assessed_at, updated_at, view
    FROM risk_consignments;
  DROP TABLE risk_consignments;
  ALTER TABLE risk_consignments_44 RENAME TO risk_consignments;
  CREATE UNIQUE INDEX risk_cons_cid ON risk_consignments(cid);
  CREATE UNIQUE INDEX risk_cons_root ON risk_consignments(root_id, partner);
  CREATE INDEX risk_cons_bcp ON risk_consignments(bcp, expected_arrival);
  CREATE INDEX risk_cons_bcp_e ON risk_consignments(bcp_e, expected_arrival) WHERE bcp_e IS NOT NULL;
  CREATE INDEX risk_cons_partner ON risk_consignments(partner, expected_arrival);
  CREATE INDEX risk_cons_level ON risk_consignments(level, expected_arrival);
  CREATE INDEX risk_cons_arrival ON risk_consignments(expected_arrival);
  PRAGMA secure_delete = OFF;
`,
];

/**
 * SQL for the distinct UN numbers of a declaration body (JSON text, `body`: goodsItems[].unNumber and .unNumbers), as
 * a JSON array in the order declared, '[]' for a body of none or no body (node/risk/declaration.ts summarize in SQL).
 */
function unNumbersOfBody(body: string): string {
  return `(SELECT json_group_array(un ORDER BY pos) FROM (SELECT un, MIN(pos) AS pos FROM (
      SELECT g.key * 1000 AS pos, g.value ->> '$.unNumber' AS un FROM json_each(${body}, '$.goodsItems') g
      UNION ALL SELECT g.key * 1000 + u.key + 1, u.value FROM json_each(${body}, '$.goodsItems') g, json_each(g.value, '$.unNumbers') u
    ) WHERE un IS NOT NULL GROUP BY un))`;
}
