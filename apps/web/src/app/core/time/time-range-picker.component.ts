import { ChangeDetectionStrategy, Component, computed, inject, signal } from '@angular/core';
import { MatButtonModule } from '@angular/material/button';
import { MatMenuModule } from '@angular/material/menu';
import { TimeRangeService } from './time-range.service';
import {
  RELATIVE_PRESETS,
  REFRESH_CHOICES,
  describeRange,
  parseTime,
  type RefreshChoice,
} from './time-range.util';

/** The one time-range picker: relative presets, an absolute range, auto-refresh, "refresh now". */
@Component({
  selector: 'sn-time-range-picker',
  imports: [MatButtonModule, MatMenuModule],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <button mat-stroked-button [matMenuTriggerFor]="menu" aria-label="Time range" data-testid="time-range">
      {{ label() }}
    </button>
    <mat-menu #menu="matMenu" class="sn-range-menu">
      @for (preset of presets; track preset.from) {
        <button mat-menu-item (click)="time.setRange({ from: preset.from, to: 'now' })">
          {{ preset.label }}
        </button>
      }
      <form
        class="absolute"
        (click)="$event.stopPropagation()"
        (keydown)="$event.stopPropagation()"
        (submit)="applyAbsolute($event)"
      >
        <label
          >From
          <input type="datetime-local" name="from" [value]="absFrom()" (input)="absFrom.set(value($event))"
        /></label>
        <label
          >To <input type="datetime-local" name="to" [value]="absTo()" (input)="absTo.set(value($event))"
        /></label>
        <button mat-flat-button type="submit">Apply</button>
      </form>
    </mat-menu>
    <label class="refresh">
      <span class="visually-hidden">Auto-refresh</span>
      <select
        [value]="time.refresh()"
        (change)="setRefresh($event)"
        aria-label="Auto-refresh"
        data-testid="auto-refresh"
      >
        @for (choice of refreshChoices; track choice) {
          <option [value]="choice">{{ choice === 'off' ? 'Auto-refresh off' : 'Every ' + choice }}</option>
        }
      </select>
    </label>
    <button mat-icon-button (click)="time.reload()" aria-label="Refresh now" title="Refresh now">⟳</button>
  `,
  styles: `
    :host {
      display: inline-flex;
      align-items: center;
      gap: 6px;
    }
    .absolute {
      display: flex;
      flex-direction: column;
      gap: 6px;
      padding: 8px 16px;
    }
    /* The toolbar's title font would make the controls huge: body text, like the menu's. */
    select,
    input {
      font: var(--mat-sys-body-medium);
    }
    .absolute label {
      display: flex;
      flex-direction: column;
      font: var(--mat-sys-label-medium);
    }
  `,
})
export class TimeRangePickerComponent {
  protected readonly time = inject(TimeRangeService);
  protected readonly presets = RELATIVE_PRESETS;
  protected readonly refreshChoices = REFRESH_CHOICES;
  protected readonly label = computed(() => describeRange(this.time.spec()));
  protected readonly absFrom = signal(toLocalInput(this.time.range().fromMs));
  protected readonly absTo = signal(toLocalInput(this.time.range().toMs));

  protected value(event: Event): string {
    return (event.target as HTMLInputElement).value;
  }

  protected setRefresh(event: Event): void {
    this.time.setRefresh((event.target as HTMLSelectElement).value as RefreshChoice);
  }

  protected applyAbsolute(event: Event): void {
    event.preventDefault();
    const from = parseTime(new Date(this.absFrom()).toISOString(), Date.now());
    const to = parseTime(new Date(this.absTo()).toISOString(), Date.now());
    if (from !== undefined && to !== undefined && from < to) this.time.zoomTo(from, to);
  }
}

function toLocalInput(ms: number): string {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60_000);
  return d.toISOString().slice(0, 16);
}
