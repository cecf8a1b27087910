// OpenAttestation's own library, driven by the docex standards tests (never by docex itself).
// stdin: {"action": "wrap", "documents": [...], "obfuscate": [[index, [fields...]], ...]}
//    ->  {"wrapped": [...], "obfuscated": [...]}   (one batch: every proof is non-empty)
// stdin: {"action": "digest", "documents": [...]}  ->  {"digests": ["<64 hex>" | "error: ..."]}
// stdin: {"action": "verify", "documents": [...]}
//    ->  {"verdicts": [true | false | "error: ..."]}  (OA's verifySignature, per document)
const oa = require("@govtechsg/open-attestation");

const chunks = [];
process.stdin.on("data", (chunk) => chunks.push(chunk));
process.stdin.on("end", () => {
  const request = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  let answer;
  if (request.action === "wrap") {
    const wrapped = oa.wrapDocuments(request.documents);
    const obfuscated = (request.obfuscate || []).map(([index, fields]) =>
      oa.obfuscateDocument(wrapped[index], fields),
    );
    answer = { wrapped, obfuscated };
  } else if (request.action === "verify") {
    const verdicts = request.documents.map((document) => {
      try {
        return oa.verifySignature(document);
      } catch (error) {
        return `error: ${error.message}`;
      }
    });
    answer = { verdicts };
  } else if (request.action === "digest") {
    // OA's own digest of arbitrary (even unsalted) data, as verifySignature computes it
    const digests = request.documents.map((document) => {
      try {
        return oa.digestDocument(document);
      } catch (error) {
        return `error: ${error.message}`;
      }
    });
    answer = { digests };
  } else {
    throw new Error(`unknown action ${request.action}`);
  }
  process.stdout.write(JSON.stringify(answer));
});
