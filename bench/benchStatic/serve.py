#!/usr/bin/env python3
"""Runs the static benchmark page (built by bench/benchStatic.ts) where there is no Node.

Serves this folder on 127.0.0.1 with COOP/COEP (as vite.config.ts does), launches a headless
Chromium on /bench/pages/bench.html?auto, and writes every JSON line the page POSTs to --out (and
stdout). Exits 0 when the page reports done without error lines, 1 otherwise, 2 on a timeout (the
lines that came are then in OUT.partial: OUT is written only by a finished run).

  python3 serve.py --browser /usr/bin/chromium --out results.jsonl [--config other.json] [--flag X]
                   [--no-gpu-flags]
"""
import argparse
import http.server
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# The flags of the Chrome team's recipe for WebGPU in headless Chrome on a Linux GPU ("Supercharge
# Web AI model testing", Vulkan through ANGLE, no window surface), plus ours for a quiet browser.
GPU_FLAGS = ['--use-angle=vulkan', '--disable-vulkan-surface', '--ignore-gpu-blocklist']
FLAGS = [
    '--headless=new', '--no-sandbox', '--enable-features=Vulkan', '--enable-unsafe-webgpu',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--no-first-run', '--disable-dev-shm-usage',
]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument('--browser', required=True)
    ap.add_argument('--out', required=True)
    ap.add_argument('--config', help='a bench-config.json to serve instead of this folder\'s')
    ap.add_argument('--flag', action='append', default=[], help='an extra browser flag (repeatable)')
    ap.add_argument('--no-gpu-flags', action='store_true',
                    help='leave out the ANGLE-on-Vulkan flags (a machine without a GPU: SwiftShader)')
    ap.add_argument('--timeout', type=float, default=540)
    args = ap.parse_args()

    config_path = args.config or os.path.join(HERE, 'bench-config.json')
    config = open(config_path, 'rb').read()
    try:
        json.loads(config)  # refuse a broken config before starting anything
    except ValueError as e:
        sys.exit(f'bench-static: {config_path}: not JSON ({e})')
    done = threading.Event()
    errors = []
    lock = threading.Lock()
    out = open(args.out + '.tmp', 'w')

    class Handler(http.server.SimpleHTTPRequestHandler):
        extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                          '.wasm': 'application/wasm', '.mjs': 'text/javascript', '.js': 'text/javascript'}

        def __init__(self, *a, **kw):
            super().__init__(*a, directory=HERE, **kw)

        def end_headers(self):
            self.send_header('Cross-Origin-Opener-Policy', 'same-origin')
            self.send_header('Cross-Origin-Embedder-Policy', 'require-corp')
            self.send_header('Cache-Control', 'no-store')
            super().end_headers()

        def do_GET(self):
            if self.path.split('?')[0] == '/bench-config.json':
                self.send_response(200)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(config)))
                self.end_headers()
                self.wfile.write(config)
                return
            super().do_GET()

        def do_POST(self):
            body = self.rfile.read(int(self.headers.get('Content-Length') or 0)).decode()
            path = self.path.split('?')[0]
            if path == '/bench-line':
                line = json.loads(body)
                with lock:
                    if out.closed:  # a line after the run ended (timeout): not part of the result
                        return self.send_error(410)
                    if line.get('kind') == 'error' or line.get('errors'):
                        errors.append(line)
                    out.write(json.dumps(line) + '\n')
                    out.flush()
                print(json.dumps(line), flush=True)
            elif path == '/bench-log':
                print('[page] ' + json.loads(body).get('msg', ''), file=sys.stderr, flush=True)
            elif path == '/bench-done':
                done.set()
            self.send_response(204)
            self.end_headers()

        def log_message(self, *a):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), Handler)
    port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f'http://127.0.0.1:{port}/bench/pages/bench.html?auto'
    profile = tempfile.mkdtemp(prefix='bench-static-profile-')
    cmd = [args.browser, *FLAGS, *([] if args.no_gpu_flags else GPU_FLAGS), *args.flag, f'--user-data-dir={profile}', url]
    print('bench-static: ' + ' '.join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    browser = None
    finished = False
    try:
        browser = subprocess.Popen(cmd, stdout=sys.stderr, stderr=sys.stderr)
        finished = done.wait(args.timeout)
    finally:
        # Whatever ended the run (done, timeout, Ctrl-C, an error here): no browser, server or profile left.
        if browser:
            browser.terminate()
            try:
                browser.wait(10)
            except subprocess.TimeoutExpired:
                browser.kill()
        server.shutdown()
        with lock:
            out.close()
        shutil.rmtree(profile, ignore_errors=True)
        if not finished:
            os.replace(args.out + '.tmp', args.out + '.partial')
    if finished:
        os.replace(args.out + '.tmp', args.out)
    print(f'bench-static: {"done" if finished else "TIMED OUT"} in {time.time() - t0:.0f} s, '
          f'{len(errors)} error line(s)', file=sys.stderr, flush=True)
    sys.exit(2 if not finished else 1 if errors else 0)  # a timed-out run's lines are in OUT.partial


if __name__ == '__main__':
    main()
