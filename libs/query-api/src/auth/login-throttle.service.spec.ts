import { HttpException } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { LoginThrottle } from './login-throttle.service.js';

describe('LoginThrottle', () => {
  const setup = () => {
    let now = 1_000_000;
    const throttle = new LoginThrottle({ maxAttempts: 3, windowMs: 60_000, lockoutMs: 300_000 }, () => now);
    return { throttle, advance: (ms: number) => (now += ms) };
  };

  it('locks a user and address out after too many failures, for the lockout only', () => {
    const { throttle, advance } = setup();
    for (let i = 0; i < 3; i++) {
      throttle.check('alice', '10.0.0.1');
      throttle.failed('alice', '10.0.0.1');
    }
    expect(() => throttle.check('alice', '10.0.0.1')).toThrow(HttpException);
    expect(() => throttle.check('ALICE', '10.0.0.1')).toThrow(/too many failed logins/);
    // Another address, or another user from the same address, is not locked.
    expect(() => throttle.check('alice', '10.0.0.2')).not.toThrow();
    expect(() => throttle.check('bob', '10.0.0.1')).not.toThrow();
    advance(300_001);
    expect(() => throttle.check('alice', '10.0.0.1')).not.toThrow();
  });

  it('forgets failures outside the window and after a success', () => {
    const { throttle, advance } = setup();
    throttle.failed('alice', 'ip');
    throttle.failed('alice', 'ip');
    advance(60_001);
    throttle.failed('alice', 'ip');
    expect(() => throttle.check('alice', 'ip')).not.toThrow();
    throttle.failed('alice', 'ip');
    throttle.succeeded('alice', 'ip');
    throttle.failed('alice', 'ip');
    expect(() => throttle.check('alice', 'ip')).not.toThrow();
  });
});
