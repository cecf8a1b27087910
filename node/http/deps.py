"""Every dependency the routers take, and every role alias: the access matrix in one file.

The node's services and use cases are built once by the runtime
(:class:`node.services.NodeServices`) and handed to the app; routers take them through
the aliases below. Write access is decided by the node's own credentials
(:mod:`node.access.users`); verifying a presented document is public and rate-limited per
client address.

============================  ==============================================
alias                         roles admitted
============================  ==============================================
``Issuer``                    issuer (``POST /v1/documents`` takes it
                              with :func:`issuer_directly` on its direct
                              path, and through FastAPI otherwise)
``Addressee``                 customs officer
``Admin``                     admin
``ReceiptReader``             issuer, auditor, admin
``ProposalReader``            admin, auditor
``InboxReader``               customs officer, auditor, admin
``AuditReader``               auditor, admin, issuer
``HistoryReader``             issuer, customs officer, auditor, admin
``AgreementReader``           issuer, customs officer, auditor, admin
``CertificatePrinter``        issuer, customs officer, auditor, admin
``ShareLinkCreator``          issuer (its own documents), customs officer
                              (documents addressed to this country)
``ShareLinkRevoker``          the same, and admin
``ShareLinkReader``           the same, and auditor
``CredentialExporter``        issuer (its own documents), auditor, admin
``VerificationAllowance``     anyone, within the per-address verify limit
                              (``POST /v1/verify`` takes it in its body with
                              :func:`take_verification_allowance`: no
                              dependency to solve on the busiest route)
``Member``                    another member's node: a request signed with a
                              current member account of an active member
                              (ADR 0023), no bearer token
``ContentReader``             a member's node entitled to the document
                              (its issuer or one of its own addressees), or
                              the holder of a live share link for it
============================  ==============================================
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from node.access.member_requests import MemberCaller
from node.access.roles import Role
from node.access.users import Principal
from node.audit.report import AuditReports
from node.consortium.governance import Governance
from node.credentials import CredentialExport
from node.documents.content_access import ContentAccess
from node.documents.lifecycle import DocumentLifecycle
from node.documents.printing import CertificatePrinting
from node.errors import NotAuthenticated, NotAuthorised
from node.services import NodeServices
from node.verification.by_reference import ReferenceVerification

_bearer = HTTPBearer(auto_error=False, description="A token from `docex users add`.")


# --- the node's services and use cases (built once, at start) -------------------------


def services_of(request: Request) -> NodeServices:
    """The node's services, for a route that takes no dependency (``POST /v1/verify``)."""
    services: NodeServices = request.app.state.services
    return services


async def get_services(request: Request) -> NodeServices:
    return services_of(request)


Services = Annotated[NodeServices, Depends(get_services)]


async def get_lifecycle(services: Services) -> DocumentLifecycle:
    return services.lifecycle


async def get_governance(services: Services) -> Governance:
    return services.governance


async def get_audit_reports(services: Services) -> AuditReports:
    return services.audit


async def get_reference_verification(services: Services) -> ReferenceVerification:
    return services.references


async def get_certificate_printing(services: Services) -> CertificatePrinting:
    return services.printing


async def get_content_access(services: Services) -> ContentAccess:
    return services.content_access


async def get_credential_export(services: Services) -> CredentialExport:
    return services.credentials


Lifecycle = Annotated[DocumentLifecycle, Depends(get_lifecycle)]
GovernanceDep = Annotated[Governance, Depends(get_governance)]
Audits = Annotated[AuditReports, Depends(get_audit_reports)]
References = Annotated[ReferenceVerification, Depends(get_reference_verification)]
Printing = Annotated[CertificatePrinting, Depends(get_certificate_printing)]
Access = Annotated[ContentAccess, Depends(get_content_access)]
Credentials = Annotated[CredentialExport, Depends(get_credential_export)]


# --- who is calling -------------------------------------------------------------------


