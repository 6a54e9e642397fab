// validate.mjs [SPEC] < RECORDS
//
// Checks HTTP responses against openapi.yaml (or SPEC). The integration
// tests' harness (tests/integration/daemon_harness.c) keeps this running
// beside each test and writes every response it receives to its standard
// input, one JSON object a line:
//   {"method":"GET","path":"/checks/bits","status":200,
//    "headers":{"content-type":"application/json",...},"body":"..."}
// (header names in lower case). It first writes "ready" once it has loaded
// the spec, then answers each line with one line: a JSON array of
// mismatches, each "METHOD PATH -> STATUS: what", [] for none.
// At the end of its input it exits 1 if there was any mismatch, else 0;
// 2 on a usage or setup error.
//
// A response must be one the spec declares for its operation: a documented
// status (or NXX, or default), a declared media type, every required
// header valid against its schema, and a body valid against the schema
// (JSON media types are parsed first; a problem+json's status must be the
// response's, as RFC 9457 says). Two answers have no operation to be
// described under, so the rules of the spec's introduction apply: an
// unknown path is 404 (or 431 for oversize headers); a known path with an
// undocumented method is the path's own 405 (or 431), whose Allow must name
// exactly the path's methods.

import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const BASE = 'wsusdiag:openapi';
const MAX_ERRORS = 8;

const here = dirname(fileURLToPath(import.meta.url));

function usage() {
	console.error('usage: node validate.mjs [SPEC] < RECORDS');
	process.exit(2);
}

// JSON Pointer (RFC 6901) segments.
const escapePtr = (s) => String(s).replaceAll('~', '~0').replaceAll('/', '~1');
const unescapePtr = (s) => s.replaceAll('~1', '/').replaceAll('~0', '~');

function atPointer(doc, ptr) {
	let node = doc;
	for (const seg of ptr.split('/').slice(1)) {
		node = node?.[unescapePtr(seg)];
		if (node === undefined)
			return undefined;
	}
	return node;
}

// A response or header object, following local $refs; returns it with the
// pointer it lives at, so that its schemas compile in the spec's scope.
function follow(spec, node, ptr) {
	for (let hops = 0; node?.$ref !== undefined; hops++) {
		const ref = node.$ref;
		if (!ref.startsWith('#/') || hops > 16)
			throw new Error(`${ptr}: cannot follow $ref ${ref}`);
		ptr = ref.slice(1);
		node = atPointer(spec, ptr);
		if (node === undefined)
			throw new Error(`${ptr}: dangling $ref ${ref}`);
	}
	return { node, ptr };
}

// Every schema a response can be checked against: bodies and headers, at
// the pointers checkHeaders and checkBody look them up by.
function schemaPointers(spec) {
	const ptrs = new Set();
	const addResponse = (node, at) => {
		const r = follow(spec, node, at);
		for (const [mt, media] of Object.entries(r.node.content ?? {}))
			if (media.schema !== undefined)
				ptrs.add(`${r.ptr}/content/${escapePtr(mt)}/schema`);
		for (const [name, h] of Object.entries(r.node.headers ?? {})) {
			const hdr = follow(spec, h, `${r.ptr}/headers/${escapePtr(name)}`);
			if (hdr.node.schema !== undefined)
				ptrs.add(`${hdr.ptr}/schema`);
		}
	};
	for (const [tmpl, item] of Object.entries(spec.paths ?? {}))
		for (const m of METHODS)
			for (const [code, resp] of Object.entries(item?.[m]?.responses ?? {}))
				addResponse(resp, `/paths/${escapePtr(tmpl)}/${m}/responses/${escapePtr(code)}`);
	for (const [name, resp] of Object.entries(spec.components?.responses ?? {}))
		addResponse(resp, `/components/responses/${escapePtr(name)}`);
	return [...ptrs];
}

