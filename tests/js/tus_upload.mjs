// Upload one file with tus-js-client and report what happened as JSON lines on stdout.
//
//   node tests/js/tus_upload.mjs '{"endpoint": "...", "apiKey": "...", "path": "...", "chunkSize": 1048576,
//                                  "metadata": {...}, "parallelUploads": 1, "retryDelays": [0, 200, 500]}'
//
// Events: {"event":"progress","sent":N,"total":N} (at most one per 5 %), {"event":"response","method":
// "HEAD"|"PATCH"|"POST","status":N,"offset":"…"}, then {"event":"success","url":…,"fileId":…,"key":…}
// or {"event":"error","message":…} with exit code 1.
import fs from "node:fs";
import { Upload } from "tus-js-client";

const options = JSON.parse(process.argv[2]);
const emit = (event) => process.stdout.write(JSON.stringify(event) + "\n");
const data = fs.readFileSync(options.path);
let lastShare = -1;
let file = {};

const upload = new Upload(data, {
  endpoint: options.endpoint,
  headers: { "API-Key": options.apiKey, ...(options.headers ?? {}) },
  metadata: options.metadata ?? {},
  chunkSize: options.chunkSize ?? Infinity,
  parallelUploads: options.parallelUploads ?? 1,
  retryDelays: options.retryDelays ?? [0, 200, 500, 1000, 2000, 3000, 5000],
  storeFingerprintForResuming: false,
  onProgress: (sent, total) => {
    const share = Math.floor((sent / total) * 20);
    if (share !== lastShare) {
      lastShare = share;
      emit({ event: "progress", sent, total });
    }
  },
  onAfterResponse: (req, res) => {
    emit({ event: "response", method: req.getMethod(), status: res.getStatus(), offset: res.getHeader("Upload-Offset") });
    const fileId = res.getHeader("X-Mediaedge-File-Id");
    if (fileId) {
      file = { fileId, key: decodeURIComponent(res.getHeader("X-Mediaedge-Key")) };
    }
  },
  onSuccess: () => emit({ event: "success", url: upload.url, ...file }),
  onError: (error) => {
    emit({ event: "error", message: String(error) });
    process.exitCode = 1;
  },
});
upload.start();
