/** The text of docs/api.md and docs/openapi.json, generated from the route table and schemas. */
import { openApiDocument, ROUTES } from './openapi.ts';

export function apiDocText(): { markdown: string; openapi: string } {
  const rows = ROUTES.map((r) => `| \`${r.method.toUpperCase()}\` | \`${r.path}\` | ${r.summary} |`).join('\n');
  const markdown = `# REST API

Generated from the zod schemas (\`npm run docs:api\`); the full OpenAPI 3.1 document is
[openapi.json](openapi.json) and is also served at \`/api/v1/openapi.json\`.

The gateway serves the API on \`api.host:api.port\` of gateway.yaml (default \`127.0.0.1:8088\`;
\`port: 0\` takes a free port; \`enabled: false\` turns it off). Every route but \`/health\` needs
\`Authorization: Bearer <token>\` when a token is set (\`api.token\` or \`FIELDGATE_API_TOKEN\`).
There is no default token: without one the API must listen on loopback, and the configuration
check refuses any other address.

Errors are JSON with a 4xx/5xx status: \`{"error": {"code", "message", "field"}}\`, where
\`field\` names the request field at fault (\`properties.setpoint\`, \`level\`, \`name\`). A write
is validated exactly like a desired value from the cloud (model mode \`rw\`, type, range,
invertible mapping); when any property fails, nothing is written (422). A write the device
refuses or that times out is 503 with the driver's error code.

| method | path | what it does |
|---|---|---|
${rows}

Example:

\`\`\`sh
curl -s -H "Authorization: Bearer $TOKEN" http://127.0.0.1:8088/api/v1/devices/meter-01
curl -s -X POST -H "Authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
  -d '{"properties":{"power-limit":4500}}' http://127.0.0.1:8088/api/v1/devices/meter-01/properties
\`\`\`
`;
  return { markdown, openapi: `${JSON.stringify(openApiDocument(), null, 2)}\n` };
}
