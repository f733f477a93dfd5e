"""GATT helpers shared by the Soleware profiles (:mod:`soleware.link.rsc`, :mod:`soleware.link.soleware_service`).

Wire-value checks for the codecs, CCCD state of a client on this server, control point plumbing on both sides
(server: application error codes, indications that end exactly on the confirmation, tasks bound to the link;
client: :class:`ControlPointClient`).
"""

# -----------------------------------------------------------------------------
# Imports
# -----------------------------------------------------------------------------
from __future__ import annotations

import asyncio
import enum
import inspect
import logging
import math
from collections import defaultdict
from collections.abc import Awaitable, Callable
from typing import Any

from bumble import att, core, gatt_client, gatt_server

__all__ = [
    "CONTROL_POINT_TIMEOUT_S",
    "ApplicationError",
    "ControlPointClient",
    "call",
    "check_integer",
    "encode_scaled",
    "gatt_server_of",
    "indicate",
    "indications_enabled",
    "notifications_enabled",
    "spawn",
]

logger = logging.getLogger(__name__)

# -----------------------------------------------------------------------------
# Constants
# -----------------------------------------------------------------------------
#: Time a client waits for the indicated response of a control point procedure.
CONTROL_POINT_TIMEOUT_S = 10.0

#: Client Characteristic Configuration descriptor bits.
_CCCD_NOTIFY = 0x01
_CCCD_INDICATE = 0x02


class ApplicationError(enum.IntEnum):
    """ATT application error codes of RSCS 1.0 §1.6, returned in the ATT Error Response to a control point write."""

    # fmt: off
    PROCEDURE_ALREADY_IN_PROGRESS = 0x80
    CCCD_IMPROPERLY_CONFIGURED    = 0x81
    # fmt: on


# -----------------------------------------------------------------------------
# Codec checks
# -----------------------------------------------------------------------------
def encode_scaled(name: str, value: float, scale: float, maximum: int, minimum: int = 0) -> int:
    """``round(value * scale)`` as a wire integer, or an error naming the field and its allowed range."""
    if not math.isfinite(value):
        raise core.InvalidArgumentError(f"{name} must be finite, got {value!r}")
    raw = round(value * scale)
    if not minimum <= raw <= maximum:
        raise core.InvalidArgumentError(
            f"{name} = {value!r} is outside the encodable range {minimum / scale:g}..{maximum / scale:g}"
        )
    return raw


def check_integer(name: str, value: int, maximum: int, minimum: int = 0) -> int:
    """``value`` if it is an integer in ``minimum..maximum``, else an error naming the field."""
    if isinstance(value, bool) or int(value) != value:
        raise core.InvalidArgumentError(f"{name} must be an integer, got {value!r}")
    if not minimum <= value <= maximum:
        raise core.InvalidArgumentError(f"{name} = {value!r} is outside {minimum}..{maximum}")
    return int(value)


# -----------------------------------------------------------------------------
# Server side
# -----------------------------------------------------------------------------
def gatt_server_of(bearer: att.Bearer) -> gatt_server.Server:
    """The GATT server of the device ``bearer`` (a connection or an EATT channel) belongs to."""
    connection = bearer.connection if att.is_enhanced_bearer(bearer) else bearer
    return connection.device.gatt_server


def _cccd(bearer: att.Bearer, characteristic: att.Attribute[Any]) -> int:
    cccd = gatt_server_of(bearer).subscribers.get(bearer, {}).get(characteristic.handle)
    return cccd[0] if cccd and len(cccd) == 2 else 0


def indications_enabled(bearer: att.Bearer, characteristic: att.Attribute[Any]) -> bool:
    """Whether ``bearer`` has set the indication bit in ``characteristic``'s CCCD on this server."""
    return bool(_cccd(bearer, characteristic) & _CCCD_INDICATE)


def notifications_enabled(bearer: att.Bearer, characteristic: att.Attribute[Any]) -> bool:
    """Whether ``bearer`` has set the notification bit in ``characteristic``'s CCCD on this server."""
    return bool(_cccd(bearer, characteristic) & _CCCD_NOTIFY)


