'use strict';
// postinstall. Everything here is an optimisation or a repair, and may fail
// without harm: with --ignore-scripts, or if this throws, bin/tern.js still
// finds the binary or says exactly why it cannot.
//
// 1. If npm left out this machine's platform package (optional dependencies
//    omitted, a lockfile from another platform), fetch exactly that package
//    from the configured registry into vendor/: exactly the files
//    lib/platforms.json lists, each with the sha256 this package was
//    published with, or nothing (lib/tarball.js).
// 2. Where safe (npm, not Windows, not Yarn PnP), replace bin/tern.js with a
//    symlink to the verified binary, so `tern` starts no Node at all. A
//    symlink, not a hard link: the binary finds its helpers in libexec/
//    beside its real path.

const fs = require('fs');
const path = require('path');
const { execFileSync } = require('child_process');
const { Diagnosis, platformEntry, locate, verify, meta, vendorDir } = require('./lib/platform.js');
const { Refusal, unpack } = require('./lib/tarball.js');

function note(msg) {
  process.stderr.write(`${meta.name} postinstall: ${msg}\n`);
}

function get(url, redirects = 5) {
  const mod = url.startsWith('https:') ? require('https') : require('http');
  return new Promise((resolve, reject) => {
    mod.get(url, { headers: { accept: 'application/json, */*' } }, (res) => {
      if ([301, 302, 303, 307, 308].includes(res.statusCode) && res.headers.location && redirects > 0) {
        res.resume();
        resolve(get(new URL(res.headers.location, url).toString(), redirects - 1));
        return;
      }
      if (res.statusCode !== 200) {
        res.resume();
        reject(new Error(`GET ${url}: HTTP ${res.statusCode}`));
        return;
      }
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve(Buffer.concat(chunks)));
      res.on('error', reject);
    }).on('error', reject);
  });
}

// registryFor is the registry npm would use for name: the scope's registry,
// else the default one, from the environment or, since npm does not export
// every setting to scripts, from `npm config get`.
function registryFor(name) {
  const scope = name.startsWith('@') ? name.split('/')[0] : '';
  const keys = scope ? [`${scope}:registry`, 'registry'] : ['registry'];
  let base = '';
  for (const k of keys) {
    base = process.env[`npm_config_${k}`] || process.env[`NPM_CONFIG_${k.toUpperCase()}`] || npmConfig(k);
    if (base) break;
  }
  base = base || 'https://registry.npmjs.org/';
  return base.endsWith('/') ? base : base + '/';
}

function npmConfig(key) {
  const npm = process.env.npm_execpath;
  if (!npm) return '';
  try {
    const out = execFileSync(process.execPath, [npm, 'config', 'get', key], { encoding: 'utf8', timeout: 20000 }).trim();
    return out === 'undefined' ? '' : out;
  } catch (_) {
    return '';
  }
}

async function fetchPlatformPackage(entry) {
  const registry = registryFor(entry.package);
  const packument = JSON.parse(await get(registry + entry.package.replace('/', '%2f')));
  const version = packument.versions && packument.versions[meta.version];
  if (!version) throw new Error(`${registry} has no ${entry.package}@${meta.version}`);
  const tgz = await get(version.dist.tarball);
  try {
    unpack(tgz, {
      files: entry.files,
      pkg: entry.package,
      publisher: `${meta.name}@${meta.version}`,
      dest: path.join(vendorDir, entry.package),
    });
  } catch (err) {
    if (!(err instanceof Refusal)) throw err;
    throw new Error(`refusing ${entry.package}@${meta.version} from ${registry}: ${err.message}. Nothing was installed.`);
  }
  note(`installed ${entry.package}@${meta.version} from ${registry} (every file's sha256 verified)`);
}

// optimise links the bin to bin, which main has just verified.
function optimise(bin) {
  if (process.platform === 'win32') return;
  if (process.versions.pnp) return; // Yarn PnP
  const agent = process.env.npm_config_user_agent || '';
  if (!agent.startsWith('npm/')) return; // other managers own their bin links
  const shim = path.join(__dirname, 'bin', 'tern.js');
  const tmp = `${shim}.link-${process.pid}`;
  fs.rmSync(tmp, { force: true });
  fs.symlinkSync(path.relative(path.dirname(shim), bin), tmp);
  const out = execFileSync(tmp, ['--version'], { encoding: 'utf8', timeout: 10000 });
  if (!out.includes(meta.version)) {
    fs.rmSync(tmp, { force: true });
    note(`not linking: ${bin} --version printed ${JSON.stringify(out.trim())}`);
    return;
  }
  fs.renameSync(tmp, shim);
}

async function main() {
  let entry;
  try {
    entry = platformEntry();
  } catch (err) {
    if (!(err instanceof Diagnosis)) throw err;
    // No package fits this machine: say so now, not at the first run.
    note(err.message);
    return;
  }
  let found;
  try {
    found = locate();
  } catch (err) {
    if (!(err instanceof Diagnosis)) throw err;
    await fetchPlatformPackage(entry);
    found = locate();
  }
  // Hash now, whatever the stamp says: the link below must only ever point
  // at a verified binary, and a refusal here is said at install time.
  verify(found, { fresh: true });
  optimise(found.path);
}

main().catch((err) => {
  note(`${err.message}\n(\`tern\` runs through its JS launcher, which checks the binary and says what is missing or wrong)`);
});