async def current_principal(
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind a live bearer token; 401 otherwise.

    ``async`` although it reads the users table (one indexed read, well under a
    millisecond): a plain ``def`` dependency runs on the thread pool, and under load every
    hop there and back waits for the busy event loop's next turn (under the mixed-load
    bench, two such hops were most of an issue request's 0.8 s)."""
    if credentials is None:
        raise NotAuthenticated("this endpoint needs a bearer token (Authorization: Bearer ...)")
    principal = services.users.authenticate(credentials.credentials)
    if principal is None:
        raise NotAuthenticated("the bearer token is unknown or revoked")
    return principal


def issuer_directly(request: Request, services: NodeServices) -> Principal | None:
    """``Issuer`` without FastAPI, for a direct route (:mod:`node.http.direct_routes`): the
    principal behind the request's bearer token (read as ``HTTPBearer`` reads it) when it
    is a live token of an issuer; None for every other request, which the route then
    passes on to FastAPI, where ``Issuer`` refuses it (401 or 403) as for any route."""
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    principal = services.users.authenticate(token)
    if principal is None or principal.role is not Role.ISSUER:
        return None
    return principal


def require_role(*roles: Role) -> Callable[..., Coroutine[Any, Any, Principal]]:
    """A dependency admitting only principals of ``roles`` (403 for the others)."""
    allowed = ", ".join(role.value for role in roles)

    async def dependency(
        principal: Annotated[Principal, Depends(current_principal)],
    ) -> Principal:
        if principal.role not in roles:
            raise NotAuthorised(f"role {principal.role.value} may not do this; allowed: {allowed}")
        return principal

    return dependency


# --- who is calling, for stored content (ADR 0023) --------------------------------------


def _request_target(request: Request) -> str:
    """The path and query as the client sent them (what a member signs)."""
    raw_path = request.scope.get("raw_path") or request.url.path.encode("utf-8")
    query = request.scope.get("query_string", b"")
    target = bytes(raw_path).decode("latin-1")
    return f"{target}?{bytes(query).decode('latin-1')}" if query else target


def member_caller(request: Request, services: Services) -> MemberCaller:
    """The member node behind a signed request; 401 unsigned or badly signed, 403 not a
    current member."""
    headers = dict(request.headers.items())  # names lower-cased
    if not services.member_requests.is_signed(headers):
        raise NotAuthenticated(
            "this endpoint serves consortium members' nodes: sign the request with a "
            "member account key (Docex-Signer, Docex-Timestamp, Docex-Nonce, Docex-Signature)"
        )
    return services.member_requests.authenticate(headers, request.method, _request_target(request))


#: the header that carries a share token to the content gateway
SHARE_TOKEN_HEADER = "docex-share-token"  # noqa: S105 - a header name


def content_reader(cid: str, request: Request, services: Services) -> None:
    """Admit a share link's holder for its one document, or an entitled member's node."""
    token = request.headers.get(SHARE_TOKEN_HEADER)
    if token is not None:
        services.content_access.share_may_read(token, cid)
        return
    services.content_access.member_may_read(member_caller(request, services), cid)


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def take_verification_allowance(request: Request, services: NodeServices) -> None:
    """One verification from the caller's address, or 429 (``RateLimited``) past the
    limit: ``VerificationAllowance``, called in the body of a route."""
    services.verify_limiter.take(client_address(request))


def verification_rate_limit() -> Callable[..., Coroutine[Any, Any, None]]:
    async def dependency(request: Request, services: Services) -> None:
        take_verification_allowance(request, services)

    return dependency


# --- the access matrix ------------------------------------------------------------------

_EVERY_ROLE = (Role.ISSUER, Role.CUSTOMS_OFFICER, Role.AUDITOR, Role.ADMIN)

Issuer = Annotated[Principal, Depends(require_role(Role.ISSUER))]
Addressee = Annotated[Principal, Depends(require_role(Role.CUSTOMS_OFFICER))]
Admin = Annotated[Principal, Depends(require_role(Role.ADMIN))]
ReceiptReader = Annotated[Principal, Depends(require_role(Role.ISSUER, Role.AUDITOR, Role.ADMIN))]
ProposalReader = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.AUDITOR))]
InboxReader = Annotated[
    Principal, Depends(require_role(Role.CUSTOMS_OFFICER, Role.AUDITOR, Role.ADMIN))
]
AuditReader = Annotated[Principal, Depends(require_role(Role.AUDITOR, Role.ADMIN, Role.ISSUER))]
HistoryReader = Annotated[Principal, Depends(require_role(*_EVERY_ROLE))]
AgreementReader = Annotated[Principal, Depends(require_role(*_EVERY_ROLE))]
CertificatePrinter = Annotated[Principal, Depends(require_role(*_EVERY_ROLE))]
ShareLinkCreator = Annotated[Principal, Depends(require_role(Role.ISSUER, Role.CUSTOMS_OFFICER))]
ShareLinkRevoker = Annotated[
    Principal, Depends(require_role(Role.ISSUER, Role.CUSTOMS_OFFICER, Role.ADMIN))
]
ShareLinkReader = Annotated[Principal, Depends(require_role(*_EVERY_ROLE))]
CredentialExporter = Annotated[
    Principal, Depends(require_role(Role.ISSUER, Role.AUDITOR, Role.ADMIN))
]
VerificationAllowance = Depends(verification_rate_limit())
Member = Annotated[MemberCaller, Depends(member_caller)]
ContentReader = Depends(content_reader)
