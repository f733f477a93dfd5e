"""Live runs: the gateway posts values while the runner runs; the runner's open pages get them over a WebSocket.

The WebSocket is authenticated by its first message (``{"token": "…"}``), not the URL, so tokens never reach
access logs; the web app sends ``{}`` and is known by its session cookie, taken only from our own origin.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
from typing import Any

from fastapi import APIRouter, Response, WebSocket, WebSocketDisconnect, status
from starlette.concurrency import run_in_threadpool

from soleware.runs.storage.accounts import AuthError
from soleware.server.deps import CurrentRunner, Hub, Store
from soleware.server.schemas import LiveUpdate
from soleware.server.session import SESSION_COOKIE, same_origin

router = APIRouter(prefix="/api/live", tags=["live"])


@router.post("", status_code=status.HTTP_202_ACCEPTED, response_class=Response)
async def post_live(body: LiveUpdate, runner: CurrentRunner, store: Store, hub: Hub) -> Response:
    message: dict[str, Any] = {
        "type": "update",
        "at": dt.datetime.now(dt.UTC).isoformat(),
        **body.model_dump(),
    }
    await run_in_threadpool(store.set_live, runner.id, message)
    await hub.publish(runner.id, message)
    return Response(status_code=status.HTTP_202_ACCEPTED)


@router.delete("", status_code=status.HTTP_204_NO_CONTENT)
async def end_live(runner: CurrentRunner, store: Store, hub: Hub) -> Response:
    await run_in_threadpool(store.end_live, runner.id)
    await hub.publish(runner.id, {"type": "end", "at": dt.datetime.now(dt.UTC).isoformat()})
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("")
async def get_live(runner: CurrentRunner, store: Store) -> dict[str, Any]:
    state = await run_in_threadpool(store.get_live, runner.id)
    return state or {"type": "idle"}


@router.websocket("/ws")
async def live_socket(ws: WebSocket) -> None:
    store = ws.app.state.store
    hub = ws.app.state.hub
    await ws.accept()
    try:
        hello = await asyncio.wait_for(ws.receive_json(), 10)
        token = hello.get("token") or (ws.cookies.get(SESSION_COOKIE) if same_origin(ws) else None)
        runner = await run_in_threadpool(store.runner_for_token, str(token or ""))
    except (TimeoutError, AuthError, ValueError, AttributeError, WebSocketDisconnect):
        with contextlib.suppress(RuntimeError):
            await ws.close(code=4401, reason='send {"token": …} first')
        return
    with hub.subscribe(runner.id) as queue:
        current = await run_in_threadpool(store.get_live, runner.id)
        hub.sent(runner.id, current)
        await ws.send_json(current or {"type": "idle"})
        receiver = asyncio.create_task(ws.receive_text())
        try:
            while True:
                getter = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({getter, receiver}, return_when=asyncio.FIRST_COMPLETED)
                if receiver in done:  # the page closed (or sent something we do not expect)
                    getter.cancel()
                    break
                await ws.send_json(getter.result())
        except WebSocketDisconnect:
            pass
        finally:
            receiver.cancel()
