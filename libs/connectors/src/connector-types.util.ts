import type { ConnectorContext, Connector } from './connector.type.js';
import { modbusConnectorType } from './modbus/modbus.connector.js';
import type { ModbusConfig } from './modbus/modbus.config.js';
import { mqttConnectorType } from './mqtt/mqtt.connector.js';
import type { MqttConfig } from './mqtt/mqtt.config.js';
import { zigbee2mqttConnectorType } from './zigbee2mqtt/zigbee2mqtt.connector.js';
import type { Zigbee2mqttConfig } from './zigbee2mqtt/zigbee2mqtt.config.js';

/** Every connector type, by the `type:` that selects it in the connectors file. */
export const connectorTypes = {
  mqtt: mqttConnectorType,
  zigbee2mqtt: zigbee2mqttConnectorType,
  modbus: modbusConnectorType,
};

export type ConnectorConfig = MqttConfig | Zigbee2mqttConfig | ModbusConfig;

export function createConnector(config: ConnectorConfig, context: ConnectorContext): Connector {
  switch (config.type) {
    case 'mqtt':
      return connectorTypes.mqtt.create(config, context);
    case 'zigbee2mqtt':
      return connectorTypes.zigbee2mqtt.create(config, context);
    case 'modbus':
      return connectorTypes.modbus.create(config, context);
  }
}
