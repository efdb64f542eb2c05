/**
 * The few WebAssembly JS API types the wasm backend uses. The project compiles against ES2023 + Node types, and
 * neither declares WebAssembly.Memory or Instance (they live in TypeScript's DOM lib). Interfaces and `var`s, as
 * lib.dom.d.ts writes them, so that these merge with a full declaration should one ever be in scope.
 */
declare namespace WebAssembly {
  interface Module {}
  var Module: {
    prototype: Module;
    new (bytes: ArrayBufferView | ArrayBuffer): Module;
    exports(module: Module): { name: string; kind: string }[];
  };

  interface MemoryDescriptor {
    initial: number;
    maximum?: number;
    shared?: boolean;
  }
  interface Memory {
    readonly buffer: ArrayBuffer | SharedArrayBuffer;
    grow(delta: number): number;
  }
  var Memory: {
    prototype: Memory;
    new (descriptor: MemoryDescriptor): Memory;
  };

  type ExportValue = Function | Memory;
  type Exports = Record<string, ExportValue>;
  type Imports = Record<string, Record<string, ExportValue | number>>;
  interface Instance {
    readonly exports: Exports;
  }
  var Instance: {
    prototype: Instance;
    new (module: Module, importObject?: Imports): Instance;
  };
}
