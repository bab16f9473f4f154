const preset = require('../../../jest.preset.js');
module.exports = { ...preset, rootDir: __dirname, setupFiles: [...preset.setupFiles, require.resolve('./jest.ort-realm.js')] };
