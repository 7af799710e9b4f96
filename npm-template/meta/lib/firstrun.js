'use strict';
// What an install script would do, done by the launcher instead (the
// package has none: pnpm 10+, Yarn 4, bun and deno skip install scripts by
// default, and a cross-platform install must not be "repaired" for the host
// that ran it). The launcher loads this file only on a run that may still
// have work for it: one that must fetch, or one started through a bin link.
//
// fetchMissing: the platform package for this machine is missing and no
// other platform's is installed (a cross-platform install is diagnosed,
// never repaired). Fetch exactly that package, from the registry the
// package manager would use, into vendor/: exactly the files
// lib/platforms.json lists, each with the sha256 this package was
// published with, or nothing (lib/tarball.js). No package manager is run.
//
// selfLink: replace bin/tern.js with a launcher that starts no Node: a
// file that is both a POSIX sh script, which execs the verified binary, and
// this JavaScript launcher. The kernel runs it with sh (a millisecond), and
// anything that runs it with node, as pnpm's and Yarn's shims do, still
// runs the launcher. Only where the kernel runs the file through a bin
// link; everything else keeps the launcher as it is.
//
// Why not a symlink to the binary, as npm's postinstall used to make: a run
// that the kernel started through `#!/usr/bin/env node` just before the
// swap has Node open the file by its path a moment later, and would read
// the binary as JavaScript (a SyntaxError; seen with eight concurrent first
// runs). Every version of this file is valid JavaScript, so no run, however
// it interleaves, reads anything else.

const fs = require('fs');
const os = require('os');
const path = require('path');
const { Diagnosis, locate, meta, here, vendorDir, manager, projectRoot } = require('./platform.js');

// linkable says whether bin/tern.js may become the sh launcher: only
// where every way the file is run execs it as a program, so that the sh
// path is taken.
function linkable(launcher) {
  if (process.platform === 'win32') return false; // bins are .cmd shims that run node
  // Another runtime runs us: its way of running bins may not exec the file.
  if (process.versions.bun || process.versions.deno || typeof Deno !== 'undefined') return false;
  if (process.versions.pnp) return false; // Yarn PnP: `yarn tern` runs the file with node
  // pnpm's .bin entries are shell shims that run `node …/tern.js`: the sh
  // line would never run. Yarn's caches and deno's are theirs.
  if (/[\\/](\.pnpm|\.deno|\.yarn|deno[\\/]npm)[\\/]/.test(launcher)) return false;
  // Invoked through a symlink (the bin links of npm, bun and Yarn's
  // node-modules linker) whose real path is this file: the kernel ran it,
  // and will run the sh line next time.
  const argv1 = process.argv[1];
  try {
    if (!fs.lstatSync(argv1).isSymbolicLink() || fs.realpathSync(argv1) !== launcher) return false;
  } catch (_) {
    return false;
  }
  try {
    fs.accessSync(path.dirname(launcher), fs.constants.W_OK);
  } catch (_) {
    return false; // read-only node_modules, or a global install owned by root
  }
  // Last, as it probes the project's files: a read-only install, which
  // comes here on every run, stops above.
  const m = manager();
  return m.name !== 'pnpm' && m.name !== 'deno';
}

// selfLink replaces the launcher with the sh/JS launcher that execs bin,
// which the launcher has just verified, best effort: it never fails the
// run. Atomic under any number of concurrent first runs: each writes its
// own uniquely named file beside the launcher and renames it over the
// launcher; every rename puts the same valid launcher in place.
function selfLink(bin, launcher) {
  let tmp = '';
  try {
    if (!linkable(launcher)) return;
    const source = fs.readFileSync(launcher, 'utf8');
    if (source.startsWith('#!/bin/sh\n')) return; // node runs the sh launcher: it is in place
    const real = fs.realpathSync(bin);
    // A path the sh line cannot hold, or one that would end the
    // JavaScript comment it sits in (U+2028 and U+2029 end a line there).
    if (/[\n\r\u2028\u2029]/.test(real)) return;
    const q = `'${real.replace(/'/g, `'\\''`)}'`;
    // To sh: the builtin no-op ':', then exec the binary, or, if it moved,
    // the launcher with node; no command that forks. To JavaScript: a
    // string (a directive, like 'use strict' after it) and a comment. The
    // launcher's own lines follow, after its #! line.
    const stub = `#!/bin/sh\n':' //; [ -x ${q} ] && exec ${q} "$@"; exec node "$0" "$@"\n` +
      source.slice(source.indexOf('\n') + 1);
    tmp = `${launcher}.link-${process.pid}-${require('crypto').randomBytes(6).toString('hex')}`;
    fs.writeFileSync(tmp, stub, { mode: 0o755, flag: 'wx' });
    // Run the new launcher once: sh takes it, the binary starts here and is
    // this version.
    const out = require('child_process').execFileSync(tmp, ['--version'], {
      encoding: 'utf8', timeout: 10000, stdio: ['ignore', 'pipe', 'ignore'],
    });
    if (!out.includes(meta.version)) return;
    fs.renameSync(tmp, launcher);
    tmp = '';
  } catch (_) {
    // Not replaced: this launcher keeps working.
  } finally {
    if (tmp) {
      try { fs.rmSync(tmp, { force: true }); } catch (_) { /* nothing to clean */ }
    }
  }
}

