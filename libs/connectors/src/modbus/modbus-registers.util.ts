export type ModbusTable = 'coil' | 'discrete' | 'holding' | 'input';
export type ModbusType = 'bool' | 'int16' | 'uint16' | 'int32' | 'uint32' | 'float32' | 'float64';
export type ByteOrder = 'big' | 'little';

/** Protocol limits of one read request (Modbus Application Protocol 1.1b3, 6.1-6.4). */
export const maxReadCount: Record<ModbusTable, number> = {
  coil: 2000,
  discrete: 2000,
  holding: 125,
  input: 125,
};

export function registerCount(type: ModbusType): number {
  return type === 'float64' ? 4 : type === 'int32' || type === 'uint32' || type === 'float32' ? 2 : 1;
}

export interface PlannedPoint {
  table: ModbusTable;
  address: number;
  type: ModbusType;
}

export interface ReadBlock<P extends PlannedPoint> {
  table: ModbusTable;
  address: number;
  count: number;
  points: P[];
}

/**
 * Coalesces points into as few reads as the protocol allows: per table, in address order, a point joins
 * the current block when it starts no more than `maxGap` past the block's end and the block stays within
 * the per-request limit. Overlapping points (two views of one register) share a block.
 */
export function planBlocks<P extends PlannedPoint>(points: P[], maxGap = 0): Array<ReadBlock<P>> {
  const blocks: Array<ReadBlock<P>> = [];
  const tables = [...new Set(points.map((p) => p.table))];
  for (const table of tables) {
    const sorted = points.filter((p) => p.table === table).sort((a, b) => a.address - b.address);
    let block: ReadBlock<P> | undefined;
    for (const point of sorted) {
      const end = point.address + registerCount(point.type);
      if (
        block &&
        point.address <= block.address + block.count + maxGap &&
        Math.max(end, block.address + block.count) - block.address <= maxReadCount[table]
      ) {
        block.count = Math.max(end, block.address + block.count) - block.address;
        block.points.push(point);
      } else {
        block = { table, address: point.address, count: end - point.address, points: [point] };
        blocks.push(block);
      }
    }
  }
  return blocks;
}

/**
 * Decodes a number from registers as they came off the wire (each register big-endian, as Modbus sends
 * it). byteOrder little swaps the two bytes of each register; wordOrder little puts the last register
 * first: float32 ABCD is big/big, CDAB big/little, BADC little/big, DCBA little/little.
 */
export function decodeRegisters(
  words: Buffer,
  type: Exclude<ModbusType, 'bool'>,
  byteOrder: ByteOrder,
  wordOrder: ByteOrder,
): number {
  const count = registerCount(type);
  if (words.length < count * 2)
    throw new Error(`expected ${count * 2} bytes for ${type}, got ${words.length}`);
  const bytes = Buffer.alloc(count * 2);
  for (let i = 0; i < count; i++) {
    const from = (wordOrder === 'big' ? i : count - 1 - i) * 2;
    bytes[i * 2] = words[from + (byteOrder === 'big' ? 0 : 1)]!;
    bytes[i * 2 + 1] = words[from + (byteOrder === 'big' ? 1 : 0)]!;
  }
  switch (type) {
    case 'int16':
      return bytes.readInt16BE(0);
    case 'uint16':
      return bytes.readUInt16BE(0);
    case 'int32':
      return bytes.readInt32BE(0);
    case 'uint32':
      return bytes.readUInt32BE(0);
    case 'float32':
      return bytes.readFloatBE(0);
    case 'float64':
      return bytes.readDoubleBE(0);
  }
}

export interface DecodablePoint extends PlannedPoint {
  scale: number;
  offset: number;
  byteOrder: ByteOrder;
  wordOrder: ByteOrder;
}

/** A point's engineering value from its block's response: raw * scale + offset, booleans as 1/0. */
export function pointValue(
  block: { address: number },
  response: { bits?: boolean[]; registers?: Buffer },
  point: DecodablePoint,
): number {
  const index = point.address - block.address;
  if (point.type === 'bool') {
    const bit = response.bits?.[index];
    if (bit === undefined) throw new Error(`response holds no bit ${point.address}`);
    return bit ? 1 : 0;
  }
  const registers = response.registers;
  if (!registers) throw new Error(`response holds no register ${point.address}`);
  const raw = decodeRegisters(registers.subarray(index * 2), point.type, point.byteOrder, point.wordOrder);
  return raw * point.scale + point.offset;
}
