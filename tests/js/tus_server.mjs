// The reference TUS server for loadtests/bench_tus.py: @tus/server with @tus/file-store.
//
//   node tests/js/tus_server.mjs PORT DIRECTORY     (prints "ready" once listening)
import { FileStore } from "@tus/file-store";
import { Server } from "@tus/server";

const [port, directory] = process.argv.slice(2);
const server = new Server({ path: "/files", datastore: new FileStore({ directory }) });
server.listen({ host: "127.0.0.1", port: Number(port) }, () => console.log("ready"));
