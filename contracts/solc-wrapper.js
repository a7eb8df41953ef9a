#!/usr/bin/env node
// A stand-in for the native `solc` binary, backed by solc-js from contracts/node_modules,
// for tools that shell out to `solc` (crytic-compile / slither: `--solc contracts/solc-wrapper.js`).
// There is no native solc on these machines and solc-select would try to download one.
//
// Supported invocations:
//   solc-wrapper.js --version
//   solc-wrapper.js --standard-json [--allow-paths P] [--base-path P]  < input.json > output.json
//   solc-wrapper.js [REMAP=TARGET ...] FILE.sol ... --combined-json abi,ast,bin,... [options]
// Imports are read relative to the current directory (like solc's default base path),
// or --base-path if given. --allow-paths / --include-path are accepted and ignored.
// In --combined-json mode the settings of contracts/compiler.json (EVM version, optimizer,
// remappings) apply unless overridden on the command line.
'use strict';

const fs = require('fs');
const path = require('path');

const CONTRACTS_DIR = __dirname;

class WrapperError extends Error {}

function loadConfig() {
  return JSON.parse(fs.readFileSync(path.join(CONTRACTS_DIR, 'compiler.json'), 'utf8'));
}

function loadSolc(config) {
  const solc = require(path.join(CONTRACTS_DIR, 'node_modules', 'solc'));
  const longVersion = solc.version();
  if (longVersion.split('+')[0] !== config.solcVersion) {
    throw new WrapperError(
      `solc-js is ${longVersion}, contracts/compiler.json pins ${config.solcVersion}`,
    );
  }
  // Native builds report e.g. "0.8.37+commit.f401782d.Linux.g++".
  const nativeVersion = longVersion.replace(/\.Emscripten\.clang$/, '.Linux.g++');
  return { solc, nativeVersion };
}

function makeImportCallback(basePath) {
  return (unit) => {
    const abs = path.isAbsolute(unit) ? unit : path.resolve(basePath, unit);
    try {
      return { contents: fs.readFileSync(abs, 'utf8') };
    } catch (err) {
      return { error: `File not found: ${unit} (${abs}: ${err.code || err.message})` };
    }
  };
}

function printDiagnostics(output) {
  let failed = false;
  for (const d of output.errors || []) {
    if (d.severity === 'error') failed = true;
    process.stderr.write(`${d.formattedMessage || `${d.severity}: ${d.message}`}\n`);
  }
  return failed;
}

// Map of --combined-json item -> how to read it from a standard-JSON contract output.
const COMBINED_ITEMS = {
  abi: { select: ['abi'], get: (c) => c.abi },
  bin: { select: ['evm.bytecode.object'], get: (c) => c.evm.bytecode.object },
  'bin-runtime': {
    select: ['evm.deployedBytecode.object'],
    get: (c) => c.evm.deployedBytecode.object,
  },
  srcmap: { select: ['evm.bytecode.sourceMap'], get: (c) => c.evm.bytecode.sourceMap },
  'srcmap-runtime': {
    select: ['evm.deployedBytecode.sourceMap'],
    get: (c) => c.evm.deployedBytecode.sourceMap,
  },
  hashes: { select: ['evm.methodIdentifiers'], get: (c) => c.evm.methodIdentifiers },
  userdoc: { select: ['userdoc'], get: (c) => c.userdoc },
  devdoc: { select: ['devdoc'], get: (c) => c.devdoc },
  metadata: { select: ['metadata'], get: (c) => c.metadata },
  opcodes: { select: ['evm.bytecode.opcodes'], get: (c) => c.evm.bytecode.opcodes },
  'storage-layout': { select: ['storageLayout'], get: (c) => c.storageLayout },
  'function-debug': {
    select: ['evm.bytecode.functionDebugData'],
    get: (c) => c.evm.bytecode.functionDebugData,
  },
  'function-debug-runtime': {
    select: ['evm.deployedBytecode.functionDebugData'],
    get: (c) => c.evm.deployedBytecode.functionDebugData,
  },
};
const IGNORED_ITEMS = new Set(['compact-format']); // the default since 0.8.10

