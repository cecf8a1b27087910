"""EIP-712 signatures over batch roots (ADR 0001).

The issuer signs ``BatchAnchor(bytes32 root,string documentType,uint32 documentCount,
bytes2[] addressees)`` under the domain ``(name, version, chainId, verifyingContract)``
of the DocumentRegistry it anchors in, so a signature cannot be replayed on another
chain or deployment. The digest is computed here by hand (it is small and on the hot
path); tests cross-check it against eth-account's ``encode_typed_data``. Signing and
recovery use libsecp256k1 (coincurve); high-s signatures are refused (EIP-2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from coincurve import PrivateKey, PublicKey

from certificates.errors import InvalidSignature
from certificates.keccak import keccak256

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SIGNATURE_SIZE = 65

DOMAIN_NAME = "docex"
DOMAIN_VERSION = "1"
_DOMAIN_TYPE = "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
_ANCHOR_TYPE = (
    "BatchAnchor(bytes32 root,string documentType,uint32 documentCount,bytes2[] addressees)"
)
DOMAIN_TYPEHASH = keccak256(_DOMAIN_TYPE.encode())
BATCH_ANCHOR_TYPEHASH = keccak256(_ANCHOR_TYPE.encode())

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


@dataclass(frozen=True, slots=True)
class Eip712Domain:
    """Where a signature is valid: one chain, one DocumentRegistry deployment."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def __post_init__(self) -> None:
        if not 0 < self.chain_id < 2**256:
            raise InvalidSignature(f"chain id {self.chain_id} is out of range")
        if not _ADDRESS.fullmatch(self.verifying_contract):
            raise InvalidSignature(
                f"verifying contract {self.verifying_contract!r} is not an address"
            )
        object.__setattr__(self, "verifying_contract", checksum_address(self.verifying_contract))

    def separator(self) -> bytes:
        return keccak256(
            DOMAIN_TYPEHASH
            + keccak256(self.name.encode())
            + keccak256(self.version.encode())
            + self.chain_id.to_bytes(32, "big")
            + bytes.fromhex(self.verifying_contract[2:]).rjust(32, b"\0")
        )


@dataclass(frozen=True, slots=True)
class BatchAnchor:
    """What the issuer commits to when it signs a batch."""

    root: bytes
    document_type: str
    document_count: int
    addressees: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.root) != 32:
            raise InvalidSignature("a batch root is 32 bytes")
        if not 0 < self.document_count < 2**32:
            raise InvalidSignature(f"document count {self.document_count} is out of range")
        if list(self.addressees) != sorted(set(self.addressees)) or not all(
            _COUNTRY.fullmatch(code) for code in self.addressees
        ):
            raise InvalidSignature(
                "addressees must be sorted, distinct ISO 3166-1 alpha-2 country codes"
            )

    def struct_hash(self) -> bytes:
        addressees = b"".join(code.encode("ascii").ljust(32, b"\0") for code in self.addressees)
        return keccak256(
            BATCH_ANCHOR_TYPEHASH
            + self.root
            + keccak256(self.document_type.encode("utf-8"))
            + self.document_count.to_bytes(32, "big")
            + keccak256(addressees)
        )


def batch_anchor_digest(domain: Eip712Domain, anchor: BatchAnchor) -> bytes:
    """The EIP-712 digest ``keccak256(0x1901 ‖ domainSeparator ‖ structHash)``."""
    return keccak256(b"\x19\x01" + domain.separator() + anchor.struct_hash())


def address_of(private_key: bytes) -> str:
    """The checksummed Ethereum address of a secp256k1 private key."""
    public = PrivateKey(private_key).public_key.format(compressed=False)
    return _address_from_public(public)


def sign_digest(private_key: bytes, digest: bytes) -> bytes:
    """A 65-byte ``r ‖ s ‖ v`` signature of a 32-byte digest (``v`` in {27, 28}, low ``s``)."""
    signature = PrivateKey(private_key).sign_recoverable(digest, hasher=None)
    return signature[:64] + bytes([signature[64] + 27])


def recover_digest_signer(digest: bytes, signature: bytes) -> str:
    """The address that signed ``digest``; refuses malformed or high-s signatures."""
    return _recover(digest, signature)


def sign_batch_anchor(private_key: bytes, domain: Eip712Domain, anchor: BatchAnchor) -> bytes:
    """A 65-byte ``r ‖ s ‖ v`` signature (``v`` in {27, 28}, low ``s``)."""
    return sign_digest(private_key, batch_anchor_digest(domain, anchor))


def recover_batch_signer(domain: Eip712Domain, anchor: BatchAnchor, signature: bytes) -> str:
    """The address that signed ``anchor`` under ``domain``; refuses malformed or high-s input.

    Every document of a batch carries the same signature, so recoveries are memoised.
    """
    return _recover(batch_anchor_digest(domain, anchor), signature)


@lru_cache(maxsize=4096)
def _recover(digest: bytes, signature: bytes) -> str:
    if len(signature) != SIGNATURE_SIZE:
        raise InvalidSignature(f"a signature is {SIGNATURE_SIZE} bytes, not {len(signature)}")
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    v = signature[64]
    if v not in (27, 28):
        raise InvalidSignature(f"signature v must be 27 or 28, not {v}")
    if not 0 < r < SECP256K1_N or not 0 < s < SECP256K1_N:
        raise InvalidSignature("signature r or s is out of range")
    if s > SECP256K1_N // 2:
        raise InvalidSignature("signature has a high s value (not canonical, EIP-2)")
    try:
        public = PublicKey.from_signature_and_message(
            signature[:64] + bytes([v - 27]), digest, hasher=None
        )
    except Exception as exc:  # coincurve raises plain Exception on an unrecoverable point
        raise InvalidSignature("signature does not recover to a public key") from exc
    return _address_from_public(public.format(compressed=False))


def _address_from_public(uncompressed: bytes) -> str:
    return checksum_address("0x" + keccak256(uncompressed[1:])[-20:].hex())


@lru_cache(maxsize=4096)
def checksum_address(address: str) -> str:
    """The EIP-55 mixed-case form of a 0x-prefixed 20-byte hex address (memoised): a hex
    letter is upper case where the same nibble of keccak-256(lower-case hex) is >= 8."""
    if _ADDRESS.fullmatch(address) is None:
        raise ValueError(f"not a 0x-prefixed 20-byte hex address: {address!r}")
    lower = address[2:].lower()
    digest = keccak256(lower.encode("ascii")).hex()
    return "0x" + "".join(
        char.upper() if int(nibble, 16) >= 8 else char
        for char, nibble in zip(lower, digest, strict=False)
    )
