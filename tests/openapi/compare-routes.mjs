// compare-routes.mjs WSUSDIAGD_BINARY [SPEC]
//
// The route table in api/routes.c and openapi.yaml describe the same API
// twice; this keeps them from drifting. It checks that every operation in
// the spec carries a role consistent with its security and responses, then
// compares the spec's (method, path, role) set with what
// `WSUSDIAGD routes` prints ("GET /checks/{id} read", one route a line)
// and names every difference. Exit 0 when they agree, 1 when they do not,
// 2 on a usage error.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const ROLES = ['none', 'read', 'admin'];
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ROUTE_LINE = /^([A-Z]+) (\/\S*) (\S+)$/;

const here = dirname(fileURLToPath(import.meta.url));

function usage() {
	console.error('usage: node compare-routes.mjs WSUSDIAGD_BINARY [SPEC]');
	process.exit(2);
}

// Security must agree with the role: open operations declare `security: []`,
// the others accept a bearer token or a client certificate and document the
// answers a caller without the role gets.
function checkOperation(where, op, role, problems) {
	const sec = op.security;
	if (!Array.isArray(sec)) {
		problems.push(`${where}: no operation-level security`);
		return;
	}
	const responses = op.responses ?? {};
	if (role === 'none') {
		if (sec.length !== 0)
			problems.push(`${where}: role none but security is not []`);
		return;
	}
	const schemes = sec.map((req) => Object.keys(req ?? {}).sort().join('+'));
	if (schemes.length !== 2 || !schemes.includes('bearerAuth') ||
	    !schemes.includes('mutualTLS'))
		problems.push(`${where}: role ${role} needs security ` +
		    `[bearerAuth: [], mutualTLS: []] as alternatives, has ${JSON.stringify(sec)}`);
	for (const code of ['401', '403'])
		if (!(code in responses))
			problems.push(`${where}: role ${role} but no ${code} response`);
}

function specRoutes(spec, problems) {
	const routes = new Map();
	for (const [path, item] of Object.entries(spec.paths ?? {})) {
		for (const method of METHODS) {
			const op = item?.[method];
			if (!op)
				continue;
			const key = `${method.toUpperCase()} ${path}`;
			const role = op['x-wsusdiag-role'];
			if (!ROLES.includes(role)) {
				problems.push(`spec: ${key}: x-wsusdiag-role is ` +
				    `${JSON.stringify(role)}, not one of ${ROLES.join('|')}`);
				continue;
			}
			checkOperation(`spec: ${key}`, op, role, problems);
			routes.set(key, role);
		}
	}
	return routes;
}

function daemonRoutes(binary, problems) {
	let out;
	try {
		out = execFileSync(binary, ['routes'], {
			encoding: 'utf8',
			timeout: 30000,
			stdio: ['ignore', 'pipe', 'pipe'],
		});
	} catch (e) {
		const why = e.status != null ? `exit status ${e.status}` : e.message;
		const err = e.stderr ? `: ${String(e.stderr).trim()}` : '';
		problems.push(`daemon: "${binary} routes" failed (${why})${err}`);
		return null;
	}
	const routes = new Map();
	out.split('\n').forEach((raw, i) => {
		const line = raw.replace(/\r$/, '');
		if (line.trim() === '')
			return;
		const m = ROUTE_LINE.exec(line);
		if (!m || !ROLES.includes(m[3])) {
			problems.push(`daemon: line ${i + 1} is not "METHOD /path ` +
			    `none|read|admin": ${JSON.stringify(line)}`);
			return;
		}
		const key = `${m[1]} ${m[2]}`;
		if (routes.has(key))
			problems.push(`daemon: ${key} listed twice`);
		routes.set(key, m[3]);
	});
	if (routes.size === 0)
		problems.push(`daemon: "${binary} routes" printed no routes`);
	return routes;
}

function compare(spec, daemon, problems) {
	for (const [key, role] of spec) {
		if (!daemon.has(key))
			problems.push(`${key} (${role}) is in openapi.yaml but not in the daemon's route table`);
		else if (daemon.get(key) !== role)
			problems.push(`${key}: role ${role} in openapi.yaml, ${daemon.get(key)} in the daemon`);
	}
	for (const [key, role] of daemon)
		if (!spec.has(key))
			problems.push(`${key} (${role}) is in the daemon's route table but not in openapi.yaml`);
}

function main() {
	const [binary, specArg] = process.argv.slice(2);
	if (!binary || process.argv.length > 4)
		usage();
	const specPath = specArg ?? resolve(here, '../../openapi.yaml');
	const problems = [];

	let spec;
	try {
		spec = parse(readFileSync(specPath, 'utf8'));
	} catch (e) {
		console.error(`compare-routes: cannot load ${specPath}: ${e.message}`);
		process.exit(1);
	}
	const fromSpec = specRoutes(spec, problems);
	const fromDaemon = daemonRoutes(binary, problems);
	if (fromDaemon)
		compare(fromSpec, fromDaemon, problems);

	if (problems.length > 0) {
		for (const p of problems)
			console.error(`compare-routes: ${p}`);
		console.error(`compare-routes: ${problems.length} difference(s)`);
		process.exit(1);
	}
	console.log(`compare-routes: ${fromSpec.size} routes agree`);
}

main();
