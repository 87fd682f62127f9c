#!/usr/bin/env node
// The installed package's CLI runs the built JavaScript; in the repository, `npm start`
// and the tests run the TypeScript sources through tsx instead (see the root package.json).
await import('../dist/cli/main.js');
