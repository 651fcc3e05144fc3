import { describe, expect, it } from 'vitest';
import {
  entityFilter,
  metricOf,
  parseState,
  readingOf,
  readingProblem,
  validEntityId,
} from './ha-states.util.js';
import { homeAssistantConfigSchema } from './home-assistant.config.js';

const state = (value: string, attributes: Record<string, unknown> = {}) =>
  parseState({
    entity_id: 'sensor.x',
    state: value,
    attributes,
    last_changed: '2026-01-01T00:00:00+00:00',
    last_updated: '2026-01-01T00:00:00+00:00',
  })!;

describe('Home Assistant states', () => {
  it('filters entities by domain, include and exclude globs', () => {
    const accepts = entityFilter({
      domains: ['sensor', 'light'],
      include: ['sensor.*_temperature', 'light.*'],
      exclude: ['light.garage?'],
    });
    expect(accepts('sensor.living_temperature')).toBe(true);
    expect(accepts('sensor.living_humidity')).toBe(false);
    expect(accepts('light.hall')).toBe(true);
    expect(accepts('light.garage1')).toBe(false);
    expect(accepts('switch.pump_temperature')).toBe(false);
    expect(entityFilter({ domains: [], include: [], exclude: [] })('anything.at_all')).toBe(true);
  });

  it('reads numeric states that carry a unit or a state class, by device class', () => {
    expect(readingOf(state('21.5', { unit_of_measurement: '°C', device_class: 'temperature' }))).toEqual({
      metric: 'temperature',
      unit: '°C',
      value: 21.5,
    });
    expect(readingOf(state('-1e3', { state_class: 'measurement' }))).toEqual({
      metric: 'value',
      unit: null,
      value: -1000,
    });
    expect(readingOf(state('12'))).toBeUndefined();
    expect(readingOf(state('unavailable', { unit_of_measurement: 'W' }))).toBeUndefined();
    expect(metricOf(state('unavailable', { unit_of_measurement: 'W', device_class: 'power' }))).toEqual({
      metric: 'power',
      unit: 'W',
    });
    expect(parseState({ entity_id: 'x' })).toBeUndefined();
  });

  it('takes exactly one of token and tokenEnv', () => {
    const base = { name: 'home', type: 'home-assistant', url: 'http://ha:8123' };
    expect(homeAssistantConfigSchema.safeParse({ ...base, token: 't' }).success).toBe(true);
    expect(homeAssistantConfigSchema.safeParse(base).success).toBe(false);
    expect(homeAssistantConfigSchema.safeParse({ ...base, token: 't', tokenEnv: 'T' }).success).toBe(false);
    expect(
      homeAssistantConfigSchema.safeParse({ ...base, tokenEnv: 'SENTIO_SURELY_UNSET_TOKEN' }).success,
    ).toBe(false);
  });

  it('tells which states cannot map: a bad entity id, a measurement that is no number', () => {
    expect(validEntityId('sensor.kitchen_temperature')).toBe(true);
    expect(validEntityId('kitchen temperature')).toBe(false);
    expect(validEntityId('Sensor.Kitchen')).toBe(false);
    expect(readingProblem(state('12,5', { unit_of_measurement: '°C' }))).toMatch(/"12,5" is not a number/);
    expect(readingProblem(state('unavailable', { unit_of_measurement: '°C' }))).toBeUndefined();
    expect(readingProblem(state('21.5', { unit_of_measurement: '°C' }))).toBeUndefined();
    expect(readingProblem(state('on'))).toBeUndefined();
  });
});
