import { DatePipe } from '@angular/common';
import { ChangeDetectionStrategy, Component, computed, inject, input, resource, signal } from '@angular/core';
import { Router, RouterLink } from '@angular/router';
import { ApiClient } from '../../core/api/api-client.service';
import { AuthService } from '../../core/auth/auth.service';
import { TimeRangeService } from '../../core/time/time-range.service';
import {
  parseRuleText,
  previewCounts,
  previewLanes,
  ruleProblems,
  type PreviewResult,
  type RuleProblem,
} from './rule-editor.util';

/** A rule as the alerting API lists it (the latest revision of the rule stream). */
interface RuleRecord {
  ruleId: string;
  revision: number;
  name: string;
  kind: string;
  paused: boolean;
  deleted: boolean;
  definition: string;
  source: string;
  sourceFile: string | null;
  updatedAtMs: number;
  updatedBy: string;
}

/** What a new rule starts from: the README's rule model, a threshold on one metric. */
const NEW_RULE = {
  id: 'new-rule',
  name: 'New rule',
  condition: {
    kind: 'threshold',
    metric: 'bearing_temperature',
    aggregation: 'avg',
    window: '1m',
    op: '>',
    threshold: 72,
  },
  selector: { deviceType: 'pump' },
  for: '1m',
  severity: 'major',
};

/**
 * Alert rules from the alerting API: the list with pause/resume and delete, and an editor of the rule as
 * JSON (the API's rule shape) whose "Preview" backtests it over the console's time range. Changes need the
 * operator role (the API enforces it; the buttons follow it); a viewer may still preview.
 */