// Compile them all with ajv into one CommonJS module (ajv's standalone
// code) that exports a validator per pointer.
async function compileValidators(spec) {
	const { default: Ajv2020, _ } = await import('ajv/dist/2020.js');
	const { default: standaloneCode } = await import('ajv/dist/standalone/index.js');
	const { default: addFormats } = await import('ajv-formats');
	// OpenAPI 3.1 schemas are JSON Schema 2020-12 plus these annotations.
	const ajv = new Ajv2020({
		allErrors: true,
		strict: true,
		strictTypes: false,
		code: { source: true, formats: _`require("ajv-formats/dist/formats").fullFormats` },
	});
	addFormats(ajv);
	for (const k of ['example', 'discriminator', 'xml', 'externalDocs'])
		ajv.addKeyword(k);
	// Schemas are compiled by pointer into a root that holds the parts
	// they live in; the root itself must compile, so these two are
	// keywords of no effect.
	ajv.addKeyword('paths');
	ajv.addKeyword('components');
	ajv.addSchema({ paths: spec.paths, components: spec.components }, BASE);
	const refs = {};
	for (const ptr of schemaPointers(spec)) {
		if (ajv.getSchema(`${BASE}#${ptr}`) === undefined)
			throw new Error(`no schema at ${ptr}`);
		refs[ptr] = `${BASE}#${ptr}`;
	}
	return standaloneCode(ajv, refs);
}

// Parsing the YAML and compiling the schemas cost far more than checking
// a few answers, and every test process starts this: the parsed spec and
// the compiled validators are kept in node_modules/.cache (which npm ci
// empties), named by the hash of the spec and of this script, so that an
// edited spec is never checked with stale validators.
async function load(file) {
	const text = readFileSync(file, 'utf8');
	const self = readFileSync(fileURLToPath(import.meta.url));
	const hash = createHash('sha256').update(text).update('\0').update(self)
		.digest('hex').slice(0, 32);
	const cacheDir = resolve(here, 'node_modules/.cache/wsusdiag-openapi');
	const base = resolve(cacheDir, hash);
	try {
		return {
			spec: JSON.parse(readFileSync(`${base}.json`, 'utf8')),
			validators: instantiate(readFileSync(`${base}.cjs`, 'utf8')),
		};
	} catch {
		// not cached yet
	}
	const { parse } = await import('yaml');
	const spec = parse(text);
	const code = await compileValidators(spec);
	try {
		// Tests run in parallel: write aside, then rename into place;
		// the validators last, so that they come with their spec.
		mkdirSync(cacheDir, { recursive: true });
		for (const [ext, data] of [['json', JSON.stringify(spec)], ['cjs', code]]) {
			writeFileSync(`${base}.${ext}.${process.pid}`, data);
			renameSync(`${base}.${ext}.${process.pid}`, `${base}.${ext}`);
		}
		// Older versions' copies are dead weight.
		for (const f of readdirSync(cacheDir))
			if (!f.startsWith(hash))
				rmSync(resolve(cacheDir, f), { force: true });
	} catch {
		// a read-only tree: compile every time
	}
	return { spec, validators: instantiate(code) };
}

// The standalone module's exports; its require()s (ajv's runtime, the
// formats) resolve from here.
function instantiate(code) {
	const module = { exports: {} };
	new Function('require', 'module', 'exports', code)(
		createRequire(import.meta.url), module, module.exports);
	return module.exports;
}

function schemaAt(validators, ptr) {
	const v = validators[ptr];
	if (typeof v !== 'function')
		throw new Error(`no compiled schema at ${ptr}`);
	return v;
}

// The path item whose template matches; literal templates win.
function findPath(spec, path) {
	const segs = path.split('/');
	let best;
	for (const [tmpl, item] of Object.entries(spec.paths ?? {})) {
		const t = tmpl.split('/');
		if (t.length !== segs.length)
			continue;
		let params = 0, ok = true;
		for (let i = 0; ok && i < t.length; i++) {
			if (/^\{[^}]+\}$/.test(t[i])) {
				ok = segs[i] !== '';
				params++;
			} else {
				ok = t[i] === segs[i];
			}
		}
		if (ok && (best === undefined || params < best.params))
			best = { tmpl, item, params };
	}
	return best;
}

