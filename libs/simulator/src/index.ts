export { Plant } from './plant.js';
export { PlantJournal, type CycleTiming, type PlantJournalOptions } from './plant-journal.js';
// What a caller needs to address the plant's peers without loading them (node-opcua weighs ~100 MB).
export { MAX_MODBUS_UNITS } from './peers/modbus-register-map.util.js';
export { ieeeAddressOf } from './peers/ieee-address.util.js';
export { FaultSpecError, parseFaultSpec } from './faults.js';
export type {
  DeviceKind,
  DropoutMode,
  FaultKind,
  FaultSpec,
  MetricDescriptor,
  PlantOptions,
  Quality,
  SimulatedDevice,
  SimulatedSample,
} from './plant.type.js';
