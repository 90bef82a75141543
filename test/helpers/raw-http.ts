/**
 * HTTP written as is to a test node's API socket, for what fetch cannot send (a malformed request line, an odd
 * Expect or Transfer-Encoding, a Content-Length that does not match).
 */
import { connect } from 'node:net';
import type { TestNode } from './network.js';

/** `request` written as is to the API's socket: the status, the headers (lower-case names) and the body it answers. */
export function rawHttp(request: string, to: TestNode): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const { hostname, port } = new URL(to.url);
  return new Promise((resolve, reject) => {
    const s = connect(Number(port), hostname, () => s.write(request));
    let text = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => (text += d));
    s.on('error', reject);
    // the answer ends with the connection: that it ends is part of what is tested
    s.on('end', () => {
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), headers, body });
    });
    s.setTimeout(10_000, () => s.destroy(new Error('no answer')));
  });
}

