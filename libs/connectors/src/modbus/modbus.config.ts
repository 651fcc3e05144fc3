import { z } from 'zod';
import { reconnectSchema } from '../common/reconnect.config.js';
import { registerCount } from './modbus-registers.util.js';

const order = z.enum(['big', 'little']);

const pointSchema = z
  .strictObject({
    metric: z.string().min(1),
    table: z.enum(['coil', 'discrete', 'holding', 'input']),
    /** Zero-based protocol address (register 40001 is holding 0). */
    address: z.number().int().min(0).max(65535),
    /** bool for coils and discrete inputs; a number type for registers. */
    type: z.enum(['bool', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64']).optional(),
    scale: z.number().default(1),
    offset: z.number().default(0),
    unit: z.string().min(1).optional(),
    /** Byte order within each register, word order across registers; the device's defaults otherwise. */
    byteOrder: order.optional(),
    wordOrder: order.optional(),
  })
  .transform((p) => ({
    ...p,
    type: p.type ?? (p.table === 'coil' || p.table === 'discrete' ? 'bool' : 'uint16'),
  }))
  .superRefine((p, ctx) => {
    const bits = p.table === 'coil' || p.table === 'discrete';
    if (bits !== (p.type === 'bool')) {
      ctx.addIssue({
        code: 'custom',
        path: ['type'],
        message: bits ? `expected bool for a ${p.table}` : `expected a number type for a ${p.table} register`,
      });
    }
    if (p.address + registerCount(p.type) > 65536) {
      ctx.addIssue({
        code: 'custom',
        path: ['address'],
        message: `expected ${p.type} to end by address 65535`,
      });
    }
  });

const deviceSchema = z
  .strictObject({
    id: z.string().min(1),
    host: z.string().min(1),
    port: z.number().int().min(1).max(65535).default(502),
    unitId: z.number().int().min(0).max(255).default(1),
    pollIntervalMs: z.number().int().min(50).default(1000),
    timeoutMs: z.number().int().positive().default(1000),
    byteOrder: order.default('big'),
    wordOrder: order.default('big'),
    /** Unmapped registers (or coils) a block read may span to join two points: fewer requests. */
    maxGap: z.number().int().min(0).max(100).default(0),
    deviceType: z.string().min(1).optional(),
    vendor: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    labels: z.record(z.string(), z.string()).default({}),
    points: z.array(pointSchema).min(1),
  })
  .superRefine((device, ctx) => {
    const seen = new Set<string>();
    device.points.forEach((p, i) => {
      if (seen.has(p.metric)) {
        ctx.addIssue({
          code: 'custom',
          path: ['points', i, 'metric'],
          message: `expected a unique metric, got a second "${p.metric}"`,
        });
      }
      seen.add(p.metric);
    });
  });

export const modbusConfigSchema = z
  .strictObject({
    name: z.string(),
    type: z.literal('modbus'),
    reconnect: reconnectSchema,
    labels: z.record(z.string(), z.string()).default({}),
    devices: z.array(deviceSchema).min(1),
  })
  .superRefine((config, ctx) => {
    const ids = new Set<string>();
    config.devices.forEach((d, i) => {
      if (ids.has(d.id))
        ctx.addIssue({
          code: 'custom',
          path: ['devices', i, 'id'],
          message: `expected a unique id, got a second "${d.id}"`,
        });
      ids.add(d.id);
    });
  });

export type ModbusConfig = z.infer<typeof modbusConfigSchema>;
export type ModbusDevice = ModbusConfig['devices'][number];
export type ModbusPoint = ModbusDevice['points'][number];
