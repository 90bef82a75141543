/**
 * Protocol constants shared by every node. Each limit says where its value comes from, because partners
 * rely on the same numbers: a frame one side accepts must not be refused by the other.
 */

/** Version of the signed payload layout (`v` in every envelope payload). */
export const PAYLOAD_VERSION = 1 as const;

/** libp2p protocol id of the exchange stream (ARCHITECTURE.md, contract "Wire"). */
export const EXCHANGE_PROTOCOL = '/gnc/exchange/1.0.0';

/** JWS `typ` of every exchanged envelope (contract "Envelope"). */
export const ENVELOPE_TYP = 'gnc+jws';

/** JWS `typ` of node certificates, distinct so a certificate can never be replayed as a message. */
export const CERTIFICATE_TYP = 'gnc-cert+jws';

/** JWS `typ` of bilateral agreements (general JSON serialization, one signature per administration). */
export const AGREEMENT_TYP = 'gnc-agreement+jws';

/** JWS `typ` of root-signed notices (key revocation, root succession). */
export const NOTICE_TYP = 'gnc-notice+jws';

/** JWS `typ` of evidence-log checkpoints signed by the node key (SPEC.md section 9.3). */
export const CHECKPOINT_TYP = 'gnc-checkpoint+jws';

/** JWS `typ` of the export statement that binds an evidence bundle's selection and envelopes (SPEC.md 9.5.4). */
export const EXPORT_STATEMENT_TYP = 'gnc-export+jws';

/** The only JWS algorithm accepted anywhere (RFC 8037 EdDSA with Ed25519). */
export const JWS_ALG = 'EdDSA' as const;

/**
 * Largest message body accepted from an integrator, in bytes of JSON or XML. 1 MiB: a SAFE advance cargo
 * declaration with 999 goods items (the WCO DM upper bound of GovernmentAgencyGoodsItem) is about 600 KB.
 */
export const MAX_BODY_BYTES = 1024 * 1024;

/**
 * Most operators one AEO snapshot lists, over all of its parts (SPEC 7.5): 10,000, above the largest AEO register of
 * a CAREC administration. A receiver applies a whole snapshot in one transaction once its last part is in; this
 * bounds that work to what one snapshot always cost (parts lift the size limit of one message, not of a snapshot).
 */
export const MAX_AEO_SNAPSHOT_OPERATORS = 10_000;

/**
 * Most parts one AEO snapshot is sent in (SPEC 7.5): 100. A message body (MAX_BODY_BYTES) carries about 3,000
 * operators of the usual size in JSON, so a full register of MAX_AEO_SNAPSHOT_OPERATORS needs 4 parts, and about
 * 16 with the longest names in XML; 100 leaves a sender room to cut by count (100 operators a part) while bounding
 * the parts a receiver keeps track of and checks for one snapshot.
 */
export const MAX_AEO_SNAPSHOT_PARTS = 100;

/**
 * Fewest letters and digits a search of the AEO registry by legal name (`GET /v1/aeo?name=`) has, punctuation and
 * legal-form words left out; a Chinese or Japanese character counts 2, as one carries about a syllable and two make
 * a word. 3: "ALM" narrows 110,000 operators to a few pages, while one or two Latin letters match much of a register.
 */
export const MIN_AEO_NAME_QUERY = 3;

/**
 * Most issues one refused document reports. 20: enough to fix a document in one round, while a hostile one
 * (120,000 unknown elements, each a problem) cannot make the node build, or the client download, an answer
 * many times the size of the document. The message still says how many problems there were in all.
 */
export const MAX_REPORTED_ISSUES = 20;

/**
 * Largest wire frame. The body limit plus base64url growth (4/3) plus header and signature overhead,
 * rounded up: 2 MiB. A frame over this is refused before it is buffered.
 */
export const MAX_FRAME_BYTES = 2 * 1024 * 1024;

/**
 * Longest reason text, in characters, a node sends (receipt `reason`, ERROR frame `message`) or keeps from a
 * partner: 1,000, room for a sentence naming a field path, what was expected and what came.
 */
export const MAX_REASON_CHARS = 1000;

/**
 * Slowest transfer a frame may take, in bytes per second: 16 KiB/s (128 kbit/s), below the slowest leased or
 * mobile data line a customs office is expected to run a node on. A partner slower than this is stuck.
 */
export const MIN_FRAME_RATE_BYTES_PER_S = 16 * 1024;

