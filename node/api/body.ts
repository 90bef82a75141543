/**
 * Reading request bodies safely: a hard byte limit before parsing (GNC_BODY_TOO_LARGE), JSON or XML by
 * Content-Type (GNC_UNSUPPORTED_MEDIA_TYPE otherwise), and malformed JSON reported as GNC_INVALID_JSON.
 */
import type { Context } from 'hono';
import { MAX_BODY_BYTES } from '../../protocol/constants.js';
import { GncError } from '../../protocol/errors.js';

export type RequestBody = { kind: 'json'; value: unknown } | { kind: 'xml'; text: string };

export async function readBody(c: Context, limit = MAX_BODY_BYTES): Promise<RequestBody> {
  const type = (c.req.header('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
  const isJson = type === 'application/json' || type.endsWith('+json');
  const isXml = type === 'application/xml' || type === 'text/xml' || type.endsWith('+xml');
  if (!isJson && !isXml) {
    throw new GncError('GNC_UNSUPPORTED_MEDIA_TYPE', `Content-Type "${type || '(none)'}" is not accepted: send application/json or application/xml.`);
  }
  const declared = Number(c.req.header('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    throw new GncError('GNC_BODY_TOO_LARGE', `Body of ${declared} bytes exceeds the ${limit}-byte limit: split the consignment into several messages.`);
  }
  const reader = c.req.raw.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel();
        throw new GncError('GNC_BODY_TOO_LARGE', `Body exceeds the ${limit}-byte limit: split the consignment into several messages.`);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (isXml) return { kind: 'xml', text };
  try {
    return { kind: 'json', value: JSON.parse(text) as unknown };
  } catch (err) {
    throw new GncError('GNC_INVALID_JSON', `Body is not valid JSON (${(err as Error).message}): check quoting and commas.`);
  }
}
