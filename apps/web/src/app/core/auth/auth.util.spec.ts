import { describe, expect, it } from 'vitest';
import { refreshDelayMs } from './refresh-schedule.util';
import { isRole, roleAtLeast } from './roles.util';

describe('roles', () => {
  it('orders viewer < operator < admin, like the API', () => {
    expect(roleAtLeast('admin', 'operator')).toBe(true);
    expect(roleAtLeast('operator', 'operator')).toBe(true);
    expect(roleAtLeast('viewer', 'operator')).toBe(false);
    expect(roleAtLeast(undefined, 'viewer')).toBe(false);
    expect(isRole('admin')).toBe(true);
    expect(isRole('root')).toBe(false);
  });
});

describe('refresh schedule', () => {
  it('refreshes a minute before a long-lived token expires, at 80 % of a short one, never under 5 s', () => {
    expect(refreshDelayMs(900)).toBe(840_000);
    expect(refreshDelayMs(60)).toBe(48_000);
    expect(refreshDelayMs(2)).toBe(5_000);
    expect(refreshDelayMs(-1)).toBe(5_000);
  });
});
