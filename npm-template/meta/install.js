'use strict';
// postinstall. Everything here is an optimisation or a repair, and may fail
// without harm: with --ignore-scripts, or if this throws, bin/tern.js still
// finds the binary or says exactly why it cannot.
//
// 1. If npm left out this machine's platform package (optional dependencies
//    omitted, a lockfile from another platform), fetch exactly that package
//    from the configured registry into vendor/, after checking the binary's
//    sha256 against the one this package was published with.
// 2. Where safe (npm, not Windows, not Yarn PnP), replace bin/tern.js with a
//    symlink to the verified binary, so `tern` starts no Node at all. A
//    symlink, not a hard link: the binary finds its helpers in libexec/
//    beside its real path.

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const { execFileSync } = require('child_process');
const { Diagnosis, locate, key, table, meta, vendorDir, sha256File } = require('./lib/platform.js');

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

// untar reads a package tarball and returns its regular files under
// "package/", refusing anything else that could escape or surprise.
function untar(buf) {
  const files = [];
  for (let off = 0; off + 512 <= buf.length; ) {
    const header = buf.subarray(off, off + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start, len) => header.subarray(start, start + len).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const type = field(156, 1) || '0';
    const prefix = field(345, 155);
    const name = prefix ? `${prefix}/${field(0, 100)}` : field(0, 100);
    const mode = parseInt(field(100, 8).trim() || '644', 8);
    const body = buf.subarray(off + 512, off + 512 + size);
    off += 512 + Math.ceil(size / 512) * 512;
    if (type === '5' || type === 'x' || type === 'g') continue; // directories, PAX metadata
    if (type !== '0') throw new Error(`refusing tarball member ${name}: type ${type}`);
    if (!name.startsWith('package/') || name.split('/').includes('..') || path.isAbsolute(name)) {
      throw new Error(`refusing tarball member ${name}: outside package/`);
    }
    files.push({ name: name.slice('package/'.length), mode, body });
  }
  return files;
}

async function fetchPlatformPackage(entry) {
  const registry = registryFor(entry.package);
  const packument = JSON.parse(await get(registry + entry.package.replace('/', '%2f')));
  const version = packument.versions && packument.versions[meta.version];
  if (!version) throw new Error(`${registry} has no ${entry.package}@${meta.version}`);
  const tarball = zlib.gunzipSync(await get(version.dist.tarball));
  const files = untar(tarball);
  const bin = files.find((f) => f.name === entry.binary);
  if (!bin) throw new Error(`${entry.package}@${meta.version} holds no ${entry.binary}`);
  const got = require('crypto').createHash('sha256').update(bin.body).digest('hex');
  if (got !== entry.sha256) {
    throw new Error(
      `refusing ${entry.package}@${meta.version} from ${registry}: its ${entry.binary} has sha256 ${got}, ` +
        `but ${meta.name}@${meta.version} was published with ${entry.sha256}`);
  }
  // Unpack beside, then move into place, so a failure leaves no half package.
  const dest = path.join(vendorDir, entry.package);
  const tmp = `${dest}.partial-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  for (const f of files) {
    const out = path.join(tmp, f.name);
    fs.mkdirSync(path.dirname(out), { recursive: true });
    fs.writeFileSync(out, f.body, { mode: f.mode & 0o111 ? 0o755 : 0o644 });
  }
  fs.rmSync(dest, { recursive: true, force: true });
  fs.mkdirSync(path.dirname(dest), { recursive: true });
  fs.renameSync(tmp, dest);
  note(`installed ${entry.package}@${meta.version} from ${registry} (binary sha256 verified)`);
}

function optimise(bin, entry) {
  if (process.platform === 'win32') return;
  if (process.versions.pnp) return; // Yarn PnP
  const agent = process.env.npm_config_user_agent || '';
  if (!agent.startsWith('npm/')) return; // other managers own their bin links
  if (sha256File(bin) !== entry.sha256) {
    note(`not linking ${bin}: its sha256 is not the one ${meta.name}@${meta.version} was published with`);
    return;
  }
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
  const entry = table[key];
  if (!entry) return; // the launcher explains unsupported platforms
  let found;
  try {
    found = locate();
  } catch (err) {
    if (!(err instanceof Diagnosis)) throw err;
    await fetchPlatformPackage(entry);
    found = locate();
  }
  optimise(found.path, entry);
}

main().catch((err) => {
  note(`${err.message}\n(harmless: \`tern\` runs through its JS launcher, which will say if anything is missing)`);
});
