#!/usr/bin/env node
// Compiles every *.sol under contracts/src/ with solc-js (standard JSON) and writes
// deterministic artifacts to contracts/build/ (or --out DIR).
//
//   node contracts/build.js [--out DIR] [--src DIR]
//
// Settings come from contracts/compiler.json: "solcVersion" must match the installed
// solc-js; every other key is passed verbatim as the solc "settings" object (plus the
// outputSelection below). Source unit names are "src/<path>" for the project's files and
// "node_modules/@openzeppelin/contracts/..." (via the remapping) for OpenZeppelin's,
// whichever directory --src points at.
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');

const CONTRACTS_DIR = __dirname;
const NODE_MODULES_PREFIX = 'node_modules/';
const SRC_PREFIX = 'src/';

function usage(message) {
  if (message) process.stderr.write(`build.js: ${message}\n`);
  process.stderr.write('usage: node contracts/build.js [--out DIR] [--src DIR]\n');
}

function parseArgs(argv) {
  const opts = {
    out: path.join(CONTRACTS_DIR, 'build'),
    src: path.join(CONTRACTS_DIR, 'src'),
    help: false,
  };
  for (let i = 0; i < argv.length; i += 1) {
    const arg = argv[i];
    const eq = arg.indexOf('=');
    const name = arg.startsWith('--') && eq > 0 ? arg.slice(0, eq) : arg;
    const inline = arg.startsWith('--') && eq > 0 ? arg.slice(eq + 1) : undefined;
    if (name === '--out' || name === '--src') {
      const value = inline !== undefined ? inline : argv[(i += 1)];
      if (!value) throw new UsageError(`${name} needs a directory`);
      opts[name.slice(2)] = path.resolve(value);
    } else if (name === '-h' || name === '--help') {
      opts.help = true;
    } else {
      throw new UsageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  return opts;
}

class UsageError extends Error {}
class BuildError extends Error {}

// JSON with object keys sorted at every level, 2-space indent, trailing newline.
function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const sorted = {};
    for (const key of Object.keys(value).sort()) sorted[key] = sortKeys(value[key]);
    return sorted;
  }
  return value;
}

function stableStringify(value) {
  return `${JSON.stringify(sortKeys(value), null, 2)}\n`;
}

function sha256(text) {
  return crypto.createHash('sha256').update(text, 'utf8').digest('hex');
}

function listSolFiles(dir) {
  const found = [];
  const walk = (abs, rel) => {
    const entries = fs.readdirSync(abs, { withFileTypes: true });
    entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const entry of entries) {
      const entryAbs = path.join(abs, entry.name);
      const entryRel = rel ? `${rel}/${entry.name}` : entry.name;
      const stat = fs.statSync(entryAbs); // follows symlinks
      if (stat.isDirectory()) walk(entryAbs, entryRel);
      else if (stat.isFile() && entry.name.endsWith('.sol')) found.push(entryRel);
    }
  };
  walk(dir, '');
  return found;
}

function loadCompilerConfig() {
  const file = path.join(CONTRACTS_DIR, 'compiler.json');
  const config = JSON.parse(fs.readFileSync(file, 'utf8'));
  if (typeof config.solcVersion !== 'string' || !config.solcVersion) {
    throw new BuildError(`${file}: "solcVersion" missing`);
  }
  const { solcVersion, ...rest } = config;
  const settings = {
    ...rest,
    outputSelection: {
      '*': {
        '*': ['abi', 'evm.bytecode.object', 'evm.deployedBytecode.object'],
      },
    },
  };
  return { solcVersion, settings };
}

function loadSolc(wantedVersion) {
  let solc;
  try {
    solc = require(path.join(CONTRACTS_DIR, 'node_modules', 'solc'));
  } catch (err) {
    throw new BuildError(
      `cannot load solc from contracts/node_modules (run \`make contracts-deps\`): ${err.message}`,
    );
  }
  const longVersion = solc.version();
  const shortVersion = longVersion.split('+')[0];
  if (shortVersion !== wantedVersion) {
    throw new BuildError(
      `solc-js is ${longVersion}, compiler.json pins ${wantedVersion} (run \`make contracts-deps\`)`,
    );
  }
  return { solc, longVersion };
}

