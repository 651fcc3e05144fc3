export { avroToTypeScript } from './avro-to-typescript.js';
export { generatedTypesFile, renderEventTypes } from './render-event-types.js';
