#!/usr/bin/env node
'use strict';
// The npm launcher: find the native binary and run it, nothing more. Where
// postinstall could, it replaced this file with a link to the binary, so that
// a run starts no Node at all; this file is the fallback that always works.
// It runs only the binary the package was published with (verify, in
// lib/platform.js, says what that defends against); TERN_BINARY_PATH is the
// user's own choice and is run as given.

const { spawn } = require('child_process');
const { Diagnosis, locate, verify } = require('../lib/platform.js');

function binary() {
  if (process.env.TERN_BINARY_PATH) return process.env.TERN_BINARY_PATH;
  try {
    return verify(locate());
  } catch (err) {
    if (!(err instanceof Diagnosis)) throw err;
    process.stderr.write(`tern: ${err.message}\n`);
    process.exit(1);
  }
}

const bin = binary();
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
