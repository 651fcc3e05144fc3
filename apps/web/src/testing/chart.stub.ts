import { Component, input, output, type Type } from '@angular/core';
import { TestBed } from '@angular/core/testing';
import { ChartComponent } from '../app/shared/chart/chart.component';
import type { ChartOption } from '../app/shared/chart/chart-options.util';

/**
 * Stands in for `sn-chart` in page specs: jsdom has no canvas for ECharts. It keeps the option each chart
 * was given so a spec can check what the page would draw; the chart builders have their own specs.
 */
@Component({
  selector: 'sn-chart',
  template: `<figure role="img" [attr.aria-label]="label()"></figure>`,
})
export class ChartStub {
  static readonly drawn: ChartStub[] = [];
  readonly option = input.required<ChartOption>();
  readonly label = input.required<string>();
  readonly height = input(220);
  readonly group = input<string>();
  readonly zoom = output<{ fromMs: number; toMs: number }>();
  constructor() {
    ChartStub.drawn.push(this);
  }
}

export function stubCharts(page: Type<unknown>): void {
  ChartStub.drawn.length = 0;
  TestBed.overrideComponent(page, { remove: { imports: [ChartComponent] }, add: { imports: [ChartStub] } });
}