/**
 * Once the first byte of a frame has arrived, the whole frame must arrive within this time, in ms, or the
 * receiver resets the stream (SPEC section 6): MAX_FRAME_BYTES at MIN_FRAME_RATE_BYTES_PER_S, 128 s. A peer
 * that trickles a frame otherwise holds the stream, and its slot under MAX_INBOUND_STREAMS_PER_PEER, forever.
 */
export const FRAME_READ_TIMEOUT_MS = (MAX_FRAME_BYTES / MIN_FRAME_RATE_BYTES_PER_S) * 1000;

/**
 * An inbound exchange stream on which no request is outstanding (every REQUEST answered, no frame begun) and
 * nothing arrived for this long, in ms, is reset (SPEC section 6). Five minutes: a sender keeps one long-lived
 * stream per partner and dials a new one when it closes, so an idle stream costs it one stream open; the
 * dispatcher's retries come at most 60 s apart (its maximum backoff), so a stream with work queued behind it
 * never sits idle this long, while one abandoned by a stuck or hostile peer frees its slot within minutes.
 */
export const INBOUND_IDLE_TIMEOUT_MS = 5 * 60 * 1000;

/**
 * Inbound exchange streams one peer id may hold open at once, over all of its connections (a second connection
 * gets no more); a further stream is reset (and logged).
 * A sender uses one (SPEC section 6); 8, the limit the node always had (then libp2p's maxInboundStreams, which
 * refuses silently), leaves room for re-dials that overlap streams still closing.
 */
export const MAX_INBOUND_STREAMS_PER_PEER = 8;

/**
 * Connections one peer id may hold open to a node at once; a further one is closed as soon as it opens (and logged).
 * A sender needs one (SPEC section 6); two partners dialing each other at the same moment make two, and a re-dial can
 * overlap one still closing. 4 keeps what one partner can take of libp2p's connection limit (64 for all peers: a
 * connection beyond it is refused, whoever opens it) to 4 for each of up to ten partners, so one partner that opens
 * connections without end no longer shuts the others out.
 */
export const MAX_CONNECTIONS_PER_PEER = 4;

/**
 * Default allowed difference between `created` and the receiver's clock, in ms. Five minutes, the
 * customary Kerberos/JWT skew bound; configurable per node (`clockSkewSeconds`).
 */
export const DEFAULT_CLOCK_SKEW_MS = 5 * 60 * 1000;

/**
 * How long an envelope stays acceptable after `created`, in ms: a message older than this is stale and is
 * refused as a possible replay. Seven days covers a partner outage over a long weekend with retries; the
 * dispatcher expires messages at the same bound, so a sender never sends what the receiver would refuse.
 */
export const DEFAULT_MAX_MESSAGE_AGE_MS = 7 * 24 * 60 * 60 * 1000;

/**
 * The largest maximum message age a node may be configured with (`maxMessageAgeHours` at most 720), in ms: thirty
 * days. No node accepts an envelope created longer ago than this.
 */
export const MAX_MESSAGE_AGE_LIMIT_MS = 30 * 24 * 60 * 60 * 1000;

/**
 * How long a node remembers an API submission's Idempotency-Key: as long as a queued message is tried, so a
 * client's retry within that time finds the message its first attempt made.
 */
export const IDEMPOTENCY_KEY_TTL_MS = DEFAULT_MAX_MESSAGE_AGE_MS;

/** Default validity of a node certificate: one year, the usual operational certificate lifetime. */
export const DEFAULT_CERT_VALIDITY_MS = 365 * 24 * 60 * 60 * 1000;

/**
 * Longest validity `gnc init --validity-days` gives a node certificate: ten years, the upper end of what CA
 * practice allows even for long-lived infrastructure certificates; a node key is meant to be rotated well within it.
 */
export const MAX_CERT_VALIDITY_DAYS = 3650;

/** Longest id accepted for a message (UUIDs are 36; leave room for partner-made ids). */
export const MAX_ID_LENGTH = 64;

/**
 * Requests in flight on one partner stream. Matches the 64 in-flight figure the bench targets; above it the
 * dispatcher waits for receipts, which is the back-pressure towards the outbox.
 */
export const MAX_IN_FLIGHT_PER_PARTNER = 64;

/**
 * Longest an API request may be held open waiting for a message's final status (`?wait=`, `Prefer: wait=`),
 * in seconds: below the 60 s idle timeout common to reverse proxies and HTTP clients.
 */
export const MAX_WAIT_SECONDS = 30;
