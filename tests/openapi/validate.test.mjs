// validate.test.mjs: validate.mjs against openapi.yaml with hand-made
// responses, so that the contract check of the integration tests is known
// to reject what it must (they only ever show it accepting). Run by
// check.sh: node --test validate.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

const JSON_CT = { 'content-type': 'application/json' };
const PROBLEM_CT = { 'content-type': 'application/problem+json' };
const problem = (status, title) =>
	JSON.stringify({ type: 'about:blank', title, status, detail: 'x' });
const check = {
	id: 'bits', title: 'BITS', status: 'fail', summary: '', duration_ms: 1, facts: {},
	findings: [{
		id: 'bits.account', status: 'fail', message: 'm', expected: 'LocalSystem',
		observed: 'x', error: null, remedy: { action: 'repair-bits', text: null },
	}],
};
const version = (build, libs) => JSON.stringify({
	name: 'wsusdiagd', version: '0.1.0', platform: 'sim', build,
	libraries: { microhttpd: '0.9.75', cjson: '1.7.15', mbedtls: '2.28.3', ...libs },
});

// [what, record, the mismatches expected (substrings, in order)]
const cases = [
	['a good answer', { method: 'GET', path: '/health', status: 200, headers: JSON_CT,
		body: '{"status":"ok"}' }, []],
	['a good check', { method: 'GET', path: '/checks/bits', status: 200, headers: JSON_CT,
		body: JSON.stringify(check) }, []],
	['a query string is not part of the path', { method: 'GET', path: '/health?x=1', status: 200,
		headers: JSON_CT, body: '{"status":"ok"}' }, []],
	['an undeclared member', { method: 'GET', path: '/health', status: 200, headers: JSON_CT,
		body: '{"status":"ok","uptime":1}' },
	['body must NOT have additional properties (uptime) [additionalProperties, under #/components/schemas/Health]']],
	['a value out of its enum, deep down', { method: 'GET', path: '/checks/bits', status: 200,
		headers: JSON_CT, body: JSON.stringify({ ...check,
			findings: [{ ...check.findings[0], status: 'bad' }] }) },
	['body/findings/0/status must be equal to one of the allowed values (' +
		'"pass", "warn", "fail", "error", "skip") [#/components/schemas/Status/enum]']],
	['an undocumented status', { method: 'GET', path: '/health', status: 418, headers: JSON_CT,
		body: '{}' }, ['status 418 is not documented']],
	['an undeclared media type', { method: 'GET', path: '/checks/bits', status: 404,
		headers: { 'content-type': 'text/html' }, body: '<p>' },
	['Content-Type text/html is not declared (application/problem+json)']],
	['no media type', { method: 'GET', path: '/health', status: 200, headers: {},
		body: '{"status":"ok"}' }, ['no Content-Type']],
	['a JSON type that is not JSON', { method: 'GET', path: '/health', status: 200,
		headers: JSON_CT, body: 'ok' }, ['body is not JSON']],
	['a 401 without WWW-Authenticate', { method: 'GET', path: '/checks', status: 401,
		headers: PROBLEM_CT, body: problem(401, 'Unauthorized') },
	['required header WWW-Authenticate is missing']],
	['a WWW-Authenticate that is not Bearer', { method: 'GET', path: '/checks', status: 401,
		headers: { ...PROBLEM_CT, 'www-authenticate': 'Basic' }, body: problem(401, 'Unauthorized') },
	['header WWW-Authenticate "Basic" must match pattern']],
	["a problem whose status is not the response's", { method: 'GET', path: '/checks/x',
		status: 404, headers: PROBLEM_CT, body: problem(400, 'Bad Request') },
	['body/status is 400, the response is 404']],
	['a 409 without its target', { method: 'POST', path: '/actions/restart-bits', status: 409,
		headers: PROBLEM_CT, body: problem(409, 'Conflict') },
	["body must have required property 'target'", "body must have required property 'running_action'"]],
	['an unknown path is 404', { method: 'GET', path: '/nope', status: 404, headers: PROBLEM_CT,
		body: problem(404, 'Not Found') }, []],
	['an unknown path answered otherwise', { method: 'GET', path: '/nope', status: 200,
		headers: JSON_CT, body: '{}' }, ['status 200 is not documented (documented: 404, 431)']],
	['an undocumented method is 405 with Allow', { method: 'DELETE', path: '/checks/bits',
		status: 405, headers: { ...PROBLEM_CT, allow: 'GET' }, body: problem(405, 'x') }, []],
	['an Allow that lies', { method: 'DELETE', path: '/checks/bits', status: 405,
		headers: { ...PROBLEM_CT, allow: 'GET, DELETE' }, body: problem(405, 'x') },
	['Allow is "GET, DELETE", the path has GET']],
	['a 405 without Allow', { method: 'PUT', path: '/health', status: 405, headers: PROBLEM_CT,
		body: problem(405, 'x') }, ['required header Allow is missing']],
	['a format', { method: 'GET', path: '/report', status: 200, headers: JSON_CT,
		body: JSON.stringify({ status: 'pass', generated_at: 'yesterday', duration_ms: 1,
			host: { kind: 'sim', computer: { name: null, os_version: null, machine_guid: null } },
			checks: [] }) },
	['body/generated_at must match format "date-time"']],
	['the Windows build names WinHTTP', { method: 'GET', path: '/version', status: 200,
		headers: JSON_CT, body: version('windows', { winhttp: '10.0.19041.1' }) }, []],
	['the Linux build names curl, not WinHTTP', { method: 'GET', path: '/version', status: 200,
		headers: JSON_CT, body: version('linux', { winhttp: null }) },
	["body/libraries must have required property 'curl'",
		'body/libraries/winhttp boolean schema is false', 'body must match "then" schema']],
];

test('validate.mjs judges each answer as openapi.yaml says', () => {
	const input = cases.map(([, rec]) => JSON.stringify(rec)).join('\n') + '\n';
	const run = spawnSync(process.execPath, [resolve(here, 'validate.mjs')],
		{ input, encoding: 'utf8', timeout: 60000 });
	assert.equal(run.stderr, '');
	const lines = run.stdout.split('\n').filter((l) => l !== '');
	assert.equal(lines.shift(), 'ready');
	assert.equal(lines.length, cases.length);
	for (const [i, [what, rec, expected]] of cases.entries()) {
		const got = JSON.parse(lines[i]);
		assert.equal(got.length, expected.length,
			`${what}: ${got.length} mismatches, expected ${expected.length}: ${lines[i]}`);
		for (const [j, want] of expected.entries()) {
			assert.ok(got[j].startsWith(`${rec.method} ${rec.path} -> ${rec.status}: `), got[j]);
			assert.ok(got[j].includes(want), `${what}: "${got[j]}" does not say "${want}"`);
		}
	}
	assert.equal(run.status, 1, 'exit status with mismatches');
});

test('validate.mjs exits 0 when every answer is allowed', () => {
	const run = spawnSync(process.execPath, [resolve(here, 'validate.mjs')], {
		input: `${JSON.stringify(cases[0][1])}\n`, encoding: 'utf8', timeout: 60000,
	});
	assert.equal(run.stdout, 'ready\n[]\n');
	assert.equal(run.status, 0);
});
