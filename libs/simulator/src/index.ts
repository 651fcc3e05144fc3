export { Plant } from './plant.js';
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
