// Types of the Node.js entry of 'pbxauth' (the package's "node" condition):
// the same Auth, PBX and ready as the ES module entry, and configure.
export { Auth, PBX, ready } from './index.js';

/** A synchronous store with localStorage's methods. */
export interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** A WebSocket constructor, such as the ws package's default export. */
export type WebSocketConstructor = new (url: string) => unknown;

export interface NodeOptions {
  /** Keeps the sub-ID, the session and the tokens; null: memory, tokens
   * not kept (the default). Give it before logging in. */
  storage?: StorageLike | null;
  /** The live feed's WebSocket; null: globalThis.WebSocket (the default). */
  WebSocket?: WebSocketConstructor | null;
}

/** Sets what a page would have; a key left out stays as it was. Throws a
 * TypeError with code bad_option on a wrong value. */
export declare function configure(options: NodeOptions): void;
