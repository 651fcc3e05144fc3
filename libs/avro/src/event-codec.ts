import { latestSchema, subjectName, type EventStream } from '@sentio/events';
import avro from 'avsc';
import type { AvroSerde, DecodeResult, Encoder } from './avro-serde.js';

/**
 * The codec of one event stream on one topic: encodes with the newest schema in schemas/ (registered under
 * the topic's subject) and decodes any registered version into that newest shape.
 */
export class EventCodec<T> {
  readonly reader: avro.Type;

  private constructor(
    private readonly serde: AvroSerde,
    private readonly encoder: Encoder<T>,
    readonly topic: string,
  ) {
    this.reader = avro.Type.forSchema(latestSchema(encoder.event).schema as avro.Schema);
  }

  static async register<T>(serde: AvroSerde, stream: EventStream<T>, topic: string): Promise<EventCodec<T>> {
    const encoder = await serde.encoderFor<T>(
      subjectName(topic),
      latestSchema(stream.event).schema,
      stream.event,
    );
    return new EventCodec(serde, encoder, topic);
  }

  encode(record: T): Buffer {
    return this.encoder.encode(record);
  }

  prepare(values: Iterable<Buffer | null>): Promise<void> {
    return this.serde.prepare(values);
  }

  decode(value: Buffer | null): DecodeResult<T> {
    return this.serde.decode<T>(value, this.reader);
  }
}
