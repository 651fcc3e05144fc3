import { describe, expect, it } from 'vitest';
import { consolePolicy } from './content-security-policy.util.js';

describe('consolePolicy', () => {
  it("allows the origin's scripts and this response's nonce, and the host's WebSockets", () => {
    const policy = consolePolicy('abc123', 'plant.example:8080');
    expect(policy).toContain("script-src 'self' 'nonce-abc123'");
    expect(policy).toContain("connect-src 'self' ws://plant.example:8080 wss://plant.example:8080");
    expect(policy).toContain("frame-ancestors 'none'");
    expect(policy).not.toMatch(/script-src[^;]*unsafe/);
  });

  it('never echoes a Host header that is not a plain host and port', () => {
    for (const host of ["evil.example; script-src 'unsafe-inline'", 'a b', 'x/y', undefined]) {
      expect(consolePolicy('n', host)).toContain("connect-src 'self'; ");
    }
    expect(consolePolicy('n', '[::1]:8080')).toContain('ws://[::1]:8080');
  });
});
