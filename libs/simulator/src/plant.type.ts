import type { MetricDescriptor, Quality, TelemetrySample } from '@sentio/events';

// The simulator emits the very records of schemas/: its types are the generated ones.
export type { MetricDescriptor, Quality };

export type DeviceKind = 'pump' | 'motor' | 'environment_sensor';

export type SimulatedSample = TelemetrySample;

export interface SimulatedDevice {
  id: string;
  type: DeviceKind;
  vendor: string;
  model: string;
  labels: Record<string, string>;
  metrics: MetricDescriptor[];
}

/** `load_rise` is a healthy scenario, not a fault: a slow, physically consistent rise in demand. */
export type FaultKind = 'bearing_wear' | 'leak' | 'stuck_sensor' | 'spike' | 'dropout' | 'load_rise';

/** How a dropout shows: samples absent altogether, or sent as BAD with a null value (what OPC UA servers do). */
export type DropoutMode = 'missing' | 'bad';

export interface FaultSpec {
  deviceId: string;
  kind: FaultKind;
  startMs: number;
  /** Absent: the fault lasts for the rest of the run. */
  durationMs?: number;
  /** Scales the fault's effect; 1 when absent. */
  severity?: number;
  /** For stuck_sensor and spike (default: the device's first metric) and dropout (default: every metric). */
  metric?: string;
  /** For dropout only; 'bad' when absent. */
  mode?: DropoutMode;
}

export interface PlantOptions {
  devices: number;
  seed?: number;
  /** When given, every device settles into steady state at this instant; otherwise at its first sample. */
  startMs?: number;
  faults?: FaultSpec[];
  source?: string;
}
