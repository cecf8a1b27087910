// Reference for docex's content tests: the official JS UnixFS importer (agrees with
// Kubo's `ipfs add`) and the @ipld/car reader/writer. Written for docex; run with
//   node tests/reference/unixfs_reference.mjs cid FILE CID_VERSION [CHUNK_SIZE MAX_LINKS]
//   node tests/reference/unixfs_reference.mjs car-write FILE CID_VERSION OUT.car
//   node tests/reference/unixfs_reference.mjs car-read IN.car
// Output is one JSON object on stdout.
import { createReadStream } from 'node:fs'
import { open, writeFile } from 'node:fs/promises'
import { Readable } from 'node:stream'
import { importer } from 'ipfs-unixfs-importer'
import { fixedSize } from 'ipfs-unixfs-importer/chunker'
import { balanced } from 'ipfs-unixfs-importer/layout'
import { MemoryBlockstore } from 'blockstore-core/memory'
import { CarReader, CarWriter } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { sha256 } from 'multiformats/hashes/sha2'
import { equals } from 'uint8arrays/equals'

async function importFile (path, cidVersion, chunkSize, maxLinks) {
  const blockstore = new MemoryBlockstore()
  const options = {
    cidVersion,
    rawLeaves: cidVersion === 1,
    chunker: fixedSize({ chunkSize }),
    layout: balanced({ maxChildrenPerNode: maxLinks })
  }
  let root
  for await (const entry of importer([{ content: createReadStream(path) }], blockstore, options)) {
    root = entry
  }
  return { root, blockstore }
}

async function * depthFirst (cid, blockstore, seen) {
  const key = cid.toString()
  if (seen.has(key)) return
  seen.add(key)
  // blockstore-core 7 yields a block as a sequence of byte arrays
  const bytes = Buffer.concat([...blockstore.get(cid)])
  yield { cid, bytes: new Uint8Array(bytes) }
  if (cid.code === dagPb.code) {
    for (const link of dagPb.decode(bytes).Links) {
      yield * depthFirst(link.Hash, blockstore, seen)
    }
  }
}

async function collect (source) {
  const chunks = []
  for await (const chunk of source) chunks.push(chunk)
  return Buffer.concat(chunks)
}

const [command, ...args] = process.argv.slice(2)
if (command === 'cid') {
  const [path, version, chunkSize = '262144', maxLinks = '174'] = args
  const { root } = await importFile(path, Number(version), Number(chunkSize), Number(maxLinks))
  console.log(JSON.stringify({ cid: root.cid.toString(), size: Number(root.size) }))
} else if (command === 'car-write') {
  const [path, version, out] = args
  const { root, blockstore } = await importFile(path, Number(version), 262144, 174)
  const { writer, out: carBytes } = CarWriter.create([root.cid])
  const written = collect(carBytes)
  for await (const block of depthFirst(root.cid, blockstore, new Set())) {
    await writer.put(block)
  }
  await writer.close()
  await writeFile(out, await written)
  console.log(JSON.stringify({ root: root.cid.toString() }))
} else if (command === 'car-read') {
  const [path] = args
  const handle = await open(path)
  const reader = await CarReader.fromIterable(Readable.from(handle.createReadStream()))
  const blocks = []
  for await (const { cid, bytes } of reader.blocks()) {
    const digest = await sha256.digest(bytes)
    if (!equals(digest.bytes, cid.multihash.bytes)) {
      throw new Error(`block ${cid} does not match its CID`)
    }
    blocks.push({ cid: cid.toString(), size: bytes.length })
  }
  const roots = (await reader.getRoots()).map((cid) => cid.toString())
  console.log(JSON.stringify({ version: reader.version, roots, blocks }))
} else {
  console.error('usage: unixfs_reference.mjs cid|car-write|car-read ...')
  process.exit(2)
}