function build(opts) {
  const { solcVersion, settings } = loadCompilerConfig();
  const { solc, longVersion } = loadSolc(solcVersion);

  if (!fs.existsSync(opts.src) || !fs.statSync(opts.src).isDirectory()) {
    throw new BuildError(`source directory ${opts.src} does not exist`);
  }
  const files = listSolFiles(opts.src);
  if (files.length === 0) throw new BuildError(`no *.sol files under ${opts.src}`);

  // Every source text handed to the compiler, by source unit name.
  const texts = new Map();
  const sources = {};
  for (const rel of files) {
    const content = fs.readFileSync(path.join(opts.src, rel), 'utf8');
    const unit = SRC_PREFIX + rel;
    texts.set(unit, content);
    sources[unit] = { content };
  }

  const nodeModules = path.join(CONTRACTS_DIR, 'node_modules');
  const findImports = (unit) => {
    let abs = null;
    if (unit.startsWith(NODE_MODULES_PREFIX)) {
      abs = path.resolve(nodeModules, unit.slice(NODE_MODULES_PREFIX.length));
      if (!abs.startsWith(nodeModules + path.sep)) abs = null;
    } else if (unit.startsWith(SRC_PREFIX)) {
      abs = path.resolve(opts.src, unit.slice(SRC_PREFIX.length));
      if (!abs.startsWith(opts.src + path.sep)) abs = null;
    }
    if (abs === null) {
      return { error: `import "${unit}" is outside src/ and node_modules/ (missing remapping?)` };
    }
    try {
      const content = fs.readFileSync(abs, 'utf8');
      texts.set(unit, content);
      return { contents: content };
    } catch (err) {
      return { error: `cannot read "${unit}" (${abs}): ${err.code || err.message}` };
    }
  };

  const input = { language: 'Solidity', sources, settings };
  const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));

  const diagnostics = output.errors || [];
  const errors = diagnostics.filter((d) => d.severity === 'error');
  for (const d of diagnostics) {
    if (d.severity === 'error') continue;
    process.stderr.write(`${d.formattedMessage || `${d.severity}: ${d.message}`}\n`);
  }
  if (errors.length > 0) {
    for (const d of errors) process.stderr.write(`${d.formattedMessage || `Error: ${d.message}`}\n`);
    throw new BuildError(`compilation failed with ${errors.length} error(s)`);
  }

  // Artifacts for everything defined under src/ that has an ABI or bytecode.
  const artifacts = new Map();
  const contracts = output.contracts || {};
  for (const unit of Object.keys(contracts).sort()) {
    if (!unit.startsWith(SRC_PREFIX)) continue;
    for (const name of Object.keys(contracts[unit]).sort()) {
      const c = contracts[unit][name];
      const abi = c.abi || [];
      const bytecode = (c.evm && c.evm.bytecode && c.evm.bytecode.object) || '';
      const deployed = (c.evm && c.evm.deployedBytecode && c.evm.deployedBytecode.object) || '';
      if (abi.length === 0 && bytecode === '') continue;
      if (artifacts.has(name)) {
        throw new BuildError(
          `contract name ${name} is defined in both ${artifacts.get(name).sourceName} and ${unit}`,
        );
      }
      artifacts.set(name, {
        contractName: name,
        sourceName: unit,
        abi,
        bytecode: `0x${bytecode}`,
        deployedBytecode: `0x${deployed}`,
      });
    }
  }

  const buildSources = {};
  for (const unit of Object.keys(output.sources || {}).sort()) {
    if (!texts.has(unit)) throw new BuildError(`no text recorded for source unit ${unit}`);
    buildSources[unit] = { sha256: sha256(texts.get(unit)) };
  }
  const buildInfo = { solcVersion: longVersion, settings, sources: buildSources };

  fs.mkdirSync(opts.out, { recursive: true });
  for (const entry of fs.readdirSync(opts.out)) {
    if (entry.endsWith('.json')) fs.rmSync(path.join(opts.out, entry), { force: true });
  }
  for (const [name, artifact] of artifacts) {
    fs.writeFileSync(path.join(opts.out, `${name}.json`), stableStringify(artifact));
  }
  fs.writeFileSync(path.join(opts.out, 'build-info.json'), stableStringify(buildInfo));
  process.stdout.write(
    `solc ${longVersion}: ${files.length} source file(s), ${artifacts.size} artifact(s) -> ` +
      `${path.relative(process.cwd(), opts.out) || '.'}\n`,
  );
}

function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    usage(err.message);
    process.exitCode = 2;
    return;
  }
  if (opts.help) {
    usage();
    return;
  }
  try {
    build(opts);
  } catch (err) {
    if (!(err instanceof BuildError)) throw err;
    process.stderr.write(`build.js: ${err.message}\n`);
    process.exitCode = 1;
  }
}

main();