async def indicate(
    bearer: att.Bearer, characteristic: att.Attribute[Any], value: bytes, confirmation: asyncio.Future[None]
) -> None:
    """Indicate ``value`` to ``bearer`` and wait for its confirmation, which resolves ``confirmation``.

    Bumble's ``Server.indicate_subscriber`` with one difference: Bumble's confirmation handler resolves
    ``confirmation`` itself, so ``confirmation.done()`` is true the moment the confirmation is handled. A
    procedure that ends on the confirmation (RSCS 1.0 §3.4.1) can thus accept a write that arrives right behind
    the confirmation, before this coroutine resumes. ``confirmation`` is cancelled if nothing was confirmed
    (not subscribed, timeout, link lost).
    """
    try:
        if not indications_enabled(bearer, characteristic):
            return
        server = gatt_server_of(bearer)
        pdu = att.ATT_Handle_Value_Indication(
            attribute_handle=characteristic.handle, attribute_value=value[: bearer.att_mtu - 3]
        )
        async with server.indication_semaphores[bearer]:
            server.pending_confirmations[bearer] = confirmation
            try:
                server.send_gatt_pdu(bearer, bytes(pdu))
                await asyncio.wait_for(asyncio.shield(confirmation), gatt_server.GATT_REQUEST_TIMEOUT)
            finally:
                server.pending_confirmations[bearer] = None
    finally:
        if not confirmation.done():
            confirmation.cancel()


def spawn(
    tasks: set[asyncio.Future[Any]], bearer: att.Bearer, coroutine: Awaitable[Any]
) -> asyncio.Future[Any]:
    """Run ``coroutine`` until it ends or the link drops; keep a reference in ``tasks`` and log its failure."""
    connection = bearer.connection if att.is_enhanced_bearer(bearer) else bearer
    future = asyncio.ensure_future(connection.cancel_on_disconnection(coroutine))
    tasks.add(future)

    def done(finished: asyncio.Future[Any]) -> None:
        tasks.discard(finished)
        if not finished.cancelled() and (error := finished.exception()) is not None:
            logger.warning("GATT procedure failed: %r", error)

    future.add_done_callback(done)
    return future


async def call(callback: Callable[..., Any], *args: Any) -> Any:
    """``callback(*args)``, awaited if it returns an awaitable (application callbacks may be sync or async)."""
    result = callback(*args)
    if inspect.isawaitable(result):
        result = await result
    return result


# -----------------------------------------------------------------------------
# Client side
# -----------------------------------------------------------------------------
class ControlPointClient:
    """Client side of an indicated control point: writes a request and awaits the response to its op code.

    Responses are ``RESPONSE_CODE, request op code, ...``; each is routed to the queue of its request op code
    (or to a sink installed with :meth:`route`), so procedures that overlap on the server don't get mixed up.
    """

    RESPONSE_CODE = 0x10

    def __init__(self, characteristic: gatt_client.CharacteristicProxy[bytes]) -> None:
        self.characteristic = characteristic
        self._queues: defaultdict[int, asyncio.Queue[bytes]] = defaultdict(asyncio.Queue)
        self._sinks: dict[int, Callable[[bytes], None]] = {}
        self._locks: defaultdict[int, asyncio.Lock] = defaultdict(asyncio.Lock)
        self._subscribed = False

    def _on_indication(self, value: bytes) -> None:
        if len(value) < 2 or value[0] != self.RESPONSE_CODE:
            logger.warning("ignoring unexpected control point indication %s", bytes(value).hex())
            return
        sink = self._sinks.get(value[1])
        if sink is not None:
            sink(bytes(value))
        else:
            self._queues[value[1]].put_nowait(bytes(value))

    async def enable(self) -> None:
        """Enable indications on the control point (once)."""
        if not self._subscribed:
            await self.characteristic.subscribe(self._on_indication, prefer_notify=False)
            self._subscribed = True

    def lock(self, opcode: int) -> asyncio.Lock:
        """Serialises this client's procedures of one op code."""
        return self._locks[opcode]

    def route(self, opcode: int, sink: Callable[[bytes], None] | None) -> None:
        """Deliver responses to ``opcode`` to ``sink`` instead of the queue (``None`` restores the queue)."""
        if sink is None:
            self._sinks.pop(opcode, None)
        else:
            self._sinks[opcode] = sink

    async def write(self, request: bytes) -> None:
        """Write ``request`` (with response); raises ``att.ATT_Error`` with the server's error code."""
        await self.enable()
        await self.characteristic.write_value(request, with_response=True)

    async def request(self, request: bytes, *, timeout_s: float = CONTROL_POINT_TIMEOUT_S) -> bytes:
        """Write ``request`` and return the raw response indicated for its op code."""
        opcode = request[0]
        async with self.lock(opcode):
            queue = self._queues[opcode]
            while not queue.empty():
                logger.warning("dropping stale control point response %s", queue.get_nowait().hex())
            await self.write(request)
            return await asyncio.wait_for(queue.get(), timeout_s)
