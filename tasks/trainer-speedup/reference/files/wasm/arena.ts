/**
 * The wasm backend's memory: one shared WebAssembly.Memory that every thread's instance imports, handed out by a
 * bump allocator. Memory is never freed (a model allocates its buffers once), so a fresh allocation is always
 * zero-filled. The memory grows before an allocation is returned, never while kernels run; growing shared
 * memory keeps earlier views valid, so every Float32Array handed out stays usable.
 * Scratch regions are named, reused across calls, and replaced by a larger one when a call needs more.
 * Not here: kernels, threads.
 */
import { MAXIMUM_PAGES } from './module.js';

const PAGE_BYTES = 65536;
const ALIGNMENT = 64; // a cache line, and a multiple of every SIMD load's width

export class SharedArena {
  readonly memory: WebAssembly.Memory;
  private top = ALIGNMENT; // offset 0 stays unused: kernels read pointer 0 as "no buffer"
  private readonly buffers = new Set<ArrayBufferLike>();
  private readonly scratchRegions = new Map<string, { offset: number; bytes: number }>();

  constructor(initialBytes = 16 << 20) {
    this.memory = new WebAssembly.Memory({
      initial: Math.ceil(initialBytes / PAGE_BYTES), maximum: MAXIMUM_PAGES, shared: true,
    });
    this.buffers.add(this.memory.buffer);
  }

  /** A zero-filled block of `bytes` bytes; returns its byte offset. */
  allocateBytes(bytes: number): number {
    if (!Number.isInteger(bytes) || bytes < 0) throw new RangeError(`cannot allocate ${bytes} bytes`);
    const offset = this.top;
    const end = offset + Math.ceil(Math.max(bytes, 1) / ALIGNMENT) * ALIGNMENT;
    const available = this.memory.buffer.byteLength;
    if (end > available) {
      const pages = Math.ceil((end - available) / PAGE_BYTES);
      const current = available / PAGE_BYTES;
      if (current + pages > MAXIMUM_PAGES) {
        throw new RangeError(`the wasm backend's memory cannot grow past 4 GiB (needs ${Math.ceil(end / 2 ** 20)} MiB)`);
      }
      this.memory.grow(pages);
      this.buffers.add(this.memory.buffer);
    }
    this.top = end;
    return offset;
  }

  allocateFloats(length: number): Float32Array {
    const offset = this.allocateBytes(length * Float32Array.BYTES_PER_ELEMENT);
    return new Float32Array(this.memory.buffer, offset, length);
  }

  /** The byte offset of a reusable region of at least `bytes` bytes, by name. Its contents are whatever was left. */
  scratch(name: string, bytes: number): number {
    const region = this.scratchRegions.get(name);
    if (region && region.bytes >= bytes) return region.offset;
    const offset = this.allocateBytes(bytes);
    this.scratchRegions.set(name, { offset, bytes });
    return offset;
  }

  /** Whether a typed array is a view into this memory (and so can be handed to the kernels by its byte offset). */
  owns(array: ArrayBufferView): boolean {
    return this.buffers.has(array.buffer);
  }

  /** Bytes handed out so far. */
  get usedBytes(): number {
    return this.top;
  }

  floats(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  doubles(offset: number, length: number): Float64Array {
    return new Float64Array(this.memory.buffer, offset, length);
  }

  int32s(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }
}
