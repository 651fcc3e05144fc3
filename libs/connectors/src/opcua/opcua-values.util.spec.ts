import { DataType, StatusCodes } from 'node-opcua';
import { describe, expect, it } from 'vitest';
import { monitoringKey, monitoringOf, numericValue, qualityOf } from './opcua-values.util.js';

describe('qualityOf', () => {
  it('folds status codes into their severity', () => {
    expect(qualityOf(StatusCodes.Good.value)).toBe('GOOD');
    expect(qualityOf(StatusCodes.GoodClamped.value)).toBe('GOOD');
    expect(qualityOf(StatusCodes.UncertainLastUsableValue.value)).toBe('UNCERTAIN');
    expect(qualityOf(StatusCodes.UncertainSensorNotAccurate.value)).toBe('UNCERTAIN');
    expect(qualityOf(StatusCodes.BadSensorFailure.value)).toBe('BAD');
    expect(qualityOf(StatusCodes.BadNodeIdUnknown.value)).toBe('BAD');
  });
});

describe('numericValue', () => {
  it('takes numbers and booleans', () => {
    expect(numericValue(DataType.Double, 1.5, 0)).toBe(1.5);
    expect(numericValue(DataType.Int16, -3, 0)).toBe(-3);
    expect(numericValue(DataType.Boolean, true, 0)).toBe(1);
    expect(numericValue(DataType.Boolean, false, 0)).toBe(0);
  });

  it('joins 64-bit words, signed for Int64', () => {
    expect(numericValue(DataType.UInt64, [1, 5], 0)).toBe(2 ** 32 + 5);
    expect(numericValue(DataType.Int64, [0xffff_ffff, 0xffff_fffe], 0)).toBe(-2);
  });

  it('refuses what is not one number', () => {
    expect(numericValue(DataType.String, 'x', 0)).toEqual(new Error('a String is not a sample value'));
    expect(numericValue(DataType.Double, [1, 2], 1)).toEqual(
      new Error('an array (Double[]) is not a sample value'),
    );
  });
});

describe('monitoringOf', () => {
  it("fills a node's gaps from the connector's defaults and keys equal settings alike", () => {
    const defaults = {
      samplingIntervalMs: 1000,
      queueSize: 10,
      deadband: { type: 'absolute' as const, value: 0.5 },
    };
    const own = monitoringOf({ samplingIntervalMs: 100 }, defaults);
    expect(own).toEqual({
      samplingIntervalMs: 100,
      queueSize: 10,
      deadband: { type: 'absolute', value: 0.5 },
    });
    expect(monitoringKey(own)).toBe('100/10/absolute:0.5');
    expect(monitoringKey(monitoringOf({}, { samplingIntervalMs: 250, queueSize: 1 }))).toBe('250/1/-');
  });
});
