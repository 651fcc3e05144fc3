import { describe, expect, it } from 'vitest';
import { decodeRegisters, planBlocks, pointValue, type PlannedPoint } from './modbus-registers.util.js';

const words = (...bytes: number[]) => Buffer.from(bytes);

describe('decodeRegisters', () => {
  // 123.456 as float32 is 0x42F6E979: bytes A B C D = 42 F6 E9 79.
  const abcd = words(0x42, 0xf6, 0xe9, 0x79);
  it.each([
    ['big', 'big', abcd],
    ['big', 'little', words(0xe9, 0x79, 0x42, 0xf6)],
    ['little', 'big', words(0xf6, 0x42, 0x79, 0xe9)],
    ['little', 'little', words(0x79, 0xe9, 0xf6, 0x42)],
  ] as const)('reads float32 with byte order %s and word order %s', (byteOrder, wordOrder, data) => {
    expect(decodeRegisters(data, 'float32', byteOrder, wordOrder)).toBeCloseTo(123.456, 3);
  });

  it('reads signed and unsigned 16- and 32-bit integers', () => {
    expect(decodeRegisters(words(0xff, 0xfe), 'int16', 'big', 'big')).toBe(-2);
    expect(decodeRegisters(words(0xff, 0xfe), 'uint16', 'big', 'big')).toBe(65534);
    expect(decodeRegisters(words(0xff, 0xff, 0xff, 0xfe), 'int32', 'big', 'big')).toBe(-2);
    expect(decodeRegisters(words(0x00, 0x02, 0x00, 0x01), 'uint32', 'big', 'little')).toBe(0x10002);
  });

  it('reads float64 across four registers in either word order', () => {
    const be = Buffer.alloc(8);
    be.writeDoubleBE(-1234.5678);
    expect(decodeRegisters(be, 'float64', 'big', 'big')).toBe(-1234.5678);
    const swapped = Buffer.concat([
      be.subarray(6, 8),
      be.subarray(4, 6),
      be.subarray(2, 4),
      be.subarray(0, 2),
    ]);
    expect(decodeRegisters(swapped, 'float64', 'big', 'little')).toBe(-1234.5678);
  });

  it('refuses a response too short for the type', () => {
    expect(() => decodeRegisters(words(1, 2), 'float32', 'big', 'big')).toThrow(/expected 4 bytes/);
  });
});

describe('planBlocks', () => {
  const p = (table: PlannedPoint['table'], address: number, type: PlannedPoint['type']) => ({
    table,
    address,
    type,
  });

  it('joins adjacent and overlapping points of one table into one read', () => {
    const blocks = planBlocks([
      p('holding', 4, 'float32'),
      p('holding', 0, 'uint16'),
      p('holding', 1, 'int32'),
      p('holding', 3, 'uint16'),
    ]);
    expect(blocks.map((b) => [b.table, b.address, b.count, b.points.length])).toEqual([['holding', 0, 6, 4]]);
  });

  it('splits on gaps larger than maxGap and never mixes tables', () => {
    const points = [
      p('input', 0, 'uint16'),
      p('input', 3, 'uint16'),
      p('coil', 0, 'bool'),
      p('coil', 1, 'bool'),
    ];
    expect(planBlocks(points).map((b) => [b.table, b.address, b.count])).toEqual([
      ['input', 0, 1],
      ['input', 3, 1],
      ['coil', 0, 2],
    ]);
    expect(planBlocks(points, 2).map((b) => [b.table, b.address, b.count])).toEqual([
      ['input', 0, 4],
      ['coil', 0, 2],
    ]);
  });

  it('keeps each read within the protocol limits: 125 registers, 2000 coils', () => {
    const registers = Array.from({ length: 130 }, (_, i) => p('holding', i, 'uint16'));
    expect(planBlocks(registers).map((b) => [b.address, b.count])).toEqual([
      [0, 125],
      [125, 5],
    ]);
    const floats = Array.from({ length: 63 }, (_, i) => p('input', i * 2, 'float32'));
    expect(planBlocks(floats).map((b) => [b.address, b.count])).toEqual([
      [0, 124],
      [124, 2],
    ]);
    const coils = Array.from({ length: 2001 }, (_, i) => p('coil', i, 'bool'));
    expect(planBlocks(coils).map((b) => [b.address, b.count])).toEqual([
      [0, 2000],
      [2000, 1],
    ]);
  });
});

describe('pointValue', () => {
  it('applies scale and offset to the point at its place in the block', () => {
    const point = {
      table: 'holding' as const,
      address: 11,
      type: 'int16' as const,
      scale: 0.1,
      offset: -40,
      byteOrder: 'big' as const,
      wordOrder: 'big' as const,
    };
    expect(pointValue({ address: 10 }, { registers: words(0, 0, 0x02, 0x58) }, point)).toBeCloseTo(20);
  });

  it('reads bits as 1 and 0', () => {
    const point = {
      table: 'coil' as const,
      address: 2,
      type: 'bool' as const,
      scale: 1,
      offset: 0,
      byteOrder: 'big' as const,
      wordOrder: 'big' as const,
    };
    expect(pointValue({ address: 0 }, { bits: [false, false, true] }, point)).toBe(1);
  });
});
