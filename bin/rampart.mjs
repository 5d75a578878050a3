#!/usr/bin/env node
// Entry point for the `rampart` command. Plain JavaScript so that an older Node
// reaches the version check below instead of failing to parse TypeScript.
const [major] = process.versions.node.split('.').map(Number);
if (major < 24) {
  process.stderr.write(
    `rampart needs Node.js 24 or newer; this is ${process.version}.\n` +
      'Run it through npm (npm start, npx rampart), which puts the project\'s pinned Node 24 first on PATH.\n',
  );
  process.exit(1);
}
await import('../src/main.ts');
