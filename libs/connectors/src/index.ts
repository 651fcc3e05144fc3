export { connectorsConfigSection, parseConnectors, type ConnectorsConfig } from './connectors.config.js';
export { ConnectorsModule } from './connectors.module.js';
export { connectorTypes, type ConnectorConfig } from './connector-types.util.js';
export { connectorDeadLetterHeaders } from './connector-sink.service.js';
export type {
  Connector,
  ConnectorContext,
  ConnectorProtocol,
  ConnectorType,
  EventSink,
  RawDeadLetter,
} from './connector.type.js';
