// What assets/export.js imports: a zip writer for "Export my notes". Bundled into
// assets/vendor/zip.js.
export { strToU8, zipSync } from 'fflate';
