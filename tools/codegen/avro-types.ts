// Regenerates libs/events/src/generated/events.type.ts from the latest version of every schema in schemas/.
import { writeFileSync } from 'node:fs';
import { generatedTypesFile, renderEventTypes } from '@sentio/events/codegen';

writeFileSync(generatedTypesFile, renderEventTypes());
console.log(`wrote ${generatedTypesFile}`);
