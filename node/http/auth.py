"""Who may call what: bearer tokens to principals, roles to endpoints, the verify limit.

Write access is decided by the node's own credentials (:mod:`node.access.users`); verifying a
presented document is public and rate-limited per client address.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from node.access.roles import Role
from node.access.users import Principal
from node.errors import NotAuthenticated, NotAuthorised
from node.http.deps import Services

_bearer = HTTPBearer(auto_error=False, description="A token from `docex users add`.")


def current_principal(
    services: Services,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller behind a live bearer token; 401 otherwise."""
    if credentials is None:
        raise NotAuthenticated("this endpoint needs a bearer token (Authorization: Bearer ...)")
    principal = services.users.authenticate(credentials.credentials)
    if principal is None:
        raise NotAuthenticated("the bearer token is unknown or revoked")
    return principal


def require_role(*roles: Role) -> Callable[..., Principal]:
    """A dependency admitting only principals of ``roles`` (403 for the others)."""
    allowed = ", ".join(role.value for role in roles)

    def dependency(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if principal.role not in roles:
            raise NotAuthorised(f"role {principal.role.value} may not do this; allowed: {allowed}")
        return principal

    return dependency


def client_address(request: Request) -> str:
    return request.client.host if request.client is not None else "unknown"


def verification_rate_limit() -> Callable[..., Coroutine[Any, Any, None]]:
    async def dependency(request: Request, services: Services) -> None:
        services.verify_limiter.take(client_address(request))

    return dependency


Issuer = Annotated[Principal, Depends(require_role(Role.ISSUER))]
ReceiptReader = Annotated[Principal, Depends(require_role(Role.ISSUER, Role.AUDITOR, Role.ADMIN))]
VerificationAllowance = Depends(verification_rate_limit())