// fetchMissing fetches the platform package the Diagnosis missing names
// into vendor/ and returns what locate() finds then; it throws a Diagnosis
// that says what went wrong, and the manager's fix.
async function fetchMissing(missing) {
  const { Refusal, unpack } = require('./tarball.js');
  const entry = missing.entry;
  const because = (why) => new Diagnosis(`${missing.message}\n(${meta.name} could not fetch ${entry.package}@${meta.version} itself: ${why})`);
  // Yarn PnP keeps packages in zip archives, which its patched fs would
  // let us write: the fix there is Yarn's own (supportedArchitectures).
  if (process.versions.pnp) throw because('under Yarn PnP it is up to Yarn');
  try {
    fs.mkdirSync(vendorDir, { recursive: true });
    fs.accessSync(vendorDir, fs.constants.W_OK);
  } catch (err) {
    throw because(`${vendorDir} is not writable (${err.code || err.message})`);
  }
  const registry = registryFor(entry.package);
  let tgz;
  try {
    const packument = JSON.parse(await get(registry.url + entry.package.replace('/', '%2f'), registry.rcs, maxPackument));
    const version = packument.versions && packument.versions[meta.version];
    if (!version || !version.dist || !version.dist.tarball) throw new Error(`${registry.url} has no ${entry.package}@${meta.version}`);
    tgz = await get(version.dist.tarball, registry.rcs, maxTarball);
  } catch (err) {
    throw because(err.message);
  }
  try {
    unpack(tgz, {
      files: entry.files,
      pkg: entry.package,
      publisher: `${meta.name}@${meta.version}`,
      dest: path.join(vendorDir, entry.package),
    });
  } catch (err) {
    if (!(err instanceof Refusal)) throw because(err.message);
    throw new Diagnosis(`refusing ${entry.package}@${meta.version} from ${registry.url}: ${err.message}. Nothing was installed.\n${missing.message}`);
  }
  process.stderr.write(`${meta.name}: installed ${entry.package}@${meta.version} from ${registry.url} into ${vendorDir} (every file's sha256 verified)\n`);
  return locate();
}

// What a registry may send, held in memory: a packument (the abbreviated
// one is a few hundred bytes a version), and a platform package's tarball,
// which unpacks to at most lib/tarball.js's bound. A registry that sends
// more, or never stops, is refused instead of filling this process.
const maxPackument = 64 << 20;
const maxTarball = 1 << 30;

// get fetches url, at most max bytes, with the credentials rcs hold for its
// own host and path (authFor), and so each redirect's.
function get(url, rcs, max, redirects = 5) {
  const mod = url.startsWith('https:') ? require('https') : require('http');
  const headers = { accept: 'application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8, */*' };
  const auth = authFor(url, rcs);
  if (auth) headers.authorization = auth;
  return new Promise((resolve, reject) => {
    mod.get(url, { headers, timeout: 60000 }, (res) => {
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects > 0) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), rcs, max, redirects - 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        return;
      }
      const tooLong = () => new Error(`GET ${url}: the answer is longer than ${max >> 20} MiB, more than it can be; refused`);
      if (Number(res.headers['content-length']) > max) {
        res.destroy();
        reject(tooLong());
        return;
      }
      const chunks = [];
      let got = 0;
      res.on('data', (c) => {
        got += c.length;
        if (got > max) {
          res.destroy();
          reject(tooLong());
          return;
        }
        chunks.push(c);
      });
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('timeout', function () {
      this.destroy(new Error(`GET ${url}: no answer in 60 s`));
    }).on('error', reject);
  });
}

