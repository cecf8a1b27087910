// The ABI and bytecode of OpenAttestation's DocumentStore, from the typechain factory that
// npm @govtechsg/document-store ships (JavaScript literals: evaluated without loading ethers).
const fs = require("fs");
const vm = require("vm");
const path = require.resolve(
  "@govtechsg/document-store/dist/contracts/factories/contracts/DocumentStore__factory.js",
);
const source = fs.readFileSync(path, "utf8");
const abi = vm.runInNewContext(source.match(/const _abi = (\[[\s\S]*?\]);\nconst _bytecode/)[1]);
const bytecode = source.match(/const _bytecode = "(0x[0-9a-fA-F]+)"/)[1];
process.stdout.write(JSON.stringify({ abi, bytecode }));
