import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';

/** Confluent wire format: magic byte 0, schema id as a big-endian int32, then the Avro body. */
const MAGIC = 0;
const HEADER = 5;

export class AvroEncodeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AvroEncodeError';
  }
}

export interface Encoder<T> {
  readonly schemaId: number;
  /** The event (folder under schemas/) the schema belongs to. */
  readonly event: string;
  encode(record: T): Buffer;
}

export type DecodeResult<T> = { ok: true; value: T; schemaId: number } | { ok: false; reason: string };

/**
 * Encodes and decodes Confluent-framed Avro through the schema registry, with every schema cached locally:
 * the registry is asked once per schema id, so decoding a batch is synchronous after `prepare`.
 * Decoding always resolves the writer's schema to the reader's (the consumer's own version of the event),
 * so producers and consumers can move to a new compatible schema version independently.
 */
export class AvroSerde {
  private readonly writerTypes = new Map<number, avro.Type>();
  private readonly resolvers = new Map<string, { reader: avro.Type; resolver: avro.Resolver }>();
  private readonly missing = new Map<number, string>();

  constructor(private readonly registry: SchemaRegistry) {}

  static forUrl(url: string): AvroSerde {
    return new AvroSerde(new SchemaRegistry({ host: url, retry: { retries: 5 } }));
  }

  /** Registers the schema under the subject (a no-op if it is already there) and returns an encoder for it. */
  async encoderFor<T>(subject: string, schema: object, event: string): Promise<Encoder<T>> {
    const id = await this.register(subject, schema);
    const type = avro.Type.forSchema(schema as avro.Schema);
    this.writerTypes.set(id, type);
    const header = Buffer.alloc(HEADER);
    header.writeUInt8(MAGIC, 0);
    header.writeInt32BE(id, 1);
    return {
      schemaId: id,
      event,
      encode(record: T): Buffer {
        const paths: string[] = [];
        if (!type.isValid(record, { errorHook: (path) => paths.push(path.join('.') || '(root)') })) {
          throw new AvroEncodeError(
            `record does not match schema ${subject} (id ${id}): invalid ${paths.join(', ')}`,
          );
        }
        return Buffer.concat([header, type.toBuffer(record)]);
      },
    };
  }

  /**
   * Processes that start together register the same new subject at once, and the registry may refuse the
   * loser of that race (Apicurio: 409 "already exists", or a 500 when its store times out on a lock), or
   * the loser finds the subject registered but its compatibility not yet set by the winner (the client
   * reads the registry's global default, Apicurio's NONE, and refuses: "Compatibility does not match");
   * registering again then finds the winner's schema. Other refusals (an incompatible schema) are final.
   */
  private async register(subject: string, schema: object): Promise<number> {
    for (let attempt = 1; ; attempt++) {
      try {
        const { id } = await this.registry.register(
          { type: SchemaType.AVRO, schema: JSON.stringify(schema) },
          { subject },
        );
        return id;
      } catch (error) {
        const status = (error as { status?: number }).status ?? 0;
        const message = error instanceof Error ? error.message : String(error);
        const race = /already exists|Compatibility does not match/i.test(message) || status >= 500;
        if (attempt >= 8 || !race) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  /** Fetches the writer schemas a batch refers to; unknown ids are remembered so decode can say why. */
  async prepare(buffers: Iterable<Buffer | null>): Promise<void> {
    const ids = new Set<number>();
    for (const buffer of buffers) {
      if (buffer && buffer.length >= HEADER && buffer[0] === MAGIC) {
        const id = buffer.readInt32BE(1);
        if (!this.writerTypes.has(id) && !this.missing.has(id)) ids.add(id);
      }
    }
    await Promise.all(
      [...ids].map(async (id) => {
        try {
          const type = (await this.registry.getSchema(id)) as unknown as avro.Type;
          // Rebuild the type with our own avsc so resolvers never mix two copies of the library.
          this.writerTypes.set(id, avro.Type.forSchema(type.schema() as avro.Schema));
        } catch (error) {
          // Only "no such id" is a property of the record; anything else (registry down) must stop the batch.
          if ((error as { status?: number }).status === 404) this.missing.set(id, (error as Error).message);
          else throw error;
        }
      }),
    );
  }

  decode<T>(buffer: Buffer | null, reader: avro.Type): DecodeResult<T> {
    if (!buffer || buffer.length < HEADER)
      return { ok: false, reason: 'value shorter than the 5-byte Confluent header' };
    if (buffer[0] !== MAGIC) return { ok: false, reason: `unknown magic byte ${buffer[0]}, expected 0` };
    const id = buffer.readInt32BE(1);
    const writer = this.writerTypes.get(id);
    if (!writer) {
      return {
        ok: false,
        reason: `schema id ${id} unknown to the registry: ${this.missing.get(id) ?? 'not prepared'}`,
      };
    }
    let entry = this.resolvers.get(`${id}:${reader.name}`);
    if (!entry || entry.reader !== reader) {
      try {
        entry = { reader, resolver: reader.createResolver(writer) };
      } catch (error) {
        return {
          ok: false,
          reason: `schema id ${id} cannot be read as ${reader.name}: ${(error as Error).message}`,
        };
      }
      this.resolvers.set(`${id}:${reader.name}`, entry);
    }
    try {
      const { value, offset } = reader.decode(buffer, HEADER, entry.resolver);
      if (offset < 0) return { ok: false, reason: `Avro body is truncated for schema id ${id}` };
      if (offset !== buffer.length) {
        return {
          ok: false,
          reason: `Avro body is ${buffer.length - HEADER} bytes but schema id ${id} consumed ${offset - HEADER}`,
        };
      }
      return { ok: true, value: value as T, schemaId: id };
    } catch (error) {
      return {
        ok: false,
        reason: `Avro body does not decode with schema id ${id}: ${(error as Error).message}`,
      };
    }
  }
}
