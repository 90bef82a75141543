/**
 * The local API's base URL, as `gnc init` and `gnc start` print it and integrators paste it: an IPv6 literal
 * host (`--api-host ::1`) goes in brackets (RFC 3986 section 3.2.2), or the URL names no host at all.
 */
import { isIPv6 } from 'node:net';

export function apiBaseUrl(host: string, port: number): string {
  return `http://${isIPv6(host) ? `[${host}]` : host}:${port}`;
}
