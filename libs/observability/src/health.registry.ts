import { Injectable } from '@nestjs/common';

export type HealthState = 'up' | 'degraded' | 'down';

export interface HealthReport {
  state: HealthState;
  detail?: Record<string, unknown>;
}

export type HealthCheck = () => HealthReport | Promise<HealthReport>;

export interface HealthSummary {
  status: HealthState;
  components: Record<string, HealthReport>;
}

/** Components register a check; /health reports each and the worst of them. */
@Injectable()
export class HealthRegistry {
  private readonly checks = new Map<string, HealthCheck>();

  register(name: string, check: HealthCheck): void {
    this.checks.set(name, check);
  }

  async summary(): Promise<HealthSummary> {
    const components: Record<string, HealthReport> = {};
    await Promise.all(
      [...this.checks].map(async ([name, check]) => {
        try {
          components[name] = await check();
        } catch (error) {
          components[name] = { state: 'down', detail: { error: (error as Error).message } };
        }
      }),
    );
    const states = Object.values(components).map((c) => c.state);
    const status: HealthState = states.includes('down')
      ? 'down'
      : states.includes('degraded')
        ? 'degraded'
        : 'up';
    return { status, components };
  }
}
