"""Soleware service between two in-process Bumble devices: encryption gate, LE Secure Connections pairing,
run-log sync with credit flow control, strides, raw samples, time sync."""

import asyncio
import contextlib
import struct
from collections.abc import Sequence

import pytest
from bumble import att

from soleware.gait import Gait, Side, StrikeType
from soleware.link._testing import LinkedPair, linked_pair
from soleware.link.gatt import ApplicationError, ControlPointClient
from soleware.link.soleware_service import (
    NO_SEQ,
    RawSamples,
    RunInfo,
    RunLogError,
    RunLogOpcode,
    RunLogResponseValue,
    SolewareService,
    SolewareServiceProxy,
    StrideDetail,
    decode_frames,
)


class MemoryRunLog:
    """A RunLogSource in memory that records how it was called."""

    def __init__(self, n_records: int = 300, n_runs: int = 3, record_size: int = 40) -> None:
        self.records = [
            (seq, bytes([seq % 251]) * (seq % record_size)) for seq in range(100, 100 + n_records)
        ]
        self.runs = [
            RunInfo(i, 1_700_000_000_000 + 3_600_000 * i, 100 + 10 * i, 109 + 10 * i) for i in range(n_runs)
        ]
        self.acked: list[int] = []
        self.reads: list[tuple[int, int]] = []

    def list_runs(self) -> Sequence[RunInfo]:
        return self.runs

    def read_from(self, seq: int, max_records: int) -> Sequence[tuple[int, bytes]]:
        self.reads.append((seq, max_records))
        return [r for r in self.records if r[0] >= seq][:max_records]

    def ack(self, seq: int) -> None:
        self.acked.append(seq)


STRIDE = StrideDetail(7, 60.0, 0.24, 0.12, 12.5, StrikeType.REARFOOT, 150.0, Side.RIGHT, Gait.RUN, 2.4, 3.3)


@contextlib.asynccontextmanager
async def shoe(run_log: MemoryRunLog, **kwargs):
    service = SolewareService(run_log=run_log, **kwargs)
    async with linked_pair([service]) as link:
        proxy = link.peer.create_service_proxy(SolewareServiceProxy)
        assert proxy is not None
        yield service, link, proxy


async def test_run_log_and_raw_data_refuse_an_unencrypted_link() -> None:
    log, times = MemoryRunLog(), []
    async with shoe(log, raw_samples=True, on_time_sync=times.append) as (_service, link, proxy):
        assert not link.phone_connection.is_encrypted
        attempts = [
            proxy.list_runs(),
            proxy.ack(5),
            proxy.set_time(1),
            proxy.run_log_data.subscribe(lambda _value: None),
            proxy.raw_samples.subscribe(lambda _value: None),
            proxy.run_log_control_point.write_value(
                bytes([RunLogOpcode.ACK, 0, 0, 0, 0]), with_response=True
            ),
        ]
        for attempt in attempts:
            with pytest.raises(att.ATT_Error) as error:
                await attempt
            assert error.value.error_code == att.ErrorCode.INSUFFICIENT_ENCRYPTION
        assert log.acked == [] and times == [] and log.reads == []
        server = link.shoe.gatt_server
        assert not any(server.subscribers.get(link.shoe_connection, {}).values())


async def test_after_secure_connections_pairing_everything_works() -> None:
    log, times = MemoryRunLog(n_runs=25), []
    async with shoe(log, raw_samples=True, on_time_sync=times.append) as (service, link, proxy):
        await link.pair()
        assert link.phone_connection.is_encrypted and link.shoe_connection.is_encrypted
        keys = await link.shoe.keystore.get(str(link.shoe_connection.peer_address))
        assert keys is not None and keys.ltk is not None  # bonded: the shoe stored the long-term key

        assert await proxy.list_runs() == log.runs  # 25 runs of 20 bytes: several pages at MTU 247
        records = [record async for record in proxy.sync(150)]
        assert records == [r for r in log.records if r[0] >= 150]
        assert await proxy.ack(records[-1][0]) == RunLogResponseValue.SUCCESS
        assert log.acked == [399]

        await proxy.set_time(1_750_000_000_123)
        assert times == [1_750_000_000_123]

        batches: asyncio.Queue[RawSamples] = asyncio.Queue()
        await proxy.subscribe_raw_samples(batches.put_nowait)
        sent = RawSamples(4096, 6, tuple(range(-30, 30)))
        await service.notify_raw_samples(link.shoe, sent)
        assert await asyncio.wait_for(batches.get(), 1) == sent


async def test_strides_are_open_and_the_proxy_raises_the_mtu() -> None:
    service = SolewareService()
    async with linked_pair([service], mtu=None) as link:
        proxy = link.peer.create_service_proxy(SolewareServiceProxy)
        assert proxy.run_log_control_point is None and proxy.time_sync is None and proxy.raw_samples is None
        assert link.peer.gatt_client.mtu == 23  # 23-byte stride would be cut to 20 by Bumble
        strides: asyncio.Queue[StrideDetail] = asyncio.Queue()
        await proxy.subscribe_strides(strides.put_nowait)
        assert link.peer.gatt_client.mtu == 247
        await service.notify_stride(link.shoe, STRIDE)
        assert await asyncio.wait_for(strides.get(), 1) == STRIDE
        assert not link.phone_connection.is_encrypted


