// dynalite ships no type declarations: the part of its API the setup uses.
declare module 'dynalite' {
  import type { Server } from 'node:http';

  interface DynaliteOptions {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    /** A folder for LevelDB; without it, tables are kept in memory. */
    path?: string;
  }
  export default function dynalite(options?: DynaliteOptions): Server;
}
