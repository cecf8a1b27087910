// OpenAttestation side of the core benchmark: wrap and verify the same documents docex
// wraps, in one process, and print rates as JSON on stdout.
// usage: node peers/oa_core.mjs DOCUMENTS.json ROUNDS
import { readFileSync } from "node:fs";
import oa from "@govtechsg/open-attestation";

const { wrapDocuments, verifySignature } = oa;
const [file, roundsText] = process.argv.slice(2);
const documents = JSON.parse(readFileSync(file, "utf8"));
const rounds = Number(roundsText || "3");

function best(fn) {
  let fastest = Infinity;
  let result;
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    result = fn();
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    fastest = Math.min(fastest, seconds);
  }
  return { seconds: fastest, result };
}

const wrap = best(() => wrapDocuments(documents));
const wrapped = wrap.result;
const verify = best(() => {
  let valid = 0;
  for (const document of wrapped) if (verifySignature(document)) valid += 1;
  return valid;
});
if (verify.result !== documents.length) {
  console.error(`OA verified ${verify.result} of ${documents.length}`);
  process.exit(1);
}
process.stdout.write(
  JSON.stringify({
    documents: documents.length,
    wrapDocsPerSecond: documents.length / wrap.seconds,
    verifyDocsPerSecond: documents.length / verify.seconds,
    wrappedBytes: Buffer.byteLength(JSON.stringify(wrapped[0])),
  }) + "\n",
);
