/**
 * Reading request bodies safely: a hard byte limit before parsing (GNC_BODY_TOO_LARGE), JSON or XML by
 * Content-Type (GNC_UNSUPPORTED_MEDIA_TYPE otherwise, and for any Content-Encoding but identity or Transfer-Encoding
 * but chunked), and malformed JSON, or JSON that is not UTF-8, reported as GNC_INVALID_JSON.
 */
import type { IncomingMessage } from 'node:http';
import type { Context } from 'hono';
import { MAX_BODY_BYTES } from '../../protocol/constants.js';
import { GncError } from '../../protocol/errors.js';
import { refuseProtoMembers } from '../../protocol/validate.js';

/**
 * What to do about a body over the limit (API and `gnc send`): every byte counts, the indentation of a JSON file too;
 * a document that is too large even so goes as several messages, an AEO register as a snapshot in parts.
 */
export const BODY_TOO_LARGE_ADVICE = 'send JSON without indentation (every byte counts), or split it into several messages (an AEO register as a snapshot in parts, SPEC section 7.5)';

/**
 * Why a JSON document that starts with a byte order mark is refused (API and `gnc send`): Windows editors and .NET's
 * UTF-8 encoder write one, and JSON.parse names it as an invisible "Unexpected token", which reads like a typo.
 */
export const BOM_REFUSAL = 'it starts with a byte order mark (U+FEFF), which JSON does not allow (RFC 8259 section 8.1): send it as UTF-8 without a BOM';

export type RequestBody = { kind: 'json'; value: unknown } | { kind: 'xml'; bytes: Uint8Array };

/** Fails on bytes that are not UTF-8; keeps a byte order mark, which JSON.parse then refuses as before. */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** The request's media type (lower case, without parameters; '' when none) and whether it is JSON or XML. */
export function contentTypeOf(c: Context): { type: string; isJson: boolean; isXml: boolean } {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  return { type, isJson: type === 'application/json' || type.endsWith('+json'), isXml: type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml') };
}

/** The codings a Content-Encoding or Transfer-Encoding header lists (lower case), but those in `plain`. */
function codings(header: string | undefined, plain: readonly string[]): string[] {
  return (header ?? '').split(',').map((s) => s.trim().toLowerCase()).filter((s) => s !== '' && !plain.includes(s));
}

/**
 * The JSON body of a route that takes JSON alone (withdrawal, partner removal, agreements): any other Content-Type is
 * refused with `refusal`, the route's own sentence, before the body is read; readBody's would tell to send XML too,
 * which the route then refuses as well.
 */
export async function readJsonBody(c: Context, refusal: string): Promise<unknown> {
  if (!contentTypeOf(c).isJson) throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', refusal);
  const body = await readBody(c);
  if (body.kind !== 'json') throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', refusal);
  return body.value;
}

export async function readBody(c: Context, limit = MAX_BODY_BYTES): Promise<RequestBody> {
  const { type, isJson, isXml } = contentTypeOf(c);
  if (!isJson && !isXml) {
    throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type || '(none)'}" is not accepted: send application/json or application/xml.`);
  }
  // a compressed body would be read as its compressed bytes ("not UTF-8"): refused as RFC 9110 section 8.4 allows
  const coding = codings(c.req.header('content-encoding'), ['identity']);
  if (coding.length > 0) {
    throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', `Content-Encoding "${coding.join(', ')}" is not accepted: send the body uncompressed (no Content-Encoding, or identity).`);
  }
  // a transfer coding but chunked (gzip, deflate, compress): Node's parser decodes none, so the route would read the
  // coded bytes as the body, or take a body that is not coded as it says (RFC 9112 section 6.1)
  const transfer = codings(c.req.header('transfer-encoding'), ['chunked', 'identity']);
  if (transfer.length > 0) {
    throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', `Transfer-Encoding "${transfer.join(', ')}" is not accepted: send the body uncoded (chunked alone, or with Content-Length).`);
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new GncError('GNC_BODY_TOO_LARGE', `Body of ${declared} bytes exceeds the ${limit}-byte limit: ${BODY_TOO_LARGE_ADVICE}.`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  // Under @hono/node-server the Node request stream is read directly: the web-stream adapter around it costs
  // more CPU than the rest of a submission (measured by the e2e bench). Other runtimes use the web stream.
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  const direct = incoming !== undefined && !incoming.readableEnded && incoming.readableFlowing === null;
  if (direct) {
    // not `for await`: leaving that loop early destroys the socket, and the 413 answer with it
    await new Promise<void>((resolve, reject) => {
      const onData = (chunk: Buffer): void => {
        size += chunk.byteLength;
        if (size > limit) {
          done();
          incoming.pause();
          reject(new GncError('GNC_BODY_TOO_LARGE', `Body exceeds the ${limit}-byte limit: ${BODY_TOO_LARGE_ADVICE}.`));
        } else chunks.push(chunk);
      };
      const onEnd = (): void => {
        done();
        resolve();
      };
      const onError = (err: Error): void => {
        done();
        reject(err);
      };
      function done(): void {
        incoming!.off('data', onData).off('end', onEnd).off('error', onError);
      }
      incoming.on('data', onData).on('end', onEnd).on('error', onError);
    });
  }
  const reader = direct ? undefined : c.req.raw.body?.getReader();
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new GncError('GNC_BODY_TOO_LARGE', `Body exceeds the ${limit}-byte limit: ${BODY_TOO_LARGE_ADVICE}.`);
      }
      chunks.push(value);
    }
  }
  const bytes = Buffer.concat(chunks);
  // XML goes to the guard as bytes: protocol/xml/guard.ts is the one place that decodes it (UTF-8 only, SPEC 7.6)
  if (isXml) return { kind: 'xml', bytes };
  let text: string;
  try {
    // strict: a lenient decode turns Latin-1 "Société" into "Soci\ufffdt\ufffd" and stores that (RFC 8259 section 8.1)
    text = UTF8.decode(bytes);
  } catch {
    throw new GncError('GNC_INVALID_JSON', 'Body is not valid JSON: it is not UTF-8 (RFC 8259 section 8.1). Send the document in UTF-8.');
  }
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch (err) {
    if (text.charCodeAt(0) === 0xfeff) throw new GncError('GNC_INVALID_JSON', `Body is not valid JSON: ${BOM_REFUSAL}.`);
    throw new GncError('GNC_INVALID_JSON', `Body is not valid JSON (${(err as Error).message}): check quoting and commas.`);
  }
  refuseProtoMembers(text, value);
  return { kind: 'json', value };
}
