#!/usr/bin/env node
// A `solc` for Slither made of the pinned solc-js (contracts/node_modules/solc): no native
// solc can be installed here (see docs/threat-model.md, "Static analysis"). It answers the
// two calls crytic-compile makes, `solc --version` and `solc --standard-json` (input on
// stdin, output on stdout), and reads imports from disk only below the repository, with
// the remappings the input carries (applied by the compiler before it asks for a file).
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, isAbsolute, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const repo = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(resolve(repo, "contracts", "package.json"));
const solc = require("solc");

const args = process.argv.slice(2);
if (args.includes("--version")) {
  process.stdout.write(
    `solc, the solidity compiler commandline interface\nVersion: ${solc.version()}\n`,
  );
  process.exit(0);
}
if (!args.includes("--standard-json")) {
  process.stderr.write("slither-solc: only --version and --standard-json are supported\n");
  process.exit(2);
}

function findImports(path) {
  const file = isAbsolute(path) ? path : resolve(process.cwd(), path);
  const inside = relative(repo, file);
  if (inside.startsWith("..") || isAbsolute(inside)) {
    return { error: `import outside the repository: ${path}` };
  }
  try {
    return { contents: readFileSync(file, "utf8") };
  } catch (error) {
    return { error: `cannot read ${path}: ${error.message}` };
  }
}

const input = readFileSync(0, "utf8");
process.stdout.write(solc.compile(input, { import: findImports }));
