import { Pipe, type PipeTransform } from '@angular/core';

/** "12 s ago", "3 min ago", "2 h ago", "4 d ago"; "never" when absent. Pure: pass `now` to re-evaluate. */
export function relativeTime(iso: string | null | undefined, nowMs: number): string {
  if (!iso) return 'never';
  const s = Math.max(0, Math.round((nowMs - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}

@Pipe({ name: 'relativeTime' })
export class RelativeTimePipe implements PipeTransform {
  transform(iso: string | null | undefined, nowMs: number): string {
    return relativeTime(iso, nowMs);
  }
}
