import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

export interface CsvSeriesOptions {
  /**
   * Column holding the time. Not given: the first of timestamp, datetime, time, date, ts (any case), else a
   * first column that reads as time; `null`: the file has none and rows are numbered (timestamps are then
   * row numbers in seconds from 0, and the caller says so). A named or detected column that is missing or
   * unreadable is an error, never silently replaced by row numbers.
   */
  timestampColumn?: string | null;
  labelColumn: string;
  changepointColumn: string;
  /** Value columns to use, in this order; not given: every other column whose first row is a number. */
  valueColumns?: readonly string[];
  /** Field separator; detected from the header (`;`, `,` or tab) when not given. */
  separator?: string;
}

/** One CSV file as a multivariate series: numeric feature columns plus optional labels. */
export interface CsvSeries {
  file: string;
  features: string[];
  /** The column the times came from; undefined when rows are numbered. */
  timestampColumn: string | undefined;
  timestampsMs: number[];
  rows: number[][];
  labels: number[] | undefined;
  changepoints: number[] | undefined;
}

const TIME_COLUMNS = ['timestamp', 'datetime', 'time', 'date', 'ts'];

/**
 * The CSV files of a path: the file itself, or every .csv below a folder (symbolic links to files and
 * folders followed) in a stable, natural order.
 */
export async function listCsvFiles(path: string): Promise<string[]> {
  if (!(await stat(path)).isDirectory()) return [path];
  const out: string[] = [];
  const seen = new Set<string>();
  seen.add(await realpath(path));
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      // A symbolic link's entry is neither file nor folder: ask the target.
      const target = entry.isSymbolicLink() ? await stat(full).catch(() => undefined) : entry;
      if (!target) continue;
      if (target.isDirectory()) {
        // Followed folder links could loop; each real folder is walked once.
        const key = await realpath(full);
        if (seen.has(key)) continue;
        seen.add(key);
        await walk(full);
      } else if (target.isFile() && entry.name.toLowerCase().endsWith('.csv')) out.push(full);
    }
  };
  await walk(path);
  return out.sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

export async function readCsvSeries(file: string, options: CsvSeriesOptions): Promise<CsvSeries> {
  const text = await readFile(file, 'utf8');
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  const header = lines[0];
  if (header === undefined) throw new Error(`${file} is empty`);
  const sep = options.separator ?? detectSeparator(header);
  const unquote = (c: string) => c.trim().replace(/^"(.*)"$/, '$1');
  const columns = header.split(sep).map(unquote);
  const cells = lines.slice(1).map((l) => l.split(sep).map(unquote));
  if (cells.length === 0) throw new Error(`${file} has a header but no rows`);
  const col = (name: string) => columns.indexOf(name);
  const tsCol = timestampColumnIndex(file, columns, cells[0]!, options.timestampColumn);
  const labelCol = col(options.labelColumn);
  const cpCol = col(options.changepointColumn);
  const reserved = new Set([tsCol, labelCol, cpCol]);
  let featureCols: number[];
  if (options.valueColumns && options.valueColumns.length > 0) {
    featureCols = options.valueColumns.map((name) => {
      const i = col(name);
      if (i < 0) throw new Error(`${file} has no column "${name}" (columns: ${columns.join(', ')})`);
      return i;
    });
  } else {
    // A feature is any other column whose first row parses as a number.
    featureCols = columns
      .map((_, i) => i)
      .filter((i) => !reserved.has(i) && cells[0]![i] !== '' && Number.isFinite(Number(cells[0]![i])));
  }
  if (featureCols.length === 0) throw new Error(`${file} has no numeric value columns`);

  const timestampsMs: number[] = [];
  const rows: number[][] = [];
  const labels: number[] = [];
  const changepoints: number[] = [];
  cells.forEach((cell, r) => {
    timestampsMs.push(tsCol >= 0 ? parseTimestamp(cell[tsCol] ?? '', file, r) : r * 1000);
    // An empty value cell is a missing reading (NaN), which the univariate detector bridges; any other
    // text that is not a number is an error naming the row and column.
    rows.push(
      featureCols.map((i) => ((cell[i] ?? '') === '' ? Number.NaN : toNumber(cell[i], file, r, columns[i]!))),
    );
    if (labelCol >= 0) labels.push(toNumber(cell[labelCol], file, r, options.labelColumn) >= 0.5 ? 1 : 0);
    if (cpCol >= 0)
      changepoints.push(toNumber(cell[cpCol], file, r, options.changepointColumn) >= 0.5 ? 1 : 0);
  });
  return {
    file,
    features: featureCols.map((i) => columns[i]!),
    timestampColumn: tsCol >= 0 ? columns[tsCol] : undefined,
    timestampsMs,
    rows,
    labels: labelCol >= 0 ? labels : undefined,
    changepoints: cpCol >= 0 ? changepoints : undefined,
  };
}

function timestampColumnIndex(
  file: string,
  columns: string[],
  first: string[],
  wanted: string | null | undefined,
): number {
  if (wanted === null) return -1;
  if (wanted !== undefined) {
    const i = columns.indexOf(wanted);
    if (i < 0)
      throw new Error(
        `${file} has no timestamp column "${wanted}" (columns: ${columns.join(', ')}); ` +
          'name another with --timestamp-col, or pass --no-timestamp to number the rows',
      );
    return i;
  }
  const byName = columns.findIndex((c) => TIME_COLUMNS.includes(c.toLowerCase()));
  if (byName >= 0) return byName;
  const firstCell = first[0] ?? '';
  if (!/^-?\d+(\.\d+)?$/.test(firstCell) && Number.isFinite(Date.parse(firstCell.replace(' ', 'T'))))
    return 0;
  throw new Error(
    `${file}: no timestamp column found (looked for ${TIME_COLUMNS.join(', ')} and a first column of ` +
      `times; columns: ${columns.join(', ')}); name it with --timestamp-col, or pass --no-timestamp to number the rows`,
  );
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
