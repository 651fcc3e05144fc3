import { describe, expect, it } from 'vitest';
import { compileTopicPattern, fillTemplate } from './topic-pattern.util.js';

describe('compileTopicPattern', () => {
  it('captures named levels and subscribes with + in their place', () => {
    const p = compileTopicPattern('plant/{device}/{metric}');
    expect(p.filter).toBe('plant/+/+');
    expect(p.match('plant/pump-1/temperature')).toEqual({ device: 'pump-1', metric: 'temperature' });
    expect(p.match('plant/pump-1')).toBeUndefined();
    expect(p.match('plant/pump-1/temperature/x')).toBeUndefined();
  });

  it('matches + and a trailing # as MQTT does, # including the parent level', () => {
    const p = compileTopicPattern('site/+/{device}/#');
    expect(p.filter).toBe('site/+/+/#');
    expect(p.match('site/a/d1')).toEqual({ device: 'd1' });
    expect(p.match('site/a/d1/x/y')).toEqual({ device: 'd1' });
    expect(p.match('other/a/d1')).toBeUndefined();
  });

  it('captures part of a level', () => {
    const p = compileTopicPattern('meters/meter-{id}/kwh');
    expect(p.filter).toBe('meters/+/kwh');
    expect(p.match('meters/meter-17/kwh')).toEqual({ id: '17' });
    expect(p.match('meters/gauge-17/kwh')).toBeUndefined();
  });

  it('treats regex characters in literal levels literally', () => {
    expect(compileTopicPattern('a.b/{x}').match('aXb/1')).toBeUndefined();
  });

  it.each([
    ['a/#/b', /# only as the last level/],
    ['a/b+/c', /fill a whole level/],
    ['a/{1x}', /capture name/],
    ['a/{x}/{x}', /once/],
    ['a/{x', /balanced braces/],
  ])('rejects %s', (pattern, message) => {
    expect(() => compileTopicPattern(pattern)).toThrow(message);
  });
});

describe('fillTemplate', () => {
  it('replaces captures', () => {
    expect(fillTemplate('line1-{device}', { device: 'p1' })).toBe('line1-p1');
  });
});
