import { Inject, Injectable } from '@nestjs/common';
import { AvroSerde, EventCodec } from '@sentio/avro';
import { eventStreams, type RecordOf, type StreamName } from '@sentio/events';
import { EVENT_TOPICS, type EventTopics } from './kafka.tokens.js';

/**
 * The codec of every stream of this namespace, registered once per process on first use. Registrations run
 * one at a time: Apicurio answers concurrent first registrations of a subject with a spurious conflict.
 */
@Injectable()
export class StreamCodecs {
  private readonly codecs = new Map<StreamName, Promise<EventCodec<unknown>>>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    @Inject(AvroSerde) private readonly serde: AvroSerde,
    @Inject(EVENT_TOPICS) private readonly topics: EventTopics,
  ) {}

  get<S extends StreamName>(stream: S): Promise<EventCodec<RecordOf<S>>> {
    let codec = this.codecs.get(stream);
    if (!codec) {
      const topic = this.topics[stream];
      codec = this.queue.then(() =>
        EventCodec.register(this.serde, eventStreams[stream] as never, topic),
      ) as Promise<EventCodec<unknown>>;
      this.queue = codec.catch(() => undefined);
      // A failed registration (registry down) is not cached: the next caller tries again.
      codec.catch(() => this.codecs.delete(stream));
      this.codecs.set(stream, codec);
    }
    return codec as Promise<EventCodec<RecordOf<S>>>;
  }

  /** The stream a topic of this namespace carries. */
  streamOf(topic: string): StreamName | undefined {
    return (Object.keys(eventStreams) as StreamName[]).find((s) => this.topics[s] === topic);
  }
}