function pathMethods(item) {
	return METHODS.filter((m) => item[m] !== undefined).map((m) => m.toUpperCase());
}

// The responses map (status -> response object pointer) for a record.
function responsesFor(spec, rec, problems) {
	const found = findPath(spec, rec.path.split('?')[0]);
	if (found === undefined) {
		return {
			'404': '/components/responses/NotFound',
			'431': '/components/responses/HeaderFieldsTooLarge',
		};
	}
	const base = `/paths/${escapePtr(found.tmpl)}`;
	const method = rec.method.toLowerCase();
	if (METHODS.includes(method) && found.item[method] !== undefined) {
		const map = {};
		for (const code of Object.keys(found.item[method].responses ?? {}))
			map[code] = `${base}/${method}/responses/${escapePtr(code)}`;
		return map;
	}
	// An undocumented method: every operation documents the path's 405.
	const allowed = pathMethods(found.item);
	const allow = rec.headers?.allow;
	if (rec.status === 405 && allow !== undefined &&
	    allow.split(',').map((s) => s.trim()).sort().join(',') !== [...allowed].sort().join(','))
		problems.push(`Allow is "${allow}", the path has ${allowed.join(', ')}`);
	const map = { '431': '/components/responses/HeaderFieldsTooLarge' };
	const owner = allowed.map((m) => m.toLowerCase()).find((m) => found.item[m].responses?.['405']);
	if (owner !== undefined)
		map['405'] = `${base}/${owner}/responses/405`;
	return map;
}

function pickResponse(map, status) {
	const s = String(status);
	return map[s] ?? map[`${s[0]}XX`] ?? map.default;
}

// Where the failing keyword is. Ajv names it from the spec's root where it
// inlined a $ref; inside a schema it compiled on its own (one that has
// $refs itself), only relative to that schema, which it does not name:
// then say under which response schema it is.
function schemaPlace(schema, ptr, e) {
	if (e.schemaPath.startsWith('#/components/') || e.schemaPath.startsWith('#/paths/'))
		return e.schemaPath;
	const top = schema?.$ref?.startsWith('#/') ? schema.$ref : `#${ptr}`;
	return `${e.keyword}, under ${top}`;
}

