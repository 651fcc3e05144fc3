import type { DeviceKind, MetricDescriptor } from './plant.type.js';

export interface MetricSpec extends MetricDescriptor {
  /** Standard deviation of white measurement noise. */
  readonly noise: number;
  /** Stationary standard deviation of slow calibration drift. */
  readonly drift: number;
  /** Typical height of a glitch when the spike fault is active. */
  readonly spike: number;
  /** Physical range the sensor can report. */
  readonly min: number;
  readonly max: number;
}

export interface KindSpec {
  readonly idPrefix: string;
  readonly assetPrefix: string;
  readonly metrics: readonly MetricSpec[];
  readonly hardware: readonly { vendor: string; model: string }[];
}

const metric = (
  name: string,
  unit: string,
  noise: number,
  drift: number,
  spike: number,
  min = 0,
  max = Number.POSITIVE_INFINITY,
): MetricSpec => ({ name, unit, noise, drift, spike, min, max });

export const DEVICE_KINDS: Readonly<Record<DeviceKind, KindSpec>> = {
  pump: {
    idPrefix: 'pump',
    assetPrefix: 'P',
    metrics: [
      metric('flow_rate', 'm3/h', 0.8, 1, 150),
      metric('discharge_pressure', 'bar', 0.03, 0.05, 6),
      metric('motor_current', 'A', 0.3, 0.3, 60),
      metric('vibration_rms', 'mm/s', 0.08, 0.05, 10),
      metric('bearing_temperature', 'degC', 0.15, 0.3, 60, -40),
    ],
    hardware: [
      { vendor: 'Grundfos', model: 'CR 32-4' },
      { vendor: 'KSB', model: 'Etanorm 080-065-200' },
      { vendor: 'Sulzer', model: 'AHLSTAR A12-50' },
    ],
  },
  motor: {
    idPrefix: 'motor',
    assetPrefix: 'M',
    metrics: [
      metric('speed_rpm', 'rpm', 3, 2, 1500),
      metric('current', 'A', 0.3, 0.3, 60),
      metric('winding_temperature', 'degC', 0.2, 0.3, 80, -40),
      metric('vibration_rms', 'mm/s', 0.06, 0.05, 10),
      metric('power_kw', 'kW', 0.2, 0.2, 50),
    ],
    hardware: [
      { vendor: 'Siemens', model: '1LE1003' },
      { vendor: 'ABB', model: 'M3BP 200' },
      { vendor: 'WEG', model: 'W22 IE3' },
    ],
  },
  environment_sensor: {
    idPrefix: 'env',
    assetPrefix: 'AREA',
    metrics: [
      metric('temperature', 'degC', 0.1, 0.2, 30, -40),
      metric('humidity', '%', 0.5, 1, 40, 0, 100),
      metric('co2', 'ppm', 8, 10, 1500),
    ],
    hardware: [
      { vendor: 'Vaisala', model: 'HMW90' },
      { vendor: 'Sensirion', model: 'SCD41' },
    ],
  },
};

/** Device i of a plant has kind KIND_ROTATION[i % 5]: 40% pumps, 40% motors, 20% environment sensors. */
export const KIND_ROTATION: readonly DeviceKind[] = ['pump', 'motor', 'pump', 'motor', 'environment_sensor'];

const KIND_BY_PREFIX = new Map<string, DeviceKind>(
  (Object.keys(DEVICE_KINDS) as DeviceKind[]).map((kind) => [DEVICE_KINDS[kind].idPrefix, kind]),
);

/** The kind a device id like pump-0003 names, if any. */
export function kindOfDeviceId(deviceId: string): DeviceKind | undefined {
  const match = /^([a-z]+)-\d{4,}$/.exec(deviceId);
  return match?.[1] === undefined ? undefined : KIND_BY_PREFIX.get(match[1]);
}