// registryFor is the registry the package manager would use for name, and
// the .npmrc files that hold credentials: the scope's registry, else the
// default one, from
// npm_config_* in the environment, bunfig.toml when bun installed us, the
// .npmrc files (the project's, upward from this package, the user's, the
// global one), else the public registry. No package manager is run: one
// that is not Node (bun) cannot be run as Node, and we must not guess.
function registryFor(name) {
  const scope = name.startsWith('@') ? name.split('/')[0] : '';
  const keys = scope ? [`${scope}:registry`, 'registry'] : ['registry'];
  const rcs = npmrcs();
  let url = '';
  for (const k of keys) {
    url = fromEnv(k) || (manager().name === 'bun' ? bunfigRegistry(k === 'registry' ? '' : scope) : '') || first(rcs, k);
    if (url) break;
  }
  url = url || 'https://registry.npmjs.org/';
  if (!url.endsWith('/')) url += '/';
  return { url, rcs };
}

// authFor is the authorization npm would send with a request for url: the
// _authToken keyed by url's own //host/path/, or by the nearest directory
// above it on the same host (//host/ last). A token therefore goes only to
// the host it is configured for, wherever a packument puts its tarballs or
// a redirect leads.
function authFor(url, rcs) {
  let u;
  try {
    u = new URL(url);
  } catch (_) {
    return '';
  }
  const top = `//${u.host}/`;
  for (let key = `//${u.host}${u.pathname.replace(/[^/]*$/, '')}`; ; key = key.replace(/[^/]*\/$/, '')) {
    const token = fromEnv(`${key}:_authToken`) || first(rcs, `${key}:_authToken`);
    if (token) return `Bearer ${token}`;
    if (key.length <= top.length) return '';
  }
}

// fromEnv is npm's setting key from the environment: npm_config_<key> as
// npm exports it to what it runs, else the same name in any case
// (NPM_CONFIG_REGISTRY), as users set it.
function fromEnv(key) {
  const want = `npm_config_${key}`;
  if (process.env[want]) return process.env[want];
  for (const [k, v] of Object.entries(process.env)) {
    if (k.toLowerCase() === want.toLowerCase() && v) return v;
  }
  return '';
}

function first(rcs, key) {
  for (const rc of rcs) {
    if (rc[key]) return rc[key];
  }
  return '';
}

// npmrcs are the .npmrc files npm reads, parsed, the first the strongest.
function npmrcs() {
  const files = [];
  for (let dir = projectRoot() || here; ; dir = path.dirname(dir)) {
    files.push(path.join(dir, '.npmrc'));
    if (path.dirname(dir) === dir) break;
  }
  files.push(fromEnv('userconfig') || path.join(os.homedir(), '.npmrc'));
  const prefix = fromEnv('prefix') || (process.platform === 'win32' ? path.dirname(process.execPath) : path.dirname(path.dirname(process.execPath)));
  files.push(fromEnv('globalconfig') || path.join(prefix, 'etc', 'npmrc'));
  return files.map(readIni);
}

function readIni(file) {
  const out = {};
  let text;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (_) {
    return out;
  }
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*([^#;=\s][^=]*?)\s*=\s*(.*?)\s*$/.exec(line);
    if (!m) continue;
    const value = m[2].replace(/^(["'])(.*)\1$/, '$2').replace(/\$\{([^}]+)\}/g, (_, v) => process.env[v] || '');
    if (!(m[1] in out)) out[m[1]] = value;
  }
  return out;
}

// bunfigRegistry is the registry bun's bunfig.toml names for scope
// ([install.scopes]), or without one its [install] registry: the project's
// bunfig.toml, upward, then the user's. Enough TOML for these keys: a
// string, or an inline table's url.
function bunfigRegistry(scope) {
  const files = [];
  for (let dir = projectRoot() || here; ; dir = path.dirname(dir)) {
    files.push(path.join(dir, 'bunfig.toml'));
    if (path.dirname(dir) === dir) break;
  }
  if (process.env.XDG_CONFIG_HOME) files.push(path.join(process.env.XDG_CONFIG_HOME, '.bunfig.toml'));
  files.push(path.join(os.homedir(), '.bunfig.toml'));
  for (const file of files) {
    let text;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (_) {
      continue;
    }
    let table = '';
    for (const raw of text.split(/\r?\n/)) {
      const line = raw.replace(/\s+#.*$/, '').trim();
      const t = /^\[([^\]]+)\]$/.exec(line);
      if (t) {
        table = t[1].trim();
        continue;
      }
      const kv = /^("?)([^"=\s]+)\1\s*=\s*(.+)$/.exec(line);
      if (!kv) continue;
      const url = (/^"([^"]*)"$/.exec(kv[3]) || /url\s*=\s*"([^"]*)"/.exec(kv[3]) || [])[1];
      if (!url) continue;
      if (scope && table === 'install.scopes' && (kv[2] === scope || `@${kv[2]}` === scope)) return url;
      if (!scope && table === 'install' && kv[2] === 'registry') return url;
    }
  }
  return '';
}

module.exports = { selfLink, fetchMissing, registryFor, authFor };
