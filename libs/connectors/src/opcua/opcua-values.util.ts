import type { Quality } from '@sentio/events';
import { DataType } from 'node-opcua';
import type { OpcuaConfig, OpcuaDeadband } from './opcua.config.js';

/**
 * OPC UA's own severity, the top two bits of a StatusCode (Part 4, 7.39): 00 Good, 01 Uncertain, 10 and 11
 * Bad. Sub-codes (Good_Clamped, Uncertain_LastUsableValue, Bad_SensorFailure ...) fold into these three.
 */
export function qualityOf(statusCode: number): Quality {
  const severity = statusCode >>> 30;
  return severity === 0 ? 'GOOD' : severity === 1 ? 'UNCERTAIN' : 'BAD';
}

/** A Variant's scalar as a sample value: numbers as they are, booleans as 1/0; an Error says why not. */
export function numericValue(dataType: DataType, value: unknown, arrayType: number): number | Error {
  if (arrayType !== 0) return new Error(`an array (${DataType[dataType]}[]) is not a sample value`);
  switch (dataType) {
    case DataType.Boolean:
      return value ? 1 : 0;
    case DataType.SByte:
    case DataType.Byte:
    case DataType.Int16:
    case DataType.UInt16:
    case DataType.Int32:
    case DataType.UInt32:
    case DataType.Float:
    case DataType.Double:
      return value as number;
    case DataType.Int64:
    case DataType.UInt64: {
      // node-opcua keeps 64-bit integers as [high, low] 32-bit words; past 2^53 precision is lost, as for any double.
      const [high, low] = value as [number, number];
      const signedHigh = dataType === DataType.Int64 && high >= 0x8000_0000 ? high - 0x1_0000_0000 : high;
      return signedHigh * 0x1_0000_0000 + low;
    }
    default:
      return new Error(`a ${DataType[dataType] ?? `type ${dataType}`} is not a sample value`);
  }
}

export interface Monitoring {
  samplingIntervalMs: number;
  queueSize: number;
  deadband: OpcuaDeadband | undefined;
}

/** A node's monitoring settings: its own where given, the connector's otherwise. */
export function monitoringOf(
  own: { samplingIntervalMs?: number; queueSize?: number; deadband?: OpcuaDeadband },
  defaults: OpcuaConfig['monitoring'],
): Monitoring {
  return {
    samplingIntervalMs: own.samplingIntervalMs ?? defaults.samplingIntervalMs,
    queueSize: own.queueSize ?? defaults.queueSize,
    deadband: own.deadband ?? defaults.deadband,
  };
}

/** Items with equal settings share one CreateMonitoredItems call: the key that groups them. */
export function monitoringKey(m: Monitoring): string {
  return `${m.samplingIntervalMs}/${m.queueSize}/${m.deadband ? `${m.deadband.type}:${m.deadband.value}` : '-'}`;
}
