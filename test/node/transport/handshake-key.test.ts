/**
 * The key the handshake bound (MAX_HANDSHAKES_PER_ADDRESS) counts a remote address under, on literal addresses: an IPv6
 * address by its /64, however it is written, so that a stranger holding one /64 (2^64 addresses) counts as one address;
 * an IPv4 address, and an IPv4-mapped IPv6 address, as the IPv4 address. The bound itself is covered with real nodes
 * over loopback IPv4 (partner-isolation.test.ts, bounds-recover.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { handshakeKey } from '../../../node/transport/libp2p.js';

describe('handshakeKey', () => {
  it('keeps an IPv4 address as it is', () => {
    expect(handshakeKey('203.0.113.7')).toBe('203.0.113.7');
    expect(handshakeKey('127.0.0.1')).not.toBe(handshakeKey('127.0.0.2'));
  });

  it('counts every address of one IPv6 /64 as one, however it is written', () => {
    const key = handshakeKey('2001:db8:a:b::1');
    expect(key).toBe('2001:db8:a:b::/64');
    for (const ip of ['2001:0db8:000a:000b:0000:0000:0000:0001', '2001:db8:a:b:ffff:ffff:ffff:ffff', '2001:DB8:A:B:1:2:3:4', '2001:db8:a:b::', '2001:db8:a:b:1::2', '2001:db8:a:b:0:0:10.0.0.1']) {
      expect(handshakeKey(ip), ip).toBe(key);
    }
  });

  it('tells different /64 prefixes apart, the `::` in their first half expanded', () => {
    expect(handshakeKey('2001:db8:a:c::1')).toBe('2001:db8:a:c::/64');
    expect(handshakeKey('2001:db8::1')).toBe('2001:db8:0:0::/64');
    expect(handshakeKey('2001::a:0:0:0:1')).toBe('2001:0:0:a::/64');
    expect(handshakeKey('::1')).toBe('0:0:0:0::/64');
    expect(handshakeKey('::')).toBe('0:0:0:0::/64');
  });

  it('counts an IPv4-mapped IPv6 address as its IPv4 address, dotted or in hex', () => {
    expect(handshakeKey('::ffff:203.0.113.7')).toBe('203.0.113.7');
    expect(handshakeKey('::ffff:cb00:7107')).toBe('203.0.113.7');
    expect(handshakeKey('0:0:0:0:0:ffff:203.0.113.7')).toBe('203.0.113.7');
    // the rest of ::/64 is IPv6 (an IPv4-compatible address, deprecated, is no IPv4 peer)
    expect(handshakeKey('::203.0.113.7')).toBe('0:0:0:0::/64');
  });

  it('keeps a zone id: the same link-local /64 on two interfaces is two links', () => {
    expect(handshakeKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64%eth0');
    expect(handshakeKey('fe80::2:3%eth0')).toBe(handshakeKey('fe80::1%eth0'));
    expect(handshakeKey('fe80::1%eth1')).not.toBe(handshakeKey('fe80::1%eth0'));
  });

  it('keeps what is no IP address as it is', () => {
    expect(handshakeKey('not-an-address')).toBe('not-an-address');
    expect(handshakeKey('1::2::3')).toBe('1::2::3');
  });
});
