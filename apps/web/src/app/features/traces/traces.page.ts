import { DatePipe } from '@angular/common';
import {
  ChangeDetectionStrategy,
  Component,
  effect,
  inject,
  input,
  linkedSignal,
  resource,
  untracked,
} from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { SPAN_STATUSES } from '../../core/api/api.types';
import { TimeRangeService } from '../../core/time/time-range.service';
import { TracesDataService } from './traces-data.service';
import { formatMicros } from './waterfall.util';

@Component({
  selector: 'sn-traces',
  imports: [DatePipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Traces</h1>
      <form class="sn-filters" role="search" (submit)="search($event)">
        <label
          >Service <input name="service" [value]="serviceState()" size="14" data-testid="traces-service"
        /></label>
        <label>Name <input name="name" [value]="nameState()" size="14" /></label>
        <label
          >Min duration (ms) <input name="min" type="number" min="0" [value]="minState()" style="width: 6rem"
        /></label>
        <label>
          Status
          <select name="status" [value]="statusState()">
            <option value="">any</option>
            @for (s of statuses; track s) {
              <option [value]="s">{{ s }}</option>
            }
          </select>
        </label>
        <button type="submit" data-testid="traces-search">Search</button>
      </form>
      @if (spans.error()) {
        <p class="sn-error" role="alert">{{ spans.error() }}</p>
      }
      <table class="sn-table" aria-label="Matching spans, newest first">
        <thead>
          <tr>
            <th scope="col">Start</th>
            <th scope="col">Service</th>
            <th scope="col">Span</th>
            <th scope="col">Device</th>
            <th scope="col">Duration</th>
            <th scope="col">Status</th>
          </tr>
        </thead>
        <tbody>
          @for (s of (spans.hasValue() ? spans.value() : undefined) ?? []; track s.spanId) {
            <tr data-testid="span-row">
              <td>{{ s.startTime | date: 'MMM d HH:mm:ss.SSS' }}</td>
              <td>{{ s.serviceName }}</td>
              <td>
                <a [routerLink]="['/traces', s.traceId]" queryParamsHandling="merge">{{ s.name }}</a>
              </td>
              <td>{{ s.deviceId }}</td>
              <td>{{ micros(s.durationUs) }}</td>
              <td [class.sn-error]="s.status === 'ERROR'">{{ s.status }}</td>
            </tr>
          } @empty {
            <tr>
              <td colspan="6" class="sn-muted">No spans match in this range.</td>
            </tr>
          }
        </tbody>
      </table>
    </section>
  `,
})
export default class TracesPage {
  private readonly data = inject(TracesDataService);
  private readonly router = inject(Router);
  protected readonly time = inject(TimeRangeService);
  protected readonly statuses = SPAN_STATUSES;

  readonly service = input<string>();
  readonly name = input<string>();
  readonly min = input<string>();
  readonly status = input<string>();
  protected readonly serviceState = linkedSignal(() => this.service() ?? '');
  protected readonly nameState = linkedSignal(() => this.name() ?? '');
  protected readonly minState = linkedSignal(() => this.min() ?? '');
  protected readonly statusState = linkedSignal(() => this.status() ?? '');

  protected readonly spans = resource({
    params: () => ({
      service: this.serviceState() || undefined,
      name: this.nameState() || undefined,
      minDurationMs: this.minState() ? Number(this.minState()) : undefined,
      status: this.statusState() || undefined,
      ...this.time.range(),
    }),
    loader: ({ params, abortSignal }) => this.data.search(params, abortSignal),
  });

  constructor() {
    effect(() => {
      const queryParams = {
        service: this.serviceState() || null,
        name: this.nameState() || null,
        min: this.minState() || null,
        status: this.statusState() || null,
      };
      untracked(
        () => void this.router.navigate([], { queryParams, queryParamsHandling: 'merge', replaceUrl: true }),
      );
    });
  }

  protected search(event: Event): void {
    event.preventDefault();
    const form = new FormData(event.target as HTMLFormElement);
    this.serviceState.set(String(form.get('service') ?? ''));
    this.nameState.set(String(form.get('name') ?? ''));
    this.minState.set(String(form.get('min') ?? ''));
    this.statusState.set(String(form.get('status') ?? ''));
  }

  protected micros(us: number): string {
    return formatMicros(us);
  }
}
