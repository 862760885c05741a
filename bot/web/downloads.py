"""GET /downloads/{token}: hand out an export or a receipt behind a signed, expiring link.

The token is the only credential (it is sent to the verified customer), so a bad or
tampered token is indistinguishable from a missing file (404), an expired one says so
(410), and the response is never cached. A link also dies with its request, and with
the account: once an erasure of the account is under way or done, its earlier exports
are no longer handed out (the erasure deletes them too), only the erasure's receipt.
An export's first download is recorded: an erasure waits for copies not fetched yet.
"""

from __future__ import annotations

from aiohttp import web

from bot.web.errors import json_error
from bot.web.keys import RUNTIME
from workflow.copy_first import record_download
from workflow.exports import (
    ExpiredLink,
    InvalidLink,
    exports_dir,
    still_servable,
    verify_download,
)

routes = web.RouteTableDef()

_TYPES = {".zip": "application/zip", ".txt": "text/plain; charset=utf-8"}
_NOT_FOUND = "This download link is not valid."
_GONE = "This download link has expired. Please ask us for a new one."


@routes.get("/downloads/{token}")
async def download(request: web.Request) -> web.StreamResponse:
    runtime = request.app[RUNTIME]
    try:
        reference, filename = verify_download(
            runtime.services.secret, request.match_info["token"], runtime.services.clock()
        )
    except ExpiredLink:
        return json_error(410, _GONE)
    except InvalidLink:
        return json_error(404, _NOT_FOUND)
    path = exports_dir(runtime.settings.data_dir) / filename
    content_type = next((v for k, v in _TYPES.items() if filename.endswith(k)), None)
    if content_type is None or not path.is_file():
        return json_error(404, _NOT_FOUND)
    async with runtime.db.transaction() as session:
        servable = await still_servable(session, reference)
        if servable and filename.endswith(".zip"):
            await record_download(
                session, runtime.settings.data_dir, reference, filename, runtime.services.clock()
            )
    if not servable:
        return json_error(404, _NOT_FOUND)
    return web.FileResponse(
        path,
        headers={
            "Content-Type": content_type,
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
            "X-Content-Type-Options": "nosniff",
        },
    )
