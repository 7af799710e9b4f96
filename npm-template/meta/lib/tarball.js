'use strict';
// Unpacks a platform package's tarball for the launcher's first run, when the
// package manager left the package out and the launcher fetched it from the
// registry itself (lib/firstrun.js).
// The tarball is untrusted: it holds exactly the files platforms.json lists
// for the package, each with the sha256 it was published with, or nothing
// is installed. The packager writes these tarballs as plain USTAR with
// regular files only, so anything else (a link, a device, a PAX or GNU
// header, a directory, a name twice, a name outside package/) is refused
// rather than interpreted. The launcher never loads this file.

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

// A Refusal says which member is wrong and how.
class Refusal extends Error {}

// A platform package is tens of megabytes; this bounds a gzip bomb.
const maxUnpacked = 1 << 30;

const kinds = {
  1: 'a hard link',
  2: 'a symbolic link',
  3: 'a character device',
  4: 'a block device',
  5: 'a directory',
  6: 'a FIFO',
  7: 'a contiguous file',
  x: 'a PAX header',
  g: 'a PAX global header',
  L: 'a GNU long name',
  K: 'a GNU long link name',
};

// members reads the regular files of a gzipped USTAR stream, in order,
// refusing any member that is not a plain file with a plain name.
function members(tgz) {
  let buf;
  try {
    buf = zlib.gunzipSync(tgz, { maxOutputLength: maxUnpacked });
  } catch (err) {
    throw new Refusal(`the tarball does not gunzip: ${err.message}`);
  }
  const out = [];
  for (let off = 0; ; ) {
    if (off + 512 > buf.length) throw new Refusal('the tarball ends without its end-of-archive block');
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => {
      const raw = header.subarray(start, start + len);
      const nul = raw.indexOf(0);
      return raw.subarray(0, nul < 0 ? len : nul).toString('utf8');
    };
    let sum = 0;
    for (let i = 0; i < 512; i++) sum += i >= 148 && i < 156 ? 32 : header[i];
    const recorded = field(148, 8).trim();
    if (!/^[0-7]+$/.test(recorded) || parseInt(recorded, 8) !== sum) throw new Refusal(`a header at byte ${off} has a bad checksum`);
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const sizeField = field(124, 12).trim();
    if (!/^[0-7]+$/.test(sizeField)) throw new Refusal(`${name} has a size field tar would not write: ${JSON.stringify(sizeField)}`);
    const size = parseInt(sizeField, 8);
    const type = field(156, 1) || '0';
    const mode = parseInt(field(100, 8).trim() || '0', 8);
    checkName(name);
    if (type !== '0') throw new Refusal(`${name} is ${kinds[type] || `of tar type ${JSON.stringify(type)}`}, not a regular file`);
    if (off + 512 + size > buf.length) throw new Refusal(`${name} is cut short: the tarball is truncated`);
    out.push({ name, rel: name.slice('package/'.length), mode, body: buf.subarray(off + 512, off + 512 + size) });
    off += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

function checkName(name) {
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new Refusal(`${name}: an absolute path`);
  if (name.includes('\\')) throw new Refusal(`${name}: a backslash in a path`);
  if (name.split('/').some((p) => p === '' || p === '.' || p === '..')) {
    throw new Refusal(`${name}: a path with "..", "." or an empty part`);
  }
  if (!name.startsWith('package/')) throw new Refusal(`${name}: not under package/, where npm packs every file`);
}

// unpack installs the package in tgz at dest, if and only if it holds
// exactly files (path below package/ → sha256). It writes into a temporary
// directory beside dest, hashing the bytes as it writes them, and renames it
// into place when every check has passed; a refusal leaves nothing behind.
// Concurrent first runs each unpack their own copy; the first rename wins
// and the others keep its result (install; the launcher verifies what it
// runs).
// pkg names the package and publisher the meta package, for the messages.
function unpack(tgz, { files, pkg, publisher, dest }) {
  if (!files || typeof files !== 'object') throw new Refusal(`lib/platforms.json lists no files for ${pkg}; reinstall ${publisher}`);
  const list = members(tgz);
  const seen = new Set();
  for (const m of list) {
    if (seen.has(m.rel)) throw new Refusal(`${m.name} appears twice`);
    seen.add(m.rel);
    if (!Object.hasOwn(files, m.rel)) throw new Refusal(`${m.name} is not a file of ${pkg} as ${publisher} was published`);
  }
  const missing = Object.keys(files).filter((f) => !seen.has(f));
  if (missing.length > 0) throw new Refusal(`it lacks ${missing.map((f) => `package/${f}`).join(', ')}`);

  const tmp = `${dest}.partial-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  fs.mkdirSync(tmp, { recursive: true });
  try {
    for (const m of list) {
      const out = path.join(tmp, ...m.rel.split('/'));
      fs.mkdirSync(path.dirname(out), { recursive: true });
      const got = writeHashed(out, m.body, m.mode & 0o111 ? 0o755 : 0o644);
      if (got !== files[m.rel]) throw new Refusal(`${m.name} has sha256 ${got}, but ${publisher} was published with ${files[m.rel]}`);
    }
    fs.mkdirSync(path.dirname(dest), { recursive: true });
    install(tmp, dest);
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

// install renames the verified copy tmp to dest. Where dest is there
// already, another run's copy, whole (it has its package.json), is kept and
// tmp removed; a leftover without one, which no lookup accepts, is first
// renamed aside, so that nothing is ever removed from under a run that has
// put its copy in place. The rename refuses an existing dest with
// ENOTEMPTY or EEXIST on POSIX (ENOTDIR if it is a file), and EPERM on
// Windows.
function install(tmp, dest) {
  for (let attempt = 0; ; attempt++) {
    try {
      fs.renameSync(tmp, dest);
      return;
    } catch (err) {
      if (!['ENOTEMPTY', 'EEXIST', 'EPERM', 'ENOTDIR'].includes(err.code)) throw err;
      if (fs.existsSync(path.join(dest, 'package.json'))) {
        fs.rmSync(tmp, { recursive: true, force: true });
        return;
      }
      if (attempt > 0 || !fs.existsSync(dest)) throw err;
      const aside = `${dest}.stale-${process.pid}-${crypto.randomBytes(6).toString('hex')}`;
      try {
        fs.renameSync(dest, aside);
      } catch (_) {
        // Another run moved it, or put its copy there: try again.
      }
      fs.rmSync(aside, { recursive: true, force: true });
    }
  }
}

// writeHashed creates file (it must not exist) and returns the sha256 of
// exactly the bytes it wrote.
function writeHashed(file, body, mode) {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'wx', mode);
  try {
    for (let off = 0; off < body.length; ) {
      const n = fs.writeSync(fd, body, off, body.length - off);
      hash.update(body.subarray(off, off + n));
      off += n;
    }
    fs.fchmodSync(fd, mode);
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

module.exports = { Refusal, unpack };
