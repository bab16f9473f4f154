// fastify's inject (light-my-request 6.8) requires cookie 2, which ships only as an ES module; jest's
// CommonJS runtime cannot require that on Node 20, so ts-jest compiles that one package to CommonJS.
const preset = require('../../jest.preset.js');
module.exports = {
  ...preset,
  rootDir: __dirname,
  // The load test's pieces (load/pieces.js) are plain CommonJS, tested as they are.
  testMatch: [...preset.testMatch, '<rootDir>/load/**/*.test.js'],
  transform: {
    ...preset.transform,
    '/node_modules/(\\.pnpm/cookie@[^/]+/node_modules/)?cookie/.+\\.js$': [
      'ts-jest',
      { tsconfig: { allowJs: true, module: 'commonjs', target: 'ES2022', esModuleInterop: true }, diagnostics: false },
    ],
  },
  transformIgnorePatterns: ['/node_modules/(?!(\\.pnpm/cookie@[^/]+/node_modules/)?cookie/)'],
};
