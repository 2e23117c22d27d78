#!/usr/bin/env python3
"""Serves the demo page (www/) on localhost with the headers it needs: cross-origin isolation (COOP/COEP,
for threads), a strict Content-Security-Policy, and the right types for .wasm and .js.

Usage: serve.py [PORT] [ROOT] [--no-csp]   (defaults: 8080, www; --no-csp for the benchmark page, which
loads TensorFlow.js's runtime)
"""
import http.server
import os
import sys

ARGS = [a for a in sys.argv[1:] if not a.startswith("--")]
PORT = int(ARGS[0]) if len(ARGS) > 0 else 8080
ROOT = ARGS[1] if len(ARGS) > 1 else os.path.join(os.path.dirname(__file__), "..", "www")
USE_CSP = "--no-csp" not in sys.argv

CSP = ("default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; worker-src 'self'; connect-src 'self'; "
       "img-src 'self' blob: data:; media-src 'self' blob: mediastream:; style-src 'self'; object-src 'none'; "
       "base-uri 'none'; form-action 'none'")


class Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".wasm": "application/wasm", ".js": "text/javascript", ".mjs": "text/javascript",
                      ".tflite": "application/octet-stream", ".lfg": "application/octet-stream"}

    def end_headers(self):
        self.send_header("Cross-Origin-Opener-Policy", "same-origin")
        self.send_header("Cross-Origin-Embedder-Policy", "require-corp")
        self.send_header("Cross-Origin-Resource-Policy", "same-origin")
        if USE_CSP:
            self.send_header("Content-Security-Policy", CSP)
        self.send_header("Cache-Control", "no-cache")
        super().end_headers()

    def log_message(self, fmt, *args):
        if os.environ.get("LOCALFACE_SERVE_LOG"):
            super().log_message(fmt, *args)


if __name__ == "__main__":
    os.chdir(ROOT)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"localface demo: open http://localhost:{PORT}/ (serving {os.getcwd()})", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
