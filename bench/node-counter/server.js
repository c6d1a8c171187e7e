// Benchmark anchor: the obvious Node.js durable counter. One UPDATE ... RETURNING per hit
// on SQLite in WAL mode with synchronous=FULL, the same durability promise as ours.
// usage: node server.js PORT DB_PATH
"use strict";
const http = require("http");
const Database = require("better-sqlite3");

const [port, dbPath] = process.argv.slice(2);
const db = new Database(dbPath);
db.pragma("journal_mode = WAL");
db.pragma("synchronous = FULL");
db.exec("CREATE TABLE IF NOT EXISTS counters (id TEXT PRIMARY KEY, count INTEGER NOT NULL)");
db.prepare("INSERT OR IGNORE INTO counters (id, count) VALUES ('visitors', 0)").run();
const increment = db.prepare("UPDATE counters SET count = count + 1 WHERE id = 'visitors' RETURNING count");
const read = db.prepare("SELECT count FROM counters WHERE id = 'visitors'");

http
  .createServer((req, res) => {
    const row = req.url === "/count" ? increment.get() : read.get();
    res.writeHead(200, { "Content-Type": "application/json" });
    res.end(JSON.stringify({ count: row.count }));
  })
  .listen(Number(port), "127.0.0.1", () => console.log("listening"));
