#!/usr/bin/env node
// The `lifeline` command: runs the CLI compiled by `npm install` (scripts/build-engine.mjs) into dist/.
const path = require('node:path');
const fs = require('node:fs');

const compiled = path.join(__dirname, '..', 'dist', 'lifeline.cjs');
if (!fs.existsSync(compiled)) {
  process.stderr.write(
    'lifeline: the CLI is not built yet; run `npm install` (or `npm run build:engine`) in the project first\n',
  );
  process.exit(2);
}
require(compiled);
