#!/usr/bin/env node
'use strict';
// The npm launcher: find the native binary and run it. The package has no
// install script (pnpm 10+, Yarn 4, bun and deno skip them by default, and
// npm warns that it will), so what one would do happens here, on the first
// run, best effort, never failing the run (lib/firstrun.js): fetch this
// machine's platform package when the package manager left it out, and,
// where the kernel runs this file, replace it with one that sh runs to exec
// the verified binary and node still runs as this launcher, so that later
// runs start no Node at all. This file is the fallback that always works.
// It runs only the binary the package was published with (verify, in
// lib/platform.js, says what that defends against); TERN_BINARY_PATH is the
// user's own choice and is run as given.

const { spawn } = require('child_process');
const { Diagnosis, locate, verify } = require('../lib/platform.js');

function refuse(err) {
  if (!(err instanceof Diagnosis)) throw err;
  process.stderr.write(`tern: ${err.message}\n`);
  process.exit(1);
}

async function binary() {
  if (process.env.TERN_BINARY_PATH) return process.env.TERN_BINARY_PATH;
  let found;
  try {
    found = locate();
  } catch (err) {
    // lib/firstrun.js is loaded only here and below: a start that finds
    // its binary never compiles it.
    if (!(err instanceof Diagnosis) || !err.fetchable) refuse(err);
    try {
      found = await require('../lib/firstrun.js').fetchMissing(err);
    } catch (err2) {
      refuse(err2);
    }
  }
  let bin;
  try {
    bin = verify(found);
  } catch (err) {
    refuse(err);
  }
  // Invoked through a link (a bin link of npm, bun or Yarn's node-modules
  // linker), not this file by name: the only case lib/firstrun.js may
  // replace this file in.
  if (process.argv[1] !== __filename) require('../lib/firstrun.js').selfLink(bin, __filename);
  return bin;
}

function run(bin) {
  const child = spawn(bin, process.argv.slice(2), { stdio: 'inherit' });

  child.on('error', (err) => {
    const why =
      err.code === 'EACCES' ? `${bin} is not executable: chmod +x it, or reinstall` :
      err.code === 'ENOENT' ? `${bin} does not exist${process.env.TERN_BINARY_PATH ? ' (from TERN_BINARY_PATH)' : ''}` :
      `cannot start ${bin}: ${err.message}`;
    process.stderr.write(`tern: ${why}\n`);
    process.exit(1);
  });

  // Pass these on; the child decides what they mean.
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.on(sig, () => {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
    });
  }

  child.on('exit', (code, signal) => {
    if (signal) {
      // Die the way the child died, so our parent sees the same signal.
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
      return;
    }
    process.exit(code);
  });
}

binary().then(run, (err) => {
  process.stderr.write(`tern: ${err.stack || err}\n`);
  process.exit(1);
});
