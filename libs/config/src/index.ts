export { defineConfigSection, type ConfigOf, type ConfigSection } from './config-section.js';
export { ConfigError, loadConfig, type LoadConfigOptions } from './load-config.js';
export { configFields } from './config-fields.js';