function parseCli(argv) {
  const opts = {
    mode: null,
    combined: null,
    basePath: process.cwd(),
    files: [],
    remappings: [],
    overrides: {},
  };
  const takeValue = (i, flag) => {
    if (i + 1 >= argv.length) throw new WrapperError(`${flag} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i += 1) {
    let arg = argv[i];
    let inline;
    if (arg.startsWith('--') && arg.includes('=')) {
      inline = arg.slice(arg.indexOf('=') + 1);
      arg = arg.slice(0, arg.indexOf('='));
    }
    const value = () => {
      if (inline !== undefined) return inline;
      const v = takeValue(i, arg);
      i += 1;
      return v;
    };
    switch (arg) {
      case '--version':
        opts.mode = opts.mode || 'version';
        break;
      case '--standard-json':
        opts.mode = 'standard-json';
        break;
      case '--combined-json':
        opts.mode = 'combined-json';
        opts.combined = value();
        break;
      case '--allow-paths':
      case '--include-path':
        value();
        break;
      case '--base-path':
        opts.basePath = path.resolve(value());
        break;
      case '--optimize':
        opts.overrides.optimize = true;
        break;
      case '--optimize-runs':
        opts.overrides.runs = Number(value());
        break;
      case '--evm-version':
        opts.overrides.evmVersion = value();
        break;
      case '--via-ir':
      case '--experimental-via-ir':
        opts.overrides.viaIR = true;
        break;
      case '--no-color':
      case '--pretty-json':
        break;
      default:
        if (arg.startsWith('-')) throw new WrapperError(`unsupported option ${arg}`);
        if (arg.includes('=')) opts.remappings.push(arg);
        else opts.files.push(arg);
    }
  }
  return opts;
}

function runStandardJson(solc, opts) {
  const input = fs.readFileSync(0, 'utf8');
  const output = solc.compile(input, { import: makeImportCallback(opts.basePath) });
  process.stdout.write(output);
}

function sourceUnitName(file, basePath) {
  const abs = path.resolve(basePath, file);
  const rel = path.relative(basePath, abs);
  if (!rel.startsWith('..') && !path.isAbsolute(rel)) return rel.split(path.sep).join('/');
  return abs;
}

function runCombinedJson(solc, nativeVersion, config, opts) {
  if (opts.files.length === 0) throw new WrapperError('no input files');
  const items = opts.combined.split(',').filter((s) => s && !IGNORED_ITEMS.has(s));
  const contractItems = items.filter((s) => s !== 'ast');
  for (const item of contractItems) {
    if (!COMBINED_ITEMS[item]) throw new WrapperError(`unsupported --combined-json item ${item}`);
  }
  const selection = [...new Set(contractItems.flatMap((s) => COMBINED_ITEMS[s].select))];

  const { solcVersion, ...base } = config;
  void solcVersion;
  const settings = { ...base };
  settings.remappings = [...(base.remappings || []), ...opts.remappings];
  if (opts.overrides.evmVersion) settings.evmVersion = opts.overrides.evmVersion;
  if (opts.overrides.optimize || opts.overrides.runs !== undefined) {
    settings.optimizer = {
      ...(base.optimizer || {}),
      enabled: true,
      ...(opts.overrides.runs !== undefined ? { runs: opts.overrides.runs } : {}),
    };
  }
  if (opts.overrides.viaIR) settings.viaIR = true;
  settings.outputSelection = { '*': { '*': selection, '': items.includes('ast') ? ['ast'] : [] } };

  const sources = {};
  for (const file of opts.files) {
    const abs = path.resolve(opts.basePath, file);
    let content;
    try {
      content = fs.readFileSync(abs, 'utf8');
    } catch (err) {
      throw new WrapperError(`cannot read ${file}: ${err.code || err.message}`);
    }
    sources[sourceUnitName(file, opts.basePath)] = { content };
  }

  const input = { language: 'Solidity', sources, settings };
  const output = JSON.parse(
    solc.compile(JSON.stringify(input), { import: makeImportCallback(opts.basePath) }),
  );
  if (printDiagnostics(output)) {
    process.exitCode = 1;
    return;
  }

  const result = { contracts: {}, version: nativeVersion };
  for (const [unit, contracts] of Object.entries(output.contracts || {})) {
    for (const [name, c] of Object.entries(contracts)) {
      const entry = {};
      for (const item of contractItems) entry[item] = COMBINED_ITEMS[item].get(c);
      result.contracts[`${unit}:${name}`] = entry;
    }
  }
  const units = Object.entries(output.sources || {}).sort((a, b) => a[1].id - b[1].id);
  result.sourceList = units.map(([unit]) => unit);
  if (items.includes('ast')) {
    result.sources = {};
    for (const [unit, info] of units) result.sources[unit] = { AST: info.ast, id: info.id };
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

function main() {
  try {
    const opts = parseCli(process.argv.slice(2));
    const config = loadConfig();
    const { solc, nativeVersion } = loadSolc(config);
    if (opts.mode === 'version') {
      process.stdout.write(
        `solc, the solidity compiler commandline interface\nVersion: ${nativeVersion}\n`,
      );
    } else if (opts.mode === 'standard-json') {
      runStandardJson(solc, opts);
    } else if (opts.mode === 'combined-json') {
      runCombinedJson(solc, nativeVersion, config, opts);
    } else {
      throw new WrapperError('expected --version, --standard-json or --combined-json');
    }
  } catch (err) {
    if (!(err instanceof WrapperError)) throw err;
    process.stderr.write(`solc-wrapper: ${err.message}\n`);
    process.exitCode = 1;
  }
}

main();
