import type { ConnectorContext, Connector } from './connector.type.js';
import { homeAssistantConnectorType } from './home-assistant/home-assistant.connector.js';
import type { HomeAssistantConfig } from './home-assistant/home-assistant.config.js';
import { modbusConnectorType } from './modbus/modbus.connector.js';
import type { ModbusConfig } from './modbus/modbus.config.js';
import { mqttConnectorType } from './mqtt/mqtt.connector.js';
import type { MqttConfig } from './mqtt/mqtt.config.js';
import { opcuaConnectorType } from './opcua/opcua.connector.js';
import type { OpcuaConfig } from './opcua/opcua.config.js';
import { zigbee2mqttConnectorType } from './zigbee2mqtt/zigbee2mqtt.connector.js';
import type { Zigbee2mqttConfig } from './zigbee2mqtt/zigbee2mqtt.config.js';

/** Every connector type, by the `type:` that selects it in the connectors file. */
export const connectorTypes = {
  mqtt: mqttConnectorType,
  zigbee2mqtt: zigbee2mqttConnectorType,
  modbus: modbusConnectorType,
  opcua: opcuaConnectorType,
  'home-assistant': homeAssistantConnectorType,
};

export type ConnectorConfig =
  MqttConfig | Zigbee2mqttConfig | ModbusConfig | OpcuaConfig | HomeAssistantConfig;

export function createConnector(config: ConnectorConfig, context: ConnectorContext): Connector {
  switch (config.type) {
    case 'mqtt':
      return connectorTypes.mqtt.create(config, context);
    case 'zigbee2mqtt':
      return connectorTypes.zigbee2mqtt.create(config, context);
    case 'modbus':
      return connectorTypes.modbus.create(config, context);
    case 'opcua':
      return connectorTypes.opcua.create(config, context);
    case 'home-assistant':
      return connectorTypes['home-assistant'].create(config, context);
  }
}
