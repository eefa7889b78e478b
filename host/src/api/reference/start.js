// Starts the Scalar API reference on /openapi.json, with no fonts or services of other sites.
Scalar.createApiReference('#api-reference', {
  url: '/openapi.json',
  withDefaultFonts: false,
  hideClientButton: true,
  telemetry: false,
  agent: { disabled: true },
  mcp: { disabled: true },
  metaData: { title: 'API reference · Kinesis Backup' },
});
