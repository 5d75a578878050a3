// Regenerates the documents derived from code: docs/CONFIG.md, docs/ERRORS.md and docs/PERMISSIONS.md.
// Tests fail when the committed files differ from what this writes.
import { writeFileSync } from 'node:fs';
import { renderConfigDoc } from '../src/config/docs.ts';
import { renderPermissionsDoc } from '../src/identity/permissions-doc.ts';
import { renderErrorsDoc } from '../src/kernel/error-catalog.ts';

writeFileSync(new URL('../docs/CONFIG.md', import.meta.url), renderConfigDoc());
writeFileSync(new URL('../docs/ERRORS.md', import.meta.url), renderErrorsDoc());
writeFileSync(new URL('../docs/PERMISSIONS.md', import.meta.url), renderPermissionsDoc());
process.stdout.write('wrote docs/CONFIG.md, docs/ERRORS.md and docs/PERMISSIONS.md\n');
