import { vi } from 'vitest';

// The first render of a page compiles its templates: seconds on a loaded two-core machine, not a hang.
vi.setConfig({ testTimeout: 30_000 });
