export { ModbusRegisterMap, MAX_MODBUS_UNITS } from './modbus-register-map.util.js';
export { ModbusServerPeer } from './modbus-server.peer.js';
export {
  MqttPublisherPeer,
  ieeeAddressOf,
  z2mBridgeDevices,
  type MqttPublisherOptions,
} from './mqtt-publisher.peer.js';
export { OpcuaServerPeer, type OpcuaServerPeerOptions } from './opcua-server.peer.js';