@Component({
  selector: 'sn-alert-rules',
  imports: [DatePipe, RouterLink],
  changeDetection: ChangeDetectionStrategy.OnPush,
  template: `
    <section class="sn-page">
      <h1>Alert rules</h1>
      <p><a routerLink="/alerts" queryParamsHandling="merge">← Alerts</a></p>
      @if (rules.error()) {
        <p class="sn-error" role="alert">{{ rules.error() }}</p>
      }
      @if (message()) {
        <p role="status">{{ message() }}</p>
      }
      <table class="sn-table" aria-label="Alert rules">
        <thead>
          <tr>
            <th scope="col">Rule</th>
            <th scope="col">Kind</th>
            <th scope="col">State</th>
            <th scope="col">Revision</th>
            <th scope="col">Changed</th>
            <th scope="col"><span class="visually-hidden">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          @for (r of list(); track r.ruleId) {
            <tr data-testid="rule-row">
              <td>
                <b>{{ r.name }}</b> · <code>{{ r.ruleId }}</code>
              </td>
              <td>{{ r.kind }}</td>
              <td>
                <span class="sn-badge" [class.danger]="r.paused">{{ r.paused ? 'paused' : 'active' }}</span>
              </td>
              <td>{{ r.revision }}{{ r.source === 'PROVISIONED' ? ' (file)' : '' }}</td>
              <td>{{ r.updatedAtMs | date: 'MMM d HH:mm' }} {{ r.updatedBy }}</td>
              <td>
                <button type="button" (click)="edit(r)">{{ canChange() ? 'Edit' : 'View' }}</button>
                @if (canChange()) {
                  <button type="button" (click)="setPaused(r, !r.paused)">
                    {{ r.paused ? 'Resume' : 'Pause' }}
                  </button>
                  @if (confirming() === r.ruleId) {
                    <button type="button" class="danger" (click)="remove(r)">Confirm delete</button>
                    <button type="button" (click)="confirming.set(undefined)">Keep</button>
                  } @else {
                    <button type="button" (click)="confirming.set(r.ruleId)">Delete</button>
                  }
                }
              </td>
            </tr>
          } @empty {
            <tr>
              <td colspan="6" class="sn-muted">No rules.</td>
            </tr>
          }
        </tbody>
      </table>
      <article class="sn-card">
        <h2>{{ editing() ? 'Rule ' + editing() : 'New rule' }}</h2>
        <form class="editor" (submit)="save($event)">
          <label for="rule-text">Rule (JSON in the API's rule shape)</label>
          <textarea
            id="rule-text"
            rows="16"
            spellcheck="false"
            [value]="text.value()"
            (input)="text.set($any($event.target).value)"
            [attr.aria-invalid]="problems().length > 0"
            aria-describedby="rule-problems"
          ></textarea>
          <ul id="rule-problems" class="problems" aria-live="polite">
            @for (p of problems(); track $index) {
              <li class="sn-error" data-testid="rule-problem">
                <code>{{ p.field }}</code> {{ p.message }}
              </li>
            }
          </ul>
          <div class="actions">
            <button type="button" (click)="preview()" [disabled]="previewing()">
              {{ previewing() ? 'Previewing…' : 'Preview' }}
            </button>
            <span class="sn-muted"
              >over {{ time.range().fromMs | date: 'MMM d HH:mm' }} –
              {{ time.range().toMs | date: 'MMM d HH:mm' }} (the time range above)</span
            >
            @if (canChange()) {
              <button type="submit">{{ editing() ? 'Save' : 'Create' }}</button>
              <button type="button" (click)="startNew()">New rule</button>
            }
          </div>
        </form>
        @if (result(); as r) {
          <section aria-label="Preview">
            <h2>Preview</h2>
            <p data-testid="preview-summary">
              {{ r.inputs }} inputs; would have fired {{ counts().fired }} and resolved
              {{ counts().resolved }} times ({{ r.from | date: 'MMM d HH:mm' }} –
              {{ r.to | date: 'MMM d HH:mm' }}).
            </p>
            <div class="lanes" role="list">
              @for (lane of lanes(); track lane.alertId) {
                <div class="lane" role="listitem">
                  <span class="who">{{ lane.deviceId || lane.alertId }}</span>
                  <span class="track">
                    @for (s of lane.segments; track s.fromMs) {
                      <span
                        [class]="'seg ' + s.status"
                        [style.left.%]="s.left"
                        [style.width.%]="s.width"
                        [title]="
                          s.status + ' ' + (s.fromMs | date: 'HH:mm:ss') + '–' + (s.toMs | date: 'HH:mm:ss')
                        "
                      ></span>
                    }
                  </span>
                </div>
              } @empty {
                <p class="sn-muted">The rule would not have fired in this range.</p>
              }
            </div>
            <table class="sn-table" aria-label="Preview transitions">
              <thead>
                <tr>
                  <th scope="col">At</th>
                  <th scope="col">Device</th>
                  <th scope="col">Transition</th>
                  <th scope="col">Severity</th>
                  <th scope="col">Value</th>
                  <th scope="col">Title</th>
                </tr>
              </thead>
              <tbody>
                @for (t of r.transitions; track $index) {
                  <tr data-testid="preview-transition">
                    <td>{{ t.ts | date: 'MMM d HH:mm:ss' }}</td>
                    <td>{{ t.deviceId }}</td>
                    <td>{{ t.previous }} → {{ t.status }}</td>
                    <td>{{ t.severity }}</td>
                    <td>{{ t.value }}</td>
                    <td>{{ t.title }}</td>
                  </tr>
                }
              </tbody>
            </table>
          </section>
        }
      </article>
    </section>
  `,
  styles: `
    .editor {
      display: flex;
      flex-direction: column;
      gap: 6px;
    }
    textarea {
      font-family: var(--sn-mono, monospace);
      width: 100%;
      box-sizing: border-box;
    }
    .problems {
      margin: 0;
      padding-left: 18px;
    }
    .actions {
      display: flex;
      flex-wrap: wrap;
      gap: 6px;
      align-items: center;
    }
    .lane {
      display: flex;
      gap: 8px;
      align-items: center;
      margin: 2px 0;
    }
    .who {
      width: 140px;
      overflow: hidden;
      text-overflow: ellipsis;
    }
    .track {
      position: relative;
      flex: 1;
      height: 14px;
      background: var(--mat-sys-surface-container);
      border-radius: 3px;
    }
    .seg {
      position: absolute;
      top: 0;
      bottom: 0;
      min-width: 2px;
      background: var(--mat-sys-tertiary);
    }
    .seg.firing {
      background: var(--mat-sys-error);
    }
    .seg.pending {
      background: var(--mat-sys-secondary);
    }
  `,
})
export default class RulesPage {
  private readonly api = inject(ApiClient);
  private readonly auth = inject(AuthService);
  private readonly router = inject(Router);
  protected readonly time = inject(TimeRangeService);
  /** The rule in the editor, from the URL (`?rule=`), so an edited rule is linkable. */
  readonly rule = input<string>();
  protected readonly canChange = computed(() => this.auth.can('operator'));
  protected readonly message = signal('');
  protected readonly problems = signal<RuleProblem[]>([]);
  protected readonly result = signal<PreviewResult | undefined>(undefined);
  protected readonly previewing = signal(false);
  /** The rule whose Delete was pressed once: deleting asks twice, inline, not in a modal. */
  protected readonly confirming = signal<string | undefined>(undefined);
  private readonly version = signal(0);
  private readonly draft = signal<{ id: string | undefined; text: string } | undefined>(undefined);

