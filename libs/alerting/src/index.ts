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
export { alertingConfigSection, type AlertingConfig } from './alerting.config.js';
export { AlertingModule } from './alerting.module.js';
export { ALERTING_CONFIG } from './alerting.tokens.js';
export { alertingTopics } from './alerting-topics.js';
export { AlertRulesService } from './rules/alert-rules.service.js';
export { RuleCatalog, canonicalRule, ruleRecord } from './rules/rule-catalog.js';
export { transitionEvent } from './evaluation/alert-event.util.js';
export * from './evaluation/engine-input.util.js';
export { Silences, silenceActive, validateSilence, type Silence } from './dispatch/silences.js';
export type { DeliveryAttempt } from './notify/notification-log.js';
export { signBody } from './receivers/index.js';
export { buildDispatchConfig, NotificationConfigError } from './dispatch/dispatch-config.util.js';
export {
  backtest,
  readRuleInputs,
  warmUpMs,
  type BacktestResult,
  type ClickHouseInputs,
  type RuleInputs,
} from './backtest/backtest.js';
export { AlertingApiModule } from './api/alerting-api.module.js';
