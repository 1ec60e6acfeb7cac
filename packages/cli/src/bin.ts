#!/usr/bin/env node
import { main } from './program.js';

// `ablate … | head -1`: the reader went away. Stop quietly with exit 0 (locks are released by the exit handlers);
// nobody is left to read more. Errors writing progress to a closed stderr are ignored: results still get written.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});
process.stderr.on('error', () => {});

process.exitCode = await main(process.argv.slice(2));
