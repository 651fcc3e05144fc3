export * from './rules/alert-rule.schema.js';
export { parseDuration, formatDuration } from './rules/duration.util.js';
export { readRuleFiles } from './rules/rule-provisioning.js';
export type { EngineInput, ConditionResult } from './evaluation/engine-input.type.js';
export {
  AlertEngine,
  RuleSet,
  alertFingerprint,
  renderTemplate,
  selectorMatches,
  type AlertTransition,
  type InstanceSnapshot,
} from './evaluation/alert-engine.js';
export { contextSeverity, type AlertStatus } from './evaluation/alert-state-machine.js';
