/* The shoe's run log records (layouts: soleware/shoe/runlog/_records.py) turned into the run service's upload
   body exactly as the Python gateway does (soleware/link/gateway.py: runs_in, LoggedRun, StrideUpload.from_record,
   run_upload_body, upload_key). No page logic here: phone.js uses it, the golden vectors check it. */
"use strict";

(() => {
  const GRAVITY_MPS2 = 9.80665;
  const TYPE = { runStart: 0x01, strideV1: 0x02, runEnd: 0x03, overflow: 0x04, ack: 0x05, stride: 0x06 };
  const PAYLOAD = { 0x01: 29, 0x02: 23, 0x03: 24, 0x04: 8, 0x05: 0, 0x06: 27 };
  const SIDE = ["left", "right"];
  const STRIKE = [null, "rearfoot", "midfoot", "forefoot"];
  const GAIT = [null, "walk", "run"];

  const CRC_TABLE = (() => {
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  /** CRC-32 as zlib.crc32 computes it. */
  function crc32(bytes) {
    let c = 0xffffffff;
    for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  /** One record frame (type u8 · length u8 · seq u32 · payload · CRC-32) as an object; throws on a bad frame. */
  function decodeRecord(bytes) {
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 10) throw new RangeError("truncated frame");
    const type = dv.getUint8(0);
    const n = dv.getUint8(1);
    const seq = dv.getUint32(2, true);
    if (!(type in PAYLOAD)) throw new RangeError(`unknown record type 0x${type.toString(16).padStart(2, "0")}`);
    if (n !== PAYLOAD[type]) throw new RangeError(`record ${seq}: payload length ${n}, expected ${PAYLOAD[type]}`);
    if (bytes.length < 10 + n) throw new RangeError("truncated frame");
    if (dv.getUint32(6 + n, true) !== crc32(bytes.subarray(0, 6 + n))) throw new RangeError(`record ${seq}: CRC mismatch`);
    const o = 6;
    if (type === TYPE.runStart) {
      return {
        type, seq, run_id: dv.getUint32(o, true), start_unix_ms: Number(dv.getBigUint64(o + 4, true)),
        calibration_ppm: dv.getUint32(o + 12, true), side: SIDE[dv.getUint8(o + 28) & 1],
      };
    }
    if (type === TYPE.stride || type === TYPE.strideV1) {
      const v1 = type === TYPE.strideV1;
      const p = v1 ? o + 4 : o + 8; // t_end_ms onwards
      const flags = dv.getUint8(p + 18);
      return {
        type, seq, run_id: dv.getUint32(o, true),
        t_start_ms: v1 ? null : dv.getUint32(o + 4, true),
        t_end_ms: dv.getUint32(p, true),
        stride_length_mm: dv.getUint16(p + 4, true),
        speed_mmps: dv.getUint16(p + 6, true),
        cadence_spm_x10: dv.getUint16(p + 8, true),
        contact_ms: dv.getUint16(p + 10, true),
        flight_ms: dv.getUint16(p + 12, true),
        strike_angle_deg_x10: dv.getInt16(p + 14, true),
        impact_mps2_x10: dv.getUint16(p + 16, true),
        strike_type: STRIKE[flags & 3],
        gait: GAIT[(flags >> 2) & 3] ?? null,
        side: SIDE[(flags >> 4) & 1],
        estimated: ((flags >> 5) & 1) === 1,
      };
    }
    if (type === TYPE.runEnd) return { type, seq, run_id: dv.getUint32(o, true), stride_count: dv.getUint32(o + 16, true) };
    if (type === TYPE.overflow) return { type, seq, run_id: dv.getUint32(o, true) };
    return { type, seq };
  }

  /** Runs in ``records`` ([[seq, Uint8Array frame], …] in any order), by run id, as gateway.runs_in. */
  function runsIn(records) {
    const out = new Map();
    for (const [seq, bytes] of [...records].sort((a, b) => a[0] - b[0])) {
      const rec = decodeRecord(bytes);
      if (rec.run_id === undefined) continue;
      if (!out.has(rec.run_id)) out.set(rec.run_id, { run_id: rec.run_id, first_seq: seq, last_seq: seq, start: null, strides: [], end: null });
      const r = out.get(rec.run_id);
      r.last_seq = seq;
      if (rec.type === TYPE.runStart) r.start = rec;
      else if (rec.type === TYPE.stride || rec.type === TYPE.strideV1) r.strides.push(rec);
      else if (rec.type === TYPE.runEnd) r.end = rec;
    }
    return out;
  }

  const complete = (r) => r.start !== null && r.end !== null && r.strides.length > 0;

  /** StrideUpload.from_record: a logged stride on the run's clock, or null when it has no time. A contact time of
      0 ms is unknown (null), as Stride.contact_time_s reads it; a flight time of 0 ms is real (walking). An
      estimated stride (bridged across a gap in the shoe's samples) has no form figures: they go as null. */
  function strideUpload(rec, side, offsetS, notBeforeS) {
    const cadence = rec.cadence_spm_x10 / 10;
    const tEnd = offsetS + rec.t_end_ms / 1e3;
    const tStart = rec.t_start_ms !== null
      ? offsetS + rec.t_start_ms / 1e3
      : Math.max(notBeforeS, tEnd - (cadence > 0 ? 120.0 / cadence : 1.0));
    if (tEnd <= tStart) return null;
    return {
      side, t_start_s: tStart, t_end_s: tEnd, length_m: rec.stride_length_mm / 1e3, speed_mps: rec.speed_mmps / 1e3,
      cadence_spm: cadence, contact_time_s: rec.contact_ms ? rec.contact_ms / 1e3 : null,
      flight_time_s: rec.estimated ? null : rec.flight_ms / 1e3,
      strike_angle_deg: rec.estimated ? null : rec.strike_angle_deg_x10 / 10, strike_type: rec.strike_type,
      impact_g: rec.estimated ? null : rec.impact_mps2_x10 / 10 / GRAVITY_MPS2, gait: rec.gait || "run",
      estimated: rec.estimated,
    };
  }

  /** Python's datetime.isoformat() of a UTC instant given in Unix ms. */
  function isoUtc(ms) {
    const s = new Date(ms).toISOString();
    const frac = ms % 1000;
    return s.slice(0, 19) + (frac ? "." + String(frac).padStart(3, "0") + "000" : "") + "+00:00";
  }

  /** run_upload_body(...).to_json(): ``feet`` is {left|right: [serial, run]}, in the gateway's side order. */
  function runUploadBody(feet, timeZone, title = "") {
    const entries = Object.entries(feet);
    if (entries.some(([, [, r]]) => r.start === null)) throw new Error("a run without its RUN_START record cannot be uploaded");
    const startMs = Math.min(...entries.map(([, [, r]]) => r.start.start_unix_ms));
    const strides = [];
    for (const [side, [, r]] of entries) {
      const offsetS = (r.start.start_unix_ms - startMs) / 1000.0;
      let prevEnd = offsetS;
      for (const rec of r.strides) {
        const s = strideUpload(rec, side, offsetS, prevEnd);
        if (s !== null) { strides.push(s); prevEnd = s.t_end_s; }
      }
    }
    return {
      start_time: isoUtc(startMs), time_zone: timeZone, title,
      shoe_serials: entries.map(([, [serial]]) => serial).sort(), strides,
    };
  }

  /** upload_key: each foot's "serial:run id", sorted, joined by "+". */
  const uploadKey = (feet) => Object.values(feet).map(([serial, r]) => `${serial}:${r.run_id}`).sort().join("+");

  /** Gateway._candidates: complete runs ([{serial, run}]) grouped into outings, one run per side, starts within
      ``pairWindowS`` of the group's first. */
  function groupRuns(runs, pairWindowS) {
    const sorted = runs.filter(({ run }) => complete(run)).sort((a, b) => a.run.start.start_unix_ms - b.run.start.start_unix_ms);
    const groups = [];
    for (const { serial, run } of sorted) {
      const side = run.start.side;
      const g = groups.find((x) => !(side in x.feet) && Math.abs(x.startMs - run.start.start_unix_ms) <= 1000 * pairWindowS);
      if (g) g.feet[side] = [serial, run];
      else groups.push({ startMs: run.start.start_unix_ms, feet: { [side]: [serial, run] } });
    }
    return groups.map((g) => g.feet);
  }

  window.SolewareRunLog = { crc32, decodeRecord, runsIn, complete, runUploadBody, uploadKey, groupRuns, isoUtc };
})();