/**
 * Constants of the bilateral agreement format (protocol/SPEC.md section 8). They live beside the agreement
 * code until they are merged into protocol/constants.ts; every limit says where its value comes from,
 * because both administrations' nodes must refuse and accept exactly the same documents.
 */

/** Version of the agreement document layout (`v`). */
export const AGREEMENT_VERSION = 1 as const;

/**
 * JWS `typ` of suspend / terminate / resume notices: distinct from agreements (`gnc-agreement+jws`), node
 * certificates and key notices, so a notice can never be replayed as any other root-signed document.
 */
export const AGREEMENT_NOTICE_TYP = 'gnc-agreement-notice+jws';

/**
 * The purposes an agreement may allow, and an envelope may declare. A closed vocabulary, so both legal
 * departments read the same words and a node can refuse a purpose it does not know:
 *   pre-arrival-risk-assessment  WCO SAFE Framework advance cargo information, risk management before arrival
 *   aeo-mra-benefits             granting the benefits a mutual recognition arrangement promises partner AEOs
 *   origin-verification          checking a certificate of origin (preferential or not) against the issuer's record
 *   transit-control              monitoring goods under transit between the two administrations
 *   statistics                   aggregate trade statistics, never decisions about an individual trader
 */
export const AGREEMENT_PURPOSES = [
  'pre-arrival-risk-assessment',
  'aeo-mra-benefits',
  'origin-verification',
  'transit-control',
  'statistics',
] as const;

/**
 * Purposes whose data may feed no decision about an individual trader or consignment (see their meaning above):
 * a receiving node stores and lists a message sent for one, and keeps it out of its risk view (arrivals,
 * assessments, the AEO and e-CoO lookups).
 */
export const AGGREGATE_ONLY_PURPOSES: readonly (typeof AGREEMENT_PURPOSES)[number][] = ['statistics'];

/**
 * Body members, per message type, that say how to read a body rather than carry data about a trader or goods: in
 * every scope, like the discriminator `kind` (SPEC 8.2). The `part` of an AEO snapshot sent in parts: removed by
 * minimisation, one part would read as the whole snapshot and drop every operator the other parts list.
 */
export const STRUCTURAL_MEMBERS: Readonly<Record<string, readonly string[]>> = { aeo: ['part'] };

/**
 * Field paths that a path of an agreement covers besides itself: a later member carrying the same data in another
 * form (SPEC 8.2). `goodsItems[].unNumber` is the UN number of a goods item; `unNumbers` holds the UN numbers of an
 * item that has several. An agreement signed before the member existed allows the UN numbers of an item, however many:
 * minimisation must not drop some of them, nor a receiver refuse them.
 */
export const FIELD_SUCCESSORS: Readonly<Record<string, readonly string[]>> = { 'goodsItems[].unNumber': ['goodsItems[].unNumbers'] };

/** The field list meaning "every field of the message type". */
export const ALL_FIELDS = '*';

/**
 * Longest retention an agreement may set, in days: ten years (3653 days with leap days), the longest
 * record-keeping period found in the CAREC members' customs codes; anything above is a typing error.
 */
export const MAX_RETENTION_DAYS = 3653;

/**
 * Largest base64url payload of a signed agreement, in characters. 256 KiB: the KZ-KG example signed by both
 * is 5 KB, and even every leaf field of all three message types listed in both directions stays in the tens
 * of KB; the agreement travels inside a control envelope whose frame limit (MAX_FRAME_BYTES, 2 MiB) it must
 * never approach.
 */
export const MAX_AGREEMENT_PAYLOAD_CHARS = 256 * 1024;

/** Largest compact notice, in characters: a notice is under 1 KB; 8 KiB leaves room for a long reason. */
export const MAX_NOTICE_CHARS = 8 * 1024;

/**
 * Most field paths per message type in one direction. The ACI schema has fewer than 150 leaf fields; 512
 * leaves room for the schemas to grow while bounding the work of compiling a scope.
 */
export const MAX_FIELD_PATHS = 512;

/** Deepest field path, in members: the message schemas nest at most five levels (goodsItems[].packages.kind). */
export const MAX_FIELD_PATH_DEPTH = 16;

/** Out-of-scope fields named in one error's issues; the message still counts all of them. */
export const MAX_REPORTED_FIELDS = 20;
