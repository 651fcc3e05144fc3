import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CsvSeriesOptions {
  /** Column holding the time; without it rows are one second apart from 0. */
  timestampColumn: string;
  labelColumn: string;
  changepointColumn: string;
  /** Field separator; detected from the header (`;`, `,` or tab) when not given. */
  separator?: string;
}

/** One CSV file as a multivariate series: numeric feature columns plus optional labels. */
export interface CsvSeries {
  file: string;
  features: string[];
  timestampsMs: number[];
  rows: number[][];
  labels: number[] | undefined;
  changepoints: number[] | undefined;
}

/** The CSV files of a path: the file itself, or every .csv below a folder in a stable (sorted) order. */
export async function listCsvFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const entries = await readdir(path, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() && e.name.endsWith('.csv'))
    .map((e) => join(e.parentPath, e.name))
    .sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export async function readCsvSeries(file: string, options: CsvSeriesOptions): Promise<CsvSeries> {
  const text = await readFile(file, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines[0];
  if (header === undefined) throw new Error(`${file} is empty`);
  const sep = options.separator ?? detectSeparator(header);
  const columns = header.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
  const cells = lines.slice(1).map((l) => l.split(sep).map((c) => c.trim().replace(/^"(.*)"$/, '$1')));
  const col = (name: string) => columns.indexOf(name);
  const tsCol = col(options.timestampColumn);
  const labelCol = col(options.labelColumn);
  const cpCol = col(options.changepointColumn);
  const reserved = new Set([tsCol, labelCol, cpCol]);
  // A feature is any other column whose first row parses as a number.
  const featureCols = columns
    .map((_, i) => i)
    .filter((i) => !reserved.has(i) && cells.length > 0 && Number.isFinite(Number(cells[0]![i])));
  if (featureCols.length === 0) throw new Error(`${file} has no numeric feature columns`);

  const timestampsMs: number[] = [];
  const rows: number[][] = [];
  const labels: number[] = [];
  const changepoints: number[] = [];
  cells.forEach((cell, r) => {
    timestampsMs.push(tsCol >= 0 ? parseTimestamp(cell[tsCol] ?? '', file, r) : r * 1000);
    rows.push(featureCols.map((i) => toNumber(cell[i], file, r, columns[i]!)));
    if (labelCol >= 0) labels.push(toNumber(cell[labelCol], file, r, options.labelColumn) >= 0.5 ? 1 : 0);
    if (cpCol >= 0)
      changepoints.push(toNumber(cell[cpCol], file, r, options.changepointColumn) >= 0.5 ? 1 : 0);
  });
  return {
    file,
    features: featureCols.map((i) => columns[i]!),
    timestampsMs,
    rows,
    labels: labelCol >= 0 ? labels : undefined,
    changepoints: cpCol >= 0 ? changepoints : undefined,
  };
}

function detectSeparator(header: string): string {
  const counts = [';', ',', '\t'].map((s) => [s, header.split(s).length] as const);
  return counts.reduce((best, c) => (c[1] > best[1] ? c : best))[0];
}

/** ISO-like text without a zone is read as UTC, so results do not depend on the machine's time zone. */
function parseTimestamp(text: string, file: string, row: number): number {
  if (/^-?\d+(\.\d+)?$/.test(text)) {
    const n = Number(text);
    // Epoch seconds and epoch milliseconds differ by three orders of magnitude; 1e11 s is year 5138.
    return Math.abs(n) < 1e11 ? n * 1000 : n;
  }
  const iso = text.replace(' ', 'T');
  const ms = Date.parse(/[zZ]|[+-]\d\d:?\d\d$/.test(iso) ? iso : `${iso}Z`);
  if (!Number.isFinite(ms)) throw new Error(`${file}: row ${row + 2}: cannot read timestamp "${text}"`);
  return ms;
}

function toNumber(text: string | undefined, file: string, row: number, column: string): number {
  const n = Number(text);
  if (text === undefined || text === '' || !Number.isFinite(n))
    throw new Error(`${file}: row ${row + 2}: column ${column} is not a number ("${text ?? ''}")`);
  return n;
}
