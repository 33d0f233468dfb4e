// Builds the app with webpack's Node API (as `npx webpack` would with
// webpack-cli, which is not installed) into the folder named by the first
// argument: webpack.config.js, with that output path.
import webpack from 'webpack';
import config from './webpack.config.js';

const out = process.argv[2];
if (!out) {
  console.error('usage: node build.js OUTPUT_DIR');
  process.exit(2);
}
webpack({ ...config, output: { ...config.output, path: out } }, (err, stats) => {
  if (err || stats.hasErrors()) {
    console.error(err || stats.toString('errors-only'));
    process.exit(1);
  }
  console.log(stats.toString({ all: false, assets: true, warnings: true }));
});
