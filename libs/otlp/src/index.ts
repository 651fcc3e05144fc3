export { otlpConfigSection, type OtlpConfig } from './otlp.config.js';
export { OtlpModule } from './otlp.module.js';
export { OtlpReceiver, otlpDeadLetterHeaders } from './otlp-receiver.service.js';
export { OTLP_SOURCE } from './otlp-mapping.util.js';
