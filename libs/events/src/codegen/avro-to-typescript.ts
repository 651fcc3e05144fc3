/**
 * Renders TypeScript declarations for Avro record schemas, so the types the code uses cannot drift from
 * schemas/. Types mirror what avsc decodes to: long -> number (exact up to 2^53, enough for epoch ms/us),
 * bytes -> Buffer, unions with null -> `T | null`, enums -> string literal unions.
 */
type AvroSchema = string | AvroSchema[] | { type: string | AvroSchema; [key: string]: unknown };

interface Field {
  name: string;
  type: AvroSchema;
  doc?: string;
  default?: unknown;
}

/**
 * `optional(record, field)`: the field may be left out by producers (rendered `name?:`). Decoded records always
 * carry it (the reader fills the default).
 */
export function avroToTypeScript(
  schemas: readonly object[],
  optional: (record: string, field: string) => boolean = () => false,
): string {
  const declarations = new Map<string, string>();
  const out = ['// Generated from schemas/*.avsc by `npm run codegen`. Do not edit.', ''];

  const render = (schema: AvroSchema): string => {
    if (typeof schema === 'string') return primitive(schema) ?? shortName(schema);
    if (Array.isArray(schema)) return schema.map(render).join(' | ');
    const { type } = schema;
    if (typeof type !== 'string') return render(type);
    switch (type) {
      case 'record':
        declareRecord(schema as unknown as { name: string; doc?: string; fields: Field[] });
        return shortName(schema['name'] as string);
      case 'enum': {
        const name = shortName(schema['name'] as string);
        const symbols = (schema['symbols'] as string[]).map((s) => `'${s}'`).join(' | ');
        declare(name, `${doc(schema['doc'])}export type ${name} = ${symbols};\n`);
        return name;
      }
      case 'array':
        return `Array<${render(schema['items'] as AvroSchema)}>`;
      case 'map':
        return `Record<string, ${render(schema['values'] as AvroSchema)}>`;
      case 'fixed':
        return 'Buffer';
      default:
        return primitive(type) ?? shortName(type);
    }
  };

  const declareRecord = (record: { name: string; doc?: string; fields: Field[] }) => {
    const name = shortName(record.name);
    if (declarations.has(name)) return;
    declarations.set(name, ''); // reserve first: records may refer to themselves
    const fields = record.fields
      .map((f) => `${doc(f.doc, '  ')}  ${f.name}${optional(name, f.name) ? '?' : ''}: ${render(f.type)};`)
      .join('\n');
    declarations.set(name, `${doc(record.doc)}export interface ${name} {\n${fields}\n}\n`);
  };

  const declare = (name: string, text: string) => {
    if (!declarations.has(name)) declarations.set(name, text);
  };

  for (const schema of schemas) render(schema as AvroSchema);
  for (const text of declarations.values()) out.push(text);
  return out.join('\n');
}

function primitive(type: string): string | undefined {
  switch (type) {
    case 'null':
      return 'null';
    case 'boolean':
      return 'boolean';
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'bytes':
      return 'Buffer';
    case 'string':
      return 'string';
    default:
      return undefined;
  }
}

function shortName(name: string): string {
  return name.slice(name.lastIndexOf('.') + 1);
}

function doc(text: unknown, indent = ''): string {
  return typeof text === 'string' ? `${indent}/** ${text.replace(/\*\//g, '*\\/')} */\n` : '';
}
