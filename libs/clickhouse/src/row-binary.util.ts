import type { ColumnMap } from './column-map.util.js';

/**
 * ClickHouse's RowBinary format, written straight from records: no JSON text is built in Node and none is
 * parsed by the engine. Only the column types the projection tables use are supported; the type string
 * given for a column is the table's own declaration, so the encoder and the DDL say the same thing.
 */
type Encode = (w: RowBinaryWriter, value: unknown) => void;

class RowBinaryWriter {
  buf: Buffer;
  at = 0;

  constructor(capacity: number) {
    this.buf = Buffer.allocUnsafe(capacity);
  }

  ensure(bytes: number): void {
    if (this.at + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + bytes));
    this.buf.copy(next, 0, 0, this.at);
    this.buf = next;
  }

  varUInt(value: number): void {
    this.ensure(10);
    let v = value;
    while (v >= 0x80) {
      this.buf[this.at++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    this.buf[this.at++] = v;
  }

  string(value: string): void {
    // Most strings are short ASCII: written after a 1-byte length, moved only when the length needs more.
    this.ensure(value.length * 3 + 10);
    const written = this.buf.write(value, this.at + 1, 'utf8');
    if (written < 0x80) {
      this.buf[this.at] = written;
      this.at += 1 + written;
      return;
    }
    // Longer: written again after its real length prefix (rare; the first write only measured it).
    this.varUInt(written);
    this.ensure(written);
    this.at += this.buf.write(value, this.at, 'utf8');
  }

  uint8(value: number): void {
    this.ensure(1);
    this.buf[this.at++] = value;
  }

  int8(value: number): void {
    this.ensure(1);
    this.buf.writeInt8(value, this.at++);
  }

  float64(value: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(value, this.at);
    this.at += 8;
  }

  /** Integers up to 2^53 as Int64/UInt64, without a BigInt per value. */
  int64(value: number): void {
    this.ensure(8);
    const low = value % 0x1_0000_0000;
    const high = Math.floor(value / 0x1_0000_0000);
    this.buf.writeUInt32LE(low < 0 ? low + 0x1_0000_0000 : low, this.at);
    this.buf.writeInt32LE(high, this.at + 4);
    this.at += 8;
  }

  uint32(value: number): void {
    this.ensure(4);
    this.buf.writeUInt32LE(value, this.at);
    this.at += 4;
  }
}

function unwrap(type: string, wrapper: string): string | undefined {
  return type.startsWith(`${wrapper}(`) && type.endsWith(')')
    ? type.slice(wrapper.length + 1, -1).trim()
    : undefined;
}

/** Splits `a, b(c, d), e` at top-level commas. */
function splitTop(list: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < list.length; i++) {
    const c = list[i];
    if (c === "'" && list[i - 1] !== '\\') quoted = !quoted;
    else if (!quoted && c === '(') depth++;
    else if (!quoted && c === ')') depth--;
    else if (!quoted && depth === 0 && c === ',') {
      parts.push(list.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(list.slice(start).trim());
  return parts;
}

function encoderFor(type: string): Encode {
  const t = type.trim();
  const inner = unwrap(t, 'LowCardinality');
  if (inner) return encoderFor(inner); // same bytes as the inner type in RowBinary
  const nullable = unwrap(t, 'Nullable');
  if (nullable) {
    const encode = encoderFor(nullable);
    return (w, v) => {
      if (v === null || v === undefined) return w.uint8(1);
      w.uint8(0);
      encode(w, v);
    };
  }
  if (t === 'String') return (w, v) => w.string(String(v));
  if (t === 'Float64') return (w, v) => w.float64(v as number);
  if (t === 'Int64' || t === 'UInt64') return (w, v) => w.int64(v as number);
  if (t === 'UInt32') return (w, v) => w.uint32(v as number);
  if (t === 'Bool') return (w, v) => w.uint8(v ? 1 : 0);
  const dt = /^DateTime64\((\d)(?:,\s*'[^']*')?\)$/.exec(t);
  if (dt) {
    // Records carry milliseconds; the column counts ticks of 10^-precision seconds.
    const scale = 10 ** (Number(dt[1]) - 3);
    return scale === 1
      ? (w, v) => w.int64(v as number)
      : (w, v) => w.int64(Math.round((v as number) * scale));
  }
  const enumBody = unwrap(t, 'Enum8');
  if (enumBody) {
    const values = new Map(
      splitTop(enumBody).map((entry) => {
        const m = /^'((?:[^'\\]|\\.)*)'\s*=\s*(-?\d+)$/.exec(entry);
        if (!m) throw new Error(`RowBinary: cannot read enum entry ${entry} of ${t}`);
        return [m[1]!, Number(m[2])] as const;
      }),
    );
    return (w, v) => {
      const code = values.get(v as string);
      if (code === undefined) throw new Error(`RowBinary: ${String(v)} is not a value of ${t}`);
      w.int8(code);
    };
  }
  const map = unwrap(t, 'Map');
  if (map) {
    const [k, val] = splitTop(map);
    const key = encoderFor(k!);
    const value = encoderFor(val!);
    return (w, v) => {
      const entries = Object.entries(v as Record<string, unknown>);
      w.varUInt(entries.length);
      for (const [ek, ev] of entries) {
        key(w, ek);
        value(w, ev);
      }
    };
  }
  const array = unwrap(t, 'Array');
  if (array) {
    const item = encoderFor(array);
    return (w, v) => {
      const items = v as unknown[];
      w.varUInt(items.length);
      for (const x of items) item(w, x);
    };
  }
  const tuple = unwrap(t, 'Tuple');
  if (tuple) {
    const fields = splitTop(tuple).map((f) => {
      const m = /^(\w+)\s+(.+)$/.exec(f);
      if (!m) throw new Error(`RowBinary: tuple fields need names: ${t}`);
      return { name: m[1]!, encode: encoderFor(m[2]!) };
    });
    return (w, v) => {
      const record = v as Record<string, unknown>;
      for (const f of fields) f.encode(w, record[f.name]);
    };
  }
  throw new Error(`RowBinary: column type ${t} is not supported`);
}

/** A table's columns with their ClickHouse types: readable as JSON rows and as one RowBinary block. */
export interface BinaryColumnMap<T> extends ColumnMap<T> {
  /** `name Type, ...`: the structure the engine reads the block with. */
  readonly structure: string;
  encode(records: readonly T[]): Buffer;
}

export function binaryColumnMap<T>(
  columns: Record<string, readonly [type: string, get: (record: T) => unknown]>,
): BinaryColumnMap<T> {
  const names = Object.keys(columns);
  const getters = Object.values(columns).map(([, get]) => get);
  const encoders = Object.values(columns).map(([type]) => encoderFor(type));
  const n = getters.length;
  return {
    names,
    structure: Object.entries(columns)
      .map(([name, [type]]) => `${name} ${type}`)
      .join(', '),
    row: (record) => {
      const values = new Array<unknown>(n);
      for (let i = 0; i < n; i++) values[i] = getters[i]!(record);
      return values;
    },
    encode(records) {
      const w = new RowBinaryWriter(Math.max(4096, records.length * 128));
      for (const record of records) {
        for (let i = 0; i < n; i++) encoders[i]!(w, getters[i]!(record));
      }
      return w.buf.subarray(0, w.at);
    },
  };
}

export function isBinaryColumnMap<T>(columns: ColumnMap<T>): columns is BinaryColumnMap<T> {
  return typeof (columns as BinaryColumnMap<T>).encode === 'function';
}
