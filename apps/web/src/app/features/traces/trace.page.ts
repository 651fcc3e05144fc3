import { ChangeDetectionStrategy, Component, computed, inject, input, resource } from '@angular/core';
import { RouterLink } from '@angular/router';
import { TracesDataService } from './traces-data.service';
import { formatMicros, waterfall } from './waterfall.util';

/** One trace as a waterfall: spans in tree order, bars on a shared time axis. */
@Component({
  selector: 'sn-trace',
  imports: [RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <p><a routerLink="/traces" queryParamsHandling="merge">← Traces</a></p>
      <h1>
        Trace <code>{{ traceId() }}</code>
      </h1>
      @if (trace.error()) {
        <p class="sn-error" role="alert">{{ trace.error() }}</p>
      }
      <p class="sn-muted">{{ rows().length }} spans · {{ total() }}</p>
      <div class="waterfall" role="list" aria-label="Spans in call order" data-testid="waterfall">
        @for (r of rows(); track r.span.spanId) {
          <div
            class="row"
            role="listitem"
            data-testid="waterfall-row"
            [attr.aria-label]="r.span.serviceName + ' ' + r.span.name + ', ' + micros(r.span.durationUs)"
          >
            <span class="label" [style.padding-left.px]="8 + r.depth * 14">
              <b>{{ r.span.serviceName }}</b> {{ r.span.name }}
            </span>
            <span class="track">
              <span
                class="bar"
                [class.error]="r.span.status === 'ERROR'"
                [style.left.%]="r.offsetPct"
                [style.width.%]="r.widthPct"
              ></span>
            </span>
            <span class="dur">{{ micros(r.span.durationUs) }}</span>
          </div>
        } @empty {
          @if (!trace.isLoading()) {
            <p class="sn-muted">No spans for this trace.</p>
          }
        }
      </div>
    </section>
  `,
  styles: `
    .waterfall {
      display: flex;
      flex-direction: column;
      background: var(--mat-sys-surface-container-low);
      border-radius: 12px;
      padding: 8px 0;
    }
    .row {
      display: grid;
      grid-template-columns: minmax(12rem, 30%) 1fr 6rem;
      align-items: center;
      min-height: 28px;
      gap: 8px;
    }
    .label {
      overflow: hidden;
      text-overflow: ellipsis;
      white-space: nowrap;
    }
    .track {
      position: relative;
      height: 14px;
    }
    .bar {
      position: absolute;
      top: 0;
      height: 14px;
      border-radius: 3px;
      background: #42a5f5;
    }
    .bar.error {
      background: #ef5350;
    }
    .dur {
      text-align: right;
      padding-right: 8px;
      font-variant-numeric: tabular-nums;
    }
  `,
})
export default class TracePage {
  private readonly data = inject(TracesDataService);
  readonly traceId = input.required<string>();
  protected readonly trace = resource({
    params: () => this.traceId(),
    loader: ({ params, abortSignal }) => this.data.trace(params, abortSignal),
  });
  protected readonly rows = computed(() =>
    waterfall((this.trace.hasValue() ? this.trace.value() : undefined) ?? []),
  );
  protected readonly total = computed(() => {
    const spans = (this.trace.hasValue() ? this.trace.value() : undefined) ?? [];
    if (!spans.length) return '';
    const start = Math.min(...spans.map((s) => s.startTimeUs));
    const end = Math.max(...spans.map((s) => s.startTimeUs + s.durationUs));
    return formatMicros(end - start);
  });

  protected micros(us: number): string {
    return formatMicros(us);
  }
}
