#!/usr/bin/env node
// Thin launcher: registers tsx so the TypeScript CLI runs without a build step.
//
// onnxruntime-node crashes (SIGSEGV) while creating a session in a process whose command line
// passes about 29 KB (measured here with onnxruntime-node 1.30; a long environment is fine). So a
// command line over MAX_ARGV_BYTES runs in a child process that gets the arguments from a private
// temporary file instead: a long query given as an argument is then as safe as one on stdin.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ARGS_FILE_ENV = 'HYPENCODER_WEB_ARGS_FILE';
const MAX_ARGV_BYTES = 16 * 1024;

const args = process.argv.slice(2);
const argvBytes = args.reduce((n, a) => n + Buffer.byteLength(a) + 1, 0);
const argsFile = process.env[ARGS_FILE_ENV];

if (argsFile) {
  delete process.env[ARGS_FILE_ENV];
  const passed = JSON.parse(readFileSync(argsFile, 'utf8'));
  rmSync(path.dirname(argsFile), { recursive: true, force: true });
  process.argv = [process.argv[0], process.argv[1], ...passed];
  await run();
} else if (argvBytes > MAX_ARGV_BYTES) {
  const dir = mkdtempSync(path.join(tmpdir(), 'hypencoder-web-args-'));
  const file = path.join(dir, 'args.json');
  writeFileSync(file, JSON.stringify(args), { mode: 0o600 });
  const child = spawn(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    stdio: 'inherit',
    env: { ...process.env, [ARGS_FILE_ENV]: file },
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    rmSync(dir, { recursive: true, force: true }); // normally already removed by the child
    process.exitCode = code ?? 128 + (signal === 'SIGINT' ? 2 : signal === 'SIGTERM' ? 15 : 1);
  });
} else {
  await run();
}

async function run() {
  const { register } = await import('tsx/esm/api');
  register();
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
