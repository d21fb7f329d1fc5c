// The pipe a remote bus talks through (remote-bus.ts): structured-clone messages in order, both
// ways. Two kinds: a worker_threads MessagePort (in one process: the contract tests) and a child
// process's IPC channel (the embedded sweep's trainer processes, forked with
// serialization: 'advanced' so that Buffers cross as bytes, not JSON).
import type { ChildProcess } from 'node:child_process';
import type { MessagePort } from 'node:worker_threads';

export interface BusChannel {
  post(message: unknown): void;
  /** Calls handler with every message from the other end; returns the unsubscribe. */
  listen(handler: (message: unknown) => void): () => void;
  /** Called once when the other end is gone (the process exited, the port closed). */
  onClose(handler: () => void): void;
}

export function portChannel(port: MessagePort): BusChannel {
  return {
    post: (m) => port.postMessage(m),
    listen: (handler) => {
      port.on('message', handler);
      return () => void port.off('message', handler);
    },
    onClose: (handler) => void port.once('close', handler),
  };
}

/**
 * The IPC channel of a forked child (seen from the parent) or of this process (seen from the
 * child). The child process must be forked with serialization: 'advanced'. A post after the
 * other end is gone is dropped: its close handlers tell the owner.
 */
export function processChannel(p: ChildProcess | NodeJS.Process): BusChannel {
  return {
    post: (m) => {
      if (p.connected && p.send) p.send(m as never);
    },
    listen: (handler) => {
      p.on('message', handler);
      return () => void p.off('message', handler);
    },
    onClose: (handler) => void p.once('disconnect', handler),
  };
}

/** Bytes that crossed a channel (a Uint8Array after structured clone) as a Buffer, without a copy. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
