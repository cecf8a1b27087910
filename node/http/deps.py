"""Dependencies the routers take through ``Depends``: the node's services."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from node.services import NodeServices


async def get_services(request: Request) -> NodeServices:
    services: NodeServices = request.app.state.services
    return services


Services = Annotated[NodeServices, Depends(get_services)]
