"""credentials: the node's W3C Verifiable Credential export (ADR 0060): its member's
``did:web`` document, the credentials of the documents it issued, and the Bitstring
Status Lists they point at, kept in step with the chain.
"""

from node.credentials.export import CredentialExport, IssuedCredential, StatusListNotFound

__all__ = ["CredentialExport", "IssuedCredential", "StatusListNotFound"]
