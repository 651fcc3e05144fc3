import { ChangeDetectionStrategy, Component, input, output } from '@angular/core';
import { NgxEchartsDirective } from 'ngx-echarts';
import type { ECharts } from 'echarts/core';
import type { ChartOption } from './chart-options.util';

/**
 * A chart: ngx-echarts over the tree-shaken core, in a labelled figure. Charts sharing a `group` get a linked
 * crosshair (echarts.connect); a zoom (drag or shift+wheel) is reported as an absolute range.
 */
@Component({
  selector: 'sn-chart',
  imports: [NgxEchartsDirective],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <figure class="chart" [attr.aria-label]="label()" role="img">
      <div
        class="canvas"
        echarts
        [options]="option()"
        [style.height.px]="height()"
        (chartInit)="onInit($event)"
        (chartDataZoom)="onZoom()"
      ></div>
    </figure>
  `,
  styles: `
    .chart {
      margin: 0;
    }
    .canvas {
      width: 100%;
    }
  `,
})
export class ChartComponent {
  readonly option = input.required<ChartOption>();
  readonly label = input.required<string>();
  readonly height = input(220);
  readonly group = input<string>();
  readonly zoom = output<{ fromMs: number; toMs: number }>();
  readonly ready = output<ECharts>();

  private chart: ECharts | undefined;
  private zoomTimer: ReturnType<typeof setTimeout> | undefined;

  async onInit(chart: ECharts): Promise<void> {
    this.chart = chart;
    const group = this.group();
    if (group) {
      chart.group = group;
      const { connect } = await import('./echarts.setup');
      connect(group);
    }
    this.ready.emit(chart);
  }

  onZoom(): void {
    clearTimeout(this.zoomTimer);
    // Wheel zoom fires continuously: settle first, then move the shared range once.
    this.zoomTimer = setTimeout(() => {
      const zoom = (
        this.chart?.getOption() as { dataZoom?: Array<{ startValue?: number; endValue?: number }> }
      )?.dataZoom?.[0];
      if (zoom?.startValue !== undefined && zoom.endValue !== undefined)
        this.zoom.emit({ fromMs: zoom.startValue, toMs: zoom.endValue });
    }, 500);
  }
}