  protected readonly rules = resource({
    params: () => ({ v: this.version(), tick: this.time.tick() }),
    loader: ({ abortSignal }) => this.api.get<RuleRecord[]>('/api/alerting/rules', {}, abortSignal),
  });
  protected readonly list = computed(() =>
    (this.rules.hasValue() ? this.rules.value() : []).filter((r) => !r.deleted),
  );
  protected readonly editing = computed(() => this.draft()?.id ?? this.rule());
  /** The editor's text: what was typed, else the URL's rule from the list, else the new-rule template. */
  protected readonly text = {
    value: computed(() => {
      const draft = this.draft();
      if (draft) return draft.text;
      const record = this.list().find((r) => r.ruleId === this.rule());
      return record ? pretty(record.definition) : JSON.stringify(NEW_RULE, null, 2);
    }),
    set: (text: string) => this.draft.set({ id: this.editing(), text }),
  };
  protected readonly lanes = computed(() => {
    const result = this.result();
    return result ? previewLanes(result) : [];
  });
  protected readonly counts = computed(() => {
    const result = this.result();
    return result ? previewCounts(result) : { fired: 0, resolved: 0 };
  });

  protected edit(record: RuleRecord): void {
    this.draft.set({ id: record.ruleId, text: pretty(record.definition) });
    this.problems.set([]);
    this.result.set(undefined);
    void this.router.navigate([], {
      queryParams: { rule: record.ruleId },
      queryParamsHandling: 'merge',
      replaceUrl: true,
    });
  }

  protected startNew(): void {
    this.draft.set({ id: undefined, text: JSON.stringify(NEW_RULE, null, 2) });
    this.problems.set([]);
    this.result.set(undefined);
    void this.router.navigate([], {
      queryParams: { rule: null },
      queryParamsHandling: 'merge',
      replaceUrl: true,
    });
  }

  protected async preview(): Promise<void> {
    const parsed = parseRuleText(this.text.value());
    if ('problem' in parsed) return this.problems.set([parsed.problem]);
    const { fromMs, toMs } = this.time.range();
    this.previewing.set(true);
    try {
      const result = await this.api.post<PreviewResult>('/api/alerting/rules/preview', {
        rule: parsed.rule,
        from: new Date(fromMs).toISOString(),
        to: new Date(toMs).toISOString(),
      });
      this.problems.set([]);
      this.result.set(result);
    } catch (error) {
      this.problems.set(ruleProblems(error instanceof Error ? error.message : String(error)));
    } finally {
      this.previewing.set(false);
    }
  }

  protected async save(event: Event): Promise<void> {
    event.preventDefault();
    const parsed = parseRuleText(this.text.value());
    if ('problem' in parsed) return this.problems.set([parsed.problem]);
    const id = this.editing();
    try {
      const record = id
        ? await this.api.put<RuleRecord>(`/api/alerting/rules/${encodeURIComponent(id)}`, parsed.rule)
        : await this.api.post<RuleRecord>('/api/alerting/rules', parsed.rule);
      this.problems.set([]);
      this.message.set(`Saved ${record?.ruleId ?? id} (revision ${record?.revision ?? '?'}).`);
      if (record) this.edit(record);
      this.version.update((v) => v + 1);
    } catch (error) {
      this.problems.set(ruleProblems(error instanceof Error ? error.message : String(error)));
    }
  }

  protected async setPaused(record: RuleRecord, paused: boolean): Promise<void> {
    const verb = paused ? 'pause' : 'resume';
    await this.run(
      () => this.api.post(`/api/alerting/rules/${encodeURIComponent(record.ruleId)}/${verb}`, {}),
      `${paused ? 'Paused' : 'Resumed'} ${record.name}.`,
    );
  }

  protected async remove(record: RuleRecord): Promise<void> {
    this.confirming.set(undefined);
    await this.run(
      () => this.api.delete(`/api/alerting/rules/${encodeURIComponent(record.ruleId)}`),
      `Deleted ${record.name}.`,
    );
  }

  private async run(action: () => Promise<unknown>, done: string): Promise<void> {
    try {
      await action();
      this.message.set(done);
      this.version.update((v) => v + 1);
    } catch (error) {
      this.message.set(error instanceof Error ? error.message : String(error));
    }
  }
}

/** The stored definition (JSON text) indented for editing; left as is when it does not parse. */
function pretty(definition: string): string {
  try {
    return JSON.stringify(JSON.parse(definition), null, 2);
  } catch {
    return definition;
  }
}
