import { Kind } from 'graphql';
import { describe, expect, it } from 'vitest';
import { DurationScalar } from './duration.scalar.js';

describe('Duration scalar', () => {
  const sut = new DurationScalar();

  it('takes seconds as a number or a duration text, as REST does, and hands on text', () => {
    expect(sut.parseLiteral({ kind: Kind.INT, value: '60' })).toBe('60');
    expect(sut.parseLiteral({ kind: Kind.STRING, value: '5m' })).toBe('5m');
    expect(sut.parseLiteral({ kind: Kind.FLOAT, value: '60.0' })).toBe('60');
    expect(sut.parseValue(60)).toBe('60');
    expect(sut.parseValue('1h')).toBe('1h');
  });

  it('refuses fractions, negatives and other kinds', () => {
    expect(() => sut.parseLiteral({ kind: Kind.FLOAT, value: '1.5' })).toThrow(
      /Duration: expected a whole number/,
    );
    expect(() => sut.parseValue(-1)).toThrow(/Duration/);
    expect(() => sut.parseValue(true)).toThrow(/Duration/);
    expect(() => sut.parseLiteral({ kind: Kind.BOOLEAN, value: true })).toThrow(/Duration/);
  });
});
