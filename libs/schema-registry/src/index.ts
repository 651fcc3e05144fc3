export {
  startSchemaRegistry,
  type RunningSchemaRegistry,
  type SchemaRegistryOptions,
} from './registry-server.js';
export { schemaRegistryConfig, type SchemaRegistryConfig } from './config.js';
export {
  checkCompatibility,
  COMPATIBILITY_LEVELS,
  DEFAULT_COMPATIBILITY,
  isCompatibilityLevel,
  parseAvroSchema,
  type CompatibilityLevel,
  type CompatibilityResult,
} from './compatibility.js';
export { ErrorCode, RegistryError } from './registry-error.js';