// Ajv's errors as "body/findings/0/status must be ... [schema place]".
function ajvErrors(errors, schema, ptr, what = 'body') {
	const out = errors.slice(0, MAX_ERRORS).map((e) => {
		const where = `${what}${e.instancePath}`;
		const p = e.params ?? {};
		let extra = '';
		if (p.additionalProperty !== undefined)
			extra = ` (${p.additionalProperty})`;
		else if (p.allowedValues !== undefined)
			extra = ` (${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
		else if (p.allowedValue !== undefined)
			extra = ` (${JSON.stringify(p.allowedValue)})`;
		return `${where} ${e.message}${extra} [${schemaPlace(schema, ptr, e)}]`;
	});
	if (errors.length > MAX_ERRORS)
		out.push(`... ${errors.length - MAX_ERRORS} more`);
	return out;
}

const isJson = (mt) => mt === 'application/json' || /^[a-z0-9.+-]+\/[a-z0-9.-]+\+json$/.test(mt);

function mediaMatches(declared, actual) {
	if (declared === actual || declared === '*/*')
		return true;
	return declared.endsWith('/*') && actual.startsWith(declared.slice(0, -1));
}

function checkHeaders(spec, validators, resp, rec, problems) {
	for (const [name, h] of Object.entries(resp.node.headers ?? {})) {
		const { node, ptr } = follow(spec, h, `${resp.ptr}/headers/${escapePtr(name)}`);
		const value = rec.headers?.[name.toLowerCase()];
		if (value === undefined) {
			if (node.required)
				problems.push(`required header ${name} is missing`);
			continue;
		}
		if (node.schema === undefined)
			continue;
		const v = schemaAt(validators, `${ptr}/schema`);
		if (!v(value))
			problems.push(...ajvErrors(v.errors, node.schema, `${ptr}/schema`,
			    `header ${name} "${value}"`));
	}
}

function checkBody(validators, resp, rec, problems) {
	const content = resp.node.content ?? {};
	const ct = rec.headers?.['content-type'];
	if (Object.keys(content).length === 0) {
		if (rec.body !== '')
			problems.push(`the spec declares no body, got ${rec.body.length} bytes`);
		return;
	}
	if (ct === undefined) {
		problems.push(`no Content-Type; the spec declares ${Object.keys(content).join(', ')}`);
		return;
	}
	const mt = ct.split(';')[0].trim().toLowerCase();
	const declared = Object.keys(content).find((d) => mediaMatches(d.toLowerCase(), mt));
	if (declared === undefined) {
		problems.push(`Content-Type ${ct} is not declared (${Object.keys(content).join(', ')})`);
		return;
	}
	if (content[declared].schema === undefined)
		return;
	let body = rec.body;
	if (isJson(mt)) {
		try {
			body = JSON.parse(rec.body);
		} catch (e) {
			problems.push(`body is not JSON (${e.message}): ${rec.body.slice(0, 200)}`);
			return;
		}
	}
	const ptr = `${resp.ptr}/content/${escapePtr(declared)}/schema`;
	const v = schemaAt(validators, ptr);
	if (!v(body))
		problems.push(...ajvErrors(v.errors, content[declared].schema, ptr));
	// RFC 9457: a problem's status is the response's own.
	if (mt === 'application/problem+json' && body?.status !== undefined &&
	    body.status !== rec.status)
		problems.push(`body/status is ${JSON.stringify(body.status)}, the response is ${rec.status}`);
}

function checkRecord(spec, validators, rec) {
	const problems = [];
	const map = responsesFor(spec, rec, problems);
	const ptr = pickResponse(map, rec.status);
	if (ptr === undefined) {
		problems.push(`status ${rec.status} is not documented ` +
		    `(documented: ${Object.keys(map).join(', ')})`);
		return problems;
	}
	const resp = follow(spec, atPointer(spec, ptr), ptr);
	checkHeaders(spec, validators, resp, rec, problems);
	checkBody(validators, resp, rec, problems);
	return problems;
}

function checkLine(spec, validators, line) {
	let rec;
	try {
		rec = JSON.parse(line);
	} catch (e) {
		return [`not a JSON record: ${e.message}`];
	}
	const what = `${rec.method} ${rec.path} -> ${rec.status}`;
	let problems;
	try {
		problems = checkRecord(spec, validators, rec);
	} catch (e) {
		// A broken spec (a bad $ref) fails the response that needed
		// it, with the reason.
		problems = [`cannot check: ${e.message}`];
	}
	return problems.map((p) => `${what}: ${p}`.replaceAll('\n', ' '));
}

async function main() {
	const args = process.argv.slice(2);
	if (args.length > 1)
		usage();
	let spec, validators;
	try {
		({ spec, validators } = await load(args[0] ?? resolve(here, '../../openapi.yaml')));
	} catch (e) {
		// A spec that does not parse or compile fails every test.
		console.error(`validate.mjs: ${e.message}`);
		process.exit(2);
	}
	// The test may end (or die) before reading the last answer.
	process.stdout.on('error', () => process.exit(2));
	process.stdout.write('ready\n');
	let bad = 0;
	for await (const line of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
		if (line === '')
			continue;
		const problems = checkLine(spec, validators, line);
		bad += problems.length > 0;
		process.stdout.write(`${JSON.stringify(problems)}\n`);
	}
	process.exitCode = bad > 0 ? 1 : 0;
}

await main();