async def _raw_link(link: LinkedPair, proxy: SolewareServiceProxy):
    """Control point client and a queue of raw Run Log Data notifications, subscribed."""
    control_point = ControlPointClient(proxy.run_log_control_point)
    await control_point.enable()
    data: asyncio.Queue[bytes] = asyncio.Queue()
    await proxy.run_log_data.subscribe(data.put_nowait)
    return control_point, data


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_the_shoe_sends_one_notification_per_credit() -> None:
    log = MemoryRunLog(record_size=100)
    async with shoe(log) as (_service, link, proxy):
        await link.pair()
        control_point, data = await _raw_link(link, proxy)
        responses = control_point._queues[RunLogOpcode.READ]

        await control_point.write(struct.pack("<BIIH", RunLogOpcode.READ, 100, 1000, 2))
        await _settle()
        assert data.qsize() == 2 and responses.empty()

        await control_point.write(struct.pack("<BH", RunLogOpcode.GRANT_CREDITS, 1))
        await _settle()
        assert data.qsize() == 3 and responses.empty()

        # A second Read while one is running is refused; an Ack is not.
        with pytest.raises(att.ATT_Error) as error:
            await control_point.write(struct.pack("<BIIH", RunLogOpcode.READ, 100, 1, 1))
        assert error.value.error_code == ApplicationError.PROCEDURE_ALREADY_IN_PROGRESS
        ack = await control_point.request(struct.pack("<BI", RunLogOpcode.ACK, 101))
        assert ack == bytes([0x10, RunLogOpcode.ACK, RunLogResponseValue.SUCCESS])

        await control_point.write(bytes([RunLogOpcode.ABORT]))
        response = await asyncio.wait_for(responses.get(), 1)
        assert response[:3] == bytes([0x10, RunLogOpcode.READ, RunLogResponseValue.ABORTED])
        records = [record for _ in range(data.qsize()) for record in decode_frames(data.get_nowait())]
        assert records == log.records[: len(records)]
        assert struct.unpack_from("<II", response, 3) == (len(records), records[-1][0])


async def test_control_point_cccd_rules_after_pairing() -> None:
    async with shoe(MemoryRunLog()) as (_service, link, proxy):
        await link.pair()
        with pytest.raises(att.ATT_Error) as error:  # indications on the control point not enabled
            await proxy.run_log_control_point.write_value(
                struct.pack("<BI", RunLogOpcode.ACK, 1), with_response=True
            )
        assert error.value.error_code == ApplicationError.CCCD_IMPROPERLY_CONFIGURED == 0x81

        control_point = ControlPointClient(proxy.run_log_control_point)
        await control_point.enable()
        with pytest.raises(att.ATT_Error) as error:  # notifications on Run Log Data not enabled
            await control_point.write(struct.pack("<BIIH", RunLogOpcode.READ, 0, 10, 4))
        assert error.value.error_code == ApplicationError.CCCD_IMPROPERLY_CONFIGURED
        raw = await control_point.request(bytes([0x09]))
        assert raw == bytes([0x10, 0x09, RunLogResponseValue.OP_CODE_NOT_SUPPORTED])


async def test_leaving_sync_early_aborts_and_the_next_sync_starts_clean() -> None:
    log = MemoryRunLog()
    async with shoe(log) as (service, link, proxy):
        await link.pair()
        async with contextlib.aclosing(proxy.sync(100, window=2)) as records:
            async for seq, _payload in records:
                if seq == 120:
                    break
        assert service._transfers == {}
        assert [r async for r in proxy.sync(390, max_records=5)] == log.records[290:295]
        assert [r async for r in proxy.sync(10_000)] == []


async def test_record_too_large_for_the_mtu_fails_the_read() -> None:
    log = MemoryRunLog(n_records=3)
    log.records[1] = (101, bytes(300))
    async with shoe(log) as (_service, link, proxy):
        await link.pair()
        received = []
        with pytest.raises(RunLogError, match="OPERATION_FAILED"):
            async for record in proxy.sync(0):
                received.append(record)
        assert received == log.records[:1]


async def test_empty_read_reports_no_sequence() -> None:
    async with shoe(MemoryRunLog(n_records=0)) as (_service, link, proxy):
        await link.pair()
        control_point, _data = await _raw_link(link, proxy)
        raw = await control_point.request(struct.pack("<BIIH", RunLogOpcode.READ, 0, 10, 4))
        assert raw == bytes([0x10, RunLogOpcode.READ, RunLogResponseValue.SUCCESS]) + struct.pack(
            "<II", 0, NO_SEQ
        )
