module.exports = { ...require('../jest.preset.js'), rootDir: __dirname, testMatch: ['<rootDir>/e2e/**/*.test.ts'] };
