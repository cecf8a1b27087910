// JS side of the content benchmark: CID computation with the official UnixFS importer
// (npm ipfs-unixfs-importer, which agrees with Kubo's `ipfs add --only-hash`), timed
// inside this process (Node start-up excluded), best of ROUNDS per CID version.
// Blocks go to a BlackHoleBlockstore: nothing is stored, as with `docex cid`.
// usage: node peers/unixfs_cid.mjs FILE ROUNDS
// Resolves its packages from the repository's root node_modules (make setup).
import { createReadStream, statSync } from "node:fs";
import { importer } from "ipfs-unixfs-importer";
import { fixedSize } from "ipfs-unixfs-importer/chunker";
import { balanced } from "ipfs-unixfs-importer/layout";
import { BlackHoleBlockstore } from "blockstore-core/black-hole";

const CHUNK_SIZE = 262144;
const MAX_LINKS = 174;
const [file, roundsText] = process.argv.slice(2);
const rounds = Number(roundsText || "3");
const size = statSync(file).size;

async function cidOf(cidVersion) {
  const options = {
    cidVersion,
    rawLeaves: cidVersion === 1, // `ipfs add --cid-version=1` implies raw leaves
    chunker: fixedSize({ chunkSize: CHUNK_SIZE }),
    layout: balanced({ maxChildrenPerNode: MAX_LINKS }),
  };
  // read in 256 KiB pieces, as docex reads its input
  const content = createReadStream(file, { highWaterMark: CHUNK_SIZE });
  let root;
  for await (const entry of importer([{ content }], new BlackHoleBlockstore(), options)) {
    root = entry;
  }
  return root.cid.toString();
}

async function best(cidVersion) {
  let fastest = Infinity;
  let cid;
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    cid = await cidOf(cidVersion);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    fastest = Math.min(fastest, seconds);
  }
  return { cid, seconds: fastest, bytesPerSecond: size / fastest };
}

const v0 = await best(0);
const v1 = await best(1);
process.stdout.write(
  JSON.stringify({ bytes: size, rounds, cidV0: v0, cidV1: v1 }) +
    "\n",
);
