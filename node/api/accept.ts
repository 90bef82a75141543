/**
 * Content negotiation of GET /v1/messages/{id} (RFC 9110 section 12.5.1): the body as XML when the client
 * prefers application/xml (or text/xml) to JSON by its q-values; `;q=0` means "not this", and a media type that
 * only contains "xml" (application/xhtml+xml) is not XML of a message body.
 */
function weights(accept: string): { xml: number; json: number } {
  let xml = 0;
  let json = 0;
  for (const range of accept.split(',')) {
    const [type = '', ...params] = range.split(';').map((s) => s.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    if (!Number.isFinite(q)) continue;
    if (type === 'application/xml' || type === 'text/xml') xml = Math.max(xml, q);
    else if (type === 'application/json' || type === 'application/*' || type === '*/*') json = Math.max(json, q);
  }
  return { xml, json };
}

export function prefersXml(accept: string | undefined): boolean {
  if (!accept) return false;
  const { xml, json } = weights(accept);
  return xml > 0 && xml >= json;
}

/**
 * Whether JSON is acceptable at all (q > 0): a message without an XML form (a control message, a purged body)
 * is then answered as JSON, as section 12.5.1 lets a server do, rather than refused.
 */
export function acceptsJson(accept: string | undefined): boolean {
  return !accept || weights(accept).json > 0;
}
