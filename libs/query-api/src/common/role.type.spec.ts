import { describe, expect, it } from 'vitest';
import { roleAdmits } from './role.type.js';

describe('roleAdmits', () => {
  it('ranks viewer < operator < admin', () => {
    expect(roleAdmits(['viewer'], 'viewer')).toBe(true);
    expect(roleAdmits(['viewer'], 'admin')).toBe(true);
    expect(roleAdmits(['operator'], 'viewer')).toBe(false);
    expect(roleAdmits(['admin'], 'operator')).toBe(false);
    expect(roleAdmits(['admin', 'operator'], 'operator')).toBe(true);
  });
});
