/** A topic pattern such as `plant/{device}/{metric}` or `sensors/+/{device}/#`. */
export interface TopicPattern {
  readonly pattern: string;
  /** What to subscribe to: every capture becomes `+`. */
  readonly filter: string;
  readonly captures: string[];
  match(topic: string): Record<string, string> | undefined;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Compiles a pattern whose levels are literal text, `+`, a trailing `#`, or text holding `{name}` captures
 * (`dev-{id}` matches one level and captures what follows `dev-`). Throws a message fit for a config error.
 */
export function compileTopicPattern(pattern: string): TopicPattern {
  const levels = pattern.split('/');
  const captures: string[] = [];
  const filterLevels: string[] = [];
  let regex = '^';
  levels.forEach((level, i) => {
    const sep = i === 0 ? '' : '/';
    if (level === '#') {
      if (i !== levels.length - 1) throw new Error('expected # only as the last level');
      filterLevels.push('#');
      regex += i === 0 ? '.*' : '(?:/.*)?';
      return;
    }
    if (level === '+') {
      filterLevels.push('+');
      regex += `${sep}[^/]*`;
      return;
    }
    if (/[+#]/.test(level)) throw new Error(`expected + and # to fill a whole level, got "${level}"`);
    let piece = '';
    let rest = level;
    let captured = false;
    for (let m = /\{([^}]*)\}/.exec(rest); m; m = /\{([^}]*)\}/.exec(rest)) {
      const name = m[1]!;
      if (!/^[A-Za-z_]\w*$/.test(name))
        throw new Error(`expected a capture name like {device}, got "{${name}}"`);
      if (captures.includes(name)) throw new Error(`expected each capture once, got {${name}} twice`);
      captures.push(name);
      piece += `${escape(rest.slice(0, m.index))}(?<${name}>[^/]+?)`;
      rest = rest.slice(m.index + m[0].length);
      captured = true;
    }
    if (/[{}]/.test(rest)) throw new Error(`expected balanced braces, got "${level}"`);
    piece += escape(rest);
    filterLevels.push(captured ? '+' : level);
    regex += sep + piece;
  });
  const compiled = new RegExp(`${regex}$`);
  return {
    pattern,
    filter: filterLevels.join('/'),
    captures,
    match(topic) {
      const m = compiled.exec(topic);
      return m ? { ...m.groups } : undefined;
    },
  };
}

/** Replaces `{name}` with the capture; names were checked against the pattern when the config loaded. */
export function fillTemplate(template: string, captures: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_, name: string) => captures[name] ?? '');
}

export function templateNames(template: string): string[] {
  return [...template.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!);
}
