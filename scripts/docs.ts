// Regenerates the documents derived from code: docs/CONFIG.md and docs/ERRORS.md.
// Tests fail when the committed files differ from what this writes.
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../src/config/docs.ts';
import { renderErrorsDoc } from '../src/kernel/errors.ts';

writeFileSync(new URL('../docs/CONFIG.md', import.meta.url), renderConfigDoc());
writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorsDoc());
process.stdout.write('wrote docs/CONFIG.md and docs/ERRORS.md\n');
