// What assets/ imports from the PowerSync web SDK. Vite bundles this (and the SDK's
// workers and wasm it reaches through `new URL(..., import.meta.url)`) into assets/vendor/.
export {
  PowerSyncDatabase,
  Schema,
  Table,
  column,
  SyncStreamConnectionMethod,
  UpdateType,
  WASQLiteVFS,
} from '@powersync/web';
