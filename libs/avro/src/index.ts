export { avroConfigSection, type AvroConfig } from './avro.config.js';
export { AvroEncodeError, AvroSerde, type DecodeResult, type Encoder } from './avro-serde.js';
export { EventCodec } from './event-codec.js';
export { AvroModule } from './avro.module.js';
