// An independent reader of TensorBoard event files for tests: none of the writer's code or libraries (no protobufjs,
// no crc-32). Shared by the reporter's encoder tests and the CLI's `--tensorboard` tests.
import { expect } from 'vitest';

// CRC32C bit by bit (Castagnoli, reflected polynomial 0x82F63B78), unlike crc-32's table-driven slicing.
export function crc32cBitwise(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const b of bytes) {
    crc ^= b;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}
export const mask = (crc: number): number => (((crc >>> 15) | (crc << 17)) + 0xa282ead8) >>> 0;

export function readTfRecords(buf: Uint8Array): Uint8Array[] {
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < buf.length) {
    const lenBytes = buf.subarray(p, p + 8);
    const len = Number(view.getBigUint64(p, true));
    expect(view.getUint32(p + 8, true), `length CRC of record ${out.length}`).toBe(mask(crc32cBitwise(lenBytes)));
    const data = buf.subarray(p + 12, p + 12 + len);
    expect(view.getUint32(p + 12 + len, true), `data CRC of record ${out.length}`).toBe(mask(crc32cBitwise(data)));
    out.push(data);
    p += 12 + len + 4;
  }
  expect(p).toBe(buf.length);
  return out;
}

type Field = { n: number; wire: number; varint?: bigint; bytes?: Uint8Array; f64?: number; f32?: number };
/** Protocol-buffer wire format by hand: tag varint = field << 3 | wire type. */
function fields(b: Uint8Array): Field[] {
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const out: Field[] = [];
  let p = 0;
  const varint = (): bigint => {
    let v = 0n;
    let shift = 0n;
    for (;;) {
      const x = b[p++]!;
      v |= BigInt(x & 0x7f) << shift;
      if (!(x & 0x80)) return v;
      shift += 7n;
    }
  };
  while (p < b.length) {
    const tag = Number(varint());
    const n = tag >>> 3;
    const wire = tag & 7;
    if (wire === 0) out.push({ n, wire, varint: varint() });
    else if (wire === 1) {
      out.push({ n, wire, f64: view.getFloat64(p, true) });
      p += 8;
    } else if (wire === 2) {
      const len = Number(varint());
      out.push({ n, wire, bytes: b.subarray(p, p + len) });
      p += len;
    } else if (wire === 5) {
      out.push({ n, wire, f32: view.getFloat32(p, true) });
      p += 4;
    } else throw new Error(`unexpected wire type ${wire}`);
  }
  return out;
}
const text = (b: Uint8Array): string => new TextDecoder().decode(b);
const packedDoubles = (b: Uint8Array): number[] => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return Array.from({ length: b.length / 8 }, (_, i) => v.getFloat64(8 * i, true));
};

export interface DecodedEvent {
  wallTime: number;
  step: number;
  fileVersion?: string;
  scalars: Map<string, number>;
  histos: Map<string, { min: number; max: number; num: number; sum: number; sumSquares: number; limits: number[]; counts: number[] }>;
}
export function decodeEvent(b: Uint8Array): DecodedEvent {
  const e: DecodedEvent = { wallTime: 0, step: 0, scalars: new Map(), histos: new Map() };
  for (const f of fields(b)) {
    if (f.n === 1) e.wallTime = f.f64!;
    else if (f.n === 2) e.step = Number(f.varint!);
    else if (f.n === 3) e.fileVersion = text(f.bytes!);
    else if (f.n === 5) {
      for (const v of fields(f.bytes!).filter((x) => x.n === 1)) {
        const vf = fields(v.bytes!);
        const tag = text(vf.find((x) => x.n === 1)!.bytes!);
        const simple = vf.find((x) => x.n === 2);
        const histo = vf.find((x) => x.n === 5);
        if (simple) e.scalars.set(tag, simple.f32!);
        if (histo) {
          const hf = fields(histo.bytes!);
          const d = (n: number): number => hf.find((x) => x.n === n)?.f64 ?? 0;
          e.histos.set(tag, {
            min: d(1), max: d(2), num: d(3), sum: d(4), sumSquares: d(5),
            limits: packedDoubles(hf.find((x) => x.n === 6)!.bytes!),
            counts: packedDoubles(hf.find((x) => x.n === 7)!.bytes!),
          });
        }
      }
    }
  }
  return e;
}
