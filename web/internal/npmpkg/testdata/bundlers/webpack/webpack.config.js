// webpack 5, production build. pbxauth needs no configuration: its
// new URL('./pbxauth.wasm', import.meta.url) makes webpack emit the module
// as an asset (asset/resource: [hash].wasm beside the bundle, fetched from
// the bundle's public path), and its wasm_exec.js is bundled as a module.
export default {
  mode: 'production',
  entry: './main.js',
  // Optional: without it webpack warns that the module (3 MiB, 0.9 MiB
  // gzip) is over its 244 KiB hint for an asset.
  performance: { assetFilter: (file) => !file.endsWith('.wasm') },
};
