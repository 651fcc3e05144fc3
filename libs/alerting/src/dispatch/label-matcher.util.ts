/** Alertmanager's matcher syntax: `name="value"`, `name!="value"`, `name=~"regex"`, `name!~"regex"` (quotes optional). */
export interface LabelMatcher {
  name: string;
  op: '=' | '!=' | '=~' | '!~';
  value: string;
  re?: RegExp;
}

export type Labels = Record<string, string>;

export function parseMatcher(text: string): LabelMatcher {
  const m = /^\s*([a-zA-Z_][a-zA-Z0-9_.]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/.exec(text);
  if (!m)
    throw new Error(`bad matcher "${text}": expected name="value", name!="value", name=~"re" or name!~"re"`);
  let value = m[3]!;
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = JSON.parse(value) as string;
  const op = m[2] as LabelMatcher['op'];
  const matcher: LabelMatcher = { name: m[1]!, op, value };
  if (op === '=~' || op === '!~') {
    try {
      // Anchored, as in Prometheus.
      matcher.re = new RegExp(`^(?:${value})$`);
    } catch {
      throw new Error(`bad matcher "${text}": invalid regular expression`);
    }
  }
  return matcher;
}

export function matches(matcher: LabelMatcher, labels: Labels): boolean {
  const v = labels[matcher.name] ?? '';
  switch (matcher.op) {
    case '=':
      return v === matcher.value;
    case '!=':
      return v !== matcher.value;
    case '=~':
      return matcher.re!.test(v);
    case '!~':
      return !matcher.re!.test(v);
  }
}

export function matchesAll(matchers: readonly LabelMatcher[], labels: Labels): boolean {
  return matchers.every((m) => matches(m, labels));
}
