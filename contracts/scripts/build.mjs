// Compiles contracts/src with the pinned solc-js (standard-JSON API) into one artifact per
// deployable contract: contracts/build/<ContractName>.json, or into the directory given as the
// first argument. The output depends only on the sources and the pinned packages, so the
// checked-in artifacts can be compared with a fresh build byte for byte.
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const solc = require("solc");

const contractsDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = resolve(process.argv[2] ?? join(contractsDir, "build"));

// The contracts the ledger deploys; libraries linked internally need no artifact.
const DEPLOYABLE = ["ConsortiumRegistry", "DocumentRegistry"];

// Anchoring and recording uses run millions of times a year, deployment once per consortium:
// optimise for calls. 10,000 runs keeps both contracts under the 24 KiB code-size limit.
const OPTIMIZER_RUNS = 10000;

const pinned = JSON.parse(readFileSync(join(contractsDir, "package.json"), "utf8")).devDependencies.solc;
const version = solc.version();
if (!version.startsWith(`${pinned}+`)) {
  throw new Error(`solc ${version} loaded, ${pinned} pinned in contracts/package.json`);
}

const sources = {};
for (const name of readdirSync(join(contractsDir, "src")).sort()) {
  if (name.endsWith(".sol")) {
    sources[`src/${name}`] = { content: readFileSync(join(contractsDir, "src", name), "utf8") };
  }
}

const input = {
  language: "Solidity",
  sources,
  settings: {
    evmVersion: "paris",
    optimizer: { enabled: true, runs: OPTIMIZER_RUNS },
    metadata: { bytecodeHash: "ipfs" },
    outputSelection: {
      "*": { "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"] },
    },
  },
};

// Only our sources and installed npm packages are importable.
function findImports(path) {
  if (path.startsWith("@openzeppelin/")) {
    return { contents: readFileSync(join(contractsDir, "node_modules", path), "utf8") };
  }
  if (path.startsWith("src/")) {
    return { contents: readFileSync(join(contractsDir, path), "utf8") };
  }
  return { error: `import outside src/ and @openzeppelin/: ${path}` };
}

const output = JSON.parse(solc.compile(JSON.stringify(input), { import: findImports }));
const problems = (output.errors ?? []).filter((e) => e.severity === "error");
// Warnings inside pinned dependencies are not ours to fix; ours and all errors are shown.
for (const e of output.errors ?? []) {
  const file = e.sourceLocation?.file ?? "";
  if (e.severity === "error" || !file.startsWith("@openzeppelin/")) {
    process.stderr.write(`${e.formattedMessage ?? e.message}\n`);
  }
}
if (problems.length > 0) {
  process.exit(1);
}

mkdirSync(outDir, { recursive: true });
for (const [file, contracts] of Object.entries(output.contracts)) {
  for (const [contractName, compiled] of Object.entries(contracts)) {
    if (!DEPLOYABLE.includes(contractName)) continue;
    const artifact = {
      contractName,
      sourceName: file,
      compiler: version,
      abi: compiled.abi,
      bytecode: `0x${compiled.evm.bytecode.object}`,
      deployedBytecode: `0x${compiled.evm.deployedBytecode.object}`,
      metadata: compiled.metadata,
    };
    writeFileSync(join(outDir, `${contractName}.json`), `${JSON.stringify(artifact, null, 2)}\n`);
    const size = compiled.evm.deployedBytecode.object.length / 2;
    process.stdout.write(`${contractName}: ${size} bytes deployed -> ${join(outDir, contractName)}.json\n`);
  }
}
