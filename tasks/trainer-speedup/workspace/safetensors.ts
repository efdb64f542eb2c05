/**
 * The safetensors file format (https://github.com/huggingface/safetensors), float32 only:
 *   8 bytes   header length N, unsigned 64-bit little-endian
 *   N bytes   JSON header: { "<name>": { "dtype": "F32", "shape": [...], "data_offsets": [begin, end] }, ...,
 *             "__metadata__": { "<key>": "<string>" } }, padded with spaces to a multiple of 8
 *   rest      tensor data, little-endian, offsets relative to the end of the header, contiguous, no gaps
 *
 * Decoding validates strictly and throws SafetensorsFormatError with one line naming the problem, because a
 * checkpoint is untrusted input (a sandboxed run wrote it). This file knows nothing about GPT tensor names.
 */
import { endianness } from 'node:os';

export class SafetensorsFormatError extends Error {
  override name = 'SafetensorsFormatError';
}

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsContents {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

const MAX_HEADER_BYTES = 100_000_000; // the Python reader's own limit
const littleEndian = endianness() === 'LE';

const elementCount = (shape: number[]): number => shape.reduce((product, dimension) => product * dimension, 1);

/** Serializes tensors in the given order. */
export function encodeSafetensors(tensors: Array<{ name: string } & Tensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const tensor of tensors) {
    if (tensor.name === '__metadata__' || tensor.name in header) throw new Error(`duplicate or reserved tensor name '${tensor.name}'`);
    if (tensor.data.length !== elementCount(tensor.shape)) {
      throw new Error(`tensor '${tensor.name}' has ${tensor.data.length} values, shape [${tensor.shape}] needs ${elementCount(tensor.shape)}`);
    }
    header[tensor.name] = { dtype: 'F32', shape: tensor.shape, data_offsets: [offset, offset + tensor.data.byteLength] };
    offset += tensor.data.byteLength;
  }
  let headerText = JSON.stringify(header);
  headerText += ' '.repeat((8 - ((Buffer.byteLength(headerText) + 8) % 8)) % 8); // keeps the data 8-byte aligned
  const headerBytes = new TextEncoder().encode(headerText);
  const file = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(file.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  file.set(headerBytes, 8);
  let position = 8 + headerBytes.length;
  for (const tensor of tensors) {
    file.set(littleEndianBytes(tensor.data), position);
    position += tensor.data.byteLength;
  }
  return file;
}

/** Parses and validates a safetensors file: every byte must be accounted for. */
export function decodeSafetensors(file: Uint8Array): SafetensorsContents {
  const fail = (message: string): never => {
    throw new SafetensorsFormatError(message);
  };
  if (file.length < 8) fail(`file is ${file.length} bytes, too short for the 8-byte header length`);
  const headerLength = new DataView(file.buffer, file.byteOffset, file.byteLength).getBigUint64(0, true);
  if (headerLength < 2n || headerLength > BigInt(Math.min(MAX_HEADER_BYTES, file.length - 8))) {
    fail(`header length ${headerLength} does not fit a file of ${file.length} bytes`);
  }
  const dataStart = 8 + Number(headerLength);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(file.subarray(8, dataStart)));
  } catch {
    fail('header is not valid UTF-8 JSON');
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('header is not a JSON object');

  const metadata: Record<string, string> = {};
  const entries: Array<{ name: string; shape: number[]; begin: number; end: number }> = [];
  for (const [name, value] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('__metadata__ is not an object');
      for (const [key, text] of Object.entries(value as Record<string, unknown>)) {
        if (typeof text !== 'string') fail(`__metadata__.${key} is not a string`);
        metadata[key] = text as string;
      }
      continue;
    }
    const entry = value as { dtype?: unknown; shape?: unknown; data_offsets?: unknown } | null;
    if (typeof entry !== 'object' || entry === null) fail(`tensor '${name}' is not an object`);
    if (entry!.dtype !== 'F32') fail(`tensor '${name}' has dtype ${JSON.stringify(entry!.dtype)}, only F32 is supported`);
    const shape = entry!.shape;
    if (!Array.isArray(shape) || !shape.every((dimension) => Number.isSafeInteger(dimension) && dimension >= 0)) {
      fail(`tensor '${name}' has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offsets = entry!.data_offsets;
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((offset) => Number.isSafeInteger(offset) && offset >= 0)) {
      fail(`tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}`);
    }
    const [begin, end] = offsets as [number, number];
    if (end - begin !== elementCount(shape as number[]) * 4) {
      fail(`tensor '${name}' has data_offsets [${begin}, ${end}] but shape [${shape}] needs ${elementCount(shape as number[]) * 4} bytes`);
    }
    entries.push({ name, shape: shape as number[], begin, end });
  }

  // The tensors must tile the data section exactly: no gaps, no overlaps, nothing past the end, nothing after.
  const dataLength = file.length - dataStart;
  let expectedBegin = 0;
  for (const entry of [...entries].sort((left, right) => left.begin - right.begin || left.end - right.end)) {
    if (entry.begin !== expectedBegin) fail(`tensor '${entry.name}' starts at byte ${entry.begin}, expected ${expectedBegin} (gap or overlap)`);
    if (entry.end > dataLength) fail(`tensor '${entry.name}' ends at byte ${entry.end}, past the ${dataLength}-byte data section (truncated file?)`);
    expectedBegin = entry.end;
  }
  if (expectedBegin !== dataLength) fail(`data section is ${dataLength} bytes but the tensors cover ${expectedBegin}`);

  const tensors = new Map<string, Tensor>();
  for (const entry of entries) {
    tensors.set(entry.name, { shape: entry.shape, data: readFloats(file, dataStart + entry.begin, (entry.end - entry.begin) / 4) });
  }
  return { tensors, metadata };
}

function littleEndianBytes(data: Float32Array): Uint8Array {
  if (littleEndian) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const bytes = new Uint8Array(data.byteLength);
  const view = new DataView(bytes.buffer);
  for (let index = 0; index < data.length; index++) view.setFloat32(index * 4, data[index], true);
  return bytes;
}

function readFloats(file: Uint8Array, byteOffset: number, count: number): Float32Array {
  // Copies, so the result is aligned and independent of the file buffer.
  if (littleEndian) {
    const copy = new Uint8Array(count * 4); // not file.slice(): on a Buffer that shares memory instead of copying
    copy.set(file.subarray(byteOffset, byteOffset + count * 4));
    return new Float32Array(copy.buffer);
  }
  const view = new DataView(file.buffer, file.byteOffset + byteOffset, count * 4);
  return Float32Array.from({ length: count }, (_, index) => view.getFloat32(index * 4, true));
}
