export const ALERTING_CONFIG = Symbol('AlertingConfig');
