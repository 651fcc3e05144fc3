export { platformConfigSection, type PlatformConfig } from './platform.config.js';
export { loadSentioConfig, sentioSections, type SentioConfig } from './sentio-config.js';
export { resolveTargets, targets, type Target, type TargetName } from './targets.js';
export { platformModule, runPlatform } from './run-platform.js';
