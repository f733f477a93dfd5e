/* Bluetooth LE in the browser: the byte layouts of docs/ble.md (RSC Measurement, Stride Detail) and a sensor
   client over Web Bluetooth that reads what the device tells about itself, subscribes and reconnects by itself.
   No page logic here: phone.js uses it, and the browser tests check the codecs against the Python ones. */
"use strict";

(() => {
  const soleware = (alias) => `6b94${alias.toString(16).padStart(4, "0")}-364d-4037-8cc7-5a7c676b25b3`;
  const UUID = {
    rsc: 0x1814,
    rscMeasurement: 0x2a53,
    rscFeature: 0x2a54,
    battery: "battery_service",
    batteryLevel: "battery_level",
    info: "device_information",
    firmware: "firmware_revision_string",
    manufacturer: "manufacturer_name_string",
    model: "model_number_string",
    soleware: soleware(0x0001),
    strideDetail: soleware(0x0002),
    runLogControl: soleware(0x0004),
    runLogData: soleware(0x0005),
  };
  const STRIKES = [null, "rearfoot", "midfoot", "forefoot"];
  const SIDES = [null, "left", "right"];
  const GAITS = [null, "walk", "run"];

  /** RSC Measurement: flags u8 · speed u16 (1/256 m/s) · cadence u8 · [stride u16 cm] · [total u32 dm]. */
  function decodeRsc(dv) {
    if (dv.byteLength < 4) throw new RangeError(`RSC Measurement is at least 4 bytes, got ${dv.byteLength}`);
    const flags = dv.getUint8(0);
    let o = 4;
    const m = {
      speed_mps: dv.getUint16(1, true) / 256,
      cadence_spm: dv.getUint8(3),
      stride_length_m: null,
      total_distance_m: null,
      running: Boolean(flags & 4),
    };
    if (flags & 1) {
      if (dv.byteLength < o + 2) throw new RangeError("RSC Measurement: stride length flagged but missing");
      m.stride_length_m = dv.getUint16(o, true) / 100;
      o += 2;
    }
    if (flags & 2) {
      if (dv.byteLength < o + 4) throw new RangeError("RSC Measurement: total distance flagged but missing");
      m.total_distance_m = dv.getUint32(o, true) / 10;
    }
    return m;
  }

  /** Stride Detail (23 bytes): seq · t_end ms · contact ms · flight ms · angle 0.1° · strike · impact · side ·
      gait · length mm · speed mm/s. Contact 0 ms is unknown (null): the shoe sends a contact time it could not
      measure as 0, and no foot touches the ground that briefly; flight 0 ms is real (walking has no flight). */
  function decodeStride(dv) {
    if (dv.byteLength !== 23) throw new RangeError(`Stride Detail is 23 bytes, got ${dv.byteLength}`);
    const contactMs = dv.getUint16(8, true);
    return {
      seq: dv.getUint32(0, true),
      t_end_s: dv.getUint32(4, true) / 1000,
      contact_time_s: contactMs ? contactMs / 1000 : null,
      flight_time_s: dv.getUint16(10, true) / 1000,
      strike_angle_deg: dv.getInt16(12, true) / 10,
      strike_type: STRIKES[dv.getUint8(14)] ?? null,
      impact_mps2: dv.getUint16(15, true) / 10,
      side: SIDES[dv.getUint8(17)] ?? null,
      gait: GAITS[dv.getUint8(18)] ?? null,
      length_m: dv.getUint16(19, true) / 1000,
      speed_mps: dv.getUint16(21, true) / 1000,
    };
  }

  /** (side, serial) from a Soleware shoe's advertised name ("Soleware-L-<serial>"), null for any other sensor. */
  function parseName(name) {
    const m = /^Soleware-([LR])-(.+)$/.exec(name || "");
    return m ? { side: m[1] === "L" ? "left" : "right", serial: m[2] } : null;
  }

  const REQUEST = {
    filters: [{ services: [UUID.rsc] }, { services: [UUID.soleware] }],
    optionalServices: [UUID.rsc, UUID.soleware, UUID.battery, UUID.info],
  };
  const RECONNECT_MAX_MS = 10000;

  /** One paired device: connects, reads side/serial/firmware/battery, subscribes, and reconnects on a drop. */
  class Sensor extends EventTarget {
    /** ``known``: what was stored at pairing (toJSON), for browsers that give a remembered device no name. */
    constructor(device, known = null) {
      super();
      this.device = device;
      this.id = device.id;
      this.name = device.name || (known && known.name) || "";
      const shoe = parseName(this.name);
      this.kind = shoe ? "shoe" : "pod";
      this.side = shoe ? shoe.side : null;
      this.serial = shoe ? shoe.serial : null;
      this.firmware = null;
      this.manufacturer = null;
      this.model = null;
      this.battery = null;
      this.state = "idle";
      this.wanted = false;
      this.attempt = 0;
      this.server = null;
      device.addEventListener("gattserverdisconnected", () => this.dropped());
    }

    emit(type, detail) {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    }

    setState(state) {
      this.state = state;
      this.emit("state", state);
    }

    async connect() {
      this.wanted = true;
      this.setState(this.attempt ? "reconnecting" : "connecting");
      this.server = await this.device.gatt.connect();
      const rsc = await this.server.getPrimaryService(UUID.rsc);
      await this.readInfo();
      const measurement = await rsc.getCharacteristic(UUID.rscMeasurement);
      measurement.addEventListener("characteristicvaluechanged", (e) => this.emit("rsc", decodeRsc(e.target.value)));
      await measurement.startNotifications();
      if (this.kind === "shoe") {
        const sw = await this.server.getPrimaryService(UUID.soleware);
        const strides = await sw.getCharacteristic(UUID.strideDetail);
        strides.addEventListener("characteristicvaluechanged", (e) => this.emit("stride", decodeStride(e.target.value)));
        await strides.startNotifications();
      }
      this.attempt = 0;
      this.setState("connected");
    }

    async readInfo() {
      const text = async (service, uuid) => {
        try {
          const c = await service.getCharacteristic(uuid);
          return new TextDecoder().decode(await c.readValue());
        } catch { return null; }
      };
      try {
        const info = await this.server.getPrimaryService(UUID.info);
        this.firmware = await text(info, UUID.firmware);
        this.manufacturer = await text(info, UUID.manufacturer);
        this.model = await text(info, UUID.model);
      } catch { /* Device Information is optional */ }
      try {
        const battery = await this.server.getPrimaryService(UUID.battery);
        const level = await battery.getCharacteristic(UUID.batteryLevel);
        this.battery = (await level.readValue()).getUint8(0);
        level.addEventListener("characteristicvaluechanged", (e) => {
          this.battery = e.target.value.getUint8(0);
          this.emit("battery", this.battery);
        });
        await level.startNotifications().catch(() => {});
      } catch { /* Battery is optional */ }
      this.emit("info", this);
    }

    dropped() {
      if (!this.wanted) { this.setState("idle"); return; }
      this.setState("reconnecting");
      const delay = Math.min(RECONNECT_MAX_MS, 250 * 2 ** this.attempt);
      this.attempt += 1;
      setTimeout(() => {
        if (!this.wanted || this.device.gatt.connected) return;
        this.connect().catch((e) => {
          console.info(`${this.name}: reconnection failed: ${e.name}: ${e.message}`);
          if (!this.device.gatt.connected) this.dropped();
        });
      }, delay);
    }

    disconnect() {
      this.wanted = false;
      if (this.device.gatt.connected) this.device.gatt.disconnect();
    }

    toJSON() {
      return { id: this.id, name: this.name, kind: this.kind, side: this.side, serial: this.serial, firmware: this.firmware };
    }
  }

  // ------------------------------------------------------------------ run log (docs/ble.md "Run log")
  /** CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF; crc16("123456789") === 0x29B1. */
  function crc16(bytes) {
    let crc = 0xffff;
    for (const b of bytes) {
      crc ^= b << 8;
      for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    return crc;
  }

  /** The records of one Run Log Data notification: [[seq, Uint8Array payload], …]; throws on a bad frame. */
  function decodeFrames(dv) {
    const bytes = new Uint8Array(dv.buffer, dv.byteOffset, dv.byteLength);
    const out = [];
    let o = 0;
    while (o < bytes.length) {
      if (bytes.length - o < 8) throw new RangeError(`truncated frame header at byte ${o}`);
      const seq = dv.getUint32(o, true);
      const length = dv.getUint16(o + 4, true);
      const end = o + 6 + length;
      if (end + 2 > bytes.length) throw new RangeError(`truncated record ${seq}`);
      if (dv.getUint16(end, true) !== crc16(bytes.subarray(o, end))) throw new RangeError(`CRC mismatch in record ${seq}`);
      out.push([seq, bytes.slice(o + 6, end)]);
      o = end + 2;
    }
    return out;
  }

  const OP = { list: 1, read: 2, ack: 3, credits: 4, abort: 5 };
  const NO_SEQ = 0xffffffff;
  const WINDOW = 64; // notifications the shoe may send ahead
  const GRANT = 16; // credits go back in batches of at least this many

  /** One run-log session with a connected shoe: the control point's indications and the data notifications
      are handled strictly in arrival order, each only after the previous one's storage has finished. */
  class RunLogClient {
    constructor(sensor) {
      this.sensor = sensor;
      this.events = [];
      this.wake = null;
    }

    async open() {
      const sw = await this.sensor.server.getPrimaryService(UUID.soleware);
      this.control = await sw.getCharacteristic(UUID.runLogControl);
      this.data = await sw.getCharacteristic(UUID.runLogData);
      const push = (kind) => (e) => {
        const v = e.target.value;
        this.events.push([kind, new DataView(v.buffer.slice(v.byteOffset, v.byteOffset + v.byteLength))]);
        if (this.wake) this.wake();
      };
      this.control.addEventListener("characteristicvaluechanged", push("response"));
      this.data.addEventListener("characteristicvaluechanged", push("data"));
      // the shoe refuses these subscriptions on an unencrypted link: the system asks the runner to pair
      try {
        await this.control.startNotifications();
        await this.data.startNotifications();
      } catch (e) {
        const err = new Error("pairing");
        err.cause = e;
        throw err;
      }
    }

    async next() {
      const deadline = Date.now() + 15000;
      while (!this.events.length) {
        if (!this.sensor.device.gatt.connected) throw new Error("link lost");
        await new Promise((resolve) => { this.wake = resolve; setTimeout(resolve, 500); });
        if (Date.now() > deadline) throw new Error("the shoe did not answer");
      }
      return this.events.shift();
    }

    async request(bytes, opcode) {
      await this.control.writeValueWithResponse(bytes);
      for (;;) {
        const [kind, dv] = await this.next();
        if (kind === "response" && dv.getUint8(1) === opcode) return dv;
      }
    }

    async listRuns() {
      const runs = [];
      let total = Infinity;
      while (runs.length < total) {
        const dv = await this.request(new Uint8Array([OP.list, runs.length & 0xff, runs.length >> 8]), OP.list);
        if (dv.getUint8(2) !== 1) throw new Error(`List Runs answered ${dv.getUint8(2)}`);
        total = dv.getUint16(3, true);
        const count = dv.getUint8(5);
        if (!count) break;
        for (let i = 0; i < count; i++) {
          const o = 6 + 20 * i;
          runs.push({
            run_id: dv.getUint32(o, true),
            start_unix_ms: Number(dv.getBigUint64(o + 4, true)),
            first_seq: dv.getUint32(o + 12, true),
            last_seq: dv.getUint32(o + 16, true),
          });
        }
      }
      return runs;
    }

    /** Read records from ``fromSeq``; ``store(records)`` must resolve once they are durable. Returns the
        count and the last seq the shoe sent, checked against its final response.

        Pipelined: every notification that has arrived while the previous batch was being stored goes into the
        next IndexedDB transaction, and the credits for a batch go back once it has committed, without waiting
        for the shoe's answer to the previous grant (one grant in flight at a time: the control point takes one
        write at a time). */
    async read(fromSeq, maxRecords, store) {
      const req = new DataView(new ArrayBuffer(11));
      req.setUint8(0, OP.read);
      req.setUint32(1, fromSeq, true);
      req.setUint32(5, maxRecords, true);
      req.setUint16(9, WINDOW, true);
      await this.control.writeValueWithResponse(req.buffer);
      let received = 0;
      let last = fromSeq - 1;
      let owed = 0; // notifications stored whose credits have not gone back yet
      let granting = null;
      let grantError = null;
      let ended = false;
      const grant = () => {
        if (ended || granting || grantError || owed < GRANT) return;
        const n = owed;
        owed = 0;
        granting = this.control.writeValueWithResponse(new Uint8Array([OP.credits, n & 0xff, n >> 8])).then(
          () => { granting = null; grant(); },
          (e) => { granting = null; grantError = e; },
        );
      };
      for (;;) {
        if (grantError) throw grantError;
        const [kind, dv] = await this.next();
        if (kind === "data") {
          const batch = [dv];
          while (this.events.length && this.events[0][0] === "data") batch.push(this.events.shift()[1]);
          const records = [];
          for (const one of batch) {
            for (const record of decodeFrames(one)) {
              if (record[0] <= last) throw new Error(`record ${record[0]} out of order after ${last}`);
              last = record[0];
              records.push(record);
            }
          }
          await store(records);
          received += records.length;
          owed += batch.length;
          grant();
        } else if (dv.getUint8(1) === OP.read) {
          ended = true;
          while (granting) await granting; // the next request on the control point waits for this answer
          const value = dv.getUint8(2);
          const sent = dv.getUint32(3, true);
          if (value !== 1) throw new Error(`Read answered ${value}`);
          if (sent !== received) throw new Error(`the shoe sent ${sent} records, ${received} arrived`);
          return { received, last: sent ? dv.getUint32(7, true) : NO_SEQ };
        }
      }
    }

    async ack(seq) {
      const req = new DataView(new ArrayBuffer(5));
      req.setUint8(0, OP.ack);
      req.setUint32(1, seq, true);
      const dv = await this.request(req.buffer, OP.ack);
      if (dv.getUint8(2) !== 1) throw new Error(`Ack answered ${dv.getUint8(2)}`);
    }
  }

  window.SolewareBle = { UUID, REQUEST, decodeRsc, decodeStride, parseName, Sensor, crc16, decodeFrames, RunLogClient, NO_SEQ };
})();
