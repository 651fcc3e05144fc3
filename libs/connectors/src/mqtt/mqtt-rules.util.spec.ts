import { describe, expect, it } from 'vitest';
import { mqttConfigSchema } from './mqtt.config.js';
import { compileRule, mapMessage } from './mqtt-rules.util.js';

const rules = mqttConfigSchema
  .parse({
    name: 'plant',
    type: 'mqtt',
    url: 'mqtt://localhost',
    rules: [
      { topic: 'plant/{device}/running', format: 'boolean', metric: 'running' },
      { topic: 'plant/{device}/{metric}', unit: 'degC', labels: { line: 'l1' } },
      {
        topic: 'lines/{line}/state',
        format: 'json',
        deviceId: 'line-{line}',
        timestamp: { path: '$.ts', format: 's' },
        values: [
          { path: '$.flow.value', metric: 'flow', unit: 'm3/h' },
          { path: 'pumps[0].on', metric: 'pump_on' },
        ],
      },
    ],
  })
  .rules.map(compileRule);

const context = { source: 'mqtt:plant', labels: { site: 's1' }, receivedAtMs: 1_764_000_000_000 };
const map = (topic: string, payload: string) => mapMessage(rules, topic, Buffer.from(payload), context);

describe('mapMessage', () => {
  it('maps a plain number with captures from the topic', () => {
    const [sample] = map('plant/pump-1/temperature', ' 21.5 ') as never[];
    expect(sample).toMatchObject({
      deviceId: 'pump-1',
      metric: 'temperature',
      value: 21.5,
      unit: 'degC',
      quality: 'GOOD',
      timestampMs: context.receivedAtMs,
      labels: { site: 's1', line: 'l1' },
      source: 'mqtt:plant',
    });
  });

  it('maps booleans to 1 and 0 with the first matching rule', () => {
    expect(map('plant/pump-1/running', 'ON')).toMatchObject([{ metric: 'running', value: 1, unit: null }]);
    expect(map('plant/pump-1/running', 'false')).toMatchObject([{ value: 0 }]);
  });

  it('maps JSON values by path with the device timestamp', () => {
    const samples = map(
      'lines/7/state',
      '{"ts": 1764000123, "flow": {"value": 12.5}, "pumps": [{"on": true}]}',
    );
    expect(samples).toMatchObject([
      { deviceId: 'line-7', metric: 'flow', value: 12.5, unit: 'm3/h', timestampMs: 1_764_000_123_000 },
      { deviceId: 'line-7', metric: 'pump_on', value: 1, unit: null, timestampMs: 1_764_000_123_000 },
    ]);
  });

  it('gives the same event id to the same message delivered twice', () => {
    const first = map('lines/7/state', '{"ts": 1764000123, "flow": {"value": 1}}') as Array<{
      eventId: string;
    }>;
    const again = map('lines/7/state', '{"ts": 1764000123, "flow": {"value": 1}}') as Array<{
      eventId: string;
    }>;
    expect(first[0]!.eventId).toBe(again[0]!.eventId);
    expect(first[0]!.eventId).toMatch(
      /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/,
    );
  });

  it.each([
    ['plant/pump-1/temperature', 'abc', /payload "abc" is not a number/],
    ['plant/pump-1/running', 'maybe', /is not a boolean/],
    ['lines/7/state', '{"flow":', /not valid JSON/],
    [
      'lines/7/state',
      '{"ts": 1, "flow": {"value": "high"}}',
      /\$\.flow\.value is "high", expected a number or boolean/,
    ],
    ['lines/7/state', '{"ts": "soon", "flow": {"value": 1}}', /\$\.ts is "soon", expected epoch seconds/],
    ['lines/7/state', '{"ts": 1}', /none of \$\.flow\.value, pumps\[0\]\.on is in the payload/],
    ['elsewhere/x', '1', /no mapping rule matches topic elsewhere\/x/],
    ['plant/pump-1/bad metric', '1', /metric "bad metric" is not a metric name/],
    ['lines/7/state', '{"ts": 1000, "flow": {"value": 1}}', /timestamp 1000000 is before 2000-01-01/],
  ])('gives the reason %s %s cannot be used', (topic, payload, reason) => {
    const result = map(topic, payload);
    expect(result).toBeInstanceOf(Error);
    expect((result as Error).message).toMatch(reason);
  });
});
