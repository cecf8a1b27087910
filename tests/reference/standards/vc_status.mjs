// Digital Bazaar's Bitstring Status List implementation, driven by the docex VC tests.
// stdin: {"credential": {...}, "statusLists": {"<url>": {...status list credential...}}}
// stdout: {"verified": bool, "statuses": {"revocation": bool, ...}, "lengths": {...}, "error": str}
// The status list credentials' JWS signatures are checked by the test (jwcrypto) before
// they reach this script, hence verifyBitstringStatusListCredential: false.
import { checkStatus, decodeList } from "@digitalbazaar/vc-bitstring-status-list";

const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const { credential, statusLists } = JSON.parse(Buffer.concat(chunks).toString("utf8"));

const documentLoader = async (url) => {
  if (!(url in statusLists)) throw new Error(`no status list at ${url}`);
  return { document: statusLists[url] };
};
const result = await checkStatus({
  credential,
  documentLoader,
  verifyBitstringStatusListCredential: false,
  verifyMatchingIssuers: true,
});
const statuses = {};
for (const entry of result.results || []) {
  statuses[entry.credentialStatus.statusPurpose] = entry.status;
}
const lengths = {};
for (const [url, list] of Object.entries(statusLists)) {
  lengths[url] = (await decodeList({ encodedList: list.credentialSubject.encodedList })).length;
}
process.stdout.write(
  JSON.stringify({
    verified: result.verified,
    statuses,
    lengths,
    error: result.error ? String(result.error.message || result.error) : null,
  }),
);
